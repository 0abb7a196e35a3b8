import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthSettings,
  FluxbaseApp,
  Schema,
  Secret,
  SynthError,
  Table,
  Tenant,
  Webhook,
  type ConstructDiagnostic,
  type TenantProps,
} from '../../src/constructs/index.js';

let outdir: string;
beforeEach(async () => {
  outdir = path.join(await mkdtemp(path.join(tmpdir(), 'fluxbase-constructs-errors-')), 'out');
});
afterEach(async () => {
  await rm(path.dirname(outdir), { recursive: true, force: true });
});

/** Synthesises and returns the SynthError's diagnostics (fails the test when synth succeeds). */
async function synthErrors(app: FluxbaseApp, env: Record<string, string> = {}): Promise<SynthError> {
  const failure = await app.synth({ env }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(SynthError.isSynthError(failure)).toBe(true);
  return failure as SynthError;
}

const brief = (d: ConstructDiagnostic) => [d.severity, d.code, d.constructPath, d.propPath.join('.')];
const id = { type: 'uuid', primary_key: true } as const;

describe('construct errors', () => {
  it('reports a Table outside a Schema, duplicate ids, an invalid column type and a bad identifier together, with construct paths', async () => {
    const app = new FluxbaseApp({ outdir });
    const acme = new Tenant(app, 'acme');
    const schema = new Schema(acme, 'public');
    // @ts-expect-error a Table's scope is a Schema, so this is also a compile error
    new Table(acme, 'orphans', { columns: { id } });
    new Table(schema, 'tasks', { columns: { id } });
    new Table(schema, 'tasks', { columns: { id } });
    new Table(schema, 'notes', { columns: { id, body: { type: 'varchar(120' } } });
    new Table(schema, 'Projects', { columns: { id } });
    new Tenant(app, 'acme');

    const error = await synthErrors(app);
    expect(error.diagnostics.map(brief)).toEqual([
      ['error', 'config.duplicate-key', 'tenants/acme', ''],
      ['error', 'config.duplicate-key', 'tenants/acme/schemas/public/tables/tasks', ''],
      ['error', 'config.schema', 'tenants/acme/schemas/public/tables/notes', 'columns.body.type'],
      ['error', 'config.schema', 'tenants/acme/schemas/public/tables/Projects', ''],
      ['error', 'config.schema', 'tenants/acme/tables/orphans', ''],
    ]);
    const summaries = error.diagnostics.map((d) => d.summary);
    expect(summaries[1]).toBe("a Table named 'tasks' is already declared in this scope");
    expect(summaries[2]).toBe("'varchar(120' is not a valid PostgreSQL type");
    expect(summaries[3]).toContain("invalid name 'Projects': must be a lower-case identifier");
    expect(summaries[4]).toBe('a Table must be created in a Schema, but its scope tenants/acme is a Tenant');
    await expect(stat(outdir)).rejects.toThrow(/ENOENT/);
  });

  it('locates each error at the line of user code that created the construct, and lists them all in the message', async () => {
    const app = new FluxbaseApp({ outdir });
    const schema = new Schema(new Tenant(app, 'acme'), 'public');
    const line = Number(new Error().stack!.split('\n')[1]!.match(/:(\d+):\d+\)?$/)![1]) + 1;
    new Table(schema, 'a', { columns: { id: { type: 'not a type' } } });
    new Table(schema, 'b', { columns: { id: { type: 'also not a type' } } });

    const error = await synthErrors(app);
    expect(error.diagnostics.map((d) => d.location && `${path.basename(d.location.file)}:${d.location.line}`)).toEqual([
      `errors.test.ts:${line}`,
      `errors.test.ts:${line + 1}`,
    ]);
    expect(error.message).toContain('synth found 2 errors; nothing was written');
    expect(error.message).toContain(`errors.test.ts:${line}:5: error[config.schema]: tenants/acme/schemas/public/tables/a (columns.id.type): 'not a type' is not a valid PostgreSQL type`);
    expect(error.message).toContain('tenants/acme/schemas/public/tables/b (columns.id.type)');
  });

  it('leaves a previously synthesised file untouched when synth fails', async () => {
    await mkdir(outdir, { recursive: true });
    await writeFile(path.join(outdir, 'fluxbase.json'), 'previous\n');
    const app = new FluxbaseApp({ outdir });
    new Tenant(app, 'Not-A-Slug');
    await synthErrors(app);
    expect(await readFile(path.join(outdir, 'fluxbase.json'), 'utf8')).toBe('previous\n');
  });

  it('reports a second AuthSettings as a duplicate of the singleton', async () => {
    const app = new FluxbaseApp({ outdir });
    new AuthSettings(app, { disable_dashboard_password_login: false });
    new AuthSettings(app, { disable_dashboard_password_login: true });
    const error = await synthErrors(app);
    expect(error.diagnostics.map(brief)).toEqual([['error', 'config.duplicate-key', 'settings/auth', '']]);
  });

  it('refuses child collections given as props, which must be child constructs', async () => {
    const app = new FluxbaseApp({ outdir });
    new Tenant(app, 'acme', { schemas: { app: {} } } as TenantProps);
    const error = await synthErrors(app);
    expect(error.diagnostics.map(brief)).toEqual([['error', 'config.schema', 'tenants/acme', 'schemas']]);
  });

  it('refuses values that are not JSON data', async () => {
    const app = new FluxbaseApp({ outdir });
    const acme = new Tenant(app, 'acme', { metadata: { since: new Date(0), ratio: Number.NaN } });
    new Webhook(acme, 'hook', { url: 'https://hooks.example.com/x', max_retries: Infinity });
    const error = await synthErrors(app);
    expect(error.diagnostics.map(brief)).toEqual([
      ['error', 'config.schema', 'tenants/acme', 'metadata.since'],
      ['error', 'config.schema', 'tenants/acme', 'metadata.ratio'],
      ['error', 'config.schema', 'tenants/acme/webhooks/hook', 'max_retries'],
    ]);
    expect(error.diagnostics[0]!.summary).toBe('Date object is not JSON data');
  });
});

describe('secrets in props', () => {
  it('fails clearly when Secret.fromEnv names an unset or empty variable', async () => {
    const app = new FluxbaseApp({ outdir });
    const acme = new Tenant(app, 'acme');
    new Webhook(acme, 'unset', { url: 'https://hooks.example.com/a', secret: Secret.fromEnv('HOOK_SECRET_UNSET') });
    new Webhook(acme, 'empty', { url: 'https://hooks.example.com/b', secret: Secret.fromEnv('HOOK_SECRET_EMPTY') });
    const error = await synthErrors(app, { HOOK_SECRET_EMPTY: '' });
    expect(error.diagnostics.map(brief)).toEqual([
      ['error', 'config.env-unset', 'tenants/acme/webhooks/unset', 'secret'],
      ['error', 'config.env-unset', 'tenants/acme/webhooks/empty', 'secret'],
    ]);
    expect(error.diagnostics[0]!.summary).toBe('environment variable HOOK_SECRET_UNSET is not set');
    expect(error.diagnostics[0]!.detail).toContain('Secret.fromEnv("HOOK_SECRET_UNSET")');
    await expect(stat(outdir)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a plain string in a write-only prop, and a Secret in any other prop', async () => {
    const app = new FluxbaseApp({ outdir });
    const acme = new Tenant(app, 'acme');
    // @ts-expect-error write-only props take a Secret: a literal would land in the file in plaintext
    new Webhook(acme, 'literal', { url: 'https://hooks.example.com/a', secret: 'hunter2-canary' });
    // @ts-expect-error only write-only props take a Secret
    new Webhook(acme, 'misplaced', { url: 'https://hooks.example.com/b', description: Secret.fromEnv('HOOK_DESCRIPTION') });
    const error = await synthErrors(app, { HOOK_DESCRIPTION: 'x' });
    expect(error.diagnostics.map(brief)).toEqual([
      ['error', 'config.schema', 'tenants/acme/webhooks/literal', 'secret'],
      ['error', 'config.schema', 'tenants/acme/webhooks/misplaced', 'description'],
    ]);
    expect(error.diagnostics[0]!.summary).toBe("'secret' is write-only: give it Secret.fromEnv('NAME'), not a string");
    expect(error.message).not.toContain('hunter2-canary');
  });

  it('reports a Secret whose name is not an environment variable name', async () => {
    const app = new FluxbaseApp({ outdir });
    new Webhook(new Tenant(app, 'acme'), 'hook', { url: 'https://hooks.example.com/a', secret: Secret.fromEnv('hook-secret') });
    const error = await synthErrors(app);
    expect(error.diagnostics.map((d) => d.summary)).toEqual([`Secret.fromEnv("hook-secret"): 'hook-secret' is not an environment variable name`]);
  });

  it('never holds or prints the value of a Secret', () => {
    const secret = Secret.fromEnv('TOKEN');
    expect(Secret.isSecret(secret)).toBe(true);
    expect(Secret.isSecret({ envName: 'TOKEN' })).toBe(false);
    expect(String(secret)).toBe('Secret.fromEnv("TOKEN")');
    expect(JSON.stringify({ secret })).toBe('{"secret":"${env:TOKEN}"}');
  });
});

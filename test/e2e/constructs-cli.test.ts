/**
 * Construct apps through the CLI (issue 5): `--app` plans and applies the CDK example against the
 * emulator exactly like the root YAML, and construct errors stop before any API call.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { api, ROOT, setupAdmin, startTestEmulator, tenantId, Workspace } from './harness.js';
import { CANARIES } from './canaries.js';

const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const APP = `${TSX} ${path.join(ROOT, 'examples/cdk/fluxbase.ts')}`;

let emulator: RunningEmulator;
let ws: Workspace;

beforeAll(async () => {
  emulator = await startTestEmulator({ setupToken: 'cdk-setup' });
  const admin = await setupAdmin(emulator, 'cdk-setup');
  ws = await Workspace.create(emulator, await readFile(path.join(ROOT, 'fluxbase.config.yaml'), 'utf8'), {
    ...CANARIES,
    FLUXBASE_ADMIN_EMAIL: admin.email,
    FLUXBASE_ADMIN_PASSWORD: admin.password,
  });
});

afterAll(async () => {
  await ws?.dispose();
  await emulator?.close();
});

describe('construct apps', () => {
  it('plan the same as the YAML, to the byte, against the same server state', async () => {
    const yaml = await ws.cli(['plan', '--out', 'yaml-plan.json']);
    const cdk = await ws.cli(['plan', '--app', APP, '--out', 'cdk-plan.json']);
    expect(yaml.code).toBe(0);
    expect(cdk.code).toBe(0);
    const a = await readFile(path.join(ws.dir, 'yaml-plan.json'), 'utf8');
    const b = await readFile(path.join(ws.dir, 'cdk-plan.json'), 'utf8');
    expect(JSON.parse(a).summary.add).toBeGreaterThan(25);
    expect(b).toBe(a);
  });

  it('apply with --app, then plan --app --detailed-exitcode exits 0', async () => {
    const apply = await ws.cli(['apply', '--app', APP, '--auto-approve', '--secrets-out', 'keys.env', '--allow-hazards=WEAKENS_SECURITY']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    const plan = await ws.cli(['plan', '--app', APP, '--detailed-exitcode']);
    expect(plan.code).toBe(0);
    // and the YAML agrees that nothing is left to do
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
  });

  it('reports construct errors together with their construct paths, before any API call', async () => {
    const broken = path.join(ws.dir, 'broken.mts');
    await writeFile(
      broken,
      `import { FluxbaseApp, Tenant, Schema, Table } from '${path.join(ROOT, 'src/constructs/index.js')}';
const app = new FluxbaseApp();
const t = new Tenant(app, 'acme', {});
const s = new Schema(t, 'crm', {});
new Table(s, 'Orders', { columns: { id: { type: 'uuid', primary_key: true } } });
new Table(s, 'items', { columns: { id: { type: 'not a type' } } });
await app.synth();
`,
    );
    const before = emulator.requestCount();
    const plan = await ws.cli(['plan', '--app', `${TSX} ${broken}`]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('tenants/acme/schemas/crm/tables/Orders');
    expect(plan.stderr).toContain('tenants/acme/schemas/crm/tables/items');
    expect(plan.stderr).toContain("'not a type' is not a valid PostgreSQL type");
    expect(plan.stderr).toContain('error[config.read]: the construct app failed');
    expect(emulator.requestCount()).toBe(before);
  });

  it('accepts a config file that only points to the app', async () => {
    await writeFile(path.join(ws.dir, 'fluxbase.app.yaml'), `app: ${APP}\n`);
    const plan = await ws.cli(['plan', '-c', 'fluxbase.app.yaml', '--detailed-exitcode', '--state', 'fluxbase.state.json']);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
  });

  it('keeps one state whichever way the config is given: after apply --app, plan -c cdk.out/fluxbase.json is clean', async () => {
    // the app synthesised into the project's cdk.out, as `npx tsx infra/fluxbase.ts` would
    const synth = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(TSX, [path.join(ROOT, 'examples/cdk/fluxbase.ts')], { cwd: ws.dir, env: { PATH: process.env.PATH ?? '', ...ws.env } }, (err, _o, stderr) =>
        resolve({ code: err ? 1 : 0, stderr }),
      );
    });
    expect(synth).toEqual({ code: 0, stderr: '' });
    const plan = await ws.cli(['plan', '-c', 'cdk.out/fluxbase.json', '--detailed-exitcode']);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(existsSync(path.join(ws.dir, 'cdk.out', 'fluxbase.state.json'))).toBe(false);
  });

  it("locates plan diagnostics at the app's TypeScript, not at the temporary document", async () => {
    const id = await tenantId(emulator, 'default');
    const made = await api(emulator, 'POST', '/api/v1/webhooks', {
      tenant: id,
      body: { name: 'made-elsewhere', url: 'https://hooks.example.com/elsewhere', enabled: true, events: [{ table: 'app.posts', operations: ['INSERT'] }] },
    });
    expect(made.status).toBe(201);
    await writeFile(
      path.join(ws.dir, 'conflict.mts'),
      `import { FluxbaseApp, Tenant, Webhook } from '${path.join(ROOT, 'src/constructs/index.js')}';
const app = new FluxbaseApp();
const t = new Tenant(app, 'default', {});
new Webhook(t, 'made-elsewhere', { url: 'https://hooks.example.com/elsewhere', events: [{ table: 'app.posts', operations: ['INSERT'] }] });
await app.synth();
`,
    );
    const plan = await ws.cli(['plan', '--app', `${TSX} conflict.mts`, '--state', 'other.state.json']);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/^conflict\.mts:4:1: error\[plan\.unmanaged-conflict\]: webhook\.default\.made-elsewhere: /m);
    expect(plan.stderr).not.toContain('fluxbase-synth-');
  });
});


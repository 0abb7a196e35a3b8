import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ClientKey,
  CustomSetting,
  FluxbaseApp,
  OAuthProvider,
  Policy,
  Schema,
  Secret,
  ServiceKey,
  SystemSetting,
  Table,
  Tenant,
  Webhook,
  resolveOutdir,
} from '../../src/constructs/index.js';
import { loadConfigFile } from '../../src/engine/load.js';
import { validateDocument } from '../../src/engine/validate.js';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'fluxbase-constructs-synth-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A small app whose constructs are declared out of alphabetical order. */
function smallApp(outdir: string) {
  const app = new FluxbaseApp({ outdir });
  const acme = new Tenant(app, 'acme', { name: 'Acme', metadata: { region: 'eu', plan: 'pro' } });
  const schema = new Schema(acme, 'public');
  const tasks = new Table(schema, 'tasks', {
    columns: { id: { type: 'uuid', primary_key: true }, title: { type: 'text', nullable: false }, done: { type: 'boolean' } },
    rls: { enabled: true, policies: { tasks_read: { command: 'SELECT', using: 'true' } } },
  });
  tasks.addPolicy('tasks_insert', { command: 'INSERT', with_check: 'true' });
  new Policy(tasks, 'tasks_delete', { command: 'DELETE', using: 'done' });
  new Webhook(acme, 'task-events', { url: 'https://hooks.example.com/tasks', secret: Secret.fromEnv('TASKS_SECRET') });
  new ServiceKey(acme, 'etl', { scopes: ['tables:read'] });
  new CustomSetting(acme, 'acme.flags', { value: { b: 1, a: 2 } });
  new ClientKey(app, 'mobile', { scopes: ['tables:read'] });
  new OAuthProvider(app, 'github', { display_name: 'GitHub', client_id: 'x', client_secret: Secret.fromEnv('GH_SECRET'), redirect_url: 'https://example.com/cb' });
  new SystemSetting(app, 'app.email.from_name', { value: 'Acme' });
  return { app, tasks };
}
const ENV = { TASKS_SECRET: 'canary-tasks', GH_SECRET: 'canary-gh' };

describe('synth', () => {
  it('writes <outdir>/fluxbase.json and returns the same text and document', async () => {
    const { app } = smallApp(path.join(work, 'out'));
    const result = await app.synth({ env: ENV });
    expect(result.file).toBe(path.join(work, 'out/fluxbase.json'));
    expect(await readFile(result.file, 'utf8')).toBe(result.text);
    expect(JSON.parse(result.text)).toEqual(result.document);
    expect(result.diagnostics).toEqual([]);
  });

  it('loads through the ordinary loader into the config the constructs declare', async () => {
    const { app } = smallApp(path.join(work, 'out'));
    const { file } = await app.synth({ env: ENV });
    const { config, diagnostics } = await validateDocument(await loadConfigFile(file, { env: ENV }));
    expect(diagnostics).toEqual([]);
    const acme = config!.config.tenants?.acme;
    expect(acme?.webhooks?.['task-events']?.secret).toBe('canary-tasks');
    expect(Object.keys(acme?.schemas?.public?.tables?.tasks?.rls?.policies ?? {})).toEqual(['tasks_delete', 'tasks_insert', 'tasks_read']);
    expect(config!.config.oauth_providers?.github?.client_secret).toBe('canary-gh');
  });

  it('sorts keys at every level but keeps columns in declaration order, and is byte-identical across runs', async () => {
    const first = await smallApp(path.join(work, 'a')).app.synth({ env: ENV });
    const second = await smallApp(path.join(work, 'b')).app.synth({ env: ENV });
    expect(second.text).toBe(first.text);
    expect(Object.keys(first.document)).toEqual(['client_keys', 'oauth_providers', 'settings', 'tenants', 'version']);
    const table = JSON.parse(first.text).tenants.acme.schemas.public.tables.tasks;
    expect(Object.keys(table.columns)).toEqual(['id', 'title', 'done']);
    expect(Object.keys(table)).toEqual(['columns', 'rls']);
    expect(Object.keys(JSON.parse(first.text).tenants.acme.settings.custom['acme.flags'].value)).toEqual(['a', 'b']);
  });

  it('gives construct paths that mirror the config document', () => {
    const { app, tasks } = smallApp(path.join(work, 'out'));
    expect(tasks.node.path).toBe('tenants/acme/schemas/public/tables/tasks');
    expect(app.node.findAll().filter((c) => Policy.isPolicy(c)).map((c) => c.node.path)).toEqual([
      'tenants/acme/schemas/public/tables/tasks/rls/policies/tasks_read',
      'tenants/acme/schemas/public/tables/tasks/rls/policies/tasks_insert',
      'tenants/acme/schemas/public/tables/tasks/rls/policies/tasks_delete',
    ]);
  });

  it('lets names of different kinds be equal, as the YAML does', async () => {
    const app = new FluxbaseApp({ outdir: path.join(work, 'out') });
    const tenant = new Tenant(app, 'app');
    new Schema(tenant, 'app');
    new ServiceKey(tenant, 'app');
    new ClientKey(app, 'app', { scopes: ['*'] });
    const { document } = await app.synth({ env: {} });
    expect(document).toEqual({ client_keys: { app: { scopes: ['*'] } }, tenants: { app: { schemas: { app: {} }, service_keys: { app: {} } } }, version: 1 });
  });

  it('writes a literal ${ so that the loader gives it back unchanged', async () => {
    const app = new FluxbaseApp({ outdir: path.join(work, 'out') });
    const texts = ['cost ${env:HOME} and $${x} stay', '${', '$${'];
    new CustomSetting(new Tenant(app, 'acme'), 'templates', { value: texts, description: '${env:USER}' });
    const { file } = await app.synth({ env: {} });
    const { config } = await validateDocument(await loadConfigFile(file, { env: { HOME: '/root', USER: 'root' } }));
    const setting = config!.config.tenants?.acme?.settings?.custom?.templates;
    expect(setting?.value).toEqual(texts);
    expect(setting?.description).toBe('${env:USER}');
  });

  it('keeps a webhook name with a slash as the key in the document', async () => {
    const app = new FluxbaseApp({ outdir: path.join(work, 'out') });
    const acme = new Tenant(app, 'acme');
    new Webhook(acme, 'crm/signups', { url: 'https://hooks.example.com/a' });
    new Webhook(acme, 'crm--signups', { url: 'https://hooks.example.com/b' });
    const { document } = await app.synth({ env: {} });
    expect(Object.keys((document.tenants as { acme: { webhooks: object } }).acme.webhooks)).toEqual(['crm--signups', 'crm/signups']);
  });

  it('returns warnings with their construct paths without failing', async () => {
    const app = new FluxbaseApp({ outdir: path.join(work, 'out') });
    const t = new Table(new Schema(new Tenant(app, 'acme'), 'public'), 'notes', { columns: { id: { type: 'uuid', primary_key: true } } });
    t.addPolicy('notes_read', { command: 'SELECT', using: 'true' });
    const { diagnostics } = await app.synth({ env: {} });
    expect(diagnostics.map((d) => [d.severity, d.constructPath, d.propPath.join('.'), d.summary])).toEqual([
      ['warning', 'tenants/acme/schemas/public/tables/notes', 'rls', 'table public.notes declares policies but not rls.enabled'],
    ]);
  });

  it('recognises its constructs by symbol, not instanceof', () => {
    const { app, tasks } = smallApp(path.join(work, 'out'));
    expect(Table.isTable(tasks)).toBe(true);
    expect(Tenant.isTenant(tasks)).toBe(false);
    expect(FluxbaseApp.isFluxbaseApp(app)).toBe(true);
    expect(FluxbaseApp.isFluxbaseApp(tasks)).toBe(false);
    const lookalike = Object.create(null) as object;
    expect(Table.isTable(lookalike)).toBe(false);
  });
});

describe('output directory', () => {
  it('is FLUXBASE_OUTDIR when set, else the outdir prop, else cdk.out, relative to the working directory', () => {
    expect(resolveOutdir('from-prop', { FLUXBASE_OUTDIR: '/run/cli' })).toBe('/run/cli');
    expect(resolveOutdir('from-prop', {})).toBe(path.resolve('from-prop'));
    expect(resolveOutdir(undefined, { FLUXBASE_OUTDIR: '' })).toBe(path.resolve('cdk.out'));
  });

  it('is honoured by synth when FLUXBASE_OUTDIR is set, as `fluxbase plan --app` sets it', async () => {
    const app = new FluxbaseApp({ outdir: path.join(work, 'ignored') });
    new Tenant(app, 'acme');
    const { file } = await app.synth({ env: { FLUXBASE_OUTDIR: path.join(work, 'cli') } });
    expect(file).toBe(path.join(work, 'cli/fluxbase.json'));
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ tenants: { acme: {} }, version: 1 });
  });
});

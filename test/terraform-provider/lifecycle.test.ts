/**
 * The fluxbase provider under real Terraform against the emulator, through the full plugin
 * protocol (go-plugin handshake, AutoMTLS, a provider process per command): init from a
 * filesystem mirror, plan, apply, a clean re-plan, in-place changes, drift made through the API,
 * import of an existing webhook (`terraform import` and `import {}` with -generate-config-out),
 * the hazard gate, a middle column dropped from the `columns` map (planned as that one column's
 * removal), and destroy — for tenants, schemas, tables, policies, webhooks and service keys.
 * The steps share one workspace and run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { api, buildProvider, FluxbaseWorkspace, startTestEmulator, tenantId } from './helpers.js';

interface Knobs {
  hookUrl?: string;
  noteColumns?: string;
  using?: string;
  keyEnabled?: boolean;
  secretVersion?: number;
  extra?: string;
}

const TITLE = '\n    title      = { type = "varchar(200)" }';

const config = (k: Knobs = {}) => `
resource "fluxbase_tenant" "acme" {
  slug = "acme"
  name = "Acme Inc"
}

# In a tenant with its own database, public is where every change works (docs/tenants.md).
resource "fluxbase_table" "notes" {
  tenant = fluxbase_tenant.acme.slug
  schema = "public"
  name   = "notes"
  columns = {
    owner      = { type = "uuid", nullable = false }
    body       = { type = "text", default = "'draft'" }
    created_at = { type = "timestamptz", nullable = false, default = "now()" }
    id         = { type = "uuid", primary_key = true, default = "gen_random_uuid()" }${k.noteColumns ?? ''}
  }
  # PostgreSQL renders NOT LIKE as !~~, which the syntax-tree comparison cannot prove equal: the
  # rendering recorded in private state after apply keeps the next plan clean.
  checks = { body_not_empty = "length(body) > 0", body_not_spam = "body NOT LIKE '%viagra%'" }
  rls    = { enabled = true }
}

resource "fluxbase_rls_policy" "own" {
  tenant  = fluxbase_tenant.acme.slug
  schema  = "public"
  table   = fluxbase_table.notes.name
  name    = "notes_own"
  command = "SELECT"
  roles   = ["authenticated"]
  using   = ${JSON.stringify(k.using ?? 'owner = auth.uid()')}
}

resource "fluxbase_webhook" "notify" {
  tenant = fluxbase_tenant.acme.slug
  name   = "notify"
  url    = ${JSON.stringify(k.hookUrl ?? 'https://hooks.example.com/notes')}
  events = [{ table = "public.notes", operations = ["INSERT", "UPDATE"] }]
  secret_wo         = "signing-secret-${k.secretVersion ?? 1}"
  secret_wo_version = ${k.secretVersion ?? 1}
}

resource "fluxbase_service_key" "ci" {
  tenant      = fluxbase_tenant.acme.slug
  name        = "ci"
  description = "CI pipeline"
  scopes      = ["tables:read", "tables:write"]
  enabled     = ${k.keyEnabled ?? true}
}

output "ci_key" {
  value     = fluxbase_service_key.ci.key
  sensitive = true
}
${k.extra ?? ''}`;

describe('fluxbase provider lifecycle under real terraform', () => {
  let emulator: RunningEmulator;
  let ws: FluxbaseWorkspace;
  let acme: string;

  /** Runs one statement in the acme tenant's database; returns its rows. */
  const query = async (statement: string): Promise<Record<string, unknown>[]> => {
    const res = await api<{ results: { rows?: Record<string, unknown>[]; error?: string }[] }>(emulator, 'POST', '/api/v1/admin/sql/execute', { tenant: acme, body: { query: statement } });
    const first = res.body.results[0]!;
    if (first.error) throw new Error(first.error);
    return first.rows ?? [];
  };
  /** The live columns of public.notes in table order. */
  const liveColumns = async () =>
    (await query("SELECT attname FROM pg_attribute WHERE attrelid = 'public.notes'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum")).map((r) => r.attname);

  beforeAll(async () => {
    const [em, built] = await Promise.all([startTestEmulator(), buildProvider()]);
    emulator = em;
    ws = new FluxbaseWorkspace(built.exe, emulator);
    built.remove(); // the mirror holds its own copy
  });
  afterAll(async () => {
    ws?.remove();
    await emulator?.close();
  });

  it('installs from the filesystem mirror and plans every resource as a create', async () => {
    ws.config(config());
    const init = await ws.ok(['init']);
    expect(init.output).toContain('Installing fluxbase/fluxbase v0.1.0');
    const plan = await ws.ok(['plan']);
    expect(plan.stdout).toContain('Plan: 5 to add, 0 to change, 0 to destroy.');
    expect(plan.stdout).toMatch(/secret_wo\s+= \(write-only attribute\)/);
  });

  it('applies them; the service key value flows out as a sensitive output', async () => {
    const apply = await ws.ok(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 5 added, 0 changed, 0 destroyed.');
    acme = await tenantId(emulator, 'acme');
    const out = JSON.parse((await ws.ok(['output', '-json', 'ci_key'])).stdout) as string;
    expect(out).toMatch(/^sk_/);
    const keys = await api<{ name: string; description: string }[]>(emulator, 'GET', '/api/v1/admin/service-keys', { tenant: acme });
    expect(keys.body).toEqual([expect.objectContaining({ name: 'ci', description: 'CI pipeline' })]);
    const policies = await api<{ policy_name: string; using: string; roles: string[] }[]>(emulator, 'GET', '/api/v1/admin/policies', { tenant: acme });
    expect(policies.body).toEqual([expect.objectContaining({ policy_name: 'notes_own', using: '(owner = auth.uid())', roles: ['authenticated'] })]);
    const state = ws.state();
    const hook = state.resources.find((r) => r.type === 'fluxbase_webhook')!.instances[0]!;
    expect(hook.attributes.secret_wo).toBeNull(); // write-only: never in state
    expect(hook.attributes.server_id).toMatch(/^[0-9a-f-]{36}$/);
    const key = state.resources.find((r) => r.type === 'fluxbase_service_key')!.instances[0]!;
    expect(key.sensitive_attributes).toEqual(expect.arrayContaining([expect.anything()]));
    // columns is a map (no order): the table was created with its primary key first, then by name
    expect(await liveColumns()).toEqual(['id', 'body', 'created_at', 'owner']);
  });

  it('then plans no changes (PostgreSQL renderings compare equal to the declarations)', async () => {
    const plan = await ws.ok(['plan', '-detailed-exitcode']);
    expect(plan.stdout).toContain('No changes.');
  });

  it('upgrades state that an older provider stored with columns as a list (schema version 0)', async () => {
    const doc = JSON.parse(ws.read('terraform.tfstate')) as ReturnType<FluxbaseWorkspace['state']>;
    const table = doc.resources.find((r) => r.type === 'fluxbase_table')!.instances[0]!;
    const columns = table.attributes.columns as Record<string, Record<string, unknown>>;
    expect(table.schema_version).toBe(1);
    table.schema_version = 0;
    table.attributes.columns = Object.entries(columns).map(([name, c]) => ({ name, ...c }));
    ws.write('terraform.tfstate', JSON.stringify(doc));
    const refresh = await ws.ok(['apply', '-refresh-only', '-auto-approve']);
    expect(refresh.stdout).toContain('No changes.');
    const upgraded = ws.state().resources.find((r) => r.type === 'fluxbase_table')!.instances[0]!;
    expect(upgraded.schema_version).toBe(1);
    expect(upgraded.attributes.columns).toEqual(columns);
  });

  it('locates a column\'s config error at that column\'s map entry', async () => {
    const applied = ws.read('main.tf');
    const bad = applied.replace(`default = "'draft'"`, 'default = "draft"');
    expect(bad).not.toBe(applied);
    ws.write('main.tf', bad);
    const plan = await ws.ok(['plan'], 1);
    expect(plan.output).toContain('Error: default "draft" refers to a column (draft)');
    const line = bad.split('\n').findIndex((l) => l.includes('default = "draft"')) + 1;
    expect(plan.output).toContain(`on main.tf line ${line}, in resource "fluxbase_table" "notes"`); // the column's line, not the resource's
    ws.write('main.tf', applied);
  });

  it('applies attribute changes in place', async () => {
    ws.config(
      config({
        hookUrl: 'https://hooks.example.com/v2/notes',
        noteColumns: TITLE,
        using: 'owner = auth.uid() AND body IS NOT NULL',
        keyEnabled: false,
      }),
    );
    await ws.ok(['plan', '-out', 'change.tfplan']);
    expect((await ws.planActions('change.tfplan')).sort()).toEqual([
      ['fluxbase_rls_policy.own', 'update'],
      ['fluxbase_service_key.ci', 'update'],
      ['fluxbase_table.notes', 'update'],
      ['fluxbase_webhook.notify', 'update'],
    ]);
    const apply = await ws.ok(['apply', 'change.tfplan']);
    expect(apply.stdout).toContain('0 added, 4 changed, 0 destroyed');
    const hooks = await api<{ url: string }[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: acme });
    expect(hooks.body.map((h) => h.url)).toEqual(['https://hooks.example.com/v2/notes']);
    expect(await liveColumns()).toEqual(['id', 'body', 'created_at', 'owner', 'title']);
    await ws.ok(['plan', '-detailed-exitcode']);
  });

  it('re-sends the write-only secret when its version changes', async () => {
    ws.config(config({ hookUrl: 'https://hooks.example.com/v2/notes', noteColumns: TITLE, using: 'owner = auth.uid() AND body IS NOT NULL', keyEnabled: false, secretVersion: 2 }));
    const plan = await ws.ok(['plan', '-out', 'secret.tfplan']);
    expect(plan.stdout).toMatch(/secret_wo_version\s+= 1 -> 2/);
    expect(await ws.planActions('secret.tfplan')).toEqual([['fluxbase_webhook.notify', 'update']]);
    await ws.ok(['apply', 'secret.tfplan']);
    await ws.ok(['plan', '-detailed-exitcode']);
  });

  it('detects drift made through the API and repairs it', async () => {
    const hooks = await api<Record<string, unknown>[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: acme });
    const hook = hooks.body[0]!;
    await api(emulator, 'PATCH', `/api/v1/webhooks/${hook.id as string}`, { tenant: acme, body: { ...hook, url: 'https://attacker.example.com/steal' } });
    const keys = await api<{ id: string }[]>(emulator, 'GET', '/api/v1/admin/service-keys', { tenant: acme });
    expect((await api(emulator, 'POST', `/api/v1/admin/service-keys/${keys.body[0]!.id}/enable`, { tenant: acme })).status).toBe(204);
    const del = await api(emulator, 'DELETE', '/api/v1/admin/policies/public/notes/notes_own', { tenant: acme });
    expect(del.status).toBe(200);

    const plan = await ws.ok(['plan', '-detailed-exitcode', '-out', 'drift.tfplan'], 2);
    expect(plan.stdout).toContain('https://attacker.example.com/steal');
    expect((await ws.planActions('drift.tfplan')).sort()).toEqual([
      ['fluxbase_rls_policy.own', 'create'],
      ['fluxbase_service_key.ci', 'update'],
      ['fluxbase_webhook.notify', 'update'],
    ]);
    await ws.ok(['apply', 'drift.tfplan']);
    const after = await api<{ url: string }[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: acme });
    expect(after.body.map((h) => h.url)).toEqual(['https://hooks.example.com/v2/notes']);
    await ws.ok(['plan', '-detailed-exitcode']);
  });

  it('imports an existing webhook with terraform import', async () => {
    const created = await api<{ id: string }>(emulator, 'POST', '/api/v1/webhooks', {
      tenant: acme,
      body: { name: 'legacy', url: 'https://legacy.example.com/in', enabled: true, events: [{ table: 'public.notes', operations: ['DELETE'] }], scope: 'global', max_retries: 3, retry_backoff_seconds: 5, timeout_seconds: 30 },
    });
    expect(created.status).toBe(201);
    const legacy = `
resource "fluxbase_webhook" "legacy" {
  tenant  = fluxbase_tenant.acme.slug
  name    = "legacy"
  url     = "https://legacy.example.com/in"
  enabled = true
  events  = [{ table = "public.notes", operations = ["DELETE"] }]
}
`;
    ws.config(config({ hookUrl: 'https://hooks.example.com/v2/notes', noteColumns: TITLE, using: 'owner = auth.uid() AND body IS NOT NULL', keyEnabled: false, secretVersion: 2, extra: legacy }));
    const refused = await ws.ok(['plan'], 1);
    expect(refused.output).toContain('already exists on the server');
    expect(refused.output).toContain('acme/legacy');
    const imported = await ws.ok(['import', 'fluxbase_webhook.legacy', 'acme/legacy']);
    expect(imported.stdout).toContain('Import successful!');
    const inState = ws.state().resources.find((r) => r.type === 'fluxbase_webhook' && r.name === 'legacy')!.instances[0]!;
    expect(inState.attributes).toMatchObject({ id: 'acme/legacy', server_id: created.body.id, url: 'https://legacy.example.com/in' });
    await ws.ok(['plan', '-detailed-exitcode']);
  });

  it('imports with an import block and -generate-config-out', async () => {
    await api(emulator, 'POST', '/api/v1/webhooks', {
      tenant: acme,
      body: { name: 'audit', url: 'https://audit.example.com/in', enabled: false, events: [{ table: 'public.notes', operations: ['UPDATE'] }], headers: { 'X-Team': 'sec' }, scope: 'global', max_retries: 5, retry_backoff_seconds: 5, timeout_seconds: 10 },
    });
    ws.write('import.tf', 'import {\n  to = fluxbase_webhook.audit\n  id = "webhook.acme.audit"\n}\n');
    const gen = await ws.ok(['plan', '-generate-config-out=generated.tf']);
    expect(gen.stdout).toContain('1 to import');
    const generated = ws.read('generated.tf');
    expect(generated).toContain('url                   = "https://audit.example.com/in"');
    expect(generated).toMatch(/X-Team = "sec"/);
    expect(generated).toContain('secret_wo             = null');
    await ws.ok(['apply', '-auto-approve']);
    await ws.ok(['plan', '-detailed-exitcode']);
  });

  it('makes hazards a gate: without allow_hazards a hazardous change or destroy is an error and nothing is applied', async () => {
    const gate = { FLUXBASE_ALLOW_HAZARDS: '' };
    const applied = ws.read('main.tf');
    const policy = applied.replace(/using {3}= "[^"]*"/, 'using   = "true"');
    expect(policy).not.toBe(applied);
    ws.write('main.tf', policy);
    const widened = await ws.ok(['plan'], 1, gate);
    expect(widened.output.match(/Error: \w+: \S+/g)).toEqual(['Error: AUTHZ_CHANGE: policy.acme.public.notes.notes_own']);
    expect(widened.output).toContain('allow_hazards = ["AUTHZ_CHANGE"]');
    ws.write('main.tf', applied);
    const destroy = await ws.ok(['destroy', '-auto-approve'], 1, gate);
    expect(destroy.output).toContain('Error: AUTHZ_CHANGE: policy.acme.public.notes.notes_own');
    expect(destroy.output).toContain('Error: ROTATES_CREDENTIAL: service_key.acme.ci');
    const dropTable = await ws.ok(['plan', '-destroy'], 1, { FLUXBASE_ALLOW_HAZARDS: 'AUTHZ_CHANGE,ROTATES_CREDENTIAL,STOPS_DELIVERIES' });
    expect(dropTable.output.match(/Error: \w+: \S+/g)).toEqual(['Error: DELETES_DATA: table.acme.public.notes']);
    await ws.ok(['plan', '-detailed-exitcode'], 0, gate); // nothing was destroyed
    // allowed: a warning, and the plan goes ahead
    const allowed = await ws.ok(['plan', '-destroy'], 0, { FLUXBASE_ALLOW_HAZARDS: 'DELETES_DATA,AUTHZ_CHANGE,ROTATES_CREDENTIAL,STOPS_DELIVERIES,BREAKS_SIGN_IN' });
    expect(allowed.output).toMatch(/Warning: DELETES_DATA: table\.acme\.public\.notes/);
  });

  it('drops a middle column: the plan removes exactly that map entry, behind the DELETES_DATA gate', async () => {
    // (the tenant's SQL runs as `authenticated`, which cannot read the rows: the table's oid shows it is altered, not re-created)
    const oid = async () => (await query("SELECT 'public.notes'::regclass::oid AS oid"))[0]!.oid;
    const before = await oid();
    const applied = ws.read('main.tf');
    const dropped = applied.replace(/\n {4}created_at += \{[^\n]*\}/, '');
    expect(dropped).not.toBe(applied);
    ws.write('main.tf', dropped);
    const refused = await ws.ok(['plan'], 1, { FLUXBASE_ALLOW_HAZARDS: '' });
    expect(refused.output.match(/Error: \w+: \S+/g)).toEqual(['Error: DELETES_DATA: table.acme.public.notes']);

    const allowed = { FLUXBASE_ALLOW_HAZARDS: 'DELETES_DATA' };
    const plan = await ws.ok(['plan', '-out', 'drop.tfplan'], 0, allowed);
    expect(plan.output).toMatch(/Warning: DELETES_DATA: table\.acme\.public\.notes/);
    // one entry removed, nothing renamed, retyped or added
    expect(plan.stdout.match(/[-+~] "\w+" = \{/g)).toEqual(['- "created_at" = {']);
    expect(plan.stdout).toContain('(4 unchanged elements hidden)');
    expect(plan.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    const shown = JSON.parse((await ws.ok(['show', '-json', 'drop.tfplan'], 0, allowed)).stdout) as {
      resource_changes: { address: string; change: { actions: string[]; before: { columns: Record<string, unknown> }; after: { columns: Record<string, unknown> } } }[];
    };
    const changed = shown.resource_changes.filter((c) => c.change.actions.join() !== 'no-op');
    expect(changed.map((c) => [c.address, c.change.actions.join()])).toEqual([['fluxbase_table.notes', 'update']]);
    const { columns: was } = changed[0]!.change.before;
    expect(Object.keys(was).sort()).toEqual(['body', 'created_at', 'id', 'owner', 'title']);
    const { created_at: _removed, ...others } = was;
    expect(changed[0]!.change.after.columns).toEqual(others); // every other column exactly as it was

    const apply = await ws.ok(['apply', 'drop.tfplan'], 0, allowed);
    expect(apply.stdout).toContain('0 added, 1 changed, 0 destroyed');
    expect(await liveColumns()).toEqual(['id', 'body', 'owner', 'title']);
    expect(await oid()).toBe(before);
    await ws.ok(['plan', '-detailed-exitcode'], 0, { FLUXBASE_ALLOW_HAZARDS: '' });
  });

  it('destroys everything: the tenant is soft-deleted', async () => {
    const res = await ws.ok(['destroy', '-auto-approve']);
    expect(res.stdout).toContain('Destroy complete! Resources: 7 destroyed.');
    const tenants = await api<{ slug: string }[]>(emulator, 'GET', '/api/v1/admin/tenants');
    expect(tenants.body.map((t) => t.slug)).not.toContain('acme');
  });
});

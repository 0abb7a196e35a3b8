/**
 * Plans a team can trust in CI (issue 4), end to end against the emulator: ownership, hazards,
 * prevent_destroy, saved plans, machine-readable output, locking, retries and partial failure.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { api, changesOf, ROOT, setupAdmin, sql, startTestEmulator, tenantId, Workspace } from './harness.js';
import { ChaosProxy } from '../support/proxy.js';

const CONFIG = `version: 1
tenants:
  default:
    schemas:
      public:
        tables:
          notes:
            columns:
              id:   { type: bigint, primary_key: true }
              body: { type: text, nullable: false }
            rls:
              enabled: true
              policies:
                notes_read: { command: SELECT, roles: [authenticated], using: "true" }
          audit_log:
            columns:
              id:    { type: bigint, primary_key: true }
              event: { type: text, nullable: false }
    webhooks:
      notes-hook:
        url: https://hooks.example.com/notes
        events: [{ table: public.notes, operations: [INSERT] }]
        secret: \${env:NOTES_HOOK_SECRET}
`;

let emulator: RunningEmulator;
let ws: Workspace;
let admin: { accessToken: string };

beforeAll(async () => {
  emulator = await startTestEmulator({ setupToken: 'e2e-setup-token' });
  admin = await setupAdmin(emulator, 'e2e-setup-token');
  ws = await Workspace.create(emulator, CONFIG, { NOTES_HOOK_SECRET: 'hook-secret-1' });
  const apply = await ws.cli(['apply', '--auto-approve']);
  expect(apply.stderr).toBe('');
  expect(apply.code).toBe(0);
  await sql(emulator, admin.accessToken, "INSERT INTO public.audit_log (id, event) VALUES (1, 'created'), (2, 'updated')");
});

afterAll(async () => {
  await ws?.dispose();
  await emulator?.close();
});

const withoutAudit = (t: string) => t.replace(/          audit_log:\n(?:            .*\n|              .*\n)+/, '');

describe('ownership and deletion', () => {
  it('plans a delete with DELETES_DATA when a table leaves the config, and apply refuses it without the flag', async () => {
    await ws.write(withoutAudit(CONFIG));
    const plan = await ws.cli(['plan', '--json']);
    const doc = JSON.parse(plan.stdout) as { changes: { address: string; action: string; hazards: { type: string }[] }[] };
    const del = doc.changes.find((c) => c.address === 'table.default.public.audit_log');
    expect(del?.action).toBe('delete');
    expect(del?.hazards.map((h) => h.type)).toEqual(['DELETES_DATA']);

    const refused = await ws.cli(['apply', '--auto-approve']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error[plan.hazard-not-allowed]');
    expect(refused.stderr).toContain('table.default.public.audit_log: DELETES_DATA');
    expect(refused.stderr).toContain('--allow-hazards=DELETES_DATA');
    expect(refused.stderr).toContain('Nothing was applied');
    expect(await sql(emulator, admin.accessToken, 'SELECT count(*)::int AS n FROM public.audit_log')).toEqual([{ n: 2 }]);
  });

  it('drops the table with --allow-hazards=DELETES_DATA', async () => {
    const apply = await ws.cli(['apply', '--auto-approve', '--allow-hazards=DELETES_DATA']);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('table.default.public.audit_log: Destruction complete');
    const tables = await sql(emulator, admin.accessToken, "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'audit_log'");
    expect(tables).toEqual([{ n: 0 }]);
  });

  it('lists a webhook created through the API as not managed, and apply leaves it alone', async () => {
    const id = await tenantId(emulator, 'default');
    const created = await api<{ id: string }>(emulator, 'POST', '/api/v1/webhooks', {
      tenant: id,
      // Both forms of the table name: the qualified one installs the trigger, the bare one matches (F7).
      body: { name: 'made-in-dashboard', url: 'https://elsewhere.example/hook', enabled: true, events: [{ table: 'public.notes', operations: ['DELETE'] }, { table: 'notes', operations: ['DELETE'] }] },
    });
    expect(created.status).toBe(201);
    const plan = await ws.cli(['plan', '--detailed-exitcode']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Not managed by this configuration (left untouched):');
    expect(plan.stdout).toContain('webhook.default.made-in-dashboard');
    const apply = await ws.cli(['apply', '--auto-approve', '--allow-hazards=DELETES_DATA,AUTHZ_CHANGE,STOPS_DELIVERIES']);
    expect(apply.code).toBe(0);
    const hooks = await api<{ name: string }[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: id });
    expect(hooks.body.map((h) => h.name).sort()).toEqual(['made-in-dashboard', 'notes-hook']);
  });

  it('refuses to take over a live resource the config declares but does not manage, until it is imported', async () => {
    await ws.edit((t) => t.replace('    webhooks:\n', '    webhooks:\n      made-in-dashboard:\n        url: https://elsewhere.example/hook\n        scope: user\n        events: [{ table: public.notes, operations: [DELETE] }]\n'));
    const plan = await ws.cli(['plan']);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('error[plan.unmanaged-conflict]: webhook.default.made-in-dashboard');
    expect(plan.stderr).toContain('fluxbase import webhook.default.made-in-dashboard');
    const imported = await ws.cli(['import', 'webhook.default.made-in-dashboard']);
    expect(imported.code).toBe(0);
    const after = await ws.cli(['plan', '--detailed-exitcode']);
    expect(after.code).toBe(0);
    expect(after.stdout).not.toContain('made-in-dashboard');
  });

  it('adopts through an import: entry in the config, without an API write', async () => {
    const id = await tenantId(emulator, 'default');
    const created = await api(emulator, 'POST', '/api/v1/webhooks', {
      tenant: id,
      body: { name: 'adopt-me', url: 'https://elsewhere.example/adopt', enabled: true, scope: 'global' },
    });
    expect(created.status).toBe(201);
    await ws.edit((t) => `${t.replace('version: 1\n', 'version: 1\nimport:\n  - webhook.default.adopt-me\n').replace('    webhooks:\n', '    webhooks:\n      adopt-me:\n        url: https://elsewhere.example/adopt\n')}`);
    const plan = await ws.cli(['plan']);
    expect(plan.stdout).toContain('# webhook.default.adopt-me will be imported');
    expect(plan.stdout).toContain('Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.');
    const before = emulator.requestCount();
    const apply = await ws.cli(['apply', '--auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('webhook.default.adopt-me: Import complete');
    expect(emulator.requestCount() - before).toBeLessThan(20);
    await ws.edit((t) => t.replace('import:\n  - webhook.default.adopt-me\n', ''));
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    await ws.edit((t) => t.replace('      adopt-me:\n        url: https://elsewhere.example/adopt\n', ''));
    const removal = await ws.cli(['plan', '--json']);
    expect(changesOf(removal.stdout)).toEqual([['webhook.default.adopt-me', 'delete']]);
    await ws.cli(['apply', '--auto-approve', '--allow-hazards=STOPS_DELIVERIES']);
  });

  it('turns a planned delete into an error under a config-level prevent_destroy from the environment', async () => {
    const protectedConfig = `version: 1\nlifecycle:\n  prevent_destroy: \${env:FLUXBASE_PREVENT_DESTROY:-false}\n${(await ws.read()).replace('version: 1\n', '').replace(/      made-in-dashboard:\n(?:        .*\n)+/, '')}`;
    await ws.write(protectedConfig);
    const staging = await ws.cli(['plan', '--json']);
    expect(changesOf(staging.stdout)).toEqual([['webhook.default.made-in-dashboard', 'delete']]);
    const production = await ws.cli(['plan'], { FLUXBASE_PREVENT_DESTROY: 'true' });
    expect(production.code).toBe(1);
    expect(production.stderr).toContain('error[plan.prevent-destroy]: webhook.default.made-in-dashboard');
    const apply = await ws.cli(['apply', '--auto-approve', '--allow-hazards=STOPS_DELIVERIES'], { FLUXBASE_PREVENT_DESTROY: 'true' });
    expect(apply.code).toBe(1);
    const id = await tenantId(emulator, 'default');
    const hooks = await api<{ name: string }[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: id });
    expect(hooks.body.map((h) => h.name)).toContain('made-in-dashboard');
    await ws.write(protectedConfig.replace('    webhooks:\n', '    webhooks:\n      made-in-dashboard:\n        url: https://elsewhere.example/hook\n        scope: user\n        events: [{ table: public.notes, operations: [DELETE] }]\n'));
  });
});

describe('plans as artifacts', () => {
  it('applies a saved plan exactly, and refuses one whose resource changed through the API in between', async () => {
    await ws.edit((t) => t.replace('https://hooks.example.com/notes', 'https://hooks.example.com/notes-v2'));
    const saved = path.join(ws.dir, 'plan.json');
    const plan = await ws.cli(['plan', '--out', saved, '--detailed-exitcode']);
    expect(plan.code).toBe(2);
    const text = await readFile(saved, 'utf8');
    expect(text).not.toContain('hook-secret-1');

    // Someone edits the same webhook in the dashboard before the saved plan is applied.
    const id = await tenantId(emulator, 'default');
    const hooks = await api<Record<string, unknown>[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: id });
    const hook = hooks.body.find((h) => h.name === 'notes-hook')!;
    await api(emulator, 'PATCH', `/api/v1/webhooks/${String(hook.id)}`, { tenant: id, body: { ...hook, timeout_seconds: 7 } });
    const before = emulator.requestCount();
    const stale = await ws.cli(['apply', saved]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('error[plan.stale]: webhook.default.notes-hook');
    expect(stale.stderr).toContain('nothing was changed');
    const after = await api<Record<string, unknown>[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: id });
    expect(after.body.find((h) => h.name === 'notes-hook')?.url).toBe('https://hooks.example.com/notes');
    expect(emulator.requestCount() - before).toBeLessThan(15); // a refresh, no writes

    const fresh = await ws.cli(['plan', '--out', saved]);
    expect(fresh.code).toBe(0);
    const applied = await ws.cli(['apply', saved, '--detailed-exitcode']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(2);
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
  });

  it('refuses a saved plan when the configuration (or a secret) changed since', async () => {
    await ws.edit((t) => t.replace('https://hooks.example.com/notes-v2', 'https://hooks.example.com/notes-v3'));
    const saved = path.join(ws.dir, 'plan2.json');
    expect((await ws.cli(['plan', '--out', saved])).code).toBe(0);
    const refused = await ws.cli(['apply', saved], { NOTES_HOOK_SECRET: 'a-different-secret' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error[plan.config-changed]');
    expect(refused.stderr).not.toContain('a-different-secret');
    expect((await ws.cli(['apply', saved])).code).toBe(0);
  });

  it('prints JSON documents that validate against the published schemas', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    (addFormats as unknown as (a: Ajv) => void)(ajv);
    const planSchema = JSON.parse(await readFile(path.join(ROOT, 'schemas/output/plan.schema.json'), 'utf8'));
    const applySchema = JSON.parse(await readFile(path.join(ROOT, 'schemas/output/apply.schema.json'), 'utf8'));
    ajv.addSchema(planSchema, 'plan.schema.json');
    const validatePlan = ajv.compile(planSchema);
    const validateApply = ajv.compile(applySchema);
    await ws.edit((t) => t.replace('https://hooks.example.com/notes-v3', 'https://hooks.example.com/notes-v4'));
    const plan = await ws.cli(['plan', '--json']);
    const doc = JSON.parse(plan.stdout);
    expect(validatePlan(doc), JSON.stringify(validatePlan.errors)).toBe(true);
    expect(doc.apiCalls.total).toBeGreaterThan(0);
    expect(doc.apiCalls.byRoute['GET /api/v1/admin/tenants']).toBe(1);
    const apply = await ws.cli(['apply', '--auto-approve', '--json']);
    const applied = JSON.parse(apply.stdout);
    expect(validateApply(applied), JSON.stringify(validateApply.errors)).toBe(true);
    expect(applied.status).toBe('applied');
    expect(applied.applied).toEqual([{ address: 'webhook.default.notes-hook', action: 'update' }]);
  });

  it('renders a Markdown summary with a table, hazards first and collapsible details, secrets masked', async () => {
    await ws.edit((t) => t.replace('https://hooks.example.com/notes-v4', 'https://hooks.example.com/notes-v5').replace("using: \"true\"", 'using: body IS NOT NULL'));
    const md = await ws.cli(['plan', '--format', 'markdown'], { NOTES_HOOK_SECRET: 'rotated-secret-canary' });
    expect(md.code).toBe(0);
    const out = md.stdout;
    expect(out.indexOf('Hazards')).toBeLessThan(out.indexOf('| Action | Resources |'));
    expect(out).toContain('| 🔄 update in place | 2 |');
    expect(out).toMatch(/<details>\n<summary>🔄 <code>webhook\.default\.notes-hook<\/code> — update/);
    expect(out).toContain('(sensitive value)');
    expect(out).not.toContain('rotated-secret-canary');
    expect(out.length).toBeLessThan(65_000);
  });
});

describe('locking', () => {
  it('serialises two applies started together: one completes, the other names the lock holder, the state stays intact', async () => {
    await ws.edit((t) => t.replace('https://hooks.example.com/notes-v5', 'https://hooks.example.com/notes-v6'));
    // The first apply's requests are held at a proxy: it holds the lock for as long as the test
    // wants, so the second apply meets the lock whatever the machine's load.
    const proxy = await ChaosProxy.start(Number(new URL(emulator.url).port));
    proxy.pause();
    const reached = new Promise<void>((resolve) => (proxy.onRequest = () => resolve()));
    try {
      const first = ws.cli(['apply', '--auto-approve', '--allow-hazards=AUTHZ_CHANGE'], { FLUXBASE_URL: proxy.url });
      await reached; // it has taken the lock and is refreshing
      const second = await ws.cli(['apply', '--auto-approve', '--allow-hazards=AUTHZ_CHANGE']);
      proxy.resume();
      const a = await first;
      expect(a.code).toBe(0);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain('error[state.locked]');
      expect(second.stderr).toMatch(/locked by .+@.+ \(pid \d+\) since .+ \(lock id [0-9a-f-]+/);
      expect(second.stderr).toContain('running `fluxbase apply`');
      expect(second.stderr).toContain('fluxbase force-unlock');
    } finally {
      proxy.resume();
      await proxy.close();
    }
    const state = JSON.parse(await readFile(path.join(ws.dir, 'fluxbase.state.json'), 'utf8'));
    expect(state.format).toBe('fluxbase-iac-state');
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
  });

  it('force-unlock removes a stale lock by id', async () => {
    const lockFile = path.join(ws.dir, 'fluxbase.state.json.lock');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(lockFile, JSON.stringify({ id: 'dead-beef', owner: 'ci@runner-7 (pid 1)', operation: 'fluxbase apply', created: new Date().toISOString(), expires: new Date(Date.now() + 3_600_000).toISOString() }));
    const blocked = await ws.cli(['apply', '--auto-approve']);
    expect(blocked.stderr).toContain('locked by ci@runner-7 (pid 1)');
    expect((await ws.cli(['force-unlock', 'wrong-id'])).code).toBe(1);
    const unlocked = await ws.cli(['force-unlock', 'dead-beef']);
    expect(unlocked.code).toBe(0);
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
  });
});

describe('failures', () => {
  it('converges through injected 429 and 503 answers, honouring Retry-After', async () => {
    const config = await readFile(path.join(ROOT, 'examples/helpdesk/fluxbase.config.yaml'), 'utf8');
    const flaky = await startTestEmulator({ faults: { rate429: 0.15, rate503: 0.15, retryAfterSeconds: 1, seed: 42 } });
    const local = await Workspace.create(flaky, config);
    try {
      const apply = await local.cli(['apply', '--auto-approve', '--json']);
      const doc = JSON.parse(apply.stdout) as { status: string; apiCalls: { retries: number } };
      expect(doc.status).toBe('applied');
      expect(doc.apiCalls.retries).toBeGreaterThan(0);
      const plan = await local.cli(['plan', '--detailed-exitcode']);
      expect(plan.code).toBe(0);
    } finally {
      await local.dispose();
      await flaky.close();
    }
  });

  it('reports applied, failed and not attempted after a failure, and a second apply converges without duplicates', async () => {
    const guarded = await startTestEmulator(); // the URL guard is on, as on a production server
    const config = `version: 1
tenants:
  shop:
    schemas:
      sales:
        tables:
          orders:
            columns:
              id: { type: bigint, primary_key: true }
          refunds:
            columns:
              id: { type: bigint, primary_key: true }
    webhooks:
      orders-hook:
        url: http://127.0.0.1:9/hook
`;
    const local = await Workspace.create(guarded, config);
    try {
      const first = await local.cli(['apply', '--auto-approve', '--parallelism', '1']);
      expect(first.code).toBe(1);
      expect(first.stdout).toContain('Apply failed:');
      expect(first.stdout).toMatch(/failed: +webhook\.shop\.orders-hook \(create\): POST \/api\/v1\/webhooks answered 500: Failed to create webhook/);
      expect(first.stdout).toMatch(/applied: +tenant\.shop \(create\)/);
      const state = JSON.parse(await readFile(path.join(local.dir, 'fluxbase.state.json'), 'utf8')) as { resources: Record<string, unknown> };
      expect(Object.keys(state.resources)).toContain('tenant.shop');
      expect(Object.keys(state.resources)).not.toContain('webhook.shop.orders-hook');

      await local.edit((t) => t.replace('http://127.0.0.1:9/hook', 'https://93.184.216.34/orders'));
      const second = await local.cli(['apply', '--auto-approve']);
      expect(second.stderr).toBe('');
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('3 added, 0 changed, 0 destroyed');
      const id = await tenantId(guarded, 'shop');
      const tenants = await api<{ slug: string }[]>(guarded, 'GET', '/api/v1/admin/tenants');
      expect(tenants.body.filter((t) => t.slug === 'shop')).toHaveLength(1);
      const hooks = await api<{ name: string }[]>(guarded, 'GET', '/api/v1/webhooks', { tenant: id });
      expect(hooks.body.map((h) => h.name)).toEqual(['orders-hook']);
    } finally {
      await local.dispose();
      await guarded.close();
    }
  });
});

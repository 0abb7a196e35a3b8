/**
 * The lifecycle commands a Terraform user reaches for (issue 12), end to end against the emulator
 * through the real CLI: destroy and plan --destroy, --target, --replace, state list/show/rm/mv,
 * `removed:` and `moved:`, show PLANFILE, graph, colour switches and FLUXBASE_LOG.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { canonicalJson } from '../../src/model/canonical.js';
import { api, changesOf, startTestEmulator, tenantId, Workspace } from './harness.js';

const CONFIG = `version: 1
tenants:
  default:
    schemas:
      public:
        tables:
          lc_notes:
            columns:
              id:   { type: bigint, primary_key: true }
              body: { type: text }
            rls:
              enabled: true
              policies:
                lc_notes_read: { command: SELECT, roles: [authenticated], using: "true" }
    webhooks:
      lc-hook:
        url: https://hooks.example.com/lc
        secret: \${env:LC_HOOK_SECRET}
    service_keys:
      lc-ci:
        scopes: ["*"]
  lcacme:
    metadata: { tier: gold }
    webhooks:
      acme-hook:
        url: https://hooks.example.com/acme
`;

let emulator: RunningEmulator;
let ws: Workspace;

beforeAll(async () => {
  emulator = await startTestEmulator();
  ws = await Workspace.create(emulator, CONFIG, { LC_HOOK_SECRET: 'lc-hook-secret-value' });
  const apply = await ws.cli(['apply', '--auto-approve', '--secrets-out', 'keys.env']);
  expect(apply.stderr).toBe('');
  expect(apply.code).toBe(0);
});

afterAll(async () => {
  await ws?.dispose();
  await emulator?.close();
});

const hooks = async (slug: string) => (await api<{ id: string; name: string }[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: await tenantId(emulator, slug) })).body;

describe('plan --target and --replace', () => {
  it('narrows a plan to the targets and what they depend on, with a warning', async () => {
    await ws.edit((t) => t.replace('https://hooks.example.com/lc', 'https://hooks.example.com/lc-2').replace('tier: gold', 'tier: silver'));
    const all = await ws.cli(['plan', '--json']);
    expect(changesOf(all.stdout).sort()).toEqual([
      ['tenant.lcacme', 'update'],
      ['webhook.default.lc-hook', 'update'],
    ]);
    const targeted = await ws.cli(['plan', '--json', '--target', 'webhook.default.lc-hook']);
    expect(changesOf(targeted.stdout)).toEqual([['webhook.default.lc-hook', 'update']]);
    expect(targeted.stderr).toContain('warning[plan.target]: resource targeting is in effect');
    const unknown = await ws.cli(['plan', '--target', 'webhook.default.nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error[plan.target]: --target webhook.default.nope: no such resource');
  });

  it('applies only the targeted change; the rest stays planned', async () => {
    const apply = await ws.cli(['apply', '--auto-approve', '--target', 'tenant.lcacme']);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('tenant.lcacme: Modifications complete');
    expect(apply.stdout).not.toContain('webhook.default.lc-hook:');
    expect(changesOf((await ws.cli(['plan', '--json'])).stdout)).toEqual([['webhook.default.lc-hook', 'update']]);
    expect((await ws.cli(['apply', '--auto-approve'])).code).toBe(0);
  });

  it('rotates a service key on demand with --replace, behind ROTATES_CREDENTIAL, and shows the new value', async () => {
    const before = await readFile(path.join(ws.dir, 'keys.env'), 'utf8');
    const plan = await ws.cli(['plan', '--replace', 'service_key.default.lc-ci']);
    expect(plan.stdout).toContain('# service_key.default.lc-ci must be replaced (replacement requested with --replace)');
    expect(plan.stdout).toContain('ROTATES_CREDENTIAL');
    const refused = await ws.cli(['apply', '--auto-approve', '--replace', 'service_key.default.lc-ci', '--secrets-out', 'keys.env']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--allow-hazards=ROTATES_CREDENTIAL');
    const rotated = await ws.cli(['apply', '--auto-approve', '--replace', 'service_key.default.lc-ci', '--allow-hazards=ROTATES_CREDENTIAL', '--secrets-out', 'keys.env']);
    expect(rotated.code).toBe(0);
    const after = await readFile(path.join(ws.dir, 'keys.env'), 'utf8');
    const values = after.split('\n').filter((l) => l.startsWith('SERVICE_KEY_DEFAULT_LC_CI='));
    expect(values).toHaveLength(before.split('\n').filter((l) => l.startsWith('SERVICE_KEY_DEFAULT_LC_CI=')).length + 1);
    expect(new Set(values).size).toBe(values.length);
    const cannot = await ws.cli(['plan', '--replace', 'tenant.lcacme']);
    expect(cannot.code).toBe(1);
    expect(cannot.stderr).toContain('error[plan.replace]: tenant.lcacme: cannot replace: the server keeps the slug of a deleted tenant');
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
  });
});

describe('fluxbase state', () => {
  it('lists the managed addresses, all or under a prefix, and shows one entry without its secret', async () => {
    const list = await ws.cli(['state', 'list']);
    expect(list.code).toBe(0);
    const addresses = list.stdout.trim().split('\n');
    expect(addresses).toEqual([...addresses].sort());
    expect(addresses).toEqual(expect.arrayContaining(['table.default.public.lc_notes', 'policy.default.public.lc_notes.lc_notes_read', 'webhook.default.lc-hook', 'tenant.lcacme']));
    expect((await ws.cli(['state', 'list', 'webhook.default'])).stdout.trim().split('\n')).toEqual(['webhook.default.lc-hook']);
    const show = await ws.cli(['state', 'show', 'webhook.default.lc-hook']);
    expect(show.stdout).toMatch(/^# webhook\.default\.lc-hook\nkind += webhook\nid += "[0-9a-f-]{36}"\n/);
    expect(show.stdout).toContain('secret          = (sensitive value: sent; its keyed fingerprint is recorded)');
    expect(show.stdout).not.toContain('lc-hook-secret-value');
    expect((await ws.cli(['state', 'show', 'webhook.default.nope'])).code).toBe(1);
  });

  it('rm stops managing without deleting (the object is then listed as not managed); import takes it back', async () => {
    const rm = await ws.cli(['state', 'rm', 'webhook.lcacme.acme-hook']);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain('Removed webhook.lcacme.acme-hook from the state. The live object is left in place');
    expect((await hooks('lcacme')).map((h) => h.name)).toEqual(['acme-hook']);
    const plan = await ws.cli(['plan']);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('error[plan.unmanaged-conflict]: webhook.lcacme.acme-hook');
    expect((await ws.cli(['import', 'webhook.lcacme.acme-hook'])).code).toBe(0);
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    const backup = JSON.parse(await readFile(path.join(ws.dir, 'fluxbase.state.json.backup'), 'utf8')) as { serial: number };
    const text = await readFile(path.join(ws.dir, 'fluxbase.state.json'), 'utf8');
    const current = JSON.parse(text) as { serial: number };
    expect(backup.serial).toBe(current.serial - 1);
    // The file is canonical JSON (sorted keys, indent 2) though it is assembled from kept entry texts.
    expect(text).toBe(`${canonicalJson(current, 2)}\n`);
  });

  it('mv and moved: give a resource renamed on the server its new address, secret fingerprint included, without re-creating it', async () => {
    const [hook] = (await hooks('default')).filter((h) => h.name === 'lc-hook');
    const full = (await api<Record<string, unknown>[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: await tenantId(emulator, 'default') })).body.find((h) => h.id === hook!.id)!;
    // Renamed in the dashboard (the secret is kept by sending it, as the PATCH replaces everything).
    await api(emulator, 'PATCH', `/api/v1/webhooks/${hook!.id}`, { tenant: await tenantId(emulator, 'default'), body: { ...full, name: 'lc-hook-renamed', secret: 'lc-hook-secret-value' } });
    await ws.edit((t) => t.replace('      lc-hook:\n', '      lc-hook-renamed:\n').replace('version: 1\n', 'version: 1\nmoved:\n  - { from: webhook.default.lc-hook, to: webhook.default.lc-hook-renamed }\n'));
    const plan = await ws.cli(['plan', '--json', '--detailed-exitcode']);
    expect(plan.code).toBe(2);
    const doc = JSON.parse(plan.stdout) as { changes: { address: string; action: string; movedFrom?: string }[]; resolved?: { message: string }[] };
    expect(doc.changes.filter((c) => c.action !== 'no-op' || c.movedFrom)).toEqual([expect.objectContaining({ address: 'webhook.default.lc-hook-renamed', action: 'no-op', movedFrom: 'webhook.default.lc-hook' })]);
    const text = await ws.cli(['plan']);
    expect(text.stdout).toContain('# webhook.default.lc-hook-renamed has moved from webhook.default.lc-hook');
    const apply = await ws.cli(['apply', '--auto-approve']);
    expect(apply.code).toBe(0);
    expect((await hooks('default')).map((h) => h.id)).toEqual([hook!.id]);
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    // state mv is the same move by hand (and back).
    expect((await ws.cli(['state', 'mv', 'webhook.default.lc-hook-renamed', 'webhook.default.elsewhere'])).stdout).toContain('Moved webhook.default.lc-hook-renamed to webhook.default.elsewhere.');
    expect((await ws.cli(['state', 'list', 'webhook.default'])).stdout.trim()).toBe('webhook.default.elsewhere');
    expect((await ws.cli(['state', 'mv', 'webhook.default.elsewhere', 'webhook.default.lc-hook-renamed'])).code).toBe(0);
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
  });

  it('refuses a moved: entry whose live object still has the old name (a move renames addresses, not objects)', async () => {
    await ws.edit((t) => t.replace('{ from: webhook.default.lc-hook, to: webhook.default.lc-hook-renamed }', '{ from: webhook.lcacme.acme-hook, to: webhook.lcacme.acme-hook-2 }').replace('      acme-hook:\n', '      acme-hook-2:\n'));
    const plan = await ws.cli(['plan']);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('error[plan.moved]: webhook.lcacme.acme-hook-2');
    expect(plan.stderr).toContain('still has its old address');
    await ws.edit((t) => t.replace(/moved:\n.*\n/, '').replace('      acme-hook-2:\n', '      acme-hook:\n'));
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
  });

  it('removed: stops managing a table and its policies without dropping them', async () => {
    await ws.edit((t) =>
      t
        .replace(/ {10}lc_notes:\n(?: {12}.*\n)+/, '')
        .replace('      public:\n        tables:\n', '      public:\n        tables: {}\n')
        .replace('version: 1\n', 'version: 1\nremoved:\n  - table.default.public.lc_notes\n'),
    );
    const plan = await ws.cli(['plan']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('# table.default.public.lc_notes will be removed from the state (the live object is left in place)');
    expect(plan.stdout).toContain('# policy.default.public.lc_notes.lc_notes_read will be removed from the state');
    expect(plan.stdout).toContain('Plan: 0 to add, 0 to change, 0 to destroy, 2 to forget.');
    const apply = await ws.cli(['apply', '--auto-approve']);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('table.default.public.lc_notes: Removed from the state (left in place)');
    expect((await ws.cli(['state', 'list', 'table'])).stdout.trim()).toBe('');
    const rls = await api<{ rls_enabled: boolean }>(emulator, 'GET', '/api/v1/admin/tables/public/lc_notes/rls', { tenant: await tenantId(emulator, 'default') });
    expect(rls.status).toBe(200);
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    await ws.edit((t) => t.replace('removed:\n  - table.default.public.lc_notes\n', 'removed:\n  - webhook.default.lc-hook-renamed\n'));
    const stillDeclared = await ws.cli(['validate']);
    expect(stillDeclared.code).toBe(1);
    expect(stillDeclared.stderr).toMatch(/fluxbase\.config\.yaml:3:5: error\[config\.conflict\]: removed\.0: webhook\.default\.lc-hook-renamed is still declared/);
    await ws.edit((t) => t.replace('removed:\n  - webhook.default.lc-hook-renamed\n', 'removed:\n  - table.default.public.lc_notes\n'));
  });
});

describe('show, graph and output switches', () => {
  it('renders a saved plan as text, JSON and Markdown without contacting the server', async () => {
    await ws.edit((t) => t.replace('tier: silver', 'tier: bronze'));
    expect((await ws.cli(['plan', '--out', 'saved.json'])).code).toBe(0);
    const offline = { FLUXBASE_URL: 'http://127.0.0.1:9' };
    const text = await ws.cli(['show', 'saved.json'], offline);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('# tenant.lcacme will be updated in place');
    expect(text.stdout).toContain('~ metadata.tier: "silver" -> "bronze"');
    expect(text.stdout).toContain('fluxbase apply saved.json');
    const json = await ws.cli(['show', 'saved.json', '--json'], offline);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(await readFile(path.join(ws.dir, 'saved.json'), 'utf8')));
    const md = await ws.cli(['show', 'saved.json', '--format', 'markdown'], offline);
    expect(md.stdout).toContain('### Fluxbase plan');
    expect(md.stdout).toContain('<code>tenant.lcacme</code>');
    const bad = await ws.cli(['show', 'fluxbase.config.yaml'], offline);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error[plan.format]');
    expect((await ws.cli(['apply', 'saved.json'])).code).toBe(0);
  });

  it('prints the dependency graph as DOT and as Mermaid', async () => {
    await ws.edit((t) => t.replace('        tables: {}\n', '        tables:\n          gr_t:\n            columns: { id: { type: bigint, primary_key: true } }\n            rls: { enabled: true, policies: { gr_p: { using: "true" } } }\n').replace(/removed:\n.*\n/, ''));
    const dot = await ws.cli(['graph'], { FLUXBASE_URL: 'http://127.0.0.1:9' });
    expect(dot.code).toBe(0);
    expect(dot.stdout).toMatch(/^digraph fluxbase \{\n/);
    expect(dot.stdout).toContain('"policy.default.public.gr_t.gr_p" -> "table.default.public.gr_t";');
    expect(dot.stdout).toContain('"table.default.public.gr_t" -> "tenant.default";');
    // The table `removed:` left live is now listed as not managed.
    const plan = await ws.cli(['plan']);
    expect(plan.stdout).toMatch(/Not managed by this configuration \(left untouched\):\n(?: {2}\? .*\n)* {2}\? table\.default\.public\.lc_notes\n/);
    const mermaid = await ws.cli(['graph', '--format', 'mermaid']);
    expect(mermaid.stdout).toMatch(/^flowchart RL\n/);
    expect(mermaid.stdout).toMatch(/n\d+\["policy\.default\.public\.gr_t\.gr_p"\]/);
    expect(mermaid.stdout).toMatch(/n\d+ --> n\d+/);
    expect((await ws.cli(['plan', '--out', 'graph-plan.json'])).code).toBe(0);
    const planned = await ws.cli(['graph', '--plan', 'graph-plan.json']);
    expect(planned.stdout).toContain('"policy.default.public.gr_t.gr_p" [label = "+ policy.default.public.gr_t.gr_p"];');
    expect(planned.stdout).toContain('"policy.default.public.gr_t.gr_p" -> "table.default.public.gr_t";');
  });

  it('colours only when allowed: --no-color, NO_COLOR when non-empty, FORCE_COLOR', async () => {
    const esc = '\u001b[';
    const plain = { NO_COLOR: '' };
    expect((await ws.cli(['plan'], plain)).stdout).not.toContain(esc); // not a terminal
    expect((await ws.cli(['plan'], { ...plain, FORCE_COLOR: '1' })).stdout).toContain(esc);
    expect((await ws.cli(['plan', '--no-color'], { ...plain, FORCE_COLOR: '1' })).stdout).not.toContain(esc);
    expect((await ws.cli(['--no-color', 'plan'], { ...plain, FORCE_COLOR: '1' })).stdout).not.toContain(esc);
    expect((await ws.cli(['plan'], { NO_COLOR: '1', FORCE_COLOR: '0' })).stdout).not.toContain(esc);
  });

  it('logs what is sent and received with FLUXBASE_LOG, secrets masked, to stderr or FLUXBASE_LOG_PATH', async () => {
    const debug = await ws.cli(['plan'], { FLUXBASE_LOG: 'debug' });
    expect(debug.stderr).toMatch(/fluxbase: -> GET \/api\/v1\/admin\/tenants\n/);
    expect(debug.stderr).toMatch(/fluxbase: <- 200 GET \/api\/v1\/admin\/tenants \(\d+ ms\)/);
    expect(debug.stderr).not.toContain('body:');
    await ws.edit((t) => t.replace('https://hooks.example.com/lc-2', 'https://hooks.example.com/lc-3'));
    const trace = await ws.cli(['apply', '--auto-approve', '--allow-hazards=AUTHZ_CHANGE'], { FLUXBASE_LOG: 'trace', FLUXBASE_LOG_PATH: 'trace.log' });
    expect(trace.code).toBe(0);
    expect(trace.stderr).toBe('');
    const log = await readFile(path.join(ws.dir, 'trace.log'), 'utf8');
    expect(log).toContain('-> PATCH /api/v1/webhooks/');
    expect(log).toContain('"secret":"(sensitive)"');
    expect(log).toContain('"authorization":"(sensitive)"');
    expect(log).not.toContain('lc-hook-secret-value');
    expect(log).not.toContain(ws.env.FLUXBASE_TOKEN!);
  });
});

describe('fluxbase destroy', () => {
  it('plans the deletion of everything managed in reverse dependency order; the default tenant and built-ins stay', async () => {
    const plan = await ws.cli(['plan', '--destroy', '--json']);
    expect(plan.code).toBe(0);
    const doc = JSON.parse(plan.stdout) as { destroy?: boolean; changes: { address: string; action: string; deletedWith?: string }[] };
    expect(doc.destroy).toBe(true);
    const deleted = doc.changes.filter((c) => c.action === 'delete').map((c) => c.address);
    expect(deleted).toEqual(expect.arrayContaining(['tenant.lcacme', 'webhook.default.lc-hook-renamed', 'service_key.default.lc-ci', 'table.default.public.gr_t']));
    expect(deleted).not.toContain('tenant.default');
    expect(doc.changes.find((c) => c.address === 'webhook.lcacme.acme-hook')?.deletedWith).toBe('tenant.lcacme');
    expect(deleted.indexOf('table.default.public.gr_t')).toBeGreaterThan(deleted.indexOf('policy.default.public.gr_t.gr_p'));
  });

  it('refuses under prevent_destroy, and behind the hazard gate; then destroys and leaves nothing managed', async () => {
    await ws.edit((t) => t.replace('  lcacme:\n', '  lcacme:\n    lifecycle: { prevent_destroy: true }\n'));
    const prevented = await ws.cli(['destroy', '--auto-approve', '--allow-hazards=DELETES_DATA,AUTHZ_CHANGE,STOPS_DELIVERIES,ROTATES_CREDENTIAL']);
    expect(prevented.code).toBe(1);
    expect(prevented.stderr).toContain('error[plan.prevent-destroy]: tenant.lcacme');
    await ws.edit((t) => t.replace('    lifecycle: { prevent_destroy: true }\n', ''));
    const gated = await ws.cli(['destroy', '--auto-approve']);
    expect(gated.code).toBe(1);
    expect(gated.stderr).toContain('error[plan.hazard-not-allowed]');
    const noTerminal = await ws.cli(['destroy', '--allow-hazards=DELETES_DATA,AUTHZ_CHANGE,STOPS_DELIVERIES,ROTATES_CREDENTIAL']);
    expect(noTerminal.stderr).toContain('destroy needs confirmation');
    const destroyed = await ws.cli(['destroy', '--auto-approve', '--json', '--allow-hazards=DELETES_DATA,AUTHZ_CHANGE,STOPS_DELIVERIES,ROTATES_CREDENTIAL']);
    expect(destroyed.code).toBe(0);
    const result = JSON.parse(destroyed.stdout) as { status: string; applied: { address: string }[] };
    expect(result.status).toBe('applied');
    expect((await ws.cli(['state', 'list'])).stdout.split('\n').filter((a) => a && !a.startsWith('tenant.default'))).toEqual([]);
    const tenants = (await api<{ slug: string }[]>(emulator, 'GET', '/api/v1/admin/tenants')).body.map((t) => t.slug);
    expect(tenants).toContain('default');
    expect(tenants).not.toContain('lcacme');
    expect((await hooks('default')).map((h) => h.name)).toEqual([]);
    const again = await ws.cli(['destroy', '--auto-approve']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes.');
  });
});

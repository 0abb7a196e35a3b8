/**
 * The walking skeleton, end to end: the real CLI against the emulator over HTTP, backed by
 * PostgreSQL. Apply from empty, re-plan clean, targeted updates, drift repair, invalid configs.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { api, changesOf, ROOT, startTestEmulator, tenantId, Workspace } from './harness.js';

let emulator: RunningEmulator;
let ws: Workspace;

beforeAll(async () => {
  emulator = await startTestEmulator();
  const config = await readFile(path.join(ROOT, 'examples/helpdesk/fluxbase.config.yaml'), 'utf8');
  ws = await Workspace.create(emulator, config);
});

afterAll(async () => {
  await ws?.dispose();
  await emulator?.close();
});

describe('plan and apply against the emulator', () => {
  it('plans every resource as a create on an empty instance and applies them', async () => {
    const plan = await ws.cli(['plan', '--detailed-exitcode']);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('Plan: 10 to add, 0 to change, 0 to destroy.');
    const apply = await ws.cli(['apply', '--auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('Apply complete! Resources: 10 added, 0 changed, 0 destroyed.');
    expect(apply.stdout).toMatch(/table\.globex\.public\.tickets: Creation complete after/);
  });

  it('then plans no changes (PostgreSQL renderings compare equal to the declarations)', async () => {
    const plan = await ws.cli(['plan', '--detailed-exitcode']);
    expect(plan.stdout).toContain('No changes.');
    expect(plan.code).toBe(0);
  });

  it("created real tables and policies in the tenant's own database, the tables owned by tenant_migration_role (F2)", async () => {
    const id = await tenantId(emulator, 'globex');
    const policies = await api<{ policy_name: string; permissive: string; using: string }[]>(emulator, 'GET', '/api/v1/admin/policies', { tenant: id });
    const byName = new Map(policies.body.map((p) => [p.policy_name, p]));
    expect(byName.get('tickets_no_delete_open')?.permissive).toBe('RESTRICTIVE');
    expect(byName.get('tickets_requester_read')?.using).toBe('(requester = auth.uid())');
    const rls = await api<{ rls_enabled: boolean }>(emulator, 'GET', '/api/v1/admin/tables/public/tickets/rls', { tenant: id });
    expect(rls.body.rls_enabled).toBe(true);
    const owners = await api<{ results: { rows: { relname: string; owner: string }[] }[] }>(emulator, 'POST', '/api/v1/admin/sql/execute', {
      tenant: id,
      body: { query: "SELECT relname, pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1" },
    });
    expect(owners.body.results[0]!.rows).toEqual([
      { relname: 'agents', owner: 'tenant_migration_role' },
      { relname: 'tickets', owner: 'tenant_migration_role' },
    ]);
  });

  it('plans exactly three updates for one column default, one policy expression and the tenant metadata', async () => {
    await ws.edit((t) =>
      t
        .replace(`status:      { type: text, nullable: false, default: "'open'" }`, `status:      { type: text, nullable: false, default: "'new'" }`)
        .replace('using: requester = auth.uid()\n                tickets_agents_all', 'using: requester = auth.uid() OR closed_at IS NULL\n                tickets_agents_all')
        .replace('support_region: us-east', 'support_region: us-west'),
    );
    const plan = await ws.cli(['plan', '--json']);
    expect(plan.code).toBe(0);
    expect(changesOf(plan.stdout).sort()).toEqual([
      ['policy.globex.public.tickets.tickets_requester_read', 'update'],
      ['table.globex.public.tickets', 'update'],
      ['tenant.globex', 'update'],
    ]);
    const doc = JSON.parse(plan.stdout) as { changes: { address: string; attributes: { path: string[] }[] }[] };
    const paths = doc.changes.filter((c) => c.attributes.length > 0).map((c) => [c.address, c.attributes.map((a) => a.path.join('.'))]);
    expect(paths.sort()).toEqual([
      ['policy.globex.public.tickets.tickets_requester_read', ['using']],
      ['table.globex.public.tickets', ['columns.status.default']],
      ['tenant.globex', ['metadata.support_region']],
    ]);
  });

  it('applies them (the policy change widens access, so AUTHZ_CHANGE must be allowed) and the plan is clean again', async () => {
    const refused = await ws.cli(['apply', '--auto-approve']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--allow-hazards=AUTHZ_CHANGE');
    expect(refused.stderr).toContain(
      "`authenticated` SELECT on `public.tickets` in tenant `globex` widens: rows where `requester = auth.uid() OR team = auth.jwt() ->> 'team'` → rows where `requester = auth.uid() OR team = auth.jwt() ->> 'team' OR closed_at IS NULL`",
    );
    const apply = await ws.cli(['apply', '--auto-approve', '--allow-hazards=AUTHZ_CHANGE']);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('0 added, 3 changed, 0 destroyed');
    const plan = await ws.cli(['plan', '--detailed-exitcode']);
    expect(plan.code).toBe(0);
  });

  it('detects a policy dropped and tenant metadata changed outside the tool, and apply repairs both', async () => {
    const id = await tenantId(emulator, 'globex');
    expect((await api(emulator, 'DELETE', '/api/v1/admin/policies/public/agents/agents_see_team', { tenant: id })).status).toBe(200);
    expect((await api(emulator, 'PATCH', `/api/v1/admin/tenants/${id}`, { body: { metadata: { tier: 'free' } } })).status).toBe(200);

    const plan = await ws.cli(['plan', '--json', '--detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(changesOf(plan.stdout).sort()).toEqual([
      ['policy.globex.public.agents.agents_see_team', 'create'],
      ['tenant.globex', 'update'],
    ]);
    const text = await ws.cli(['plan']);
    expect(text.stdout).toContain('deleted outside fluxbase');
    expect(text.stdout).toContain('~ metadata.tier: "free" -> "business"');

    // Re-creating a permissive policy widens access compared with the live state: a hazard.
    expect(text.stdout).toContain('! AUTHZ_CHANGE');
    const apply = await ws.cli(['apply', '--auto-approve', '--allow-hazards=AUTHZ_CHANGE']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
  });

  it('refuses to apply without confirmation when no terminal is attached', async () => {
    await ws.edit((t) => t.replace('Globex Corporation', 'Globex Corp.'));
    const apply = await ws.cli(['apply']);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain('error[cli.interactive]');
    expect(apply.stderr).toContain('--auto-approve');
    const plan = await ws.cli(['plan', '--json']);
    expect(changesOf(plan.stdout)).toEqual([['tenant.globex', 'update']]);
  });
});

describe('invalid configurations', () => {
  const valid = `version: 1
tenants:
  acme:
    schemas:
      public:
        tables:
          posts:
            columns:
              id: { type: uuid, primary_key: true }
            rls:
              enabled: true
              policies:
                read_all: { command: SELECT, using: "true" }
`;
  const cases: [string, string, string, string][] = [
    ['a YAML syntax error', valid.replace('id: { type: uuid, primary_key: true }', 'id: { type: uuid, primary_key: true'), 'config.yaml-syntax', 'fluxbase.config.yaml:10:'],
    ['an unknown key', valid.replace('primary_key: true', 'primary_key: true, nulable: false'), 'config.schema', 'fluxbase.config.yaml:9:'],
    ['a wrong type', valid.replace('primary_key: true', 'primary_key: yes please'), 'config.schema', 'fluxbase.config.yaml:9:'],
    ['a bad identifier', valid.replace('          posts:', '          Posts:'), 'config.schema', 'fluxbase.config.yaml:7:11'],
    ['an unset environment variable', valid.replace('acme:', 'acme:\n    name: ${env:ACME_DISPLAY_NAME}'), 'config.env-unset', 'fluxbase.config.yaml:4:11'],
    ['a policy on an undeclared table', `${valid}          comments:\n            rls:\n              policies:\n                c: { command: SELECT, using: "true" }\n`, 'config.undeclared-table', 'fluxbase.config.yaml:17:17'],
  ];

  it.each(cases)('%s gives a diagnostic with file:line:column, exit 1 and no API call', async (_name, config, code, where) => {
    const local = await Workspace.create(emulator, config);
    try {
      const before = emulator.requestCount();
      for (const command of [['validate'], ['plan'], ['apply', '--auto-approve']]) {
        const result = await local.cli(command);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`error[${code}]`);
        expect(result.stderr).toContain(where);
      }
      expect(emulator.requestCount()).toBe(before);
    } finally {
      await local.dispose();
    }
  });
});

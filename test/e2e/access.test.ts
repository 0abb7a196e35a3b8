/**
 * Who can see what, end to end: the access delta of a plan (text, JSON, Markdown) and the
 * AUTHZ_CHANGE gate; `fluxbase access --role anon` on the root configuration checked against
 * PostgreSQL by running the statements as `anon`; `fluxbase test` on the root configuration's own
 * tests, and on a policy broken on purpose; `plan --prove` converging for the root configuration
 * and failing for a plan that cannot be applied. Real CLI, real emulator, real PostgreSQL.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FluxbaseClient } from '../../src/client/http.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { buildDesired } from '../../src/engine/graph.js';
import { loadConfig } from '../../src/engine/session.js';
import { loadFixtures } from '../../src/access/test-run.js';
import { testSuite } from '../../src/access/test-spec.js';
import type { AccessModel, Command, RowAccess } from '../../src/access/types.js';
import { TENANT_INSERT_BLOCK } from '../../src/access/compute.js';
import { applyInSandbox, SCHEMA_KINDS, sandboxTenants, selectDesired } from '../../src/sandbox/sandbox.js';
import { ROOT, setupAdmin, startTestEmulator, Workspace } from './harness.js';

/** Secrets the root configuration references. */
const ROOT_SECRETS = {
  GITHUB_CLIENT_SECRET: 'e2e-github',
  CORP_SSO_CLIENT_SECRET: 'e2e-sso',
  SIGNUP_WEBHOOK_SECRET: 'e2e-signup',
  POSTS_WEBHOOK_SECRET: 'e2e-posts',
  NEWSLETTER_SMTP_PASSWORD: 'e2e-smtp',
  ACME_TASKS_WEBHOOK_SECRET: 'e2e-acme',
};

const ORDERS = `version: 1
tenants:
  default:
    schemas:
      public:
        tables:
          orders:
            columns:
              id:        { type: integer, primary_key: true }
              owner_id:  { type: uuid, nullable: false }
              published: { type: boolean, nullable: false, default: false }
            grants:
              anon: [SELECT]
              authenticated: [SELECT, INSERT, UPDATE, DELETE]
            rls:
              enabled: true
              policies:
                orders_owner:
                  roles: [authenticated]
                  using: owner_id = auth.uid()
                  with_check: owner_id = auth.uid()
`;

const ANON_POLICY = `                orders_public:
                  command: SELECT
                  roles: [anon]
                  using: published
`;

const WIDENS = '`anon` gains SELECT on `public.orders` (rows where `published`)';

/** A client key `widget` with these scopes. */
const key = (scopes: string) => `client_keys:\n  widget:\n    scopes: [${scopes}]\n`;

describe('the access delta of a plan', () => {
  let emulator: RunningEmulator;
  let ws: Workspace;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    ws = await Workspace.create(emulator, ORDERS);
    const apply = await ws.cli(['apply', '--auto-approve']);
    expect(apply.code).toBe(0);
    await ws.write(ORDERS + ANON_POLICY);
  });

  afterAll(async () => {
    await ws?.dispose();
    await emulator?.close();
  });

  it('says in plain words what widens, in the text plan and in the AUTHZ_CHANGE hazard', async () => {
    const plan = await ws.cli(['plan']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`Access changes (who can reach which rows after this apply):\n  + ${WIDENS} !`);
    expect(plan.stdout).toContain(`! AUTHZ_CHANGE: Widens access: ${WIDENS}.`);
    // anon is who never signed in: opening rows to it lowers the security floor too (docs/hazards.md).
    expect(plan.stdout).toContain(`! WEAKENS_SECURITY: Opens rows to visitors who never signed in: ${WIDENS}.`);
    expect(plan.stdout).toContain('Hazards: AUTHZ_CHANGE (1), WEAKENS_SECURITY (1). Apply requires --allow-hazards=AUTHZ_CHANGE,WEAKENS_SECURITY.');
  });

  it('carries the delta as data in the JSON plan, for policy engines', async () => {
    const plan = await ws.cli(['plan', '--json']);
    expect(plan.code).toBe(0);
    const doc = JSON.parse(plan.stdout) as { access: { tables: unknown[]; reach: unknown[] }; hazards: unknown[] };
    expect(doc.access).toEqual({
      tables: [
        {
          tenant: 'default',
          table: 'public.orders',
          role: 'anon',
          command: 'SELECT',
          effect: 'gains',
          before: { level: 'none', reason: 'no SELECT policy for anon' },
          after: { level: 'rows', using: 'published' },
          causes: ['policy.default.public.orders.orders_public'],
          text: WIDENS,
        },
      ],
      reach: [],
    });
    expect(doc.hazards).toEqual([
      { type: 'AUTHZ_CHANGE', addresses: ['policy.default.public.orders.orders_public'] },
      { type: 'WEAKENS_SECURITY', addresses: ['policy.default.public.orders.orders_public'] },
    ]);
  });

  it('shows it in the pull-request comment, marked as widening', async () => {
    const plan = await ws.cli(['plan', '--format', 'markdown']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('#### Access changes');
    expect(plan.stdout).toContain(`- ⚠️ ➕ ${WIDENS}`);
    expect(plan.stdout).toContain(`**AUTHZ_CHANGE**: Widens access: ${WIDENS}.`);
  });

  it('refuses to widen access unless AUTHZ_CHANGE is allowed', async () => {
    const refused = await ws.cli(['apply', '--auto-approve']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--allow-hazards=AUTHZ_CHANGE,WEAKENS_SECURITY');
    const weakens = await ws.cli(['apply', '--auto-approve', '--allow-hazards=AUTHZ_CHANGE']);
    expect(weakens.code).toBe(1);
    expect(weakens.stderr).toContain(`WEAKENS_SECURITY — Opens rows to visitors who never signed in: ${WIDENS}.`);
    const apply = await ws.cli(['apply', '--auto-approve', '--allow-hazards=AUTHZ_CHANGE,WEAKENS_SECURITY']);
    expect(apply.code).toBe(0);
  });

  it('gates an existing key that gains a table scope where its role reaches rows, but not a new key', async () => {
    await ws.write(ORDERS + ANON_POLICY + key('tables:read'));
    const created = JSON.parse((await ws.cli(['plan', '--json'])).stdout) as { access: { reach: unknown[] }; hazards: unknown[] };
    expect(created.access.reach).toEqual([expect.objectContaining({ text: 'client key `widget` now reaches `anon` in every tenant (SELECT) — new key', reachesRows: true, newCredential: true })]);
    expect(created.hazards).toEqual([]);
    await ws.write(ORDERS + ANON_POLICY + key('realtime:connect'));
    expect((await ws.cli(['apply', '--auto-approve', '--secrets-out', 'keys.env'])).code).toBe(0);
    await ws.write(ORDERS + ANON_POLICY + key('realtime:connect, tables:read'));
    const plan = await ws.cli(['plan']);
    expect(plan.stdout).toContain('! AUTHZ_CHANGE: Widens access: client key `widget` (as `anon` in every tenant) gains SELECT.');
    expect(plan.stdout).toContain('  Who reaches the roles:\n  + client key `widget` (as `anon` in every tenant) gains SELECT !');
  });

  it('shows a narrowing without gating it', async () => {
    await ws.write(ORDERS.replace('anon: [SELECT]', 'anon: []') + ANON_POLICY + key('realtime:connect'));
    const plan = await ws.cli(['plan', '--json']);
    const doc = JSON.parse(plan.stdout) as { access: { tables: unknown[] }; hazards: unknown[] };
    expect(doc.access.tables).toEqual([expect.objectContaining({ effect: 'loses', text: '`anon` loses SELECT on `public.orders` (no SELECT privilege)' })]);
    expect(doc.hazards).toEqual([]);
  });
});

describe('security lints on the command line', () => {
  let emulator: RunningEmulator;
  let ws: Workspace;
  const LINTED = `version: 1
tenants:
  default:
    schemas:
      public:
        tables:
          open_table:
            columns: { id: { type: integer, primary_key: true }, api_token: { type: text } }
          notes:
            columns: { id: { type: integer, primary_key: true }, owner_id: { type: uuid } }
            rls:
              enabled: true
              policies:
                notes_anyone:
                  using: "true"
                notes_editors:
                  command: UPDATE
                  roles: [editor]
                  using: owner_id = auth.uid()
                notes_anon_delete:
                  command: DELETE
                  roles: [anon]
                  using: owner_id IS NULL
          locked:
            columns: { id: { type: integer, primary_key: true } }
            rls: { enabled: true }
`;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    ws = await Workspace.create(emulator, LINTED);
  });

  afterAll(async () => {
    await ws?.dispose();
    await emulator?.close();
  });

  it('reports each lint with its code and location in validate and plan, and the config switch silences it', async () => {
    const validate = await ws.cli(['validate']);
    expect(validate.code).toBe(0);
    for (const line of [
      'fluxbase.config.yaml:7:11: warning[security.rls-disabled]: table.default.public.open_table: table public.open_table has row-level security off',
      'fluxbase.config.yaml:8:66: warning[security.sensitive-column]: table.default.public.open_table: table public.open_table has sensitive column api_token but row-level security is off',
      'fluxbase.config.yaml:14:17: warning[security.policy-always-true]: policy.default.public.notes.notes_anyone: policy notes_anyone on public.notes admits every row for ALL to public',
      'fluxbase.config.yaml:14:17: warning[security.public-role]: policy.default.public.notes.notes_anyone',
      'fluxbase.config.yaml:14:17: warning[security.missing-with-check]: policy.default.public.notes.notes_anyone',
      'fluxbase.config.yaml:18:19: warning[security.unreachable-role]: policy.default.public.notes.notes_editors: policy notes_editors on public.notes is for role editor',
      'fluxbase.config.yaml:22:19: warning[security.anon-write]: policy.default.public.notes.notes_anon_delete: policy notes_anon_delete on public.notes lets anonymous callers DELETE',
      'fluxbase.config.yaml:22:19: warning[security.policy-without-grant]: policy.default.public.notes.notes_anon_delete: policy notes_anon_delete on public.notes never applies to anon',
      'fluxbase.config.yaml:26:13: warning[security.rls-no-policy]: table.default.public.locked: table public.locked has row-level security on but no policy',
    ]) {
      expect(validate.stderr).toContain(line);
    }
    const plan = await ws.cli(['plan']);
    expect(plan.code).toBe(0);
    expect(plan.stderr).toContain('warning[security.rls-no-policy]: table.default.public.locked');
    const codes = ['rls-disabled', 'sensitive-column', 'policy-always-true', 'public-role', 'missing-with-check', 'unreachable-role', 'anon-write', 'policy-without-grant', 'rls-no-policy'];
    await ws.write(`${LINTED}lints:\n${codes.map((c) => `  security.${c}: { reason: reviewed in PR 42 }\n`).join('')}`);
    const silenced = await ws.cli(['validate']);
    expect(silenced.stderr).toBe('');
    expect(silenced.code).toBe(0);
  });
});

/** Runs one probe as `anon` in a transaction that is rolled back: rows reached, or 'denied'. */
async function asAnon(emulator: RunningEmulator, tenantId: string, sql: string): Promise<number | 'denied'> {
  class Done extends Error {
    constructor(readonly result: number | 'denied') {
      super('done');
    }
  }
  try {
    await emulator.transaction(tenantId, async (tx) => {
      await tx.query(`SELECT set_config('request.jwt.claims', '{"sub":"","role":"anon"}', true)`);
      await tx.query('SET LOCAL ROLE anon');
      try {
        throw new Done((await tx.query(sql)).rows.length);
      } catch (e) {
        if (e instanceof Done) throw e;
        if ((e as { code?: string }).code === '42501') throw new Done('denied');
        throw e;
      }
    });
  } catch (e) {
    if (e instanceof Done) return e.result;
    throw e;
  }
  throw new Error('unreachable');
}

/** Rows of a table matching a predicate, counted by the administrative connection. */
async function adminCount(emulator: RunningEmulator, tenantId: string, table: string, where: string): Promise<number> {
  return emulator.transaction(tenantId, async (tx) => Number((await tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)).rows[0]!.n));
}

describe('fluxbase access --role anon on the root configuration', () => {
  let emulator: RunningEmulator;
  let ws: Workspace;
  let tenants: Map<string, string>;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    ws = await Workspace.create(emulator, await readFile(path.join(ROOT, 'fluxbase.config.yaml'), 'utf8'), ROOT_SECRETS);
    // The root configuration's tables, grants and policies, and its own fixture rows.
    const { valid } = await loadConfig(ws.configPath, { env: ROOT_SECRETS });
    const client = new FluxbaseClient({ url: emulator.url, credentials: { token: emulator.serviceRoleToken } });
    const box = { emulator, client, description: 'test', close: async () => {} };
    const applied = await applyInSandbox(box, { desired: selectDesired(buildDesired(valid!), SCHEMA_KINDS) });
    expect(applied.diagnostics).toEqual([]);
    tenants = await sandboxTenants(box);
    expect(await loadFixtures(emulator, testSuite(valid!).suite.fixtures, tenants)).toEqual([]);
    await client.close();
  });

  afterAll(async () => {
    await ws?.dispose();
    await emulator?.close();
  });

  it('prints what an anonymous caller reaches, and PostgreSQL agrees cell by cell when the statements run as anon', async () => {
    const run = await ws.cli(['access', '--role', 'anon', '--json']);
    expect(run.code).toBe(0);
    const model = JSON.parse(run.stdout) as AccessModel;
    const cells = model.tenants.flatMap((t) => t.tables.map((table) => ({ tenant: t.tenant, table: table.table, cells: table.roles.anon! })));
    expect(cells.map((c) => `${c.tenant}:${c.table}`).sort()).toEqual(['acme:public.projects', 'acme:public.tasks', 'default:public.comments', 'default:public.posts', 'default:public.profiles']);
    const posts = cells.find((c) => c.table === 'public.posts')!.cells;
    expect(posts.SELECT).toEqual({ level: 'rows', using: "status = 'published'" });
    expect(posts.INSERT).toEqual({ level: 'none', reason: 'no INSERT privilege' });

    let checked = 0;
    for (const { tenant, table, cells: byCommand } of cells) {
      const id = tenants.get(tenant)!;
      const [schema, name] = table.split('.');
      const target = `"${schema}"."${name}"`;
      for (const command of ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as Command[]) {
        const cell: RowAccess = byCommand[command];
        if (cell.reason === TENANT_INSERT_BLOCK) continue; // refused by the server before any SQL
        const probe = {
          SELECT: `SELECT 1 FROM ${target}`,
          INSERT: `INSERT INTO ${target} DEFAULT VALUES RETURNING 1`,
          UPDATE: `UPDATE ${target} SET id = id RETURNING 1`,
          DELETE: `DELETE FROM ${target} RETURNING 1`,
        }[command];
        const observed = await asAnon(emulator, id, probe);
        if (cell.level === 'none') {
          expect([0, 'denied'], `${tenant} ${table} ${command}`).toContain(observed);
        } else {
          const expected = await adminCount(emulator, id, target, cell.level === 'all' ? 'true' : `(${cell.using ?? 'true'})`);
          expect(observed, `${tenant} ${table} ${command}`).toBe(expected);
          expect(expected, `${tenant} ${table} ${command} has rows to reach`).toBeGreaterThan(0);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(18);
  });

  it('reads the same matrix back from the live instance', async () => {
    const fromConfig = JSON.parse((await ws.cli(['access', '--role', 'anon', '--json'])).stdout) as AccessModel;
    const live = await ws.cli(['access', '--live', '--role', 'anon', '--json']);
    expect(live.code).toBe(0);
    const fromLive = JSON.parse(live.stdout) as AccessModel;
    const matrix = (m: AccessModel) => m.tenants.map((t) => ({ tenant: t.tenant, tables: t.tables.map((x) => ({ table: x.table, rls: x.rls, anon: x.roles.anon })) }));
    expect(matrix(fromLive)).toEqual(matrix(fromConfig));
    expect(fromLive.source).toBe('live');
  });

  it('refuses a role that appears nowhere', async () => {
    const run = await ws.cli(['access', '--role', 'editor']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error[cli.usage]: role editor appears nowhere in this model');
  });
});

describe('fluxbase test', () => {
  let emulator: RunningEmulator;
  let ws: Workspace;
  const databaseUrl = () => inject('databaseUrl');

  beforeAll(async () => {
    emulator = await startTestEmulator();
    ws = await Workspace.create(emulator, await readFile(path.join(ROOT, 'fluxbase.config.yaml'), 'utf8'), ROOT_SECRETS);
  });

  afterAll(async () => {
    await ws?.dispose();
    await emulator?.close();
  });

  it("passes the root configuration's own tests on a fresh emulator, never the configured instance, and writes JUnit XML", async () => {
    const before = emulator.requestCount();
    const run = await ws.cli(['test', '--database-url', databaseUrl(), '--junit', 'junit.xml']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('✓ an author sees published posts and her own drafts');
    expect(run.stdout).toContain("✓ acme's users cannot reach the blog's posts (each tenant has its own database)");
    expect(run.stdout).toMatch(/\n(\d+) passed\./);
    expect(emulator.requestCount()).toBe(before);
    const junit = await readFile(path.join(ws.dir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuite name="fluxbase test" tests="(\d+)" failures="0" errors="0"/);
    expect(junit).toContain('<testcase classname="tenant.acme" name="anonymous callers see nothing of acme"');
  });

  it("passes the helpdesk example's tests: one customer, two tenants, each database its own tickets", async () => {
    const helpdesk = await Workspace.create(emulator, await readFile(path.join(ROOT, 'examples/helpdesk/fluxbase.config.yaml'), 'utf8'));
    try {
      const run = await helpdesk.cli(['test', '--database-url', databaseUrl()]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('✓ the same customer sees only initech\'s ticket in initech');
      expect(run.stdout).toContain('✓ a customer opens a ticket in her own name');
    } finally {
      await helpdesk.dispose();
    }
  });

  it('fails when a policy is broken on purpose, showing the rows that should not be seen', async () => {
    await ws.edit((t) => t.replace("using: status = 'published'", 'using: "true"'));
    const run = await ws.cli(['test', '--database-url', databaseUrl(), '--junit', 'junit.xml']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✗ anonymous readers see published posts only');
    expect(run.stdout).toContain('2 rows returned that should not be');
    expect(run.stdout).toContain('as anon {"sub":"","role":"anon"}: SELECT public.posts');
    expect(run.stdout).toMatch(/offending rows: \{[^\n]*"slug":"alice-draft"/);
    expect(run.stdout).toMatch(/\n\s+\{[^\n]*"slug":"bob-draft"/);
    expect(run.stdout).toMatch(/\n\d+ failed, \d+ passed\./);
    const junit = await readFile(path.join(ws.dir, 'junit.xml'), 'utf8');
    expect(junit).toContain('<failure message="2 rows returned that should not be">');
  });

  it('exits 2 when the tests cannot run, and plan --test shows no plan when they fail', async () => {
    const plan = await ws.cli(['plan', '--test', '--database-url', databaseUrl()], { ...ROOT_SECRETS });
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('The tests fail: no plan is shown.');
    expect(plan.stdout).not.toContain('Fluxbase will perform the following actions');
    await ws.edit((t) => t.replace('select: public.comments', 'select: public.nothing'));
    const invalid = await ws.cli(['test', '--database-url', databaseUrl()]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/fluxbase\.config\.yaml:\d+:\d+: error\[config\.reference\]: tests\.cases\.comments are public\.select: table public\.nothing is not declared in tenant default/);
  });
});

describe('fluxbase plan --prove', () => {
  let emulator: RunningEmulator;
  let admin: { email: string; password: string };

  beforeAll(async () => {
    emulator = await startTestEmulator({ setupToken: 'prove-setup-token-0123456789' });
    admin = await setupAdmin(emulator, 'prove-setup-token-0123456789');
  });

  afterAll(async () => {
    await emulator?.close();
  });

  it('reproduces the root configuration on a copy of the live schema: it converges and its tests pass there', async () => {
    const ws = await Workspace.create(emulator, await readFile(path.join(ROOT, 'fluxbase.config.yaml'), 'utf8'), {
      ...ROOT_SECRETS,
      FLUXBASE_ADMIN_EMAIL: admin.email,
      FLUXBASE_ADMIN_PASSWORD: admin.password,
    });
    try {
      const run = await ws.cli(['plan', '--prove', '--database-url', inject('databaseUrl')]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/Proof on a local copy of the live schema \(PostgreSQL at [^)]*\)/);
      expect(run.stdout).toMatch(/planned there: the same \d+ schema change\(s\) as this plan/);
      expect(run.stdout).toContain('planned again after applying: no changes — the plan converges.');
      expect(run.stdout).toMatch(/tests on the result: (\d+) passed, 0 failed/);
      expect(run.stdout).toMatch(/not proven: \d+ change\(s\) of keys, webhooks, OAuth providers or settings/);
      expect(run.stdout).toContain('Proof: the plan converges and the tests pass.');
      // The proof changed nothing on the instance itself.
      const again = await ws.cli(['plan', '--json']);
      expect((JSON.parse(again.stdout) as { summary: { add: number } }).summary.add).toBeGreaterThan(20);
    } finally {
      await ws.dispose();
    }
  });

  it('reports a plan that does not converge: a policy calling a function the database does not have', async () => {
    const notes = (policy: string) =>
      `version: 1\ntenants:\n  default:\n    schemas:\n      public:\n        tables:\n          notes:\n            columns:\n              id: { type: integer, primary_key: true }\n              owner_id: { type: uuid }\n            grants: { authenticated: [SELECT] }\n            rls:\n              enabled: true\n              policies:\n                notes_own:\n                  command: SELECT\n                  roles: [authenticated]\n                  using: ${policy}\n`;
    const ws = await Workspace.create(emulator, notes('owner_id = auth.uid()'));
    try {
      expect((await ws.cli(['apply', '--auto-approve'])).code).toBe(0);
      // A typo the plan cannot see: PostgreSQL has no auth.uuid().
      await ws.write(notes('owner_id = auth.uuid()'));
      const plan = await ws.cli(['plan', '--detailed-exitcode']);
      expect(plan.code).toBe(2);
      const run = await ws.cli(['plan', '--prove', '--database-url', inject('databaseUrl')]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('planned there: the same 1 schema change(s) as this plan');
      expect(run.stdout).toMatch(/! apply failed on the copy: error\[apply\.failed\]: policy\.default\.public\.notes\.notes_own: .*auth\.uuid\(\) does not exist/);
      expect(run.stdout).toContain('Proof FAILED: the plan cannot be applied as planned.');
      const json = await ws.cli(['plan', '--json', '--prove', '--database-url', inject('databaseUrl')]);
      expect(json.code).toBe(1);
      const proof = (JSON.parse(json.stdout) as { proof: { converged: boolean; applyErrors: string[] } }).proof;
      expect(proof.converged).toBe(false);
      expect(proof.applyErrors).toHaveLength(1);
      // The instance itself was not touched.
      expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(2);
    } finally {
      await ws.dispose();
    }
  });
});

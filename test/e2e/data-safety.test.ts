/**
 * No silent data loss and no late failures (issue 11), end to end: the real CLI against the
 * emulator on PostgreSQL 18, with real rows in the tables. Type changes that lose data are refused
 * without their hazard and keep the data with a `using:` conversion; defaults are SQL; mistakes the
 * tool can see are refused before any write, located in the file; renames keep every row; weakening
 * a security setting is a hazard; migrations set a lock timeout and validate constraints apart.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { api, setupAdmin, sql, startTestEmulator, Workspace, type CliResult } from './harness.js';

let emulator: RunningEmulator;
let admin: { accessToken: string };
const workspaces: Workspace[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ setupToken: 'data-safety-setup' });
  admin = await setupAdmin(emulator, 'data-safety-setup');
});

afterAll(async () => {
  for (const ws of workspaces) await ws.dispose();
  await emulator?.close();
});

async function workspace(config: string): Promise<Workspace> {
  const ws = await Workspace.create(emulator, config);
  workspaces.push(ws);
  return ws;
}

const query = (text: string) => sql(emulator, admin.accessToken, text);

/** Runs SQL as the table owner (the admin user) through the migrations API, as a change made outside the tool. */
async function migrate(name: string, upSql: string): Promise<void> {
  const options = { token: admin.accessToken };
  expect((await api(emulator, 'POST', '/api/v1/admin/migrations', { ...options, body: { namespace: 'test', name, up_sql: upSql } })).status).toBe(201);
  expect((await api(emulator, 'POST', `/api/v1/admin/migrations/${name}/apply`, { ...options, body: { namespace: 'test' } })).status).toBe(200);
}

/** A config with the default tenant's `public` tables. */
/** These tests are about data, not access: the lint for tables without RLS is silenced. */
const RLS_LINT_OFF = `lints:
  security.rls-disabled: { reason: "data-safety tests: tables without RLS on purpose" }
`;

const tables = (body: string, extra = '') => `version: 1
${extra}${RLS_LINT_OFF}tenants:
  default:
    schemas:
      public:
        tables:
${body}`;

/** The 1-based line of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line contains ${needle}`);
  return i + 1;
}

/** The routes of `apply --json` that change something (every call but reads). */
function writes(result: CliResult): string[] {
  const doc = JSON.parse(result.stdout) as { apiCalls: { byRoute: Record<string, number> } };
  return Object.keys(doc.apiCalls.byRoute).filter((r) => !r.startsWith('GET ') && r !== 'POST /api/v1/admin/sql/execute');
}

function hazardsOf(result: CliResult, address: string): string[] {
  const doc = JSON.parse(result.stdout) as { changes: { address: string; hazards: { type: string }[] }[] };
  return (doc.changes.find((c) => c.address === address)?.hazards ?? []).map((h) => h.type).sort();
}

describe('type changes on a table with rows', () => {
  const base = tables(`          products:
            columns:
              id:      { type: bigint, primary_key: true }
              name:    { type: text, nullable: false }
              price:   { type: "numeric(10,2)", nullable: false }
              sold_at: { type: timestamptz }
`);
  let ws: Workspace;
  const rows = () => query('SELECT id::int AS id, name, price::text AS price, sold_at::text AS sold_at FROM public.products ORDER BY id');
  const original = [
    { id: 1, name: 'hello world, this is long', price: '19.99', sold_at: '2024-05-01 10:30:00+00' },
    { id: 2, name: 'short', price: '5.00', sold_at: '2024-05-02 23:15:00+00' },
  ];

  beforeAll(async () => {
    ws = await workspace(base);
    expect((await ws.cli(['apply', '--auto-approve'])).code).toBe(0);
    await query("SET TIME ZONE 'UTC'; INSERT INTO public.products VALUES (1, 'hello world, this is long', 19.99, '2024-05-01 10:30:00+00'), (2, 'short', 5.00, '2024-05-02 23:15:00+00')");
  });

  it('text → varchar(5) is sent without a cast: PostgreSQL refuses the long value, nothing is truncated', async () => {
    await ws.write(base.replace('name:    { type: text,', 'name:    { type: "varchar(5)",'));
    const plan = await ws.cli(['plan', '--json']);
    expect(hazardsOf(plan, 'table.default.public.products')).toEqual(['REWRITES_TABLE']);
    const doc = JSON.parse(plan.stdout) as { changes: { address: string; sql?: string[] }[] };
    const sqlText = doc.changes.find((c) => c.address === 'table.default.public.products')!.sql!;
    expect(sqlText).toContain('ALTER TABLE "public"."products" ALTER COLUMN "name" TYPE character varying(5)');
    expect(sqlText.join('\n')).not.toContain('USING');

    const refused = await ws.cli(['apply', '--auto-approve']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('table.default.public.products: REWRITES_TABLE');
    const failed = await ws.cli(['apply', '--auto-approve', '--allow-hazards=REWRITES_TABLE']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/value too long for type character varying\(5\)/);
    expect(await rows()).toEqual(original);
  });

  it('numeric(10,2) → integer would round: LOSES_DATA is required, and without it nothing changes', async () => {
    await ws.write(base.replace('price:   { type: "numeric(10,2)",', 'price:   { type: integer,'));
    const plan = await ws.cli(['plan', '--json']);
    expect(hazardsOf(plan, 'table.default.public.products')).toEqual(['LOSES_DATA', 'REWRITES_TABLE']);
    const refused = await ws.cli(['apply', '--auto-approve', '--allow-hazards=REWRITES_TABLE']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('LOSES_DATA — Changes public.products.price from numeric(10,2) to integer: fractions are rounded to whole numbers');
    expect(refused.stderr).toContain('Nothing was applied');
    expect(await rows()).toEqual(original);
  });

  it('timestamptz → date would drop the time of day: refused without LOSES_DATA', async () => {
    await ws.write(base.replace('sold_at: { type: timestamptz }', 'sold_at: { type: date }'));
    const plan = await ws.cli(['plan', '--json']);
    expect(hazardsOf(plan, 'table.default.public.products')).toEqual(['LOSES_DATA', 'REWRITES_TABLE']);
    expect((await ws.cli(['apply', '--auto-approve', '--allow-hazards=REWRITES_TABLE'])).code).toBe(1);
    expect(await rows()).toEqual(original);
  });

  it('a using: conversion converts on purpose and keeps the data (prices in cents)', async () => {
    const cents = base.replace('price:   { type: "numeric(10,2)", nullable: false }', 'price:   { type: integer, nullable: false, using: "round(price * 100)" }');
    await ws.write(cents);
    const plan = await ws.cli(['plan', '--json']);
    expect(hazardsOf(plan, 'table.default.public.products')).toEqual(['REWRITES_TABLE']);
    const apply = await ws.cli(['apply', '--auto-approve', '--allow-hazards=REWRITES_TABLE']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect((await rows()).map((r) => r.price)).toEqual(['1999', '500']);
    // Once applied, the declaration plans clean; a using: left behind is pointed out (a later type
    // change would convert with it again).
    const after = await ws.cli(['plan']);
    expect(after.stdout).toContain('No changes.');
    expect(after.stderr).toContain(`fluxbase.config.yaml:${lineOf(cents, 'using:')}:`);
    expect(after.stderr).toContain('warning[plan.type-change]: table.default.public.products: using: of column price has nothing to convert');
    await ws.write(cents.replace(', using: "round(price * 100)"', ''));
    const clean = await ws.cli(['plan']);
    expect(clean.stdout).toContain('No changes.');
    expect(clean.stderr).toBe('');
  });

  it('text → integer without using: is refused at plan time, located, with zero writes', async () => {
    const config = base.replace('price:   { type: "numeric(10,2)", nullable: false }', 'price:   { type: integer, nullable: false }').replace('name:    { type: text,', 'name:    { type: integer,');
    await ws.write(config);
    const apply = await ws.cli(['apply', '--auto-approve', '--json']);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain(`fluxbase.config.yaml:${lineOf(config, 'name:    { type: integer')}:`);
    expect(apply.stderr).toContain('error[plan.type-change]');
    expect(apply.stderr).toContain('PostgreSQL has no automatic conversion from text to integer');
    expect(apply.stderr).toContain('Add `using:` to the column');
    expect(writes(apply)).toEqual([]);
    expect((await rows()).map((r) => r.name)).toEqual(['hello world, this is long', 'short']);
  });
});

describe('defaults are SQL', () => {
  const config = tables(`          events:
            columns:
              id:         { type: bigint, primary_key: true }
              created_at: { type: timestamptz, nullable: false, default: NOW() }
              utc_day:    { type: timestamp, default: "timezone('utc', now())" }
              due:        { type: timestamptz, default: "now() + interval '1 day'" }
              status:     { type: text, nullable: false, default: "'draft'" }
              note:       { type: text, nullable: false, default: "''" }
`);
  let ws: Workspace;

  beforeAll(async () => {
    ws = await workspace(config);
  });

  it('applies NOW(), timezone(…) and now() + interval as expressions, and a quoted string as a string', async () => {
    const apply = await ws.cli(['apply', '--auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    const defaults = await query(
      "SELECT a.attname AS name, pg_get_expr(d.adbin, d.adrelid) AS def FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = 'public.events'::regclass ORDER BY a.attnum",
    );
    expect(defaults).toEqual([
      { name: 'created_at', def: 'now()' },
      { name: 'utc_day', def: "timezone('utc'::text, now())" },
      { name: 'due', def: "(now() + '1 day'::interval)" },
      { name: 'status', def: "'draft'::text" },
      { name: 'note', def: "''::text" },
    ]);
    expect((await ws.cli(['plan'])).stdout).toContain('No changes.');
  });

  it('gives a row inserted later the time of its insert, not the time the table was made', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const [row] = await query("INSERT INTO public.events (id) VALUES (1) RETURNING created_at = now() AS at_insert, status, note, due > created_at AS due_later");
    expect(row).toEqual({ at_insert: true, status: 'draft', note: '', due_later: true });
  });

  it('never takes a frozen timestamp for now(), even where the state recorded it after an old apply', async () => {
    // What an old version did to `default: NOW()`: a literal, which PostgreSQL froze at table creation.
    await migrate('freeze_created_at', "ALTER TABLE public.events ALTER COLUMN created_at SET DEFAULT '2024-01-01 00:00:00+00'::timestamptz");
    const live = "'2024-01-01 00:00:00+00'::timestamp with time zone";
    const statePath = path.join(ws.dir, 'fluxbase.state.json');
    const state = JSON.parse(await readFile(statePath, 'utf8')) as { resources: Record<string, { observed?: Record<string, unknown> }> };
    state.resources['table.default.public.events']!.observed = { 'columns.created_at.default': { desired: 'NOW()', live } };
    await writeFile(statePath, JSON.stringify(state));
    const plan = await ws.cli(['plan', '--json']);
    const doc = JSON.parse(plan.stdout) as { changes: { address: string; attributes: { path: string[]; after: unknown }[] }[] };
    const change = doc.changes.find((c) => c.address === 'table.default.public.events');
    expect(change?.attributes).toEqual([expect.objectContaining({ path: ['columns', 'created_at', 'default'], after: 'NOW()' })]);
    expect((await ws.cli(['apply', '--auto-approve'])).code).toBe(0);
    expect((await ws.cli(['plan'])).stdout).toContain('No changes.');
  });

  it.each([
    ['now(', 'is not a SQL expression'],
    ['""', 'an empty default is not SQL'],
    ['draft', `For the string write \`default: "'draft'"\``],
  ])('refuses default: %s at validation, located, before any call', async (value, message) => {
    const bad = config.replace('status:     { type: text, nullable: false, default: "\'draft\'" }', `status:     { type: text, nullable: false, default: ${value} }`);
    await ws.write(bad);
    const before = emulator.requestCount();
    const apply = await ws.cli(['apply', '--auto-approve']);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain(`fluxbase.config.yaml:${lineOf(bad, 'status:')}:`);
    expect(apply.stderr).toContain(message);
    expect(emulator.requestCount()).toBe(before);
    expect((await ws.cli(['validate'])).code).toBe(1);
  });
});

describe('mistakes the tool can see are refused before any write', () => {
  const config = tables(`          authors:
            columns:
              id:   { type: bigint, primary_key: true }
              name: { type: text, nullable: false }
          articles:
            columns:
              id:    { type: bigint, primary_key: true }
              title: { type: text, nullable: false }
            rls:
              enabled: true
              policies:
                articles_read: { command: SELECT, roles: [authenticated], using: "title <> ''" }
`);
  let ws: Workspace;

  beforeAll(async () => {
    ws = await workspace(config);
    expect((await ws.cli(['apply', '--auto-approve'])).code).toBe(0);
    await query("INSERT INTO public.articles (id, title) VALUES (1, 'first'), (2, 'second')");
  });

  /** Applies `bad`; expects exit 1, the diagnostic at `needle`'s line, and no write call. */
  async function refused(bad: string, needle: string, code: string, message: string | RegExp): Promise<void> {
    await ws.write(bad);
    const apply = await ws.cli(['apply', '--auto-approve', '--json']);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain(`fluxbase.config.yaml:${lineOf(bad, needle)}:`);
    expect(apply.stderr).toContain(`error[${code}]`);
    expect(apply.stderr).toMatch(message);
    if (apply.stdout) expect(writes(apply)).toEqual([]);
  }

  it('a policy on a misspelled column fails validation (no call at all)', async () => {
    const bad = config.replace(`using: "title <> ''"`, `using: "titel <> ''"`);
    const before = emulator.requestCount();
    await refused(bad, 'articles_read:', 'config.reference', "refers to column titel, which public.articles does not declare (did you mean 'title'?)");
    expect(emulator.requestCount()).toBe(before);
  });

  it("a column of type txt fails planning with 'did you mean text'", async () => {
    const bad = config.replace('title: { type: text, nullable: false }', 'title: { type: text, nullable: false }\n              body:  { type: txt }');
    await refused(bad, 'body:  { type: txt }', 'plan.reference', "has type 'txt', which the database of tenant default does not have (did you mean 'text'?)");
  });

  it('a foreign key to a missing table fails planning', async () => {
    const bad = config.replace('title: { type: text, nullable: false }', 'title: { type: text, nullable: false }\n              author_id: { type: bigint, references: { table: writers } }');
    await refused(bad, 'author_id:', 'plan.reference', 'references table public.writers, which will not exist');
  });

  it('a webhook on a missing table fails planning', async () => {
    const bad = `${config}    webhooks:
      article-hook:
        url: https://hooks.example.com/articles
        events: [{ table: public.article, operations: [INSERT] }]
`;
    await refused(bad, 'events:', 'plan.reference', 'webhook watches table public.article, which will not exist');
  });

  it('a webhook on a table the same plan drops fails planning: the whole plan is refused', async () => {
    const bad = `${config.replace(/ {10}authors:\n(?: {12}.*\n)+/, '')}    webhooks:
      author-hook:
        url: https://hooks.example.com/authors
        events: [{ table: public.authors, operations: [INSERT] }]
`;
    await refused(bad, 'events:', 'plan.reference', 'webhook watches table public.authors, which will not exist');
    expect(await query('SELECT count(*)::int AS n FROM public.authors')).toEqual([{ n: 0 }]);
  });

  it('a NOT NULL column without a default added to a table with rows fails planning, not with a 500', async () => {
    const bad = config.replace('title: { type: text, nullable: false }', 'title: { type: text, nullable: false }\n              slug:  { type: text, nullable: false }');
    await refused(bad, 'slug:', 'plan.data', 'column slug is added NOT NULL without a default, but public.articles has data');
    expect(await query('SELECT count(*)::int AS n FROM public.articles')).toEqual([{ n: 2 }]);
  });
});

describe('renames keep every row', () => {
  const config = tables(`          notes:
            columns:
              id:   { type: bigint, primary_key: true }
              body: { type: text, nullable: false }
            indexes:
              notes_body_idx: { columns: [body] }
            rls:
              enabled: true
              policies:
                notes_read: { command: SELECT, roles: [authenticated], using: "body <> ''" }
`);
  const renamed = tables(`          memos:
            renamed_from: notes
            columns:
              id:      { type: bigint, primary_key: true }
              content: { type: text, nullable: false, renamed_from: body }
            indexes:
              notes_body_idx: { columns: [content] }
            rls:
              enabled: true
              policies:
                notes_read: { command: SELECT, roles: [authenticated], using: "content <> ''" }
`);
  let ws: Workspace;

  beforeAll(async () => {
    ws = await workspace(config);
    expect((await ws.cli(['apply', '--auto-approve'])).code).toBe(0);
    await query("INSERT INTO public.notes (id, body) VALUES (1, 'one'), (2, 'two'), (3, 'three')");
  });

  it('plans a table rename and a column rename, with no drop and no hazard', async () => {
    await ws.write(renamed);
    const plan = await ws.cli(['plan', '--json']);
    const doc = JSON.parse(plan.stdout) as { changes: { address: string; action: string; renamedFrom?: string; hazards: unknown[]; attributes: { path: string[] }[] }[] };
    const changed = doc.changes.filter((c) => c.action !== 'no-op');
    expect(changed.map((c) => [c.address, c.action])).toEqual([['table.default.public.memos', 'update']]);
    expect(changed[0]!.renamedFrom).toBe('table.default.public.notes');
    expect(changed[0]!.hazards).toEqual([]);
    expect(changed[0]!.attributes.map((a) => a.path.join('.'))).toEqual(['name', 'columns.content.name']);
    const text = await ws.cli(['plan']);
    expect(text.stdout).toContain('~ name: "notes" -> "memos"');
    expect(text.stdout).toContain('~ columns.content.name: "body" -> "content"');
    expect(text.stdout).toContain('ALTER TABLE "public"."memos" RENAME COLUMN "body" TO "content"');
  });

  it('applies it: every row is kept, the policy follows, and the next plan is clean', async () => {
    const apply = await ws.cli(['apply', '--auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(await query('SELECT id::int AS id, content FROM public.memos ORDER BY id')).toEqual([
      { id: 1, content: 'one' },
      { id: 2, content: 'two' },
      { id: 3, content: 'three' },
    ]);
    const policies = (await api<{ policy_name: string; table: string }[]>(emulator, 'GET', '/api/v1/admin/policies')).body.filter((p) => p.policy_name === 'notes_read');
    expect(policies.map((p) => p.table)).toEqual(['memos']);
    expect((await ws.cli(['plan'])).stdout).toContain('No changes.');
    const state = JSON.parse(await readFile(path.join(ws.dir, 'fluxbase.state.json'), 'utf8')) as { resources: Record<string, unknown> };
    expect(Object.keys(state.resources).filter((a) => a.includes('public.'))).toEqual(['policy.default.public.memos.notes_read', 'table.default.public.memos']);
  });

  it('plans clean once renamed_from is removed', async () => {
    await ws.write(renamed.replace('            renamed_from: notes\n', '').replace(', renamed_from: body', ''));
    expect((await ws.cli(['plan'])).stdout).toContain('No changes.');
  });

  it('refuses a renamed_from whose source does not exist, located', async () => {
    const bad = renamed.replace('renamed_from: notes', 'renamed_from: nothing_here').replace('            renamed_from: nothing_here\n', '            renamed_from: nothing_here\n').replace('memos:', 'jottings:');
    await ws.write(bad);
    const apply = await ws.cli(['apply', '--auto-approve', '--json']);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain(`fluxbase.config.yaml:${lineOf(bad, 'renamed_from: nothing_here')}:`);
    expect(apply.stderr).toContain('error[plan.reference]');
    expect(writes(apply)).toEqual([]);
  });
});

describe('the security floor', () => {
  const settings = (app: string, system = '') => `version: 1
settings:
  app:
    authentication:
${app}
${system ? `  system:\n${system}\n` : ''}tenants:
  default:
    schemas:
      public:
        tables:
          secrets:
            columns:
              id:    { type: bigint, primary_key: true }
              owner: { type: uuid }
            grants:
              anon: [SELECT]
              authenticated: [SELECT]
            rls:
              enabled: true
              policies:
                secrets_owner: { command: SELECT, roles: [authenticated], using: "owner = auth.uid()" }
`;
  const strict = settings('      password_min_length: 12\n      require_email_verification: true\n      enable_signup: false');
  let ws: Workspace;

  beforeAll(async () => {
    ws = await workspace(strict);
    const apply = await ws.cli(['apply', '--auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
  });

  it('shows a WEAKENS_SECURITY hazard for each weakening setting and refuses without it', async () => {
    await ws.write(
      settings(
        '      password_min_length: 6\n      require_email_verification: false\n      enable_signup: true',
        '    app.security.enable_global_rate_limit: { value: false }',
      ),
    );
    const plan = await ws.cli(['plan', '--json']);
    const doc = JSON.parse(plan.stdout) as { changes: { address: string; hazards: { type: string; message: string }[] }[] };
    const messages = doc.changes.flatMap((c) => c.hazards.filter((h) => h.type === 'WEAKENS_SECURITY').map((h) => `${c.address}: ${h.message}`));
    expect(messages.sort()).toEqual([
      'app_settings: settings.app.authentication.enable_signup false -> true enables sign-up: anyone can create an account.',
      'app_settings: settings.app.authentication.password_min_length 12 -> 6 lowers the minimum password length: weaker passwords are accepted.',
      'app_settings: settings.app.authentication.require_email_verification true -> false stops requiring email confirmation: accounts with unverified addresses can sign in.',
      'system_setting["app.security.enable_global_rate_limit"]: settings.system["app.security.enable_global_rate_limit"] true -> false turns the global rate limit off: password guessing and floods are no longer slowed down.',
    ]);
    const refused = await ws.cli(['apply', '--auto-approve']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--allow-hazards=WEAKENS_SECURITY');
    const live = async () => (await api<{ authentication: Record<string, unknown> }>(emulator, 'GET', '/api/v1/admin/app/settings')).body.authentication;
    const before = await live();
    expect([before.password_min_length, before.require_email_verification, before.enable_signup]).toEqual([12, true, false]);
    const applied = await ws.cli(['apply', '--auto-approve', '--allow-hazards=WEAKENS_SECURITY']);
    expect(applied.code).toBe(0);
    const after = await live();
    expect([after.password_min_length, after.require_email_verification, after.enable_signup]).toEqual([6, false, true]);
    await ws.write(strict);
    expect(hazardsOf(await ws.cli(['plan', '--json']), 'app_settings')).toEqual([]); // tightening is no hazard
  });

  it('turning RLS off on a table with policies, or opening a policy to anon, is WEAKENS_SECURITY', async () => {
    await ws.write(strict.replace('enabled: true', 'enabled: false'));
    expect(hazardsOf(await ws.cli(['plan', '--json']), 'table.default.public.secrets')).toEqual(['AUTHZ_CHANGE', 'WEAKENS_SECURITY']);
    await ws.write(strict.replace('roles: [authenticated]', 'roles: [authenticated, anon]'));
    expect(hazardsOf(await ws.cli(['plan', '--json']), 'policy.default.public.secrets.secrets_owner')).toEqual(['AUTHZ_CHANGE', 'WEAKENS_SECURITY']);
    const refused = await ws.cli(['apply', '--auto-approve', '--allow-hazards=AUTHZ_CHANGE']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('WEAKENS_SECURITY — Opens rows to visitors who never signed in: `anon` gains SELECT on `public.secrets`');
    // Without a privilege on the table, a policy naming anon opens nothing: no hazard on it.
    await ws.write(strict.replace('anon: [SELECT]', 'anon: []').replace('roles: [authenticated]', 'roles: [authenticated, anon]'));
    expect(hazardsOf(await ws.cli(['plan', '--json']), 'policy.default.public.secrets.secrets_owner')).toEqual([]);
  });
});

describe('locks', () => {
  const config = tables(
    `          ledger:
            columns:
              id:     { type: bigint, primary_key: true }
              amount: { type: integer, nullable: false }
          archive:
            columns:
              id:     { type: bigint, primary_key: true }
              amount: { type: integer, nullable: false }
`,
    'migrations: { lock_timeout: 1s }\n',
  );
  const checked = config.replace(
    'amount: { type: integer, nullable: false }\n          archive:',
    'amount: { type: integer, nullable: false }\n            checks:\n              ledger_amount_positive: amount > 0\n          archive:',
  );
  let ws: Workspace;

  beforeAll(async () => {
    ws = await workspace(config);
    expect((await ws.cli(['apply', '--auto-approve'])).code).toBe(0);
    await query('INSERT INTO public.ledger (id, amount) VALUES (1, 10), (2, -5); INSERT INTO public.archive (id, amount) VALUES (1, 3)');
  });

  it('adds a check NOT VALID and validates it in a second migration; a failed validation converges once the data is fixed', async () => {
    await ws.write(checked);
    const plan = await ws.cli(['plan']);
    expect(plan.stdout).toContain('SQL (migration 1 of 2, each in its own transaction):');
    expect(plan.stdout).toContain("SET LOCAL lock_timeout = '1s';");
    expect(plan.stdout).toContain('ADD CONSTRAINT "ledger_amount_positive" CHECK (\n          amount > 0\n        ) NOT VALID;');
    expect(plan.stdout).toContain('ALTER TABLE "public"."ledger" VALIDATE CONSTRAINT "ledger_amount_positive";');
    const failed = await ws.cli(['apply', '--auto-approve']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/is violated by some row/);
    const again = await ws.cli(['plan']);
    expect(again.stdout).toContain('~ checks.ledger_amount_positive: "(amount > 0) NOT VALID" -> "amount > 0"');
    expect(again.stdout).not.toContain('DROP CONSTRAINT');
    await query('UPDATE public.ledger SET amount = 5 WHERE id = 2');
    expect((await ws.cli(['apply', '--auto-approve'])).code).toBe(0);
    expect((await ws.cli(['plan'])).stdout).toContain('No changes.');
  });

  it('an index on an existing table is LOCKS_TABLE: the migrations API cannot build it concurrently', async () => {
    await ws.write(checked.replace('            checks:', '            indexes:\n              ledger_amount_idx: { columns: [amount] }\n            checks:'));
    const plan = await ws.cli(['plan', '--json']);
    expect(hazardsOf(plan, 'table.default.public.ledger')).toEqual(['LOCKS_TABLE']);
    expect(plan.stdout).toContain('CREATE INDEX CONCURRENTLY is impossible');
  });

  it('a migration waiting for a lock gives up after lock_timeout instead of queueing the application behind it', async () => {
    await ws.write(`${checked}            checks:\n              archive_amount_positive: amount > 0\n`);
    // Another session holds the table (as a long transaction of the application would).
    const holder = query('LOCK TABLE public.archive IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6)');
    for (let i = 0; i < 100; i++) {
      const held = await query("SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'archive' AND l.mode = 'AccessExclusiveLock' AND l.granted");
      if ((held[0] as { n: number }).n > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const blocked = await ws.cli(['apply', '--auto-approve']);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain('canceling statement due to lock timeout');
    await holder;
    const apply = await ws.cli(['apply', '--auto-approve']);
    expect(apply.stderr).toBe('');
    expect((await ws.cli(['plan'])).stdout).toContain('No changes.');
  });
});

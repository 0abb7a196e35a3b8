/**
 * Runs the `tests:` of a configuration against a database that behaves like the real server's —
 * the local emulator, never a user's instance — the way the server runs a REST request
 * (internal/middleware/rls.go SetRLSContext, WrapWithRLS; internal/api/rest_crud.go):
 *
 * - one transaction per case, rolled back afterwards, so every case sees exactly the fixtures;
 * - `set_config('request.jwt.claims', {"sub": <user id or "">, "role": <role>, …claims}, true)`,
 *   `set_config('app.current_tenant_id', <claims.tenant_id or the tenant's id>, true)`, then
 *   `SET LOCAL ROLE <role>`;
 * - the statement the REST handler would run: SELECT with the caller's filter; INSERT, UPDATE
 *   and DELETE with `RETURNING` every column (rest_geojson.go:103);
 * - outside the default tenant, an INSERT into a table without a `tenant_id` column is refused
 *   by the server before any SQL (rest_crud.go:25-34, 160), and is reported as denied.
 *
 * A permission error or row-level security violation (SQLSTATE 42501) is "denied", and so is a
 * missing table when the case names a table of another tenant (tenant isolation: each tenant has
 * its own database); any other error fails the case with PostgreSQL's message.
 */
import { canonicalJson } from '../model/canonical.js';
import { DEFAULT_TENANT_SLUG } from '../resources/tenant.js';
import { qualified, quoteIdent } from '../sql/identifiers.js';
import { TENANT_INSERT_BLOCK } from './compute.js';
import type { FixtureSet, RlsCase, TestSuite } from './test-spec.js';

/** The part of a query result the runner reads. */
export interface SqlResultLike<R> {
  rows: R[];
}

/** Something that runs SQL inside a transaction. */
export interface SqlLike {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResultLike<R>>;
}

/** A database like the emulator's (RunningEmulator.transaction). */
export interface CaseDatabase {
  transaction<T>(tenantId: string | undefined, fn: (sql: SqlLike) => Promise<T>): Promise<T>;
}

/** What the statement did. */
export type Outcome =
  | { kind: 'rows'; rows: Record<string, unknown>[] }
  | { kind: 'denied'; message: string }
  | { kind: 'error'; message: string };

/** One case's result. */
export interface CaseResult {
  case: RlsCase;
  passed: boolean;
  outcome: Outcome;
  /** Why it failed, in plain words (empty when it passed). */
  problems: string[];
  /** Rows returned that the expectation does not admit. */
  offending: Record<string, unknown>[];
  /** Expected rows that were not returned. */
  missing: Record<string, unknown>[];
  /** Wall time of the case in milliseconds. */
  ms: number;
}

class Rollback extends Error {
  constructor(readonly outcome: Outcome) {
    super('rollback');
  }
}

function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Loads the fixtures, one committed transaction per tenant, as the administrative connection
 * (row-level security does not apply). Returns an error text per table that failed.
 */
export async function loadFixtures(db: CaseDatabase, fixtures: readonly FixtureSet[], tenantIds: ReadonlyMap<string, string>): Promise<string[]> {
  const problems: string[] = [];
  const byTenant = new Map<string, FixtureSet[]>();
  for (const f of fixtures) byTenant.set(f.tenant, [...(byTenant.get(f.tenant) ?? []), f]);
  for (const [tenant, sets] of byTenant) {
    let current = '';
    try {
      await db.transaction(tenantIds.get(tenant), async (sql) => {
        for (const f of sets) {
          current = `${f.schema}.${f.table}`;
          for (const row of f.rows) await sql.query(insertSql(f.schema, f.table, Object.keys(row), false), [JSON.stringify(row)]);
        }
      });
    } catch (e) {
      problems.push(`fixtures of ${current} in tenant ${tenant}: ${message(e)}`);
    }
  }
  return problems;
}

/** INSERT of one JSON row ($1), its named columns only (the others take their defaults). */
function insertSql(schema: string, table: string, columns: readonly string[], returning: boolean): string {
  const target = qualified(schema, table);
  const list = columns.map(quoteIdent).join(', ');
  const insert = columns.length === 0 ? `INSERT INTO ${target} AS t DEFAULT VALUES` : `INSERT INTO ${target} AS t (${list}) SELECT ${columns.map((c) => `v.${quoteIdent(c)}`).join(', ')} FROM jsonb_populate_record(NULL::${target}, $1::jsonb) AS v`;
  return `${insert}${returning ? ' RETURNING to_jsonb(t.*) AS row' : ''}`;
}

/** The statements of a case, each with its parameters. */
function statements(c: RlsCase): { text: string; params: unknown[] }[] {
  const target = qualified(c.schema, c.table);
  const where = c.where ? ` WHERE (${c.where})` : '';
  switch (c.operation) {
    case 'select':
      return [{ text: `SELECT to_jsonb(t.*) AS row FROM ${target} AS t${where}`, params: [] }];
    case 'insert':
      return c.values.map((row) => ({ text: insertSql(c.schema, c.table, Object.keys(row), true), params: [JSON.stringify(row)] }));
    case 'update': {
      const row = c.values[0]!;
      const columns = Object.keys(row);
      const set = `(${columns.map(quoteIdent).join(', ')}) = (SELECT ${columns.map((col) => `v.${quoteIdent(col)}`).join(', ')} FROM jsonb_populate_record(NULL::${target}, $1::jsonb) AS v)`;
      return [{ text: `UPDATE ${target} AS t SET ${set}${where} RETURNING to_jsonb(t.*) AS row`, params: [JSON.stringify(row)] }];
    }
    case 'delete':
      return [{ text: `DELETE FROM ${target} AS t${where} RETURNING to_jsonb(t.*) AS row`, params: [] }];
  }
}

/** The `request.jwt.claims` the server would set for this caller (rls.go SetRLSContext). */
export function requestClaims(c: RlsCase): Record<string, unknown> {
  return { sub: '', role: c.role, ...c.claims };
}

/** Runs one case in a transaction that is always rolled back. */
export async function runCase(db: CaseDatabase, c: RlsCase, tenantIds: ReadonlyMap<string, string>): Promise<Outcome> {
  if (c.operation === 'insert' && c.tenant !== DEFAULT_TENANT_SLUG && !c.columns.includes('tenant_id')) {
    return { kind: 'denied', message: `${TENANT_INSERT_BLOCK}: 403 "Cannot write to tables without tenant_id column when tenant context is active"` };
  }
  const tenantId = tenantIds.get(c.tenant);
  const claims = requestClaims(c);
  const currentTenant = typeof claims.tenant_id === 'string' ? claims.tenant_id : (tenantId ?? '');
  try {
    await db.transaction(tenantId, async (sql) => {
      await sql.query("SELECT set_config('request.jwt.claims', $1, true), set_config('app.current_tenant_id', $2, true)", [JSON.stringify(claims), currentTenant]);
      await sql.query(`SET LOCAL ROLE ${quoteIdent(c.role)}`);
      const rows: Record<string, unknown>[] = [];
      let outcome: Outcome;
      try {
        for (const s of statements(c)) rows.push(...(await sql.query<{ row: Record<string, unknown> }>(s.text, s.params)).rows.map((r) => r.row));
        outcome = { kind: 'rows', rows };
      } catch (e) {
        const code = sqlState(e);
        if (code === '42501') outcome = { kind: 'denied', message: message(e) };
        else if (code === '42P01' && c.absent) outcome = { kind: 'denied', message: `${message(e)}: tenant ${c.tenant}'s database has no such table (the API answers 404)` };
        else outcome = { kind: 'error', message: message(e) };
      }
      throw new Rollback(outcome);
    });
  } catch (e) {
    if (e instanceof Rollback) return e.outcome;
    return { kind: 'error', message: message(e) };
  }
  return { kind: 'error', message: 'the case did not run' };
}

/** Runs every case of the suite (fixtures must be loaded). */
export async function runSuite(db: CaseDatabase, suite: TestSuite, tenantIds: ReadonlyMap<string, string>): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of suite.cases) {
    const started = performance.now();
    const outcome = await runCase(db, c, tenantIds);
    results.push({ case: c, outcome, ...evaluate(c, outcome), ms: Math.round(performance.now() - started) });
  }
  return results;
}

const TIMESTAMP = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/;

/** Expected and actual values are the same: scalars by text, timestamps by instant, the rest as JSON. */
function same(expected: unknown, actual: unknown): boolean {
  if (expected === null || actual === null || expected === undefined || actual === undefined) return (expected ?? null) === (actual ?? null);
  if (typeof expected === 'string' && typeof actual === 'string' && TIMESTAMP.test(expected) && TIMESTAMP.test(actual)) {
    const [a, b] = [Date.parse(expected), Date.parse(actual)];
    if (Number.isFinite(a) && Number.isFinite(b)) return a === b;
  }
  if (typeof expected !== 'object' && typeof actual !== 'object') return String(expected) === String(actual);
  return canonicalJson(expected) === canonicalJson(actual);
}

function matches(expected: Record<string, unknown>, actual: Record<string, unknown>): boolean {
  return Object.keys(expected).every((k) => same(expected[k], actual[k]));
}

/** Pairs expected rows with returned ones (most specific expectations first). */
function pair(expected: readonly Record<string, unknown>[], actual: readonly Record<string, unknown>[]): { missing: Record<string, unknown>[]; extra: Record<string, unknown>[] } {
  const left = [...actual];
  const missing: Record<string, unknown>[] = [];
  for (const e of [...expected].sort((a, b) => Object.keys(b).length - Object.keys(a).length)) {
    const i = left.findIndex((a) => matches(e, a));
    if (i < 0) missing.push(e);
    else left.splice(i, 1);
  }
  return { missing, extra: left };
}

function evaluate(c: RlsCase, outcome: Outcome): Pick<CaseResult, 'passed' | 'problems' | 'offending' | 'missing'> {
  const fail = (problem: string, offending: Record<string, unknown>[] = [], missing: Record<string, unknown>[] = []) => ({ passed: false, problems: [problem], offending, missing });
  const ok = { passed: true, problems: [], offending: [], missing: [] };
  const rowsWord = (n: number) => `${n} row${n === 1 ? '' : 's'}`;
  const verb = c.operation === 'select' ? 'returned' : `${c.operation === 'insert' ? 'inserted' : c.operation === 'update' ? 'updated' : 'deleted'}`;
  if (outcome.kind === 'error') return fail(`the statement failed: ${outcome.message}`);
  const e = c.expect;
  if ('denied' in e) {
    if (outcome.kind === 'denied') return ok;
    if (outcome.rows.length === 0) return ok;
    return fail(`expected to be denied, but ${rowsWord(outcome.rows.length)} ${outcome.rows.length === 1 ? 'was' : 'were'} ${verb}`, outcome.rows);
  }
  if (outcome.kind === 'denied') return fail(`denied: ${outcome.message}`);
  if ('allowed' in e) {
    return c.operation !== 'select' && outcome.rows.length === 0 ? fail(`expected to be allowed, but no row was ${verb} (row-level security filtered them, or none matched)`) : ok;
  }
  if ('count' in e) {
    return outcome.rows.length === e.count ? ok : fail(`expected ${rowsWord(e.count)}, but ${rowsWord(outcome.rows.length)} ${outcome.rows.length === 1 ? 'was' : 'were'} ${verb}`, outcome.rows.length > e.count ? outcome.rows : []);
  }
  const { missing, extra } = pair(e.rows, outcome.rows);
  if (missing.length === 0 && extra.length === 0) return ok;
  const parts: string[] = [];
  if (extra.length > 0) parts.push(`${rowsWord(extra.length)} ${verb} that should not be`);
  if (missing.length > 0) parts.push(`${rowsWord(missing.length)} expected but not ${verb}`);
  return fail(parts.join('; '), extra, missing);
}

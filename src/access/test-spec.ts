/**
 * The `tests:` section of a configuration (schemas/tests.schema.json), checked and normalised:
 * every problem a schema cannot state — an undeclared tenant or table, a case with no or two
 * statements, `values` where they mean nothing, a filter that is not SQL, a column the table does
 * not declare, a role Fluxbase's API never uses — is a located error before anything runs.
 */
import { error, type Diagnostic } from '../diag/index.js';
import { toPointer } from '../engine/source-index.js';
import type { ValidConfig } from '../engine/validate.js';
import type { Table, TestCase } from '../model/config.generated.js';
import { DEFAULT_TENANT_SLUG } from '../resources/tenant.js';
import { expressionKey } from '../sql/expression.js';
import { API_ROLES } from './reach.js';

/** The statement of a case. */
export type CaseOperation = 'select' | 'insert' | 'update' | 'delete';

const OPERATIONS: readonly CaseOperation[] = ['select', 'insert', 'update', 'delete'];

/** What a case must observe. */
export type Expectation = { rows: Record<string, unknown>[] } | { count: number } | { denied: true } | { allowed: true };

/** A case ready to run. */
export interface RlsCase {
  name: string;
  description?: string;
  tenant: string;
  role: string;
  /** The caller's own claims (the runner adds Fluxbase's `sub` and `role`). */
  claims: Record<string, unknown>;
  operation: CaseOperation;
  schema: string;
  table: string;
  where?: string;
  /** Rows to insert, or the one row of new values of an update. */
  values: Record<string, unknown>[];
  expect: Expectation;
  /** Columns the table declares. */
  columns: string[];
  /**
   * The table is declared in another tenant only: the case proves isolation (the tenant's own
   * database has no such table; the request is refused).
   */
  absent?: true;
}

/** Fixture rows of one table, in declaration order. */
export interface FixtureSet {
  tenant: string;
  schema: string;
  table: string;
  rows: Record<string, unknown>[];
}

/** The normalised `tests:` section. */
export interface TestSuite {
  fixtures: FixtureSet[];
  cases: RlsCase[];
}

type Path = (string | number)[];

/** Declared (non-external) tables of a tenant by `schema.table`. */
function declaredTables(valid: ValidConfig, tenant: string): Map<string, Table> {
  const out = new Map<string, Table>();
  for (const [schema, s] of Object.entries(valid.config.tenants?.[tenant]?.schemas ?? {})) {
    for (const [name, t] of Object.entries(s?.tables ?? {})) if (t) out.set(`${schema}.${name}`, t);
  }
  return out;
}

/**
 * The suite and its diagnostics (errors make the config invalid). Requires loadSqlParser().
 * Without a `tests:` section the suite is empty.
 */
export function testSuite(valid: ValidConfig): { suite: TestSuite; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const at = (path: Path, preferKey = false) => ({ path, location: valid.sources.locate(toPointer(path), preferKey) });
  const suite: TestSuite = { fixtures: [], cases: [] };
  const tests = valid.config.tests;
  if (!tests) return { suite, diagnostics };
  const tenants = new Set(Object.keys(valid.config.tenants ?? {}));

  /**
   * The declared table, or an error at `path`. With `elsewhere`, a table declared only in another
   * tenant is accepted (a case proving that this tenant cannot reach it) and flagged `absent`.
   */
  const tableAt = (tenant: string, name: string, path: Path, elsewhere = false): (Table & { absent?: true }) | undefined => {
    if (!tenants.has(tenant)) {
      diagnostics.push(error('config.reference', `tenant ${tenant} is not declared`, { ...at(path, true), detail: `Declare it under tenants (the default tenant too: \`tenants: { default: { schemas: … } }\`), or use one of: ${[...tenants].join(', ') || 'none'}.` }));
      return undefined;
    }
    let table: (Table & { absent?: true }) | undefined = declaredTables(valid, tenant).get(name);
    if (!table && elsewhere) {
      const other = [...tenants].map((t) => declaredTables(valid, t).get(name)).find((t) => t !== undefined);
      if (other) table = { ...other, absent: true };
    }
    if (!table) {
      diagnostics.push(error('config.reference', `table ${name} is not declared in tenant ${tenant}`, { ...at(path), detail: `Tests run on a fresh emulator where only declared tables exist${elsewhere ? ' (a case may also name a table of another tenant, to prove that this tenant cannot reach it)' : ''}.` }));
      return undefined;
    }
    if (table.external || !table.columns) {
      diagnostics.push(error('config.reference', `table ${name} in tenant ${tenant} is external`, { ...at(path), detail: 'External tables are created by another tool, so the test emulator does not have them. Test tables this configuration creates.' }));
      return undefined;
    }
    return table;
  };
  const checkColumns = (row: Record<string, unknown>, table: Table, name: string, path: Path) => {
    for (const column of Object.keys(row)) {
      if (!(column in (table.columns ?? {}))) diagnostics.push(error('config.reference', `column ${column} is not declared in table ${name}`, at([...path, column], true)));
    }
  };

  for (const [tenant, byTable] of Object.entries(tests.fixtures ?? {})) {
    for (const [name, rows] of Object.entries(byTable ?? {})) {
      const path = ['tests', 'fixtures', tenant, name];
      const table = tableAt(tenant, name, path);
      if (!table || !rows) continue;
      rows.forEach((row, i) => checkColumns(row as Record<string, unknown>, table, name, [...path, i]));
      const [schema, t] = name.split('.') as [string, string];
      suite.fixtures.push({ tenant, schema, table: t, rows: rows as Record<string, unknown>[] });
    }
  }

  suite.fixtures = referencedFirst(valid, suite.fixtures);

  for (const [caseName, c] of Object.entries(tests.cases ?? {})) {
    if (!c) continue;
    const path = ['tests', 'cases', caseName];
    const normalised = normaliseCase(caseName, c, path, { at, tableAt, checkColumns, diagnostics });
    if (normalised) suite.cases.push(normalised);
  }
  return { suite, diagnostics };
}

/**
 * Fixture tables in an order that loads referenced rows first (a table after the tables its
 * declared foreign keys point to), otherwise as listed.
 */
function referencedFirst(valid: ValidConfig, fixtures: FixtureSet[]): FixtureSet[] {
  const out: FixtureSet[] = [];
  const placed = new Set<FixtureSet>();
  const key = (f: { tenant: string; schema: string; table: string }) => `${f.tenant}.${f.schema}.${f.table}`;
  const byKey = new Map(fixtures.map((f) => [key(f), f]));
  const visit = (f: FixtureSet, seen: Set<FixtureSet>) => {
    if (placed.has(f) || seen.has(f)) return;
    seen.add(f);
    const columns = valid.config.tenants?.[f.tenant]?.schemas?.[f.schema]?.tables?.[f.table]?.columns ?? {};
    for (const c of Object.values(columns)) {
      const ref = c?.references?.table;
      if (!ref) continue;
      const [schema, table] = ref.includes('.') ? ref.split('.') : [f.schema, ref];
      const target = byKey.get(key({ tenant: f.tenant, schema: schema!, table: table! }));
      if (target && target !== f) visit(target, seen);
    }
    placed.add(f);
    out.push(f);
  };
  for (const f of fixtures) visit(f, new Set());
  return out;
}

interface CaseContext {
  at: (path: Path, preferKey?: boolean) => { path: Path; location?: Diagnostic['location'] };
  tableAt: (tenant: string, name: string, path: Path, elsewhere?: boolean) => (Table & { absent?: true }) | undefined;
  checkColumns: (row: Record<string, unknown>, table: Table, name: string, path: Path) => void;
  diagnostics: Diagnostic[];
}

function normaliseCase(name: string, c: TestCase, path: Path, ctx: CaseContext): RlsCase | undefined {
  const { at, diagnostics } = ctx;
  const before = diagnostics.length;
  const ops = OPERATIONS.filter((op) => c[op] !== undefined);
  if (ops.length !== 1) {
    diagnostics.push(error('config.schema', ops.length === 0 ? 'the case runs no statement' : `the case runs ${ops.join(' and ')}: one statement per case`, { ...at(path, true), detail: 'Give exactly one of select, insert, update, delete (the table, as schema.table).' }));
    return undefined;
  }
  const operation = ops[0]!;
  const tenant = c.tenant ?? DEFAULT_TENANT_SLUG;
  const role = c.role ?? 'anon';
  const tableName = c[operation]!;
  const table = ctx.tableAt(tenant, tableName, [...path, operation], true);
  if (!API_ROLES.includes(role)) {
    diagnostics.push(error('config.reference', `role ${role} is not one Fluxbase's API runs requests as`, { ...at([...path, 'role']), detail: `The server switches to anon, authenticated, service_role or tenant_service only (internal/middleware/rls.go). Application roles travel in the claims: \`role: authenticated\` with \`claims: { role: ${role} }\`.` }));
  } else if (tenant !== DEFAULT_TENANT_SLUG && role === 'service_role') {
    diagnostics.push(error('config.conflict', `outside the default tenant the server runs service-role callers as tenant_service`, { ...at([...path, 'role']), detail: 'Use `role: tenant_service` (internal/middleware/rls.go WrapWithRLS).' }));
  }
  const values = c.values === undefined ? [] : Array.isArray(c.values) ? c.values : [c.values];
  if ((operation === 'insert' || operation === 'update') && values.length === 0) {
    diagnostics.push(error('config.schema', `${operation} needs values`, { ...at(path, true), detail: operation === 'insert' ? 'Give the row to insert: `values: { id: …, title: … }`.' : 'Give the new column values: `values: { title: … }`.' }));
  }
  if ((operation === 'select' || operation === 'delete') && c.values !== undefined) {
    diagnostics.push(error('config.schema', `${operation} takes no values`, at([...path, 'values'], true)));
  }
  if (operation === 'update' && values.length > 1) diagnostics.push(error('config.schema', 'update takes one row of new values', at([...path, 'values'])));
  if (operation === 'insert' && c.where !== undefined) diagnostics.push(error('config.schema', 'insert takes no where', at([...path, 'where'], true)));
  if (c.where !== undefined && expressionKey(c.where) === undefined) {
    diagnostics.push(error('config.schema', 'where is not a valid SQL expression', { ...at([...path, 'where']), detail: `PostgreSQL cannot parse: ${c.where}` }));
  }
  if (table) {
    values.forEach((row, i) => ctx.checkColumns(row as Record<string, unknown>, table, tableName, Array.isArray(c.values) ? [...path, 'values', i] : [...path, 'values']));
  }
  if (!table || diagnostics.length > before) return undefined;
  const [schema, t] = tableName.split('.') as [string, string];
  return {
    name,
    ...(c.description ? { description: c.description } : {}),
    tenant,
    role,
    claims: (c.claims ?? {}) as Record<string, unknown>,
    operation,
    schema,
    table: t,
    ...(c.where !== undefined ? { where: c.where } : {}),
    values: values as Record<string, unknown>[],
    expect: c.expect as Expectation,
    columns: Object.keys(table.columns ?? {}),
    ...(table.absent ? { absent: true as const } : {}),
  };
}

/**
 * One table's access matrix: for each role and command, whether a caller acting as that role
 * through Fluxbase's REST API reaches no row, every row, or the rows matching a predicate.
 *
 * What is modelled, in PostgreSQL's order of checks:
 * 1. table privileges — the role (or PUBLIC, or ownership) must hold the command's privilege;
 *    the REST API returns the rows it writes (`RETURNING`, internal/api/rest_crud.go,
 *    rest_geojson.go:103), so writes also need SELECT;
 * 2. RLS off, BYPASSRLS (service_role, bootstrap) or ownership without FORCE: every row;
 * 3. the policies that apply to the role (its name or PUBLIC) and command (or ALL), combined as
 *    PostgreSQL does (predicate.ts). SELECT uses USING; INSERT uses WITH CHECK; UPDATE uses USING
 *    on the existing row and WITH CHECK (defaulting to USING) on the new one; DELETE uses USING;
 *    because of RETURNING, the SELECT policies also apply to every row written.
 * Outside the default tenant the server refuses inserts into tables without a `tenant_id` column
 * ({@link TENANT_INSERT_BLOCK}). Role membership (a role granted to another) and column
 * privileges are not modelled.
 */
import { and, combine, FALSE, isTrue, predicateText, TRUE, type Predicate } from './predicate.js';
import { COMMANDS, type Command, type RowAccess, type TableAccess } from './types.js';

/** A policy as the model needs it (from the config or the live instance). */
export interface PolicyInput {
  name: string;
  address: string;
  command: 'ALL' | Command;
  permissive: boolean;
  /** Role names; `public` is PUBLIC. */
  roles: string[];
  using: string | null;
  with_check: string | null;
}

/** A table as the model needs it. */
export interface TableInput {
  tenant: string;
  schema: string;
  name: string;
  address: string;
  rls: boolean;
  forced: boolean;
  owner?: string;
  /** Privileges by grantee (`public` for PUBLIC); undefined when unknown (then assumed held). */
  grants?: Record<string, readonly string[]>;
  /** Column names, when known (for lints). */
  columns?: string[];
  policies: PolicyInput[];
  /** Where the table is declared, if it is (for located lints). */
  declared?: boolean;
  /** The table lives in a tenant other than the default one (see {@link TENANT_INSERT_BLOCK}). */
  otherTenant?: boolean;
}

/**
 * Why INSERT is refused through the REST API in a non-default tenant on a table without a
 * `tenant_id` column: the server answers 403 "Cannot write to tables without tenant_id column
 * when tenant context is active" to POST, PUT and DELETE by id (internal/api/rest_crud.go:25-34,
 * 160, 338, 445); batch PATCH and DELETE are not checked, so UPDATE and DELETE remain possible.
 */
export const TENANT_INSERT_BLOCK = 'the server refuses inserts into a table without a tenant_id column outside the default tenant';

/** Database roles with the BYPASSRLS attribute (Fluxbase's bootstrap gives it to service_role only). */
export const BYPASS_RLS_ROLES: ReadonlySet<string> = new Set(['service_role']);

/** One cell with the predicates behind it (kept for comparing two models). */
export interface Cell {
  access: RowAccess;
  /** Existing rows reached (SELECT, UPDATE, DELETE); TRUE for INSERT. */
  using: Predicate;
  /** New rows admitted (INSERT, UPDATE); TRUE for SELECT and DELETE. */
  check: Predicate;
}

/** A table's matrix with the predicates behind each cell. */
export interface ComputedTable {
  input: TableInput;
  access: TableAccess;
  cells: Record<string, Record<Command, Cell>>;
}

function none(reason: string): Cell {
  return { access: { level: 'none', reason }, using: FALSE, check: FALSE };
}

function all(reason: string): Cell {
  return { access: { level: 'all', reason }, using: TRUE, check: TRUE };
}

/** Computes the matrix of `input` for `roles`. Requires loadSqlParser(). */
export function computeTable(input: TableInput, roles: readonly string[]): ComputedTable {
  const cells: Record<string, Record<Command, Cell>> = {};
  for (const role of roles) {
    cells[role] = Object.fromEntries(COMMANDS.map((c) => [c, cell(input, role, c)])) as Record<Command, Cell>;
  }
  return {
    input,
    cells,
    access: {
      table: `${input.schema}.${input.name}`,
      address: input.address,
      rls: input.rls,
      ...(input.forced ? { forced: true } : {}),
      grantsKnown: input.grants !== undefined,
      roles: Object.fromEntries(Object.entries(cells).map(([r, byCommand]) => [r, Object.fromEntries(COMMANDS.map((c) => [c, byCommand[c].access]))])) as TableAccess['roles'],
    },
  };
}

function cell(t: TableInput, role: string, command: Command): Cell {
  const owner = role === t.owner;
  const holds = (p: Command) => t.grants === undefined || owner || (t.grants[role] ?? []).includes(p) || (t.grants.public ?? []).includes(p);
  if (!holds(command)) return none(`no ${command} privilege`);
  if (command === 'INSERT' && t.otherTenant && t.columns && !t.columns.includes('tenant_id')) return none(TENANT_INSERT_BLOCK);
  if (command !== 'SELECT' && !holds('SELECT')) return none('no SELECT privilege (the API returns the rows it writes)');
  if (!t.rls) return all('RLS off');
  if (BYPASS_RLS_ROLES.has(role)) return all('bypasses RLS');
  if (owner && !t.forced) return all('table owner');
  const applies = t.policies.filter((p) => p.roles.includes(role) || p.roles.includes('public'));
  const pick = (commands: readonly string[], expr: (p: PolicyInput) => string | null): Predicate => {
    const matching = applies.filter((p) => commands.includes(p.command));
    return combine(matching.filter((p) => p.permissive).map(expr), matching.filter((p) => !p.permissive).map(expr));
  };
  const using = (p: PolicyInput) => p.using;
  // WITH CHECK defaults to USING for ALL and UPDATE policies (CREATE POLICY).
  const check = (p: PolicyInput) => p.with_check ?? (p.command === 'INSERT' ? null : p.using);
  const select = pick(['SELECT', 'ALL'], using);
  if (!applies.some((p) => p.command === command || p.command === 'ALL')) return none(`no ${command} policy for ${role}`);
  let reached: Predicate = TRUE;
  let admitted: Predicate = TRUE;
  switch (command) {
    case 'SELECT':
      reached = select;
      break;
    case 'INSERT':
      admitted = and(pick(['INSERT', 'ALL'], check), select);
      break;
    case 'UPDATE':
      reached = and(pick(['UPDATE', 'ALL'], using), select);
      admitted = and(pick(['UPDATE', 'ALL'], check), select);
      break;
    case 'DELETE':
      reached = and(pick(['DELETE', 'ALL'], using), select);
      break;
  }
  if (reached.kind === 'false' || admitted.kind === 'false') {
    const noSelect = command !== 'SELECT' && select.kind === 'false';
    return none(noSelect ? `no SELECT policy for ${role} (the API returns the rows it writes)` : 'the policies admit no row');
  }
  if (isTrue(reached) && isTrue(admitted)) return { ...all('policies admit every row'), using: reached, check: admitted };
  return {
    access: {
      level: 'rows',
      ...(isTrue(reached) ? {} : { using: predicateText(reached) }),
      ...(isTrue(admitted) ? {} : { check: predicateText(admitted) }),
    },
    using: reached,
    check: admitted,
  };
}

/** The matrix cell in plain words: `rows where status = 'published'`, `all rows`, `none (no SELECT privilege)`. */
export function describeAccess(a: RowAccess, command: Command): string {
  if (a.level === 'none') return `none${a.reason ? ` (${a.reason})` : ''}`;
  if (a.level === 'all') return 'all rows';
  const parts: string[] = [];
  if (a.using !== undefined) parts.push(`rows where ${a.using}`);
  else if (command !== 'INSERT') parts.push('all rows');
  if (a.check !== undefined) parts.push(`${command === 'INSERT' ? 'new rows' : 'new values'} where ${a.check}`);
  return parts.join('; ');
}

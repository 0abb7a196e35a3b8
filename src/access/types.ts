/**
 * The access model as data: who can do what to which rows, per tenant, table, role and command.
 * Plain and serialisable — `fluxbase access --json` prints it, plans carry its delta
 * (model/plan.ts `access`), and renderers only read it. docs/access.md explains the model.
 */

/** The four table commands the model answers for. */
export type Command = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

/** Every command, in display order. */
export const COMMANDS: readonly Command[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

/**
 * What one role may do with one command on one table, through Fluxbase's REST API:
 * - `none`: no row (`reason` says why: no privilege, no policy, …);
 * - `all`: every row (`reason`: RLS off, the role bypasses RLS, or the policies are constant true);
 * - `rows`: rows matching `using` (existing rows: SELECT, UPDATE, DELETE) and, for writes, new
 *   rows matching `check` (INSERT, UPDATE). Each is an SQL expression combining the policies as
 *   PostgreSQL does: permissive ones OR'ed, restrictive ones AND'ed onto them. The API returns
 *   the rows it writes (`RETURNING`), so a write also needs the SELECT policies to admit the row:
 *   they are part of `using` and `check`. A side that admits every row is absent.
 */
export interface RowAccess {
  level: 'none' | 'all' | 'rows';
  using?: string;
  check?: string;
  reason?: string;
}

/** One table's access matrix. */
export interface TableAccess {
  /** `schema.table` */
  table: string;
  /** The table's resource address (`table.default.public.posts`). */
  address: string;
  rls: boolean;
  /** FORCE ROW LEVEL SECURITY (the owner is subject to policies). */
  forced?: boolean;
  /** False when the table's grants could not be read (then privileges are assumed present). */
  grantsKnown: boolean;
  /** Role → command → access. */
  roles: Record<string, Record<Command, RowAccess>>;
}

/** How callers of Fluxbase's API come to act as a database role in one tenant. */
export interface RoleReach {
  role: string;
  /** Plain-words entries, e.g. "client key `mobile-app` (SELECT, INSERT, UPDATE, DELETE)". */
  via: string[];
  /** Commands each key limits its holders to (from its scopes), by key address. */
  keys: { address: string; label: string; commands: Command[] }[];
  /** Set for roles the API never switches to (a role only a policy or grant names). */
  unreachable?: true;
}

/** One tenant's part of the model. */
export interface TenantAccess {
  tenant: string;
  tables: TableAccess[];
  reach: RoleReach[];
}

/** The whole model (`fluxbase access --json`, format `fluxbase-iac-access`). */
export interface AccessModel {
  /** What it was computed from: the configuration alone, or the live instance. */
  source: 'config' | 'live';
  tenants: TenantAccess[];
  /** What the model cannot see (printed with it). */
  limits: string[];
}

/**
 * How one access cell changes:
 * `gains` none → some; `loses` some → none; `widens` / `narrows` provably more / fewer rows;
 * `changes` a different predicate that may admit rows the old one did not.
 */
export type AccessEffect = 'gains' | 'loses' | 'widens' | 'narrows' | 'changes';

/** One changed cell of the matrix, in plain words and as data. */
export interface AccessDeltaEntry {
  tenant: string;
  /** `schema.table` */
  table: string;
  role: string;
  command: Command;
  effect: AccessEffect;
  before: RowAccess;
  after: RowAccess;
  /** The table does not exist before the plan (its rows are new: not a hazard). */
  newTable?: true;
  /** The table is dropped by the plan. */
  droppedTable?: true;
  /** Addresses of the planned changes that cause it. */
  causes: string[];
  /** The sentence shown in plans: "`anon` gains SELECT on `public.orders` (rows where `published`)". */
  text: string;
}

/** A change in who reaches a role (keys, sign-up). */
export interface ReachDeltaEntry {
  tenant: string;
  role: string;
  effect: 'gains' | 'loses' | 'changes';
  /** Whether the role reaches rows of tables that exist before the plan. */
  reachesRows: boolean;
  /** The key is created (or replaced) by the plan: a new credential nobody holds yet (not a hazard). */
  newCredential?: true;
  causes: string[];
  text: string;
}

/** The access delta of a plan (`plan.access`). */
export interface AccessDelta {
  tables: AccessDeltaEntry[];
  reach: ReachDeltaEntry[];
}

/** True when an effect can let a role reach rows it could not reach before. */
export function widening(effect: AccessEffect): boolean {
  return effect === 'gains' || effect === 'widens' || effect === 'changes';
}

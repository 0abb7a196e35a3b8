/**
 * Canonical table attributes — the one shape both the config side and the live side of a table
 * are converted to before the engine diffs them.
 *
 *     columns:   { <name>: { type, nullable, default, primary_key, unique, references } }  (ordered)
 *     indexes:   { <name>: { columns, unique } }        present on the desired side only when declared
 *     checks:    { <name>: <expression> }               likewise
 *     rls_enabled: boolean                               likewise
 *     grants:    { <role>: [privilege…] }               likewise; sorted; live: every role (see table-catalog.ts)
 *     realtime:  { enabled, events?, exclude? }          likewise
 *
 * `default` is SQL text (the declared expression on the desired side, docs/hazards.md "Defaults
 * are SQL"; pg_get_expr on the live side) or null; the engine compares it, check expressions and
 * types semantically. A constraint PostgreSQL holds as NOT VALID (added NOT VALID, its VALIDATE
 * not run or failed) reads differently from the declared one — the check's text ends in
 * ` NOT VALID`, the foreign key has `not_valid: true` — so the next plan validates it.
 * Single-column unique and foreign-key constraints appear as column attributes; constraints
 * with other shapes are not managed (left alone).
 */
import type { Column, Table } from '../model/config.generated.js';
import { defaultSql, isNullDefault } from '../sql/defaults.js';
import type { CatalogTable } from './table-catalog.js';

/** A foreign key on one column. `table` is always `schema.table`. */
export interface ReferenceAttrs {
  table: string;
  column: string;
  on_delete: string;
  on_update: string;
  /** Live only: the constraint exists but PostgreSQL has not validated it (NOT VALID). */
  not_valid?: true;
}

/** One column. */
export interface ColumnAttrs {
  type: string;
  nullable: boolean;
  default: string | null;
  primary_key: boolean;
  unique: boolean;
  references: ReferenceAttrs | null;
}

/** Realtime settings; `events`/`exclude` are sorted and absent when disabled. */
export interface RealtimeAttrs {
  enabled: boolean;
  events?: string[];
  exclude?: string[];
}

/** A whole table. */
export interface TableAttrs {
  columns?: Record<string, ColumnAttrs>;
  indexes?: Record<string, { columns: string[]; unique: boolean }>;
  checks?: Record<string, string>;
  rls_enabled?: boolean;
  /** SELECT/INSERT/UPDATE/DELETE held by each role, sorted (see {@link TABLE_PRIVILEGES}). */
  grants?: Record<string, string[]>;
  realtime?: RealtimeAttrs;
}

/** The table privileges `grants` manages, in their canonical order. */
export const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

/** A privilege list in canonical order, duplicates removed. */
export function sortPrivileges(list: readonly string[]): string[] {
  return TABLE_PRIVILEGES.filter((p) => list.includes(p));
}

/** Names of the live constraints behind column attributes (for DROP statements). */
export interface TableMeta {
  /** The role owning the live table (F2: only the owner may alter it; the access model: it bypasses RLS unless forced). */
  owner?: string;
  primaryKeyName?: string;
  uniqueNames: Record<string, string>;
  foreignKeyNames: Record<string, string>;
  /**
   * Live indexes and constraints the canonical attributes cannot describe (partial and expression
   * indexes, multi-column unique and foreign keys), as `name: definition`; `fluxbase export`
   * reports them as not exported.
   */
  unsupported?: string[];
  /** FORCE ROW LEVEL SECURITY is set (the owner is subject to policies too). */
  rlsForced?: boolean;
}

/** Planning facts about a declared table (its DesiredResource.meta); never diffed or rendered. */
export interface TableDesiredMeta {
  schema: string;
  name: string;
  /** Columns declared with `renamed_from`: new name → previous name. */
  columnRenames: Record<string, string>;
  /** Declared `using:` conversions by column. */
  using: Record<string, string>;
}

/** Realtime registration as GET /api/v1/admin/realtime/tables lists it. */
export interface RealtimeRow {
  schema: string;
  table: string;
  realtime_enabled: boolean;
  events?: string[] | null;
  excluded_columns?: string[] | null;
}

const ALL_EVENTS = ['DELETE', 'INSERT', 'UPDATE'];
const FK_ACTIONS: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

/** The column default as the SQL expression it declares (sql/defaults.ts), or null. */
export function desiredDefault(value: Column['default']): string | null {
  const { sql } = defaultSql(value);
  return isNullDefault(sql) ? null : sql!;
}

/** Suffix of a live check PostgreSQL has not validated (see module doc). */
export const NOT_VALID_SUFFIX = ' NOT VALID';

/** Canonical attributes of a declared column. `schema` qualifies a bare `references.table`. */
export function desiredColumn(schema: string, column: Column): ColumnAttrs {
  const ref = column.references;
  return {
    type: column.type.trim(),
    nullable: column.primary_key ? false : (column.nullable ?? true),
    default: desiredDefault(column.default),
    primary_key: column.primary_key ?? false,
    unique: column.unique ?? false,
    references: ref
      ? {
          table: ref.table.includes('.') ? ref.table : `${schema}.${ref.table}`,
          column: ref.column ?? 'id',
          on_delete: ref.on_delete ?? 'NO ACTION',
          on_update: ref.on_update ?? 'NO ACTION',
        }
      : null,
  };
}

/** Canonical attributes of a declared table (only what it declares, plus column defaults). */
export function desiredTable(schema: string, table: Table): TableAttrs {
  const attrs: TableAttrs = {};
  if (!table.external && table.columns) {
    attrs.columns = Object.fromEntries(
      Object.entries(table.columns).map(([name, c]) => [name, desiredColumn(schema, c!)]),
    );
  }
  if (table.indexes) {
    attrs.indexes = Object.fromEntries(
      Object.entries(table.indexes).map(([name, ix]) => [name, { columns: [...ix!.columns], unique: ix!.unique ?? false }]),
    );
  }
  if (table.checks) attrs.checks = Object.fromEntries(Object.entries(table.checks).map(([n, e]) => [n, e!.trim()]));
  if (table.rls?.enabled !== undefined) attrs.rls_enabled = table.rls.enabled;
  if (table.grants) attrs.grants = Object.fromEntries(Object.entries(table.grants).map(([role, list]) => [role, sortPrivileges(list ?? [])]));
  if (table.realtime) {
    const enabled = table.realtime.enabled ?? true;
    attrs.realtime = enabled
      ? { enabled, events: [...(table.realtime.events ?? ALL_EVENTS)].sort(), exclude: [...(table.realtime.exclude ?? [])].sort() }
      : { enabled };
  }
  return attrs;
}

/** Canonical attributes of a live table, and the constraint names behind them. */
export function liveTable(t: CatalogTable, realtime: RealtimeRow | undefined): { attrs: TableAttrs; meta: TableMeta } {
  const constraints = t.constraints ?? [];
  const pk = constraints.find((c) => c.type === 'p');
  const meta: TableMeta = { owner: t.owner, primaryKeyName: pk?.name, uniqueNames: {}, foreignKeyNames: {}, ...(t.rls_forced ? { rlsForced: true } : {}) };
  const single = (c: { columns: string[] | null }) => (c.columns && c.columns.length === 1 ? c.columns[0]! : undefined);
  const columns: Record<string, ColumnAttrs> = {};
  for (const col of t.columns) {
    columns[col.name] = {
      type: col.type,
      nullable: !col.not_null,
      default: col.default,
      primary_key: pk?.columns?.includes(col.name) ?? false,
      unique: false,
      references: null,
    };
  }
  for (const c of constraints) {
    const column = single(c);
    if (!column || !columns[column]) continue;
    if (c.type === 'u' && !columns[column].unique) {
      columns[column].unique = true;
      meta.uniqueNames[column] = c.name;
    } else if (c.type === 'f' && !columns[column].references && c.ref_columns?.length === 1) {
      columns[column].references = {
        table: `${c.ref_schema}.${c.ref_table}`,
        column: c.ref_columns[0]!,
        on_delete: FK_ACTIONS[c.on_delete ?? 'a'] ?? 'NO ACTION',
        on_update: FK_ACTIONS[c.on_update ?? 'a'] ?? 'NO ACTION',
        ...(c.validated === false ? { not_valid: true as const } : {}),
      };
      meta.foreignKeyNames[column] = c.name;
    }
  }
  const unsupported = [
    ...(t.indexes ?? []).filter((ix) => ix.partial || ix.columns.some((c) => c === null)).map((ix) => `index ${ix.name}: ${ix.definition}`),
    ...constraints
      .filter((c) => (c.type === 'u' || c.type === 'f') && (c.columns?.length ?? 0) !== 1)
      .map((c) => `${c.type === 'u' ? 'unique' : 'foreign key'} constraint ${c.name} on (${(c.columns ?? []).join(', ')})`),
  ];
  if (unsupported.length > 0) meta.unsupported = unsupported;
  const attrs: TableAttrs = {
    columns,
    indexes: Object.fromEntries(
      (t.indexes ?? []).map((ix) => [ix.name, { columns: ix.columns.map((c) => c ?? '(expression)'), unique: ix.unique }]),
    ),
    checks: Object.fromEntries(
      constraints.filter((c) => c.type === 'c').map((c) => [c.name, `${c.check ?? ''}${c.validated === false ? NOT_VALID_SUFFIX : ''}`]),
    ),
    rls_enabled: t.rls_enabled,
    ...(t.grants ? { grants: Object.fromEntries(Object.entries(t.grants).map(([role, list]) => [role, sortPrivileges(list)])) } : {}),
    realtime:
      realtime && realtime.realtime_enabled
        ? { enabled: true, events: [...(realtime.events ?? [])].sort(), exclude: [...(realtime.excluded_columns ?? [])].sort() }
        : { enabled: false },
  };
  return { attrs, meta };
}

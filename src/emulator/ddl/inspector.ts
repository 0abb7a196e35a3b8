/**
 * Schema introspection read from PostgreSQL's catalogs (auth doc §5.3, §5.5), so types and
 * defaults come back rendered by PostgreSQL (`timestamp with time zone`, `'hello'::text`, …).
 *
 * Real-server quirks reproduced on purpose:
 * - the column comment lookup casts `schema || '.' || table` **unquoted** to regclass, so any
 *   relation whose (schema or table) name needs quoting makes the query fail: the whole schema
 *   vanishes from the lists and the single-table GET answers 404;
 * - tables matching `LIKE 'pg_%'` (`pg` + at least one character) are hidden from table lists;
 * - `is_unique` is never computed (always false);
 * - `primary_key`, `foreign_keys`, `indexes`, `columns` are `null` when empty.
 */
import type { Sql } from '../db/types.js';
import { sortKeys } from '../http/json.js';

export interface ColumnInfo {
  name: string;
  data_type: string;
  is_nullable: boolean;
  default_value: string | null;
  is_primary_key: boolean;
  is_foreign_key: boolean;
  is_unique: boolean;
  max_length: number | null;
  position: number;
  description?: string;
  jsonb_schema?: unknown;
}

export interface ForeignKeyInfo {
  name: string;
  column_name: string;
  referenced_table: string;
  referenced_column: string;
  on_delete: string;
  on_update: string;
}

export interface IndexInfo {
  name: string;
  columns: string[];
  is_unique: boolean;
  is_primary: boolean;
}

export interface TableInfo {
  schema: string;
  name: string;
  type: string;
  columns: ColumnInfo[] | null;
  primary_key: string[] | null;
  foreign_keys: ForeignKeyInfo[] | null;
  indexes: IndexInfo[] | null;
  rls_enabled: boolean;
}

interface ColumnRow {
  table_schema: string;
  table_name: string;
  column_name: string;
  data_type: string;
  is_nullable: string | boolean;
  column_default: string | null;
  max_length: number | null;
  position: number;
  comment: string;
}

/** Comment → description / `_fluxbase_jsonb_schema` (parseColumnComment). */
function applyComment(col: ColumnInfo, comment: string): void {
  if (comment === '') return;
  if (comment.includes('_fluxbase_jsonb_schema')) {
    try {
      const parsed = JSON.parse(comment) as { _fluxbase_jsonb_schema?: unknown };
      if (parsed._fluxbase_jsonb_schema !== undefined && parsed._fluxbase_jsonb_schema !== null) {
        col.jsonb_schema = sortKeys(parsed._fluxbase_jsonb_schema);
        return;
      }
    } catch {
      /* a plain comment */
    }
  }
  col.description = comment;
}

function toColumn(r: ColumnRow): ColumnInfo {
  const col: ColumnInfo = {
    name: r.column_name,
    data_type: r.data_type,
    is_nullable: r.is_nullable === true || r.is_nullable === 'YES',
    default_value: r.column_default,
    is_primary_key: false,
    is_foreign_key: false,
    is_unique: false,
    max_length: r.max_length === null || r.max_length === undefined ? null : Number(r.max_length),
    position: Number(r.position),
  };
  applyComment(col, r.comment ?? '');
  return col;
}

/** information_schema columns of tables and views, with the unquoted-regclass comment lookup. */
const COLUMNS_SQL = `
SELECT ic.table_schema::text AS table_schema, ic.table_name::text AS table_name, ic.column_name::text AS column_name,
       (CASE ic.data_type WHEN 'USER-DEFINED' THEN ic.udt_name ELSE ic.data_type END)::text AS data_type,
       ic.is_nullable::text AS is_nullable, ic.column_default::text AS column_default,
       ic.character_maximum_length::int AS max_length, ic.ordinal_position::int AS position,
       coalesce(col_description((ic.table_schema || '.' || ic.table_name)::regclass, ic.ordinal_position::int), '') AS comment
  FROM information_schema.columns ic
 WHERE ic.table_schema::text = ANY($1::text[]) AND ($2::text IS NULL OR ic.table_name::text = $2::text)
 ORDER BY ic.table_schema, ic.table_name, ic.ordinal_position`;

/** Materialized views are not in information_schema: read pg_attribute. */
const MATVIEW_COLUMNS_SQL = `
SELECT n.nspname::text AS table_schema, c.relname::text AS table_name, a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS data_type, NOT a.attnotnull AS is_nullable,
       pg_get_expr(d.adbin, d.adrelid) AS column_default, NULL::int AS max_length, a.attnum::int AS position,
       coalesce(col_description(c.oid, a.attnum), '') AS comment
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relkind = 'm' AND a.attnum > 0 AND NOT a.attisdropped
   AND n.nspname::text = ANY($1::text[]) AND ($2::text IS NULL OR c.relname::text = $2::text)
 ORDER BY n.nspname, c.relname, a.attnum`;

const PK_SQL = `
SELECT n.nspname::text AS s, c.relname::text AS t, a.attname::text AS col
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
 WHERE i.indisprimary AND n.nspname::text = ANY($1::text[]) AND ($2::text IS NULL OR c.relname::text = $2::text)
 ORDER BY 1, 2, array_position(i.indkey::int2[], a.attnum)`;

const FK_SQL = `
SELECT n.nspname::text AS s, c.relname::text AS t, con.conname::text AS name, a.attname::text AS column_name,
       rn.nspname || '.' || rc.relname AS referenced_table, ra.attname::text AS referenced_column,
       CASE con.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END AS on_delete,
       CASE con.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END AS on_update
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class rc ON rc.oid = con.confrelid
  JOIN pg_namespace rn ON rn.oid = rc.relnamespace
  CROSS JOIN LATERAL unnest(con.conkey, con.confkey) AS k(col, refcol)
  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.col
  JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refcol
 WHERE con.contype = 'f' AND n.nspname::text = ANY($1::text[]) AND ($2::text IS NULL OR c.relname::text = $2::text)
 ORDER BY 1, 2, 3`;

const INDEX_SQL = `
SELECT n.nspname::text AS s, t.relname::text AS t, ic.relname::text AS name,
       array_agg(a.attname::text ORDER BY array_position(ix.indkey::int2[], a.attnum)) AS columns,
       ix.indisunique AS is_unique, ix.indisprimary AS is_primary
  FROM pg_index ix
  JOIN pg_class t ON t.oid = ix.indrelid
  JOIN pg_class ic ON ic.oid = ix.indexrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(ix.indkey)
 WHERE n.nspname::text = ANY($1::text[]) AND ($2::text IS NULL OR t.relname::text = $2::text)
 GROUP BY n.nspname, t.relname, ic.relname, ix.indisunique, ix.indisprimary
 ORDER BY 1, 2, 3`;

function group<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

function pgArray(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') {
    const inner = v.replace(/^\{|\}$/g, '');
    return inner === '' ? [] : inner.split(',').map((s) => s.replace(/^"|"$/g, ''));
  }
  return [];
}

interface Meta {
  columns: Map<string, ColumnInfo[]>;
  pks: Map<string, string[]>;
  fks: Map<string, ForeignKeyInfo[]>;
  indexes: Map<string, IndexInfo[]>;
}

async function fetchMeta(db: Sql, schemas: string[], table: string | null, kind: 'table' | 'view' | 'materialized_view'): Promise<Meta> {
  const key = (s: string, t: string): string => `${s}.${t}`;
  const colRows = (await db.query<ColumnRow>(kind === 'materialized_view' ? MATVIEW_COLUMNS_SQL : COLUMNS_SQL, [schemas, table])).rows;
  const columns = new Map<string, ColumnInfo[]>();
  for (const [k, rows] of group(colRows, (r) => key(r.table_schema, r.table_name))) columns.set(k, rows.map(toColumn));
  const meta: Meta = { columns, pks: new Map(), fks: new Map(), indexes: new Map() };
  if (kind === 'table') {
    const pkRows = (await db.query<{ s: string; t: string; col: string }>(PK_SQL, [schemas, table])).rows;
    for (const [k, rows] of group(pkRows, (r) => key(r.s, r.t))) meta.pks.set(k, rows.map((r) => r.col));
    const fkRows = (await db.query<ForeignKeyInfo & { s: string; t: string }>(FK_SQL, [schemas, table])).rows;
    for (const [k, rows] of group(fkRows, (r) => key(r.s, r.t))) {
      meta.fks.set(k, rows.map(({ name, column_name, referenced_table, referenced_column, on_delete, on_update }) => ({ name, column_name, referenced_table, referenced_column, on_delete, on_update })));
    }
  }
  if (kind !== 'view') {
    const idxRows = (await db.query<{ s: string; t: string; name: string; columns: unknown; is_unique: boolean; is_primary: boolean }>(INDEX_SQL, [schemas, table])).rows;
    for (const [k, rows] of group(idxRows, (r) => key(r.s, r.t))) {
      meta.indexes.set(k, rows.map((r) => ({ name: r.name, columns: pgArray(r.columns), is_unique: r.is_unique, is_primary: r.is_primary })));
    }
  }
  return meta;
}

function assemble(schema: string, name: string, type: string, rls: boolean, meta: Meta): TableInfo {
  const k = `${schema}.${name}`;
  const columns = meta.columns.get(k) ?? null;
  const primaryKey = meta.pks.get(k) ?? null;
  const foreignKeys = meta.fks.get(k) ?? null;
  if (columns) {
    for (const c of columns) {
      if (primaryKey?.includes(c.name)) c.is_primary_key = true;
      if (foreignKeys?.some((f) => f.column_name === c.name)) c.is_foreign_key = true;
    }
  }
  return { schema, name, type, columns, primary_key: primaryKey, foreign_keys: foreignKeys, indexes: meta.indexes.get(k) ?? null, rls_enabled: rls };
}

/**
 * Base tables (relkind r/p) of one schema with full metadata (`GetAllTables`). Throws when the
 * introspection query fails (e.g. the mixed-case quirk); callers skip the schema silently.
 */
export async function getAllTables(db: Sql, schema: string): Promise<TableInfo[]> {
  const r = await db.query<{ s: string; t: string; rls: boolean }>(
    `SELECT n.nspname::text AS s, c.relname::text AS t, c.relrowsecurity AS rls
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname = $1
        AND c.relname NOT LIKE 'pg_%' AND c.relname NOT LIKE '_fluxbase.%'
        AND n.nspname NOT IN ('information_schema', 'pg_catalog', '_fluxbase')
      ORDER BY 1, 2`,
    [schema],
  );
  if (r.rows.length === 0) return [];
  const meta = await fetchMeta(db, [schema], null, 'table');
  return r.rows.map((row) => assemble(row.s, row.t, 'table', row.rls, meta));
}

/** Views of one schema (`GetAllViews`): columns only. */
export async function getAllViews(db: Sql, schema: string): Promise<TableInfo[]> {
  const r = await db.query<{ s: string; t: string }>(
    `SELECT schemaname::text AS s, viewname::text AS t FROM pg_views
      WHERE schemaname = $1 AND schemaname NOT IN ('information_schema', 'pg_catalog') ORDER BY 1, 2`,
    [schema],
  );
  if (r.rows.length === 0) return [];
  const meta = await fetchMeta(db, [schema], null, 'view');
  return r.rows.map((row) => assemble(row.s, row.t, 'view', false, meta));
}

/** Materialized views of one schema: columns from pg_attribute, plus indexes. */
export async function getAllMaterializedViews(db: Sql, schema: string): Promise<TableInfo[]> {
  const r = await db.query<{ s: string; t: string }>(
    `SELECT schemaname::text AS s, matviewname::text AS t FROM pg_matviews WHERE schemaname = $1 ORDER BY 1, 2`,
    [schema],
  );
  if (r.rows.length === 0) return [];
  const meta = await fetchMeta(db, [schema], null, 'materialized_view');
  return r.rows.map((row) => assemble(row.s, row.t, 'materialized_view', false, meta));
}

/**
 * One relation (`GetTableInfo`): `type` is "" and `rls_enabled` false (never populated); a
 * relation that does not exist yields all-null metadata rather than an error.
 */
export async function getTableInfo(db: Sql, schema: string, table: string): Promise<TableInfo> {
  let meta = await fetchMeta(db, [schema], table, 'table');
  if (!meta.columns.has(`${schema}.${table}`)) {
    const mv = await fetchMeta(db, [schema], table, 'materialized_view');
    meta = { ...meta, columns: mv.columns };
  }
  return assemble(schema, table, '', false, meta);
}

/** Schemas (`GetSchemas`): all but pg_catalog, information_schema and `pg_%`, sorted. */
export async function getSchemas(db: Sql): Promise<string[]> {
  const r = await db.query<{ s: string }>(
    `SELECT schema_name::text AS s FROM information_schema.schemata
      WHERE schema_name NOT IN ('pg_catalog', 'information_schema') AND schema_name NOT LIKE 'pg_%'
      ORDER BY schema_name`,
  );
  return r.rows.map((x) => x.s);
}

/** Schemas visible to tenant_admin / tenant_service callers. */
export const TENANT_VISIBLE_SCHEMAS = new Set(['public', 'auth', 'storage', 'functions', 'jobs', 'ai', 'rpc', 'mcp', 'realtime', 'branching', 'logging', 'platform']);

/** Whether the caller sees every schema (admin, instance_admin, service_role). */
export function seesAllSchemas(role: string | undefined): boolean {
  return role === undefined || role === 'admin' || role === 'instance_admin' || role === 'service_role';
}

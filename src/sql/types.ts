/**
 * Column types: what the DDL endpoint accepts, and the canonical spelling PostgreSQL's
 * `format_type()` gives a type (`timestamptz` → `timestamp with time zone`, `varchar(255)` →
 * `character varying(255)`, `int[]` → `integer[]`), so declared and live types compare equal.
 */
import { memoised, parseSql } from './parser.js';

/**
 * Types POST /api/v1/admin/ddl/tables and add-column accept: an exact match after
 * lower(trim(type)) (shared/fluxbase-api §5.1). Anything else goes through the migrations API.
 */
export const DDL_ALLOWED_TYPES: ReadonlySet<string> = new Set([
  'text', 'varchar', 'char', 'integer', 'bigint', 'smallint', 'numeric', 'decimal', 'real',
  'double precision', 'boolean', 'bool', 'date', 'timestamp', 'timestamptz', 'time', 'timetz',
  'uuid', 'json', 'jsonb', 'bytea', 'inet', 'cidr', 'macaddr',
]);

/** True when the DDL endpoint accepts `type` as written. */
export function ddlAcceptsType(type: string): boolean {
  return DDL_ALLOWED_TYPES.has(type.trim().toLowerCase());
}

const DISPLAY: Record<string, string> = {
  int2: 'smallint', int4: 'integer', int8: 'bigint', float4: 'real', float8: 'double precision',
  bool: 'boolean', varchar: 'character varying', bpchar: 'character', varbit: 'bit varying',
  timestamp: 'timestamp without time zone', timestamptz: 'timestamp with time zone',
  time: 'time without time zone', timetz: 'time with time zone',
};

const TIME_TYPES = new Set(['timestamp', 'timestamptz', 'time', 'timetz']);

/**
 * The canonical (format_type) spelling of a type, or undefined when it does not parse.
 * `pg_catalog.` qualification is dropped; other schema qualifications are kept, as format_type
 * keeps them for types outside the search path. Requires loadSqlParser().
 */
export function canonicalType(type: string): string | undefined {
  return cachedCanonicalType(type);
}

const cachedCanonicalType = memoised((type: string): string | undefined => {
  let typeName: {
    names: { String: { sval: string } }[];
    typmods?: { A_Const?: { ival?: { ival?: number } } }[];
    arrayBounds?: unknown[];
  };
  try {
    const tree = parseSql(`SELECT NULL::${type}`);
    const stmt = tree.stmts[0]?.stmt as { SelectStmt?: { targetList: { ResTarget: { val: { TypeCast: { typeName: typeof typeName } } } }[] } };
    if (tree.stmts.length !== 1 || !stmt.SelectStmt || stmt.SelectStmt.targetList.length !== 1) return undefined;
    const cast = stmt.SelectStmt.targetList[0]!.ResTarget.val.TypeCast;
    if (!cast) return undefined;
    typeName = cast.typeName;
  } catch {
    return undefined;
  }
  const names = typeName.names.map((n) => n.String.sval);
  const base = names[names.length - 1]!;
  const schema = names.length > 1 && names[0] !== 'pg_catalog' ? `${names.slice(0, -1).join('.')}.` : '';
  const mods = (typeName.typmods ?? []).map((m) => m.A_Const?.ival?.ival ?? 0);
  const display = schema ? base : (DISPLAY[base] ?? base);
  let out: string;
  if (!schema && TIME_TYPES.has(base) && mods.length > 0) {
    // timestamp(3) with time zone: the precision goes after the first word.
    const [first, ...rest] = display.split(' ');
    out = [`${first}(${mods.join(',')})`, ...rest].join(' ');
  } else {
    out = `${schema}${display}${mods.length > 0 ? `(${mods.join(',')})` : ''}`;
  }
  return typeName.arrayBounds && typeName.arrayBounds.length > 0 ? `${out}[]` : out;
});

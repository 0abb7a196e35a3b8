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

/** A parsed type name: PostgreSQL's internal base name (`int4`, `varchar`, `timestamptz`), modifiers, array. */
export interface ParsedType {
  /** Schema when qualified with one other than pg_catalog (`extensions.citext`). */
  schema?: string;
  /** The parser's name: built-in spellings become internal names (`integer` → `int4`, `decimal` → `numeric`). */
  name: string;
  /** Type modifiers (`varchar(255)` → [255], `numeric(10,2)` → [10, 2]). */
  mods: number[];
  array: boolean;
}

/**
 * The parts of a type as PostgreSQL's grammar reads it, or undefined when it does not parse.
 * Requires loadSqlParser(). Parsed once per distinct text (a configuration repeats a dozen types
 * over thousands of columns); the result is frozen and shared.
 */
export function parseType(type: string): Readonly<ParsedType> | undefined {
  return cachedParseType(type);
}

const cachedParseType = memoised((type: string): Readonly<ParsedType> | undefined => {
  const t = parseTypeOnce(type);
  if (t) Object.freeze(t.mods);
  return t && Object.freeze(t);
});

function parseTypeOnce(type: string): ParsedType | undefined {
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
  const qualified = names.length > 1 && names[0] !== 'pg_catalog';
  return {
    ...(qualified ? { schema: names.slice(0, -1).join('.') } : {}),
    name: names[names.length - 1]!,
    mods: (typeName.typmods ?? []).map((m) => m.A_Const?.ival?.ival ?? 0),
    array: (typeName.arrayBounds?.length ?? 0) > 0,
  };
}

/**
 * The canonical (format_type) spelling of a type, or undefined when it does not parse.
 * `pg_catalog.` qualification is dropped; other schema qualifications are kept, as format_type
 * keeps them for types outside the search path. Requires loadSqlParser().
 */
export function canonicalType(type: string): string | undefined {
  return cachedCanonicalType(type);
}

const cachedCanonicalType = memoised((type: string): string | undefined => {
  const t = parseType(type);
  if (!t) return undefined;
  const schema = t.schema ? `${t.schema}.` : '';
  const display = schema ? t.name : (DISPLAY[t.name] ?? t.name);
  let out: string;
  if (!schema && TIME_TYPES.has(t.name) && t.mods.length > 0) {
    // timestamp(3) with time zone: the precision goes after the first word.
    const [first, ...rest] = display.split(' ');
    out = [`${first}(${t.mods.join(',')})`, ...rest].join(' ');
  } else {
    out = `${schema}${display}${t.mods.length > 0 ? `(${t.mods.join(',')})` : ''}`;
  }
  return t.array ? `${out}[]` : out;
});

/**
 * PostgreSQL's built-in data types by internal name (pg_catalog types a column can have; checked
 * against PostgreSQL 18 by test/unit/type-change.test.ts), plus the serial pseudo-types CREATE
 * TABLE and ADD COLUMN accept. A column type outside this set must exist on the server (an
 * extension's or the user's type), which the plan checks.
 */
export const BUILTIN_TYPES: ReadonlySet<string> = new Set([
  'bool', 'bytea', 'char', 'int8', 'int2', 'int4', 'text', 'oid', 'json', 'xml', 'point', 'lseg', 'path', 'box',
  'polygon', 'line', 'float4', 'float8', 'circle', 'money', 'macaddr', 'macaddr8', 'inet', 'cidr', 'bpchar', 'varchar',
  'date', 'time', 'timestamp', 'timestamptz', 'interval', 'timetz', 'bit', 'varbit', 'numeric', 'uuid', 'jsonb',
  'jsonpath', 'tsvector', 'tsquery', 'int4range', 'numrange', 'tsrange', 'tstzrange', 'daterange', 'int8range',
  'int4multirange', 'nummultirange', 'tsmultirange', 'tstzmultirange', 'datemultirange', 'int8multirange',
  'regclass', 'regtype', 'regproc', 'regprocedure', 'regoper', 'regoperator', 'regconfig', 'regdictionary',
  'regnamespace', 'regrole', 'regcollation', 'pg_lsn', 'pg_snapshot', 'txid_snapshot', 'name', 'xid8', 'tid', 'xid', 'cid',
]);

/** The serial pseudo-types: valid only when a column is created. */
export const SERIAL_TYPES: ReadonlySet<string> = new Set(['serial', 'serial4', 'bigserial', 'serial8', 'smallserial', 'serial2']);

/** True when `type` names a built-in PostgreSQL type (or a serial pseudo-type); false for anything the server must provide. */
export function isBuiltinType(type: string): boolean {
  const t = parseType(type);
  if (!t) return false;
  return !t.schema && (BUILTIN_TYPES.has(t.name) || SERIAL_TYPES.has(t.name));
}

/** SQL names people write for built-in types, for "did you mean" suggestions. */
export const TYPE_SUGGESTIONS: readonly string[] = [
  'text', 'varchar', 'char', 'integer', 'int', 'bigint', 'smallint', 'numeric', 'decimal', 'real', 'double precision',
  'boolean', 'bool', 'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval', 'uuid', 'json', 'jsonb', 'bytea',
  'inet', 'cidr', 'macaddr', 'money', 'serial', 'bigserial', 'smallserial', 'float4', 'float8', 'int2', 'int4', 'int8',
  'tsvector', 'xml', 'point', 'bit', 'varbit',
];

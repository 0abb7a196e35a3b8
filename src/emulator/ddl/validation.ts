/**
 * DDL input rules (auth doc §5.1; `validateIdentifier`, `validDataTypes`,
 * `sanitizeDefaultValue` of `internal/api/ddl_handler.go`), re-implemented.
 */

const IDENT_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RESERVED = new Set(['user', 'table', 'column', 'index', 'select', 'insert', 'update', 'delete', 'from', 'where', 'group', 'order', 'limit', 'offset', 'join', 'on']);

/**
 * Identifier check; returns the exact message or undefined. `entity` is schema, table or column.
 * Length is measured in bytes (Go `len`).
 */
export function identifierProblem(name: string, entity: string): string | undefined {
  if (name === '') return `${entity} name cannot be empty`;
  if (Buffer.byteLength(name) > 63) return `${entity} name cannot exceed 63 characters`;
  if (!IDENT_RE.test(name)) return `${entity} name must start with a letter or underscore and contain only letters, numbers, and underscores`;
  if (RESERVED.has(name.toLowerCase())) return `'${name}' is a reserved keyword and cannot be used as a ${entity} name`;
  return undefined;
}

/** Whether `s` matches the identifier pattern (policy names, quoteIdentifier). */
export function isValidIdentifier(s: string): boolean {
  return IDENT_RE.test(s);
}

/**
 * The server's `quoteIdentifier`: `"name"` for a valid identifier, and the EMPTY string for an
 * invalid one (which then produces a PostgreSQL syntax error in the generated SQL).
 */
export function quoteIdentifier(s: string): string {
  return isValidIdentifier(s) ? `"${s}"` : '';
}

export const ALLOWED_TYPES = new Set([
  'text', 'varchar', 'char', 'integer', 'bigint', 'smallint', 'numeric', 'decimal', 'real', 'double precision',
  'boolean', 'bool', 'date', 'timestamp', 'timestamptz', 'time', 'timetz', 'uuid', 'json', 'jsonb', 'bytea', 'inet', 'cidr', 'macaddr',
]);

/** `lower(trim(type))` when allowed, else undefined. */
export function normaliseType(type: string): string | undefined {
  const t = type.trim().toLowerCase();
  return ALLOWED_TYPES.has(t) ? t : undefined;
}

const SAFE_DEFAULTS = new Set([
  'gen_random_uuid()', 'uuid_generate_v4()', 'uuid_generate_v1()', 'uuid_generate_v1mc()', 'uuid_generate_v3()', 'uuid_generate_v5()',
  'now()', 'current_timestamp', 'CURRENT_TIMESTAMP', 'current_date', 'CURRENT_DATE', 'current_time', 'CURRENT_TIME',
  'localtime', 'LOCALTIME', 'localtimestamp', 'LOCALTIMESTAMP', 'transaction_timestamp()', 'statement_timestamp()', 'clock_timestamp()',
  'true', 'TRUE', 'false', 'FALSE', 'NULL', 'null',
]);

/** Go `strconv.ParseInt(s, 10, 64)` succeeds. */
function isGoInt(s: string): boolean {
  if (!/^[+-]?\d+$/.test(s)) return false;
  try {
    const v = BigInt(s);
    return v >= -(2n ** 63n) && v <= 2n ** 63n - 1n;
  } catch {
    return false;
  }
}

/** Go `strconv.ParseFloat(s, 64)` succeeds (decimal, exponent, hex float, inf/nan, underscores excluded). */
function isGoFloat(s: string): boolean {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return true;
  if (/^[+-]?(inf|infinity|nan)$/i.test(s)) return true;
  return /^[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+$/.test(s);
}

function isValidCastType(t: string): boolean {
  return t !== '' && /^[\p{L}\p{N}_[\] ,]+$/u.test(t);
}

/** Quotes as a string literal: NUL removed, `\` doubled, `'` doubled. */
export function escapeLiteral(value: string): string {
  return `'${value.replace(/\u0000/g, '').replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * `sanitizeDefaultValue`: safe functions/keywords and numeric literals pass verbatim;
 * `X::type` passes when X is safe or a quoted literal and the type has only letters, digits,
 * `_ [ ] ,` and spaces; everything else becomes a string literal (`Now()` → `'Now()'`).
 */
export function sanitizeDefaultValue(value: string): string {
  const v = value.trim();
  if (SAFE_DEFAULTS.has(v)) return v;
  if (isGoInt(v) || isGoFloat(v)) return v;
  const i = v.indexOf('::');
  if (i >= 0) {
    const base = v.slice(0, i).trim();
    const cast = v.slice(i + 2).trim();
    if (isValidCastType(cast)) {
      if (SAFE_DEFAULTS.has(base)) return v;
      if (base.startsWith("'") && base.endsWith("'")) return v;
    }
  }
  return escapeLiteral(v);
}

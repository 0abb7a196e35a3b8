/**
 * Column defaults with exactly the meaning the real server's DDL endpoint gives them
 * (`sanitizeDefaultValue`, internal/api/ddl_handler.go; shared/fluxbase-api §5.1), so one YAML
 * value means one thing whether the DDL endpoint or a migration applies it.
 */

const SAFE_DEFAULTS: ReadonlySet<string> = new Set([
  'gen_random_uuid()', 'uuid_generate_v4()', 'uuid_generate_v1()', 'uuid_generate_v1mc()',
  'uuid_generate_v3()', 'uuid_generate_v5()', 'now()', 'current_timestamp', 'CURRENT_TIMESTAMP',
  'current_date', 'CURRENT_DATE', 'current_time', 'CURRENT_TIME', 'localtime', 'LOCALTIME',
  'localtimestamp', 'LOCALTIMESTAMP', 'transaction_timestamp()', 'statement_timestamp()',
  'clock_timestamp()', 'true', 'TRUE', 'false', 'FALSE', 'NULL', 'null',
]);

// Go strconv.ParseInt(s, 10, 64) and ParseFloat(s, 64) accept these spellings.
const GO_INT = /^[+-]?\d+$/;
const GO_FLOAT = /^[+-]?(?:(?:\d+(?:_\d+)*\.?\d*(?:_\d+)*|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan|0[xX][0-9a-fA-F_.]+[pP][+-]?\d+)$/i;
const CAST_TYPE = /^[\p{L}\p{N}_[\] ,]+$/u;

/** The YAML value of `default:` as the string the server's endpoint receives. */
export function defaultInput(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  return String(value);
}

/**
 * The SQL expression the server puts after DEFAULT for `input` (the `defaultValue` string), or
 * undefined for "no default" (empty input). Whitelisted functions and keywords, Go-parsable
 * numbers and `X::type` casts of those or of a 'quoted' literal pass through; anything else is
 * escaped into a string literal ('…', with `'` doubled, `\` doubled and NUL removed).
 */
export function sanitizeDefault(input: string): string | undefined {
  const v = input.trim();
  if (v === '') return undefined;
  if (SAFE_DEFAULTS.has(v)) return v;
  if (GO_INT.test(v)) return v;
  if (GO_FLOAT.test(v) && !v.includes('__') && !/_$|^_|_\.|\._/.test(v)) return v;
  const idx = v.indexOf('::');
  if (idx >= 0) {
    const base = v.slice(0, idx).trim();
    const castType = v.slice(idx + 2).trim();
    if (castType !== '' && CAST_TYPE.test(castType)) {
      if (SAFE_DEFAULTS.has(base)) return v;
      if (base.length >= 1 && base.startsWith("'") && base.endsWith("'")) return v;
    }
  }
  return `'${v.replace(/\0/g, '').replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** `null` ↔ no default: PostgreSQL stores no default for DEFAULT NULL. */
export function isNullDefault(sql: string | undefined): boolean {
  return sql === undefined || sql.toLowerCase() === 'null';
}

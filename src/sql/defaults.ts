/**
 * Column defaults. The rule (docs/hazards.md "Defaults are SQL"): what the configuration writes
 * as `default:` is a SQL expression and is applied as exactly that expression, or refused at
 * validation with the reason. Nothing that looks like an expression is ever turned into a string
 * literal; a string is written the SQL way, `'draft'`.
 *
 * The real server's DDL endpoint does turn unknown defaults into string literals
 * (`sanitizeDefaultValue`, internal/api/ddl_handler.go; shared/fluxbase-api §5.1): `Now()` becomes
 * the text 'Now()'. So a default goes through the DDL endpoint only when some input makes the
 * sanitiser produce the very same expression ({@link ddlDefaultInput}); every other default is
 * applied through the migrations API.
 */
import { expressionFacts, expressionKey } from './expression.js';
import { syntaxError } from './parser.js';

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

/** The YAML value of `default:` as text (`null`/absent → ''). */
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

/** A `default:` value read as SQL: the expression, or why it is refused. */
export interface DefaultSql {
  /** The SQL expression as written (trimmed); absent for "no default". */
  sql?: string;
  /** Set when the value is refused: a one-line summary and how to fix it. */
  problem?: { summary: string; detail: string };
}

const QUOTING =
  "A default is SQL: write a string as a SQL literal inside YAML quotes, e.g. `default: \"'draft'\"` (YAML removes its own quotes, so `default: 'draft'` is the bare word draft), an expression as itself, e.g. `default: now()`.";

/**
 * Reads a YAML `default:` value as SQL. Numbers and booleans are their SQL literals; null (or
 * absent) is no default; a string must be exactly one SQL expression that PostgreSQL accepts in
 * a DEFAULT (no column references, no subqueries). Requires loadSqlParser().
 */
export function defaultSql(value: string | number | boolean | null | undefined): DefaultSql {
  if (value === null || value === undefined) return {};
  if (typeof value === 'number') return { sql: String(value) };
  if (typeof value === 'boolean') return { sql: value ? 'true' : 'false' };
  const text = value.trim();
  if (text === '') {
    return {
      problem: {
        summary: 'an empty default is not SQL',
        detail: "Write `default: \"''\"` for an empty string, or remove `default` (or write `default: null`) for no default.",
      },
    };
  }
  const facts = expressionFacts(text);
  if (!facts) {
    const reason = syntaxError(`SELECT ${text}`) ?? 'it is not a single expression';
    return { problem: { summary: `default ${JSON.stringify(text)} is not a SQL expression: ${reason}`, detail: QUOTING } };
  }
  const column = facts.columns[0];
  if (column) {
    const word = column.join('.');
    const call = /^[a-z_][a-z0-9_]*$/i.test(word) && facts.columns.length === 1 && text.toLowerCase() === word.toLowerCase();
    return {
      problem: {
        summary: `default ${JSON.stringify(text)} refers to a column (${word}); PostgreSQL does not allow that in a default`,
        detail: call
          ? `For the string write \`default: "'${word}'"\`; for a function call write \`default: ${word.toLowerCase()}()\`. ${QUOTING}`
          : QUOTING,
      },
    };
  }
  if (facts.subquery) {
    return { problem: { summary: `default ${JSON.stringify(text)} contains a subquery; PostgreSQL does not allow that in a default`, detail: 'Use a function or a constant.' } };
  }
  return { sql: text };
}

/**
 * The `defaultValue` to send to POST /api/v1/admin/ddl/tables (or add column) so that the
 * server's sanitiser produces exactly the expression `sql`; undefined when no input does (the
 * default must then go through the migrations API). Tries the text itself, its lower-case form
 * (`NOW()` → `now()`: PostgreSQL folds unquoted names) and, for a plain string literal, its
 * content (`'draft'` → draft, which the sanitiser quotes back). `null` sql → '' (no default).
 */
export function ddlDefaultInput(sql: string | null): string | undefined {
  if (sql === null) return '';
  const key = expressionKey(sql);
  if (key === undefined) return undefined;
  const candidates = [sql, sql.toLowerCase()];
  const literal = /^'((?:[^']|'')*)'$/.exec(sql);
  if (literal) candidates.push(literal[1]!.replace(/''/g, "'"));
  for (const input of candidates) {
    const out = sanitizeDefault(input);
    if (out !== undefined && !isNullDefault(out) && expressionKey(out) === key) return input;
  }
  return undefined;
}

/**
 * Functions whose value does not change within a statement (STABLE or IMMUTABLE), so a column
 * added with such a default keeps PostgreSQL's fast path (no table rewrite). Any other function
 * call is treated as volatile (gen_random_uuid(), clock_timestamp(), random(), nextval()).
 */
const NON_VOLATILE = new Set([
  'now', 'transaction_timestamp', 'statement_timestamp', 'timezone', 'current_setting', 'lower', 'upper',
  'length', 'coalesce', 'to_char', 'to_jsonb', 'jsonb_build_object', 'json_build_object', 'array_fill', 'make_interval',
]);

/** True when adding a column with this default rewrites the table (a volatile function call). */
export function volatileDefault(sql: string | null): boolean {
  if (sql === null) return false;
  const facts = expressionFacts(sql);
  return facts !== undefined && facts.functions.some((f) => !NON_VOLATILE.has(f.replace(/^pg_catalog\./, '')));
}

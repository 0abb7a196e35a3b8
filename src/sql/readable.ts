/**
 * PostgreSQL's renderings turned back into what a person writes, for `fluxbase export`:
 * `(auth.uid() = id)` → `auth.uid() = id`, `(status = ANY (ARRAY['a'::text, 'b'::text]))` →
 * `status IN ('a', 'b')`, `timestamp with time zone` → `timestamptz`, `'draft'::text` → `draft`.
 * Every rewrite is verified with the comparison the plan itself uses (sql/expression.ts syntax
 * trees, sql/types.ts canonical types, sql/defaults.ts the rule for defaults): when a
 * simpler text cannot be proven to mean the same, the live text is kept. Requires loadSqlParser().
 */
import { defaultSql, isNullDefault } from './defaults.js';
import { expressionKey, expressionsEqual } from './expression.js';
import { canonicalType } from './types.js';

/** A piece of SQL text: a string literal, a quoted identifier, or anything else. */
interface Segment {
  kind: 'literal' | 'ident' | 'other';
  text: string;
}

/** Splits SQL text so rewrites never touch the inside of literals or quoted identifiers. */
function segments(sql: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  let other = '';
  const flush = () => {
    if (other) out.push({ kind: 'other', text: other });
    other = '';
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === ch && sql[j + 1] !== ch)) j += sql[j] === ch ? 2 : 1;
      flush();
      out.push({ kind: ch === "'" ? 'literal' : 'ident', text: sql.slice(i, j + 1) });
      i = j + 1;
    } else {
      other += ch;
      i++;
    }
  }
  flush();
  return out;
}

/** Drops `::text` / `::character varying` after string literals and around bare column names. */
function stripTextCasts(sql: string): string {
  const parts = segments(sql);
  return parts
    .map((p, i) => {
      if (p.kind !== 'other') return p.text;
      let text = p.text;
      if (parts[i - 1]?.kind === 'literal') text = text.replace(/^::(?:text|character varying)\b/, '');
      return text.replace(/\(([a-z_][a-z0-9_]*)\)::text\b/g, '$1');
    })
    .join('');
}

/** `x = ANY (ARRAY[a, b])` → `x IN (a, b)`; `x <> ALL (ARRAY[…])` → `x NOT IN (…)`. */
function inLists(sql: string): string {
  return sql.replace(
    /([A-Za-z_][A-Za-z0-9_.]*) (=|<>) (ANY|ALL) \(ARRAY\[((?:'(?:[^']|'')*'|[^\]'[])*)\]\)/g,
    (match, lhs: string, op: string, quant: string, items: string) =>
      op === '=' && quant === 'ANY' ? `${lhs} IN (${items})` : op === '<>' && quant === 'ALL' ? `${lhs} NOT IN (${items})` : match,
  );
}

/** Positions of matching parenthesis pairs outside literals and quoted identifiers. */
function parenPairs(sql: string): [number, number][] {
  const pairs: [number, number][] = [];
  const stack: number[] = [];
  let offset = 0;
  for (const s of segments(sql)) {
    if (s.kind === 'other') {
      for (let k = 0; k < s.text.length; k++) {
        if (s.text[k] === '(') stack.push(offset + k);
        else if (s.text[k] === ')' && stack.length > 0) pairs.push([stack.pop()!, offset + k]);
      }
    }
    offset += s.text.length;
  }
  return pairs.sort((a, b) => a[0] - b[0]);
}

/** Removes every pair of parentheses the syntax tree does not need (the tree must stay identical). */
function dropRedundantParens(sql: string, key: string): string {
  let text = sql;
  let changed = true;
  while (changed) {
    changed = false;
    for (const [open, close] of parenPairs(text)) {
      const candidate = (text.slice(0, open) + text.slice(open + 1, close) + text.slice(close + 1)).trim();
      if (expressionKey(candidate) === key) {
        text = candidate;
        changed = true;
        break;
      }
    }
  }
  return text;
}

/**
 * A policy, check or default expression as a person would write it, or the live text when no
 * simpler text provably means the same. Only `::text` casts of literals and columns are dropped
 * (an untyped literal compared with text resolves to text), IN-lists restored and redundant
 * parentheses removed; each step is kept only when the syntax tree compares equal.
 * `'draft'::text` becomes `'draft'` (a string literal compared with text resolves to text).
 */
export function readableExpression(live: string): string {
  const key = expressionKey(live);
  if (key === undefined) return live;
  let text = live;
  for (const step of [stripTextCasts, inLists]) {
    const next = step(text);
    if (next !== text && expressionKey(next) === key) text = next;
  }
  return dropRedundantParens(text, key);
}

const SHORT_TYPES: [RegExp, string][] = [
  [/^timestamp(\(\d+\))? with time zone$/, 'timestamptz$1'],
  [/^timestamp(\(\d+\))? without time zone$/, 'timestamp$1'],
  [/^time(\(\d+\))? with time zone$/, 'timetz$1'],
  [/^time(\(\d+\))? without time zone$/, 'time$1'],
  [/^character varying(\(\d+\))?$/, 'varchar$1'],
  [/^character(\(\d+\))?$/, 'char$1'],
];

/** `timestamp with time zone` → `timestamptz`, `character varying(120)[]` → `varchar(120)[]` (same canonical type). */
export function readableType(live: string): string {
  const canonical = canonicalType(live);
  if (canonical === undefined) return live;
  const array = live.endsWith('[]') ? '[]' : '';
  const base = array ? live.slice(0, -2) : live;
  for (const [pattern, short] of SHORT_TYPES) {
    if (!pattern.test(base)) continue;
    const candidate = base.replace(pattern, short) + array;
    return canonicalType(candidate) === canonical ? candidate : live;
  }
  return live;
}

/** A column default as the config declares it (a YAML value), and whether it reproduces the live one. */
export interface ReadableDefault {
  /** The YAML value of `default:`; undefined for no default. */
  value?: string | number | boolean;
  /** False when no YAML value declares the live default (it is not one SQL expression a default allows). */
  exact: boolean;
}

/** What a YAML value declares (sql/defaults.ts: defaults are SQL). */
function declared(value: string | number | boolean): string | undefined {
  const { sql } = defaultSql(value);
  return isNullDefault(sql) ? undefined : sql;
}

/**
 * The simplest YAML value whose SQL means the live default `live` of a column of type
 * `columnType`: a number or boolean whose text is the live text (`'-1'::integer` → -1), the
 * readable expression (`'draft'::text` → `'draft'`), or the live text itself; `exact: false`
 * when none does.
 */
export function readableDefault(live: string | null, columnType: string): ReadableDefault {
  if (live === null) return { exact: true };
  const candidates: (string | number | boolean)[] = [];
  const literal = /^'((?:[^']|'')*)'(?:::(.+))?$/.exec(live);
  const ownType = literal !== null && (literal[2] === undefined || canonicalType(literal[2]) === canonicalType(columnType));
  const unquoted = literal ? literal[1]! : live;
  if (/^-?\d+(\.\d+)?$/.test(unquoted) && String(Number(unquoted)) === unquoted && (!literal || ownType)) candidates.push(Number(unquoted));
  if (live === 'true' || live === 'false') candidates.push(live === 'true');
  const readable = readableExpression(live);
  if (ownType && literal && literal[2] !== undefined) candidates.push(`'${literal[1]!}'`);
  candidates.push(readable, live);
  for (const c of candidates) {
    const sql = declared(c);
    if (sql !== undefined && expressionsEqual(sql, live)) return { value: c, exact: true };
  }
  return { exact: false };
}

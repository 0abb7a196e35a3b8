/**
 * Row predicates the way PostgreSQL combines policies (CREATE POLICY, "Combining multiple
 * policies"): the USING (or WITH CHECK) expressions of the permissive policies that apply are
 * OR'ed, and each restrictive one is AND'ed onto that; no permissive policy means no row.
 *
 * A predicate is kept in conjunctive normal form — a list of clauses, each an OR of terms — so
 * that combining stays exact and comparing two predicates can sometimes prove one wider than the
 * other: `P ⇒ Q` holds when every clause of Q contains all the terms of some clause of P. Terms
 * are compared by PostgreSQL's own syntax tree (sql/expression.ts), so `status = 'published'`
 * and PostgreSQL's rendering `(status = 'published'::text)` are one term. Requires
 * loadSqlParser().
 */
import { expressionKey } from '../sql/expression.js';
import { scanSql } from '../sql/parser.js';
import { readableExpression } from '../sql/readable.js';

/** One policy expression: readable text and canonical key. */
export interface Term {
  text: string;
  key: string;
}

/** No row, or the rows satisfying every clause (no clause: every row). */
export type Predicate = { kind: 'false' } | { kind: 'cnf'; clauses: Term[][] };

/** Every row. */
export const TRUE: Predicate = { kind: 'cnf', clauses: [] };
/** No row. */
export const FALSE: Predicate = { kind: 'false' };

let constants: { true: string; false: string } | undefined;

function expressionKeyOrText(sql: string): string {
  return expressionKey(sql) ?? sql.trim();
}

const terms = new Map<string, Term | 'true' | 'false'>();

/** A term from a policy expression (null: the policy has none, which admits every row). Memoised. */
export function term(sql: string | null): Term | 'true' | 'false' {
  if (sql === null) return 'true';
  let t = terms.get(sql);
  if (t === undefined) {
    t = parseTerm(sql);
    if (terms.size > 10_000) terms.clear();
    terms.set(sql, t);
  }
  return t;
}

function parseTerm(sql: string): Term | 'true' | 'false' {
  const text = readableExpression(sql.trim());
  const key = expressionKeyOrText(text);
  constants ??= { true: expressionKeyOrText('true'), false: expressionKeyOrText('false') };
  if (key === constants.true) return 'true';
  if (key === constants.false) return 'false';
  return { text, key };
}

function normalise(clauses: (Term | 'true' | 'false')[][]): Predicate {
  const out: Term[][] = [];
  const seen = new Set<string>();
  for (const clause of clauses) {
    if (clause.includes('true')) continue;
    const terms = dedupe(clause.filter((t): t is Term => t !== 'false'));
    if (terms.length === 0) return FALSE;
    const id = terms.map((t) => t.key).join('\u0000');
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(terms);
  }
  // A clause implied by a smaller one adds nothing: (a) AND (a OR b) is (a).
  const kept = out.filter((c, i) => !out.some((d, j) => j !== i && d.length < c.length && d.every((t) => c.some((u) => u.key === t.key))));
  return { kind: 'cnf', clauses: kept.sort((a, b) => compare(clauseId(a), clauseId(b))) };
}

function dedupe(terms: Term[]): Term[] {
  const byKey = new Map<string, Term>();
  for (const t of terms) if (!byKey.has(t.key)) byKey.set(t.key, t);
  return [...byKey.values()].sort((a, b) => compare(a.key, b.key));
}

function clauseId(clause: Term[]): string {
  return clause.map((t) => t.key).join('\u0000');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The top-level `op` operands of an expression (`a AND b AND c` → [a, b, c]), outer parentheses
 * of the whole and of each operand removed and each operand split again; [sql] when there is no
 * such operator. Found with PostgreSQL's scanner (quotes, comments, `BETWEEN x AND y`, CASE and
 * brackets respected) and kept only when the operands parse and recombine into the same syntax
 * tree.
 */
export function operands(sql: string, op: 'AND' | 'OR'): string[] {
  const text = unwrap(sql.trim());
  const tokens = tokensOf(text);
  if (!tokens) return [text];
  const cuts: SqlTokenLike[] = [];
  let depth = 0;
  let between = 0;
  for (const t of tokens) {
    const word = t.text.toUpperCase();
    if (word === '(' || word === '[' || word === 'CASE') depth++;
    else if (word === ')' || word === ']' || word === 'END') depth--;
    else if (depth === 0 && word === 'BETWEEN') between++;
    else if (depth === 0 && word === 'AND' && between > 0) between--;
    else if (depth === 0 && word === op) cuts.push(t);
  }
  if (cuts.length === 0) return [text];
  const pieces: string[] = [];
  let from = 0;
  for (const c of cuts) {
    pieces.push(text.slice(from, c.start).trim());
    from = c.end;
  }
  pieces.push(text.slice(from).trim());
  const whole = expressionKey(text);
  if (whole === undefined || pieces.some((p) => expressionKey(p) === undefined)) return [text];
  if (expressionKey(pieces.map((p) => `(${p})`).join(` ${op} `)) !== whole) return [text];
  return pieces.flatMap((p) => operands(p, op));
}

type SqlTokenLike = { text: string; start: number; end: number };

/** The tokens of an expression, offsets relative to it (undefined when it cannot be scanned). */
function tokensOf(sql: string): SqlTokenLike[] | undefined {
  try {
    const prefix = 'SELECT ';
    return scanSql(prefix + sql)
      .slice(1)
      .map((t) => ({ text: t.text, start: t.start - prefix.length, end: t.end - prefix.length }));
  } catch {
    return undefined;
  }
}

/** `(a OR b)` → `a OR b` when the outer parentheses enclose everything; otherwise unchanged. */
function unwrap(sql: string): string {
  const tokens = tokensOf(sql);
  if (!tokens || tokens.length < 2 || tokens[0]!.text !== '(' || tokens[tokens.length - 1]!.text !== ')') return sql;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]!.text === '(') depth++;
    else if (tokens[i]!.text === ')') depth--;
    if (depth === 0 && i < tokens.length - 1) return sql;
  }
  return unwrap(sql.slice(tokens[0]!.end, tokens[tokens.length - 1]!.start).trim());
}

const predicates = new Map<string, Predicate>();

/** A policy expression as a predicate: its top-level AND operands as clauses, each split at OR. Memoised. */
export function expressionPredicate(sql: string | null): Predicate {
  if (sql === null) return TRUE;
  let p = predicates.get(sql);
  if (p === undefined) {
    p = normalise(operands(sql, 'AND').map((conjunct) => operands(conjunct, 'OR').map(term)));
    if (predicates.size > 10_000) predicates.clear();
    predicates.set(sql, p);
  }
  return p;
}

/** Clause products beyond this size are not expanded (the predicates stay opaque terms). */
const MAX_CLAUSES = 256;

/** Either predicate: (P1 ∨ P2) in conjunctive form, by distributing clauses. */
export function or(...predicates: Predicate[]): Predicate {
  const live = predicates.filter((p) => p.kind !== 'false') as { kind: 'cnf'; clauses: Term[][] }[];
  if (live.length === 0) return FALSE;
  if (live.some((p) => p.clauses.length === 0)) return TRUE;
  const size = live.reduce((n, p) => n * p.clauses.length, 1);
  if (size > MAX_CLAUSES) return normalise([live.map((p) => opaque(p))]);
  let clauses: Term[][] = [[]];
  for (const p of live) clauses = clauses.flatMap((acc) => p.clauses.map((c) => [...acc, ...c]));
  return normalise(clauses);
}

/** A whole predicate as one term (when distributing would be too large). */
function opaque(p: { clauses: Term[][] }): Term {
  const text = predicateText(p as Predicate);
  return { text, key: expressionKey(text) ?? text };
}

/**
 * PostgreSQL's combination of the policies that apply: `permissive` expressions OR'ed (none: no
 * row), each of `restrictive` AND'ed. A null expression admits every row.
 */
export function combine(permissive: readonly (string | null)[], restrictive: readonly (string | null)[]): Predicate {
  if (permissive.length === 0) return FALSE;
  return and(or(...permissive.map(expressionPredicate)), ...restrictive.map(expressionPredicate));
}

/** Both predicates. */
export function and(...predicates: Predicate[]): Predicate {
  if (predicates.some((p) => p.kind === 'false')) return FALSE;
  return normalise(predicates.flatMap((p) => (p as { clauses: Term[][] }).clauses));
}

/** True when every row admitted by `a` is admitted by `b` (a sufficient, syntactic test). */
export function implies(a: Predicate, b: Predicate): boolean {
  if (a.kind === 'false') return true;
  if (b.kind === 'false') return false;
  return b.clauses.every((cb) => a.clauses.some((ca) => ca.every((t) => cb.some((u) => u.key === t.key))));
}

/** True for the predicate admitting every row. */
export function isTrue(p: Predicate): boolean {
  return p.kind === 'cnf' && p.clauses.length === 0;
}

/** SQL text of a predicate: `a OR b`, clauses joined with AND, parenthesised where needed. */
export function predicateText(p: Predicate): string {
  if (p.kind === 'false') return 'false';
  if (p.clauses.length === 0) return 'true';
  const many = p.clauses.length > 1;
  return p.clauses
    .map((clause) => {
      const text = clause.map((t) => (clause.length > 1 && hasTopLevelJunction(t.text) ? `(${t.text})` : t.text)).join(' OR ');
      return many && (clause.length > 1 || hasTopLevelJunction(text)) ? `(${text})` : text;
    })
    .join(' AND ');
}

const junctions = new Map<string, boolean>();

/** True when `sql` has an AND or OR outside parentheses, quotes and BETWEEN. Memoised. */
function hasTopLevelJunction(sql: string): boolean {
  let j = junctions.get(sql);
  if (j === undefined) {
    j = operands(sql, 'AND').length > 1 || operands(sql, 'OR').length > 1;
    if (junctions.size > 10_000) junctions.clear();
    junctions.set(sql, j);
  }
  return j;
}

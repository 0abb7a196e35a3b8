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
 * PostgreSQL's combination of the policies that apply: `permissive` expressions OR'ed (none: no
 * row), each of `restrictive` AND'ed. A null expression admits every row.
 */
export function combine(permissive: readonly (string | null)[], restrictive: readonly (string | null)[]): Predicate {
  if (permissive.length === 0) return FALSE;
  return normalise([permissive.map(term), ...restrictive.map((r) => [term(r)])]);
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

/** True when `sql` has an AND or OR outside parentheses and quotes. */
function hasTopLevelJunction(sql: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && /\s/.test(ch) && /^\s(?:and|or)\s/i.test(sql.slice(i, i + 5))) return true;
  }
  return false;
}

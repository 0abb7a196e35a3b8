/**
 * Stage 5 — diff: compare one desired resource with its live counterpart, attribute by
 * attribute, under the handler's rules (resources/types.ts AttributeRule). Only declared
 * attributes are compared; maps marked `exact` also report live keys that are not declared.
 * SQL expressions are compared by syntax tree, falling back to the rendering recorded in state
 * after the last apply; types by canonical spelling; sets regardless of order. A changed SQL
 * value's live side is written as a person would, like the declared side.
 */
import type { AttributeChange } from '../model/plan.js';
import { canonicalJson, canonicallyEqual } from '../model/canonical.js';
import { constantMismatch, expressionsEqual } from '../sql/expression.js';
import { canonicalType } from '../sql/types.js';
import { readableExpression } from '../sql/readable.js';
import type { AttributeRule } from '../resources/types.js';

/** Input of {@link diffAttributes}. */
export interface DiffRequest {
  desired: Record<string, unknown>;
  live: Record<string, unknown>;
  rules: readonly AttributeRule[];
  /** Dot-joined path → declared text and the live rendering recorded after the last apply. */
  observed?: Record<string, { desired: string; live: string }>;
}

/** The attribute changes that turn `live` into `desired` (empty when they are equivalent). */
export function diffAttributes(req: DiffRequest): AttributeChange[] {
  const out: AttributeChange[] = [];
  walk([], req.desired, req.live, req, out, true);
  // Sorted by path so the plan does not depend on the order keys were declared in.
  return out.sort((a, b) => compareStrings(a.path.join('\u0000'), b.path.join('\u0000')));
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The rule that applies to a path (`columns.*.default` matches ["columns","email","default"]). */
export function ruleFor(rules: readonly AttributeRule[], path: readonly string[]): AttributeRule | undefined {
  for (const { parts, rule } of compiledRules(rules)) {
    if (parts.length !== path.length) continue;
    let match = true;
    for (let i = 0; i < parts.length && match; i++) match = parts[i] === '*' || parts[i] === path[i];
    if (match) return rule;
  }
  return undefined;
}

/** Rule paths split once per rule list (handlers' lists live as long as the process). */
const compiled = new WeakMap<readonly AttributeRule[], { parts: string[]; rule: AttributeRule }[]>();
function compiledRules(rules: readonly AttributeRule[]): { parts: string[]; rule: AttributeRule }[] {
  let out = compiled.get(rules);
  if (!out) {
    out = rules.map((rule) => ({ parts: rule.path.split('.'), rule }));
    compiled.set(rules, out);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function walk(
  path: string[],
  d: unknown,
  l: unknown,
  req: DiffRequest,
  out: AttributeChange[],
  root = false,
): void {
  if (d === undefined) return;
  const rule = root ? undefined : ruleFor(req.rules, path);
  if (rule?.compare) {
    if (!equalBy(rule.compare, d, l, req.observed?.[path.join('.')])) push(out, path, l, d, rule);
    return;
  }
  if (isObject(d) && isObject(l)) {
    for (const key of Object.keys(d)) {
      const sub = [...path, key];
      if (d[key] === undefined) continue;
      if (!(key in l) || l[key] === undefined) push(out, sub, undefined, d[key], ruleFor(req.rules, sub));
      else walk(sub, d[key], l[key], req, out);
    }
    if (rule?.exact) {
      for (const key of Object.keys(l)) {
        if (!(key in d) || d[key] === undefined) push(out, [...path, key], l[key], undefined, ruleFor(req.rules, [...path, key]));
      }
    }
    return;
  }
  if (!canonicallyEqual(d, l ?? null)) push(out, path, l, d, rule);
}

function push(out: AttributeChange[], path: string[], before: unknown, after: unknown, rule: AttributeRule | undefined): void {
  const change: AttributeChange = { path };
  // SQL is shown in one form on both sides: PostgreSQL's rendering of the live value
  // (`'dog'::text`, `((a = b))`) written as a person would (`'dog'`, `a = b`), as the declared
  // value is; each rewrite is proven to mean the same (sql/readable.ts).
  if (before !== undefined) change.before = rule?.compare === 'sql' && typeof before === 'string' ? readableExpression(before) : before;
  if (after !== undefined) change.after = after;
  if (rule?.replace) change.forcesReplacement = true;
  if (rule?.sensitive) change.sensitive = true;
  out.push(change);
}

function equalBy(kind: NonNullable<AttributeRule['compare']>, d: unknown, l: unknown, observed?: { desired: string; live: string }): boolean {
  switch (kind) {
    case 'sql': {
      if ((d === null || d === undefined) && (l === null || l === undefined)) return true;
      if (typeof d !== 'string' || typeof l !== 'string') return false;
      if (expressionsEqual(d, l)) return true;
      // A constant (a frozen `'now'` timestamp) never stands in for an expression (`now()`).
      return observed !== undefined && observed.desired === d && observed.live === l && !constantMismatch(d, l);
    }
    case 'type':
      return typeof d === 'string' && typeof l === 'string' && (canonicalType(d) ?? d) === (canonicalType(l) ?? l);
    case 'set': {
      const a = Array.isArray(d) ? d.map((x) => canonicalJson(x)).sort() : [];
      const b = Array.isArray(l) ? l.map((x) => canonicalJson(x)).sort() : [];
      return a.length === b.length && a.every((x, i) => x === b[i]);
    }
  }
}

/**
 * For attributes compared as SQL: the declared text and live rendering of every `sql`-rule path
 * where the two differ as text, after a successful apply. The engine stores them in state.
 */
export function observedRenderings(
  desired: Record<string, unknown>,
  live: Record<string, unknown>,
  rules: readonly AttributeRule[],
): Record<string, { desired: string; live: string }> {
  const out: Record<string, { desired: string; live: string }> = {};
  const visit = (path: string[], d: unknown, l: unknown) => {
    const rule = path.length > 0 ? ruleFor(rules, path) : undefined;
    if (rule?.compare === 'sql') {
      if (typeof d === 'string' && typeof l === 'string' && d !== l) out[path.join('.')] = { desired: d, live: l };
      return;
    }
    if (isObject(d) && isObject(l)) for (const k of Object.keys(d)) visit([...path, k], d[k], l[k]);
  };
  visit([], desired, live);
  return out;
}

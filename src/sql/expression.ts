/**
 * SQL expressions compared the way PostgreSQL means them rather than as text. PostgreSQL stores a
 * policy expression or a default deparsed: `auth.uid() = user_id` comes back as
 * `(auth.uid() = user_id)`, `'x'` as `'x'::text`, `-1` as `'-1'::integer`, `a IN (1,2)` as
 * `(a = ANY (ARRAY[1, 2]))` (shared/fluxbase-api §5.3, §6). Both sides are parsed with
 * PostgreSQL's own grammar (libpg-query) and their syntax trees compared after removing what
 * deparsing adds: source locations, redundant parentheses (not in the tree), casts of literals,
 * IN-lists. Anything this cannot prove equal is reported as a change; the engine then falls back
 * to the rendering it recorded in state after the last apply (engine/diff.ts).
 */
import { memoised, parseSql, scanSql } from './parser.js';

const STRING_TYPES = new Set(['text', 'varchar', 'bpchar', 'name', 'citext', 'character varying']);
const NUMERIC_TYPES = new Set(['int2', 'int4', 'int8', 'integer', 'bigint', 'smallint', 'numeric', 'float4', 'float8', 'real']);

/** Parse-tree keys that only record source positions (location, list_start, rexpr_list_end, …). */
const POSITION_KEYS = /(?:^|_)location$|(?:^|_)(?:start|end)$|^stmt_len$/;

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * A canonical JSON string of the expression's normalised syntax tree, or undefined when the text
 * is not a single valid expression. Equal keys mean equal expressions.
 */
export function expressionKey(sql: string): string | undefined {
  return cachedKey(sql);
}

const cachedKey = memoised((sql: string): string | undefined => {
  const tree = parseExpression(sql);
  return tree === undefined ? undefined : JSON.stringify(normalise(tree));
});

/**
 * The syntax tree (libpg-query JSON) of `sql` when it is exactly one SQL expression, else
 * undefined. Every analysis of an expression starts here, so one parse serves them all.
 */
export function parseExpression(sql: string): Json | undefined {
  let tree: { stmts: { stmt: Record<string, unknown> }[] };
  try {
    tree = parseSql(`SELECT ${sql}`);
  } catch {
    return undefined;
  }
  const select = tree.stmts.length === 1 ? (tree.stmts[0]!.stmt.SelectStmt as Record<string, unknown> | undefined) : undefined;
  const targets = select?.targetList as { ResTarget: { val: Json; name?: string } }[] | undefined;
  if (!select || !targets || targets.length !== 1 || Object.keys(select).some((k) => !['targetList', 'limitOption', 'op'].includes(k))) {
    return undefined;
  }
  return targets[0]!.ResTarget.val;
}

/** What an expression refers to, from its syntax tree (see {@link expressionFacts}). */
export interface ExpressionFacts {
  /**
   * Column references outside subqueries, as written (`["status"]`, `["posts", "author_id"]`);
   * inside a subquery a name may belong to the subquery's own tables, so those are left out.
   */
  columns: string[][];
  /** Lower-case names of the functions it calls (`now`, `auth.uid`), subqueries included. */
  functions: string[];
  /** True when it contains a subquery (EXISTS, IN (SELECT …), a scalar subquery). */
  subquery: boolean;
  /** True when it is a literal, possibly cast (`'x'`, `'2024-01-01'::date`, `-1`): no call, no column. */
  constant: boolean;
}

/** Columns, functions and shape of one expression; undefined when it is not one expression. */
export function expressionFacts(sql: string): ExpressionFacts | undefined {
  return cachedFacts(sql);
}

/** Facts per distinct text (a configuration repeats the same expressions across many policies); callers must not change them. */
const cachedFacts = memoised((sql: string): ExpressionFacts | undefined => {
  const tree = parseExpression(sql);
  if (tree === undefined) return undefined;
  const facts: ExpressionFacts = { columns: [], functions: [], subquery: false, constant: isConstant(tree) };
  const visit = (node: Json, inSubquery: boolean): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n, inSubquery);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (node.ColumnRef && !inSubquery) {
      const fields = (node.ColumnRef as { fields?: { String?: { sval: string } }[] }).fields ?? [];
      facts.columns.push(fields.map((f) => f.String?.sval ?? '*'));
    }
    if (node.FuncCall) {
      const names = (node.FuncCall as { funcname?: { String?: { sval: string } }[] }).funcname ?? [];
      facts.functions.push(names.map((n) => n.String?.sval ?? '').join('.').toLowerCase());
    }
    if (node.SubLink) {
      facts.subquery = true;
      const link = node.SubLink as { testexpr?: Json; subselect?: Json };
      if (link.testexpr !== undefined) visit(link.testexpr, inSubquery);
      if (link.subselect !== undefined) visit(link.subselect, true);
      return;
    }
    for (const value of Object.values(node)) visit(value, inSubquery);
  };
  visit(tree, false);
  return facts;
});

/** A literal, a signed literal or a cast of one. */
function isConstant(node: Json): boolean {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return false;
  if (node.A_Const) return true;
  if (node.TypeCast) return isConstant((node.TypeCast as { arg: Json }).arg);
  if (node.A_Expr) {
    const e = node.A_Expr as { kind?: string; lexpr?: Json; rexpr: Json; name?: { String: { sval: string } }[] };
    return e.kind === 'AEXPR_OP' && e.lexpr === undefined && ['-', '+'].includes(e.name?.[0]?.String.sval ?? '') && isConstant(e.rexpr);
  }
  return false;
}

/** True when both texts are the same expression (see module doc); false when unsure. */
export function expressionsEqual(a: string, b: string): boolean {
  if (a === b) return true;
  const ka = expressionKey(a);
  return ka !== undefined && ka === expressionKey(b);
}

/**
 * True when exactly one of the two is a constant (a literal, possibly cast): such a pair is never
 * the same expression, whatever was recorded after an earlier apply. A timestamp PostgreSQL froze
 * when it evaluated `'now'` never stands in for `now()`.
 */
export function constantMismatch(a: string, b: string): boolean {
  const fa = expressionFacts(a);
  const fb = expressionFacts(b);
  return fa !== undefined && fb !== undefined && fa.constant !== fb.constant;
}

function typeNameOf(node: Json): string | undefined {
  const names = (node as { names?: { String: { sval: string } }[] }).names;
  return names?.[names.length - 1]?.String.sval;
}

function normalise(node: Json): Json {
  if (Array.isArray(node)) return node.map(normalise);
  if (node === null || typeof node !== 'object') return node;
  const obj = node as { [k: string]: Json };
  // Literal with a cast: 'x'::text → 'x'; '-1'::integer → -1; '{}'::jsonb → '{}'.
  if (obj.TypeCast) {
    const cast = obj.TypeCast as { arg: Json; typeName: Json };
    const arg = cast.arg as { A_Const?: { sval?: { sval: string } } } | { TypeCast?: unknown };
    const type = typeNameOf(cast.typeName);
    if ((arg as { A_Const?: unknown }).A_Const) {
      const sval = (arg as { A_Const: { sval?: { sval: string } } }).A_Const.sval?.sval;
      if (sval !== undefined && type && NUMERIC_TYPES.has(type) && sval.trim() !== '' && Number.isFinite(Number(sval))) {
        return numberConst(sval);
      }
      return normalise(cast.arg);
    }
    // (col)::text added around a varchar column compared with text.
    if (type && STRING_TYPES.has(type) && (arg as { ColumnRef?: unknown }).ColumnRef) return normalise(cast.arg);
  }
  if (obj.A_Const) {
    const c = obj.A_Const as { ival?: { ival?: number }; fval?: { fval: string } };
    if (c.ival) return numberConst(String(c.ival.ival ?? 0));
    if (c.fval) return numberConst(c.fval.fval);
  }
  // x IN (a, b) → x = ANY (ARRAY[a, b]); x NOT IN (…) → x <> ALL (ARRAY[…]).
  if (obj.A_Expr && (obj.A_Expr as { kind?: string }).kind === 'AEXPR_IN') {
    const e = obj.A_Expr as { name: { String: { sval: string } }[]; lexpr: Json; rexpr: { List?: { items: Json[] } } | Json[] };
    const items = Array.isArray(e.rexpr) ? e.rexpr : (e.rexpr as { List?: { items: Json[] } }).List?.items ?? [];
    const op = e.name[0]?.String.sval ?? '=';
    return normalise({
      A_Expr: {
        kind: op === '=' ? 'AEXPR_OP_ANY' : 'AEXPR_OP_ALL',
        name: e.name as unknown as Json,
        lexpr: e.lexpr,
        rexpr: { A_ArrayExpr: { elements: items } },
      },
    });
  }
  // x BETWEEN a AND b → (x >= a) AND (x <= b); NOT BETWEEN → (x < a) OR (x > b).
  if (obj.A_Expr && ['AEXPR_BETWEEN', 'AEXPR_NOT_BETWEEN'].includes((obj.A_Expr as { kind?: string }).kind ?? '')) {
    const e = obj.A_Expr as { kind: string; lexpr: Json; rexpr: { List?: { items: Json[] } } | Json[] };
    const [lo, hi] = Array.isArray(e.rexpr) ? e.rexpr : ((e.rexpr as { List?: { items: Json[] } }).List?.items ?? []);
    const not = e.kind === 'AEXPR_NOT_BETWEEN';
    const op = (name: string, rexpr: Json | undefined): Json => ({
      A_Expr: { kind: 'AEXPR_OP', name: [{ String: { sval: name } }], lexpr: e.lexpr, rexpr: rexpr ?? null },
    });
    return normalise({
      BoolExpr: { boolop: not ? 'OR_EXPR' : 'AND_EXPR', args: not ? [op('<', lo), op('>', hi)] : [op('>=', lo), op('<=', hi)] },
    });
  }
  const out: { [k: string]: Json } = {};
  for (const key of Object.keys(obj).sort()) {
    if (POSITION_KEYS.test(key)) continue;
    out[key] = normalise(obj[key]!);
  }
  return out;
}

function numberConst(text: string): Json {
  return { Number: String(Number(text)) };
}

/**
 * `sql` with every reference to column `from` renamed to `to` (`(old = 1)` → `(new = 1)`), as
 * PostgreSQL itself updates stored expressions when a column is renamed. Works on PostgreSQL's
 * tokens: string literals, quoted text, function names (a name followed by `(`) and type names
 * (after `::`) are never touched. Returns `sql` unchanged when it cannot be scanned.
 */
export function renameColumnReferences(sql: string, from: string, to: string): string {
  let tokens;
  try {
    tokens = scanSql(sql);
  } catch {
    return sql;
  }
  let out = '';
  let at = 0;
  tokens.forEach((t, i) => {
    const name = t.text.startsWith('"') ? t.text.slice(1, -1).replace(/""/g, '"') : t.text.toLowerCase();
    const identifier = t.tokenName === 'IDENT' || (t.keywordKind > 0 && t.keywordKind < 4);
    if (!identifier || name !== from || tokens[i + 1]?.text === '(' || tokens[i - 1]?.tokenName === 'TYPECAST') return;
    out += sql.slice(at, t.start) + (/^[a-z_][a-z0-9_]*$/.test(to) ? to : `"${to.replace(/"/g, '""')}"`);
    at = t.end;
  });
  return out + sql.slice(at);
}

/** PostgreSQL's system columns, which every table has. */
export const SYSTEM_COLUMNS: ReadonlySet<string> = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid']);

/**
 * The column names among an expression's references (ExpressionFacts.columns) that are not in
 * `columns` (nor system columns); a reference qualified by another relation's name than `table`
 * is left to PostgreSQL.
 */
export function unknownColumns(refs: readonly string[][], columns: ReadonlySet<string>, table: string): string[] {
  const out: string[] = [];
  for (const ref of refs) {
    const column = ref[ref.length - 1]!;
    const qualifier = ref.slice(0, -1);
    if (column === '*' || SYSTEM_COLUMNS.has(column) || columns.has(column)) continue;
    if (qualifier.length > 0 && qualifier[qualifier.length - 1] !== table) continue;
    if (!out.includes(column)) out.push(column);
  }
  return out;
}

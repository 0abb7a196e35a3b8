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
import { memoised, parseSql } from './parser.js';

const STRING_TYPES = new Set(['text', 'varchar', 'bpchar', 'name', 'citext', 'character varying']);
const NUMERIC_TYPES = new Set(['int2', 'int4', 'int8', 'integer', 'bigint', 'smallint', 'numeric', 'float4', 'float8', 'real']);

/** Parse-tree keys that only record source positions (location, list_start, rexpr_list_end, …). */
const POSITION_KEYS = /(?:^|_)location$|(?:^|_)(?:start|end)$|^stmt_len$/;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * A canonical JSON string of the expression's normalised syntax tree, or undefined when the text
 * is not a single valid expression. Equal keys mean equal expressions.
 */
export function expressionKey(sql: string): string | undefined {
  return cachedKey(sql);
}

const cachedKey = memoised((sql: string): string | undefined => {
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
  return JSON.stringify(normalise(targets[0]!.ResTarget.val));
});

/** True when both texts are the same expression (see module doc); false when unsure. */
export function expressionsEqual(a: string, b: string): boolean {
  if (a === b) return true;
  const ka = expressionKey(a);
  return ka !== undefined && ka === expressionKey(b);
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

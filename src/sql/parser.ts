/**
 * The PostgreSQL parser (libpg-query: PostgreSQL's own grammar compiled to WebAssembly), loaded
 * once. Used to check SQL the user writes (types, policy and check expressions) before any API
 * call, and to compare expressions by syntax tree rather than by text (sql/expression.ts).
 */
import { loadModule, parseSync, scanSync } from 'libpg-query';

let loaded: Promise<void> | undefined;
let ready = false;

/** Loads the WebAssembly parser (about 30 ms, once per process). Call before the sync helpers. */
export function loadSqlParser(): Promise<void> {
  loaded ??= loadModule().then(() => {
    ready = true;
  });
  return loaded;
}

/** The raw parse tree of one SQL text (libpg-query JSON). Throws Error with PG's message on syntax errors. */
export function parseSql(sql: string): { stmts: { stmt: Record<string, unknown> }[] } {
  return parseSync(sql) as { stmts: { stmt: Record<string, unknown> }[] };
}

/** One lexical token of SQL text (libpg-query's scanner: PostgreSQL's own lexer). */
export interface SqlToken {
  start: number;
  end: number;
  text: string;
  /** `IDENT`, `SCONST`, `TYPECAST`, … (`UNKNOWN` for keywords and single characters). */
  tokenName: string;
  /** 0 for non-keywords, 1 unreserved, 2 column name, 3 type/function name, 4 reserved. */
  keywordKind: number;
}

/** The tokens of `sql` as PostgreSQL's lexer reads them. Throws on text it cannot scan. */
export function scanSql(sql: string): SqlToken[] {
  return scanSync(sql).tokens;
}

/**
 * Returns PostgreSQL's syntax error message for `sql`, or undefined when it parses.
 * Requires {@link loadSqlParser} to have resolved.
 */
export function syntaxError(sql: string): string | undefined {
  try {
    parseSql(sql);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Memoises a pure function of SQL text: parsing is the costly part of checking and comparing SQL,
 * and a configuration repeats the same expressions and types across many tables (ten thousand
 * columns typically hold a dozen distinct types). Results are kept per process, up to `limit`
 * distinct texts (then the cache starts over).
 */
export function memoised<T>(fn: (sql: string) => T, limit = 20_000): (sql: string) => T {
  const cache = new Map<string, T>();
  return (sql) => {
    // Before the parser is loaded every parse fails: nothing is remembered from then.
    if (!ready) return fn(sql);
    const hit = cache.get(sql);
    if (hit !== undefined || cache.has(sql)) return hit as T;
    const value = fn(sql);
    if (cache.size >= limit) cache.clear();
    cache.set(sql, value);
    return value;
  };
}

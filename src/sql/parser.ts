/**
 * The PostgreSQL parser (libpg-query: PostgreSQL's own grammar compiled to WebAssembly), loaded
 * once. Used to check SQL the user writes (types, policy and check expressions) before any API
 * call, and to compare expressions by syntax tree rather than by text (sql/expression.ts).
 */
import { loadModule, parseSync, scanSync } from 'libpg-query';

let loaded: Promise<void> | undefined;

/** Loads the WebAssembly parser (about 30 ms, once per process). Call before the sync helpers. */
export function loadSqlParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

/** The raw parse tree of one SQL text (libpg-query JSON). Throws Error with PG's message on syntax errors. */
export function parseSql(sql: string): { stmts: { stmt: Record<string, unknown> }[] } {
  return parseSync(sql) as { stmts: { stmt: Record<string, unknown> }[] };
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

/** One token of PostgreSQL's scanner: its text and its [start, end) offsets in the input. */
export interface SqlToken {
  text: string;
  start: number;
  end: number;
}

/** The tokens of `sql` as PostgreSQL's own scanner reads them. Requires {@link loadSqlParser}. */
export function scanSql(sql: string): SqlToken[] {
  return (scanSync(sql) as { tokens: SqlToken[] }).tokens;
}

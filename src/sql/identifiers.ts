/**
 * Identifier rules of the real server's DDL endpoints (shared/fluxbase-api §5.1) and quoting.
 */

/** Words the server's `validateIdentifier` rejects as schema, table or column names (case-insensitive). */
export const RESERVED_IDENTIFIERS: ReadonlySet<string> = new Set([
  'user', 'table', 'column', 'index', 'select', 'insert', 'update', 'delete',
  'from', 'where', 'group', 'order', 'limit', 'offset', 'join', 'on',
]);

/**
 * Fluxbase's own schemas: never listed as user schemas, never managed, never pruned
 * (shared/fluxbase-api §5.2 "Schema listing" and §9).
 */
export const INTERNAL_SCHEMAS: ReadonlySet<string> = new Set([
  'ai', 'api', 'app', 'auth', 'branching', 'functions', 'jobs', 'logging', 'mcp', 'migrations',
  'platform', 'realtime', 'rpc', 'storage', 'system', 'extensions', 'pgsodium', 'vault',
  'information_schema', 'pg_catalog', 'pg_toast',
]);

/** Schemas that always exist in a tenant database and are adopted, never created or dropped. */
export const BUILTIN_SCHEMAS: ReadonlySet<string> = new Set(['public']);

/** Double-quotes an identifier the way the server's generated SQL does (`"a""b"`). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."name"` */
export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** Quotes a SQL string literal (`'it''s'`). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

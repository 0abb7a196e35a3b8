/**
 * What the real server does to its internal schemas at every start (F1), reproduced when an
 * emulator restarts on persisted databases (a PGlite `dataDir`):
 *
 * - tenant databases: FDW setup lists the local tables of each internal schema and drops them
 *   with CASCADE before importing the main database's tables as foreign tables
 *   (internal/api/server_init.go:325-339, internal/tenantdb/manager.go:693-764,
 *   internal/tenantdb/fdw.go:305-380);
 * - the main database: the internal schema files are re-applied declaratively, which drops every
 *   table that is not one of Fluxbase's own and re-creates the policies of its own tables from
 *   the files (cmd/fluxbase/main.go:201-266, internal/migrations/declarative.go).
 *
 * The emulator keeps its own tables (they stand for Fluxbase's, foreign or local), drops every
 * other table in the internal schemas with CASCADE, and drops the policies on its own tables
 * (its schema files define none). User tables in `public` and in schemas of their own are
 * untouched, as on the server.
 */
import { CONTROL_PLANE_SQL, DATABASE_BOOTSTRAP_SQL, INTERNAL_SCHEMAS } from './bootstrap.js';
import { quoteIdent, quoteLiteral, type Sql } from './types.js';

/** `schema.table` of every table the emulator's own SQL creates. */
const OWN_TABLES: ReadonlySet<string> = new Set(
  [...`${DATABASE_BOOTSTRAP_SQL}\n${CONTROL_PLANE_SQL}`.matchAll(/CREATE TABLE IF NOT EXISTS ([a-z_]+)\.([a-z_]+)/g)].map((m) => `${m[1]}.${m[2]}`),
);

/** Rebuilds one database's internal schemas; returns what it dropped (`table s.t`, `policy p on s.t`). */
export async function rebuildInternalSchemas(db: Sql): Promise<string[]> {
  const schemas = INTERNAL_SCHEMAS.map(quoteLiteral).join(', ');
  const tables = await db.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname IN (${schemas}) ORDER BY 1, 2`,
  );
  const dropped: string[] = [];
  for (const t of tables.rows) {
    if (OWN_TABLES.has(`${t.schema}.${t.name}`)) continue;
    await db.exec(`DROP TABLE IF EXISTS ${quoteIdent(t.schema)}.${quoteIdent(t.name)} CASCADE`);
    dropped.push(`table ${t.schema}.${t.name}`);
  }
  const policies = await db.query<{ schema: string; table: string; name: string }>(
    `SELECT schemaname AS schema, tablename AS table, policyname AS name FROM pg_policies WHERE schemaname IN (${schemas}) ORDER BY 1, 2, 3`,
  );
  for (const p of policies.rows) {
    await db.exec(`DROP POLICY IF EXISTS ${quoteIdent(p.name)} ON ${quoteIdent(p.schema)}.${quoteIdent(p.table)}`);
    dropped.push(`policy ${p.name} on ${p.schema}.${p.table}`);
  }
  return dropped;
}

/**
 * Legacy read routes of the schema-admin group (`internal/api/server.go` handlers; auth doc
 * §5.2–5.3):
 *
 * - GET /tables[?schema=] → bare array of TableInfo (tables, views, materialized views), `null`
 *   when empty; a schema whose introspection fails is skipped silently (mixed-case quirk).
 * - GET /tables/:schema/:table → TableInfo with `type:""`, `rls_enabled:false`; a relation that
 *   does not exist gives 200 with null metadata; an introspection error gives
 *   `404 {"error":"Table not found: s.t"}` (plain body).
 * - GET /schemas → bare array of schema names.
 * - POST /query → stub `{"message":"Execute query endpoint - to be implemented"}`.
 * - POST /schema/refresh → `{"message":"Schema cache refreshed successfully","tables":N,"views":M}`.
 */
import type { Ctx } from '../http/context.js';
import type { TableInfo } from '../ddl/inspector.js';
import { sendCode } from '../http/errors.js';
import { getAllMaterializedViews, getAllTables, getAllViews, getTableInfo } from '../ddl/inspector.js';
import { schemasToList, visibleSchemas } from './ddl.js';

function db(ctx: Ctx) {
  if (!ctx.tenant) throw new Error('tenant middleware did not run');
  return ctx.tenant.db;
}

async function allRelations(ctx: Ctx, schemas: string[]): Promise<TableInfo[]> {
  const out: TableInfo[] = [];
  for (const s of schemas) {
    for (const fetch of [getAllTables, getAllViews, getAllMaterializedViews]) {
      try {
        out.push(...(await fetch(db(ctx), s)));
      } catch {
        /* skipped silently, as in the server */
      }
    }
  }
  return out;
}

export async function getTables(ctx: Ctx): Promise<void> {
  const schemas = await schemasToList(ctx);
  if (!schemas) return;
  const items = await allRelations(ctx, schemas);
  ctx.json(200, items.length ? items : null);
}

export async function getTableSchema(ctx: Ctx): Promise<void> {
  const schema = ctx.params.schema ?? '';
  const table = ctx.params.table ?? '';
  try {
    ctx.json(200, await getTableInfo(db(ctx), schema, table));
  } catch {
    ctx.json(404, { error: `Table not found: ${schema}.${table}` });
  }
}

export async function getSchemasLegacy(ctx: Ctx): Promise<void> {
  let schemas: string[];
  try {
    schemas = await visibleSchemas(ctx);
  } catch {
    sendCode(ctx, 500, 'Failed to list schemas', 'OPERATION_FAILED');
    return;
  }
  ctx.json(200, schemas.length ? schemas : null);
}

export function executeQueryStub(ctx: Ctx): void {
  ctx.json(200, { message: 'Execute query endpoint - to be implemented' });
}

/** POST /schema/refresh: counts the tables and views the REST cache would hold. */
export async function refreshSchema(ctx: Ctx): Promise<void> {
  try {
    const r = await db(ctx).query<{ tables: number; views: number }>(
      `SELECT count(*) FILTER (WHERE c.relkind IN ('r', 'p'))::int AS tables, count(*) FILTER (WHERE c.relkind IN ('v', 'm'))::int AS views
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_%'`,
    );
    ctx.json(200, { message: 'Schema cache refreshed successfully', tables: r.rows[0]?.tables ?? 0, views: r.rows[0]?.views ?? 0 });
  } catch (e) {
    ctx.json(500, { details: (e as Error).message, error: 'Failed to refresh schema cache' });
  }
}

/**
 * Realtime table enablement (`internal/api/realtime_admin_handler.go`; auth doc §8). Tenant
 * aware: the trigger and the `realtime.schema_registry` row live in the request's database; the
 * registry rows carry the tenant id (the raw X-FB-Tenant value or the default tenant), and a slug
 * header makes the `::uuid` casts fail → 500.
 *
 * - POST   /realtime/tables → 201 `{schema, table, events, trigger_name, exclude?}` (idempotent)
 * - GET    /realtime/tables[?enabled=false] → `{"tables":[…],"count":N}`
 * - GET    /realtime/tables/:schema/:table → one status (unregistered: id 0, empty times)
 * - PATCH  /realtime/tables/:schema/:table → registry only; 404 when not enabled
 * - DELETE /realtime/tables/:schema/:table → drops the trigger, keeps the row (disabled)
 * Times are rendered like Go's `time.String()` (`2026-03-07 10:00:00.123 +0000 UTC`).
 */
import type { Ctx } from '../http/context.js';
import type { Database } from '../db/types.js';
import { parseBody, sendCode, sendSuccess } from '../http/errors.js';
import { goTimeString } from '../http/json.js';
import { identifierProblem, quoteIdentifier } from '../ddl/validation.js';
import { tableExists } from './ddl.js';

const EVENTS = new Set(['INSERT', 'UPDATE', 'DELETE']);
const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'auth', 'realtime']);

function db(ctx: Ctx): Database {
  if (!ctx.tenant) throw new Error('tenant middleware did not run');
  return ctx.tenant.db;
}

interface RegistryRow {
  id: number;
  schema_name: string;
  table_name: string;
  realtime_enabled: boolean;
  events: string[] | string | null;
  excluded_columns: string[] | string | null;
  created_at: string | null;
  updated_at: string | null;
}

function arr(v: string[] | string | null): string[] {
  if (v === null) return [];
  if (Array.isArray(v)) return v;
  const inner = v.replace(/^\{|\}$/g, '');
  return inner === '' ? [] : inner.split(',').map((s) => s.replace(/^"|"$/g, ''));
}

function statusJson(r: RegistryRow): Record<string, unknown> {
  const excluded = arr(r.excluded_columns);
  return {
    id: Number(r.id),
    schema: r.schema_name,
    table: r.table_name,
    realtime_enabled: r.realtime_enabled,
    events: arr(r.events),
    excluded_columns: excluded.length ? excluded : undefined,
    created_at: r.created_at ? goTimeString(r.created_at) : '',
    updated_at: r.updated_at ? goTimeString(r.updated_at) : '',
  };
}

const REGISTRY_COLUMNS =
  "id, schema_name, table_name, realtime_enabled, events::text[] AS events, coalesce(excluded_columns, '{}')::text[] AS excluded_columns, created_at, updated_at";

function validPath(ctx: Ctx): { schema: string; table: string } | undefined {
  const schema = ctx.params.schema ?? '';
  const table = ctx.params.table ?? '';
  for (const [name, entity] of [[schema, 'schema'], [table, 'table']] as const) {
    const p = identifierProblem(name, entity);
    if (p) {
      sendCode(ctx, 400, p, 'VALIDATION_FAILED');
      return undefined;
    }
  }
  return { schema, table };
}

export async function enableRealtime(ctx: Ctx): Promise<void> {
  const req = parseBody<{ schema: string; table: string; events: string[] | null; exclude: string[] | null }>(ctx, {
    schema: 'string',
    table: 'string',
    events: '[]string',
    exclude: '[]string',
  });
  if (!req) return;
  const schema = req.schema === '' ? 'public' : req.schema;
  const sp = identifierProblem(schema, 'schema');
  if (sp) return sendCode(ctx, 400, sp, 'VALIDATION_FAILED');
  if (req.table === '') return sendCode(ctx, 400, 'Table name is required', 'MISSING_REQUIRED_FIELD');
  const tp = identifierProblem(req.table, 'table');
  if (tp) return sendCode(ctx, 400, tp, 'VALIDATION_FAILED');
  let events = req.events ?? [];
  if (events.length === 0) events = ['INSERT', 'UPDATE', 'DELETE'];
  else {
    const bad = events.find((e) => !EVENTS.has(e));
    if (bad !== undefined) return sendCode(ctx, 400, `Invalid event type: ${bad}. Must be INSERT, UPDATE, or DELETE`, 'INVALID_INPUT');
  }
  for (const col of req.exclude ?? []) {
    const cp = identifierProblem(col, 'column');
    if (cp) return sendCode(ctx, 400, `Invalid excluded column: ${cp}`, 'VALIDATION_FAILED');
  }
  if (SYSTEM_SCHEMAS.has(schema)) return sendCode(ctx, 400, `Cannot enable realtime on system schema '${schema}'`, 'INVALID_INPUT');
  if (!(await tableExists(ctx, schema, req.table))) return sendCode(ctx, 404, `Table '${schema}.${req.table}' does not exist`, 'NOT_FOUND');
  const trigger = `${req.table}_realtime_notify`;
  const target = `${quoteIdentifier(schema)}.${quoteIdentifier(req.table)}`;
  try {
    await db(ctx).transaction(async (tx) => {
      await tx.query(`ALTER TABLE ${target} REPLICA IDENTITY FULL`);
      await tx.query(`DROP TRIGGER IF EXISTS ${quoteIdentifier(trigger)} ON ${target}`);
      await tx.query(`CREATE TRIGGER ${quoteIdentifier(trigger)}\n\tAFTER INSERT OR UPDATE OR DELETE ON ${target}\n\tFOR EACH ROW EXECUTE FUNCTION public.notify_realtime_change()`);
      await tx.query(
        `INSERT INTO realtime.schema_registry (schema_name, table_name, realtime_enabled, events, excluded_columns, tenant_id)
         VALUES ($1, $2, true, $3::text[], $4::text[], $5::uuid)
         ON CONFLICT (schema_name, table_name) DO UPDATE
           SET realtime_enabled = true, events = EXCLUDED.events, excluded_columns = EXCLUDED.excluded_columns, updated_at = now()`,
        [schema, req.table, events, req.exclude, ctx.tenant?.id ?? ''],
      );
    });
  } catch {
    return sendCode(ctx, 500, 'Failed to enable realtime', 'INTERNAL_ERROR');
  }
  ctx.json(201, { schema, table: req.table, events, trigger_name: trigger, exclude: req.exclude && req.exclude.length ? req.exclude : undefined });
}

export async function disableRealtime(ctx: Ctx): Promise<void> {
  const path = validPath(ctx);
  if (!path) return;
  if (!(await tableExists(ctx, path.schema, path.table))) return sendCode(ctx, 404, `Table '${path.schema}.${path.table}' does not exist`, 'NOT_FOUND');
  try {
    await db(ctx).transaction(async (tx) => {
      await tx.query(`DROP TRIGGER IF EXISTS ${quoteIdentifier(`${path.table}_realtime_notify`)} ON ${quoteIdentifier(path.schema)}.${quoteIdentifier(path.table)}`);
      await tx.query(
        'UPDATE realtime.schema_registry SET realtime_enabled = false, updated_at = now() WHERE schema_name = $1 AND table_name = $2 AND tenant_id = $3::uuid',
        [path.schema, path.table, ctx.tenant?.id ?? ''],
      );
    });
  } catch {
    return sendCode(ctx, 500, 'Failed to disable realtime', 'INTERNAL_ERROR');
  }
  sendSuccess(ctx, `Realtime disabled on table '${path.schema}.${path.table}'`);
}

export async function listRealtimeTables(ctx: Ctx): Promise<void> {
  const enabledOnly = ctx.q('enabled', 'true') === 'true';
  try {
    const r = await db(ctx).query<RegistryRow>(
      `SELECT ${REGISTRY_COLUMNS} FROM realtime.schema_registry WHERE tenant_id = $1::uuid ${enabledOnly ? 'AND realtime_enabled = true' : ''} ORDER BY schema_name, table_name`,
      [ctx.tenant?.id ?? ''],
    );
    const tables = r.rows.map(statusJson);
    ctx.json(200, { count: tables.length, tables });
  } catch {
    sendCode(ctx, 500, 'Failed to list realtime tables', 'INTERNAL_ERROR');
  }
}

export async function getRealtimeStatus(ctx: Ctx): Promise<void> {
  const path = validPath(ctx);
  if (!path) return;
  let row: RegistryRow | undefined;
  try {
    const r = await db(ctx).query<RegistryRow>(
      `SELECT ${REGISTRY_COLUMNS} FROM realtime.schema_registry WHERE schema_name = $1 AND table_name = $2 AND tenant_id = $3::uuid`,
      [path.schema, path.table, ctx.tenant?.id ?? ''],
    );
    row = r.rows[0];
  } catch {
    return sendCode(ctx, 500, 'Failed to get realtime status', 'INTERNAL_ERROR');
  }
  if (!row) {
    if (!(await tableExists(ctx, path.schema, path.table))) return sendCode(ctx, 404, `Table '${path.schema}.${path.table}' does not exist`, 'NOT_FOUND');
    ctx.json(200, { id: 0, schema: path.schema, table: path.table, realtime_enabled: false, events: [], created_at: '', updated_at: '' });
    return;
  }
  ctx.json(200, statusJson(row));
}

export async function updateRealtimeConfig(ctx: Ctx): Promise<void> {
  const path = validPath(ctx);
  if (!path) return;
  const req = parseBody<{ events: string[] | null; exclude: string[] | null }>(ctx, { events: '[]string', exclude: '[]string' });
  if (!req) return;
  const events = req.events ?? [];
  if (events.length === 0 && req.exclude === null) return sendCode(ctx, 400, 'No updates provided', 'INVALID_INPUT');
  const bad = events.find((e) => !EVENTS.has(e));
  if (bad !== undefined) return sendCode(ctx, 400, `Invalid event type: ${bad}`, 'INVALID_INPUT');
  for (const col of req.exclude ?? []) {
    const cp = identifierProblem(col, 'column');
    if (cp) return sendCode(ctx, 400, `Invalid excluded column: ${cp}`, 'VALIDATION_FAILED');
  }
  const sets: string[] = [];
  const args: unknown[] = [path.schema, path.table, ctx.tenant?.id ?? ''];
  if (events.length > 0) {
    args.push(events);
    sets.push(`events = $${args.length}::text[]`);
  }
  if (req.exclude !== null) {
    args.push(req.exclude);
    sets.push(`excluded_columns = $${args.length}::text[]`);
  }
  let updated = false;
  try {
    const r = await db(ctx).query(
      `UPDATE realtime.schema_registry SET ${sets.join(', ')}, updated_at = now()
        WHERE schema_name = $1 AND table_name = $2 AND tenant_id = $3::uuid AND realtime_enabled = true RETURNING id`,
      args,
    );
    updated = r.rows.length > 0;
  } catch {
    return sendCode(ctx, 500, 'Failed to update realtime configuration', 'INTERNAL_ERROR');
  }
  if (!updated) return sendCode(ctx, 404, `Realtime not enabled on table '${path.schema}.${path.table}'`, 'NOT_FOUND');
  sendSuccess(ctx, `Realtime configuration updated for '${path.schema}.${path.table}'`);
}

/**
 * The migrations registry (`platform.migrations`, `platform.migration_execution_logs`) in the
 * main database, and its JSON (`internal/migrations/storage.go` Migration / ExecutionLog):
 * nullable fields are `null`, never omitted; timestamps are Go RFC 3339.
 */
import type { Sql } from '../db/types.js';
import { rfc3339 } from '../http/json.js';

export interface MigrationRow {
  id: string;
  namespace: string;
  name: string;
  description: string | null;
  up_sql: string;
  down_sql: string | null;
  version: number | null;
  status: string | null;
  created_by: string | null;
  applied_by: string | null;
  created_at: string;
  updated_at: string;
  applied_at: string | null;
  rolled_back_at: string | null;
}

export const MIGRATION_COLUMNS =
  'id::text AS id, namespace, name, description, up_sql, down_sql, version, status, created_by::text AS created_by, applied_by::text AS applied_by, created_at, updated_at, applied_at, rolled_back_at';

const ts = (v: string | null): string | null => (v ? rfc3339(v) : null);

export function migrationJson(m: MigrationRow): Record<string, unknown> {
  return {
    id: m.id,
    namespace: m.namespace,
    name: m.name,
    description: m.description,
    up_sql: m.up_sql,
    down_sql: m.down_sql,
    version: m.version ?? 0,
    status: m.status ?? '',
    created_by: m.created_by,
    applied_by: m.applied_by,
    created_at: rfc3339(m.created_at),
    updated_at: rfc3339(m.updated_at),
    applied_at: ts(m.applied_at),
    rolled_back_at: ts(m.rolled_back_at),
  };
}

export async function getMigration(db: Sql, namespace: string, name: string): Promise<MigrationRow | undefined> {
  const r = await db.query<MigrationRow>(`SELECT ${MIGRATION_COLUMNS} FROM platform.migrations WHERE namespace = $1 AND name = $2`, [namespace, name]);
  return r.rows[0];
}

export async function listMigrations(db: Sql, namespace: string, status?: string): Promise<MigrationRow[]> {
  const r = await db.query<MigrationRow>(
    `SELECT ${MIGRATION_COLUMNS} FROM platform.migrations WHERE namespace = $1 ${status !== undefined ? 'AND status = $2' : ''} ORDER BY name ASC`,
    status !== undefined ? [namespace, status] : [namespace],
  );
  return r.rows;
}

export interface ExecutionLogInput {
  migrationId: string;
  action: 'apply' | 'rollback';
  status: 'success' | 'failed';
  durationMs: number;
  errorMessage: string | null;
  executedBy: string | null;
  tenantId: string | null;
}

export async function logExecution(db: Sql, log: ExecutionLogInput): Promise<void> {
  await db.query(
    `INSERT INTO platform.migration_execution_logs (migration_id, action, status, duration_ms, error_message, executed_by, tenant_id)
     VALUES ($1::uuid, $2, $3, $4, $5, $6::uuid, $7::uuid)`,
    [log.migrationId, log.action, log.status, log.durationMs, log.errorMessage, log.executedBy, log.tenantId],
  );
}

export async function setStatus(db: Sql, id: string, status: 'applied' | 'rolled_back' | 'failed', appliedBy: string | null): Promise<void> {
  if (status === 'applied') {
    await db.query(`UPDATE platform.migrations SET status = 'applied', applied_at = now(), applied_by = $1::uuid, updated_at = now() WHERE id = $2::uuid`, [appliedBy, id]);
  } else if (status === 'rolled_back') {
    await db.query(`UPDATE platform.migrations SET status = 'rolled_back', rolled_back_at = now(), updated_at = now() WHERE id = $1::uuid`, [id]);
  } else {
    await db.query(`UPDATE platform.migrations SET status = 'failed', updated_at = now() WHERE id = $1::uuid`, [id]);
  }
}

interface LogRow {
  id: string;
  migration_id: string;
  action: string;
  status: string;
  duration_ms: number | null;
  error_message: string | null;
  logs: string | null;
  executed_at: string;
  executed_by: string | null;
}

/** Execution history, newest first (`null` when empty). */
export async function executionLogs(db: Sql, migrationId: string, limit: number): Promise<Record<string, unknown>[] | null> {
  const r = await db.query<LogRow>(
    `SELECT id::text AS id, migration_id::text AS migration_id, action, status, duration_ms, error_message, logs, executed_at, executed_by::text AS executed_by
       FROM platform.migration_execution_logs WHERE migration_id = $1::uuid ORDER BY executed_at DESC LIMIT $2`,
    [migrationId, limit],
  );
  if (r.rows.length === 0) return null;
  return r.rows.map((l) => ({
    id: l.id,
    migration_id: l.migration_id,
    action: l.action,
    status: l.status,
    duration_ms: l.duration_ms,
    error_message: l.error_message,
    logs: l.logs,
    executed_at: rfc3339(l.executed_at),
    executed_by: l.executed_by,
  }));
}

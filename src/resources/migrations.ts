/**
 * Running SQL through the server's migrations API (docs/api/migrations.md): what the DDL
 * endpoints cannot express (ALTER COLUMN, constraints, indexes, types outside the DDL allow-list,
 * DROP SCHEMA) is applied as a named migration in namespace `fluxbase-iac`, which keeps an
 * execution history on the server. One change → one migration → one transaction.
 *
 * Identity matters (internal/middleware/migrations_security.go): a dashboard admin token always
 * runs migrations on the MAIN database, even with X-FB-Tenant, so for a tenant with its own
 * database the tool must use a service-role JWT, which runs them in that tenant's database.
 * The default tenant's migrations are sent without X-FB-Tenant so they run as the admin user.
 */
import { createHash } from 'node:crypto';
import { ApiError } from '../client/errors.js';
import type { FluxbaseClient } from '../client/http.js';
import type { TenantRef } from '../model/resource.js';

/** Migration namespace used for every migration the tool creates. */
export const MIGRATION_NAMESPACE = 'fluxbase-iac';

/** Thrown when a migration cannot be routed to the tenant's database with the current credential. */
export class MigrationRoutingError extends Error {
  constructor(tenant: string) {
    super(
      `tenant ${tenant} has its own database, and the server runs a dashboard admin's migrations on the main database; ` +
        'use a service-role JWT (FLUXBASE_TOKEN) so the migration runs in the tenant database',
    );
    this.name = 'MigrationRoutingError';
  }
}

/** The lock timeout when the configuration sets none (pg-schema-diff's default). */
export const DEFAULT_LOCK_TIMEOUT = '3s';

/**
 * The SQL of one migration, starting with `SET LOCAL lock_timeout` (docs/hazards.md "Locks"):
 * a statement that waits longer than `timeout` for a lock fails, and the migration's transaction
 * rolls back, instead of queueing behind a long transaction while every later query on the table
 * queues behind it. `'0'` sets none. SET LOCAL lasts until the migration's transaction ends.
 */
export function withLockTimeout(sql: readonly string[], timeout: string = DEFAULT_LOCK_TIMEOUT): string[] {
  return timeout === '0' ? [...sql] : [`SET LOCAL lock_timeout = '${timeout}'`, ...sql];
}

/** A migration name that is unique and readable: `<tenant>-<yyyymmddhhmmss>-<what>-<hash8>`. */
export function migrationName(tenant: string, what: string, sql: readonly string[], now: Date): string {
  const stamp = now.toISOString().replace(/[-:TZ.]/g, '').slice(0, 14);
  const hash = createHash('sha256').update(sql.join(';\n')).update(String(now.getTime())).digest('hex').slice(0, 8);
  const label = what.replace(/[^a-z0-9_.]+/gi, '_').slice(0, 80);
  return `${tenant}-${stamp}-${label}-${hash}`;
}

/**
 * Creates and applies one migration: POST /api/v1/admin/migrations (201), then
 * POST /api/v1/admin/migrations/:name/apply (200). A failed apply answers 500 with the
 * PostgreSQL error in `details`; the migration stays in the history with status `failed`.
 * Throws ApiError, NetworkError or MigrationRoutingError.
 */
export async function runMigration(req: {
  client: FluxbaseClient;
  tenant: TenantRef;
  what: string;
  description: string;
  sql: readonly string[];
  now: () => Date;
}): Promise<string> {
  const { client, tenant, sql } = req;
  let tenantId: string | undefined;
  if (!tenant.isDefault) {
    if (!client.identities().serviceRole) throw new MigrationRoutingError(tenant.slug);
    tenantId = tenant.id;
  }
  const identity = tenantId ? ('service_role' as const) : undefined;
  const name = migrationName(tenant.slug, req.what, sql, req.now());
  const upSql = sql.map((s) => (s.trimEnd().endsWith(';') ? s : `${s};`)).join('\n');
  await client.request({
    method: 'POST',
    route: '/api/v1/admin/migrations',
    tenantId,
    identity,
    body: { namespace: MIGRATION_NAMESPACE, name, description: req.description, up_sql: upSql },
    expect: [201],
  });
  await client.request({
    method: 'POST',
    route: '/api/v1/admin/migrations/:name/apply',
    params: { name },
    tenantId,
    identity,
    body: { namespace: MIGRATION_NAMESPACE },
    expect: [200],
  });
  return name;
}

/** True when an error is the migrations API's "apply failed" answer. */
export function isMigrationFailure(e: unknown): e is ApiError {
  return e instanceof ApiError && e.status === 500 && /apply migration/i.test(e.serverMessage);
}

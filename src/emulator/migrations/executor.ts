/**
 * Applying and rolling back registered migrations (`internal/migrations/executor.go`,
 * `tenant_executor.go`).
 *
 * - Main path (admin/instance_admin JWTs — even with X-FB-Tenant — and service_role JWTs without
 *   the header): the SQL runs on the MAIN database as the admin user, in one transaction holding
 *   a transaction-scoped advisory lock ("another migration is already in progress" otherwise).
 * - Tenant path (service_role JWT + X-FB-Tenant, tenant_admin members): the SQL runs in the
 *   tenant's database (the main one for the default tenant). By default as the admin user; with
 *   `quirks.tenantMigrationRole` after `SET LOCAL ROLE tenant_migration_role`, like the server.
 *
 * The status lives in the single (global) registry: one apply marks the migration `applied` for
 * every tenant. History rows are written to the main database. Error texts follow the server:
 * main `migration failed: ERROR: … (SQLSTATE …)`, tenant `migration failed: SQL execution failed: ERROR: …`.
 */
import type { EmulatorApp } from '../app.js';
import type { Database } from '../db/types.js';
import { pgErrorText } from '../db/types.js';
import { getTenant, isUuid } from '../tenancy/tenants.js';
import { getMigration, listMigrations, logExecution, setStatus } from './store.js';

const MIGRATION_LOCK = '5074560038396231684'; // 0x466C7578_00000004, the server's lock id

export interface ExecTarget {
  /** undefined = main path */
  tenantId?: string;
}

export class MigrationExecutor {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly app: EmulatorApp) {}

  /** Serialises executions (the server's executor mutex). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }

  /** Resolves the tenant database like `Router.GetPool`; throws the server's messages. */
  private async tenantDb(tenantId: string): Promise<Database> {
    const t = isUuid(tenantId) ? await getTenant(this.app.main, tenantId) : undefined;
    if (!t) throw new Error(`failed to get tenant pool: failed to get tenant: tenant not found`);
    if (t.status === 'deleting') throw new Error('failed to get tenant pool: tenant is being deleted');
    if (!t.db_name) return this.app.main;
    try {
      return await this.app.tenantDatabase(t.db_name);
    } catch (e) {
      throw new Error(`failed to get tenant pool: ${(e as Error).message}`);
    }
  }

  /** Runs `sql`; returns undefined on success or the error text to log. */
  private async run(sql: string, target: ExecTarget): Promise<string | undefined> {
    if (target.tenantId === undefined) {
      try {
        await this.app.main.transaction(async (tx) => {
          const r = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${MIGRATION_LOCK}) AS ok`, undefined, { withBegin: true });
          if (!r.rows[0]?.ok) throw new Error('another migration is already in progress');
          await tx.exec(sql);
        });
        return undefined;
      } catch (e) {
        return pgErrorText(e);
      }
    }
    const db = await this.tenantDb(target.tenantId);
    const useRole = this.app.opts.quirks.tenantMigrationRole;
    try {
      await db.transaction(async (tx) => {
        if (useRole) {
          try {
            await tx.query('SET LOCAL ROLE tenant_migration_role', undefined, { withBegin: true });
          } catch (e) {
            throw new Error(`failed to set tenant_migration_role: ${pgErrorText(e)}`);
          }
        }
        try {
          await tx.exec(sql);
        } catch (e) {
          throw new Error(`SQL execution failed: ${pgErrorText(e)}`);
        }
      });
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** Applies one migration; resolves on success (also when already applied), throws the detail text. */
  apply(namespace: string, name: string, executedBy: string | null, target: ExecTarget): Promise<void> {
    return this.exclusive(async () => {
      const db = this.app.main;
      const m = await getMigration(db, namespace, name);
      if (!m) throw new Error('failed to get migration: failed to get migration: no rows in result set');
      if (m.status === 'applied') return;
      if (m.status !== 'pending' && m.status !== 'failed') throw new Error(`migration status is ${m.status}, cannot apply`);
      const started = Date.now();
      const err = await this.run(m.up_sql, target);
      const durationMs = Date.now() - started;
      const tenantId = target.tenantId && isUuid(target.tenantId) ? target.tenantId : null;
      if (err !== undefined) {
        await logExecution(db, { migrationId: m.id, action: 'apply', status: 'failed', durationMs, errorMessage: err, executedBy, tenantId }).catch(() => {});
        await setStatus(db, m.id, 'failed', executedBy).catch(() => {});
        throw new Error(`migration failed: ${err}`);
      }
      await logExecution(db, { migrationId: m.id, action: 'apply', status: 'success', durationMs, errorMessage: null, executedBy, tenantId }).catch(() => {});
      await setStatus(db, m.id, 'applied', executedBy);
    });
  }

  /** Rolls back an applied migration with its down SQL. */
  rollback(namespace: string, name: string, executedBy: string | null, target: ExecTarget): Promise<void> {
    return this.exclusive(async () => {
      const db = this.app.main;
      const m = await getMigration(db, namespace, name);
      if (!m) throw new Error('failed to get migration: failed to get migration: no rows in result set');
      if (m.status !== 'applied') throw new Error(`migration status is ${m.status}, cannot rollback`);
      if (!m.down_sql) throw new Error('migration has no rollback SQL');
      const started = Date.now();
      const err = await this.run(m.down_sql, target);
      const durationMs = Date.now() - started;
      const tenantId = target.tenantId && isUuid(target.tenantId) ? target.tenantId : null;
      if (err !== undefined) {
        await logExecution(db, { migrationId: m.id, action: 'rollback', status: 'failed', durationMs, errorMessage: err, executedBy, tenantId }).catch(() => {});
        throw new Error(`rollback failed: ${err}`);
      }
      await logExecution(db, { migrationId: m.id, action: 'rollback', status: 'success', durationMs, errorMessage: null, executedBy, tenantId }).catch(() => {});
      await setStatus(db, m.id, 'rolled_back', executedBy);
    });
  }

  /** Applies every pending migration of a namespace in name order on the MAIN database; stops at the first failure. */
  async applyPending(namespace: string, executedBy: string | null): Promise<{ applied: string[]; failed: string[]; error?: string }> {
    const pending = await listMigrations(this.app.main, namespace, 'pending');
    const applied: string[] = [];
    for (const m of pending) {
      try {
        await this.apply(namespace, m.name, executedBy, {});
        applied.push(m.name);
      } catch (e) {
        return { applied, failed: [m.name], error: `failed to apply migration ${m.name}: ${(e as Error).message}` };
      }
    }
    return { applied, failed: [] };
  }
}

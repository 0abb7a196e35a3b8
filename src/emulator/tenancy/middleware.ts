/**
 * TenantContext and TenantDBContext (`internal/middleware/tenant.go`, `tenant_db.go`). Both run
 * BEFORE authentication on admin routes:
 *
 * - TenantContext: with `X-FB-Tenant` (uuid or slug) the tenant must exist and not be
 *   soft-deleted, else `404 {"error":"tenant not found"}` (plain body, even unauthenticated);
 *   the raw header value becomes the tenant id. Without the header: the default tenant.
 * - TenantDBContext: looks the id up **by UUID only**; a tenant with its own database routes the
 *   request there (opened lazily). A slug therefore passes TenantContext but silently routes to
 *   the main database. Failure to open: `500 {"error":"tenant database unavailable",
 *   "code":"INTERNAL_ERROR"}`.
 */
import type { EmulatorApp } from '../app.js';
import type { Handler } from '../http/context.js';
import { sendFiberError } from '../http/errors.js';
import { getTenant } from './tenants.js';

export function tenantContext(app: EmulatorApp): Handler {
  return async (ctx, next) => {
    const header = ctx.header('x-fb-tenant');
    if (header !== '') {
      const r = await app.main.query<{ e: boolean }>(
        'SELECT EXISTS(SELECT 1 FROM platform.tenants WHERE (id::text = $1 OR slug = $1) AND deleted_at IS NULL) AS e',
        [header],
      );
      if (!r.rows[0]?.e) {
        ctx.json(404, { error: 'tenant not found' });
        return;
      }
      ctx.tenant = { id: header, source: 'header', db: app.main };
    } else {
      ctx.tenant = { id: app.defaultTenantId, source: app.defaultTenantId ? 'default' : '', db: app.main };
    }
    await next();
  };
}

export function tenantDb(app: EmulatorApp): Handler {
  return async (ctx, next) => {
    const t = ctx.tenant;
    if (t && t.id !== '') {
      const row = await getTenant(app.main, t.id);
      if (row) {
        t.slug = row.slug;
        if (row.db_name) {
          try {
            t.db = await app.tenantDatabase(row.db_name);
            t.dbName = row.db_name;
          } catch (e) {
            app.log(`tenant database ${row.db_name} unavailable: ${(e as Error).message}`);
            sendFiberError(ctx, 500, 'tenant database unavailable');
            return;
          }
        }
      }
    }
    await next();
  };
}

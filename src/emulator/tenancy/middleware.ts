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
import type { Ctx, Handler } from '../http/context.js';
import { sendFiberError } from '../http/errors.js';
import { getTenant, isUuid, TENANT_COLUMNS } from './tenants.js';
import type { TenantRow } from './tenants.js';

/**
 * The tenant row TenantDBContext needs, read by TenantContext in the same query as its check
 * (`prefetch`), so a chain TenantContext → TenantDBContext costs one round trip, not two. Only
 * for an id that `getTenant` would look up and whose `::uuid` cast cannot fail (a value that is
 * a uuid only once trimmed keeps the two queries, so the 404 still comes first).
 */
const prefetched = new WeakMap<Ctx, { id: string; row: TenantRow | undefined }>();

const CHECK_SQL = 'SELECT EXISTS(SELECT 1 FROM platform.tenants WHERE (id::text = $1 OR slug = $1) AND deleted_at IS NULL) AS e';
const CHECK_AND_ROW_SQL = `SELECT c.e, t.* FROM (${CHECK_SQL}) AS c
  LEFT JOIN LATERAL (SELECT ${TENANT_COLUMNS} FROM platform.tenants WHERE id = $2::uuid AND deleted_at IS NULL) AS t ON true`;

/** `prefetch`: the next handler is {@link tenantDb} (see {@link prefetched}). */
export function tenantContext(app: EmulatorApp, opts: { prefetch?: boolean } = {}): Handler {
  return async (ctx, next) => {
    const header = ctx.header('x-fb-tenant');
    if (header !== '') {
      if (opts.prefetch && isUuid(header) && header === header.trim()) {
        const r = await app.main.query<{ e: boolean; id: string | null }>(CHECK_AND_ROW_SQL, [header, header]);
        const found = r.rows[0];
        if (!found?.e) {
          ctx.json(404, { error: 'tenant not found' });
          return;
        }
        const { e: _exists, ...row } = found;
        prefetched.set(ctx, { id: header, row: row.id === null ? undefined : (row as unknown as TenantRow) });
      } else {
        const r = await app.main.query<{ e: boolean }>(CHECK_SQL, [header]);
        if (!r.rows[0]?.e) {
          ctx.json(404, { error: 'tenant not found' });
          return;
        }
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
      const known = prefetched.get(ctx);
      const row = known && known.id === t.id ? known.row : await getTenant(app.main, t.id);
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

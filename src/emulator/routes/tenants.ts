/**
 * Tenants API (`internal/api/tenant_handler.go`, `internal/tenantdb/*`; auth doc §4).
 * Roles: list / list-deleted / create / delete / recover / migrate / repair are admin+instance_admin;
 * the rest use the defaults (tenant_admin included). A service_role JWT passes every role check
 * but has no user id, so GET /tenants/:id and GET …/admins answer 403 "Access denied to this
 * tenant" and GET /tenants/mine answers 401.
 *
 * Creation is synchronous: the row is inserted with status `creating`, a database is created from
 * the template (`tenant_<slug>`), then the status becomes `active`. Soft delete keeps the
 * database; `?hard=true` drops it. A soft-deleted tenant's slug stays taken (unique index) → 500.
 */
import type { EmulatorApp } from '../app.js';
import type { Ctx } from '../http/context.js';
import type { Router } from '../http/router.js';
import { parseBody, sendCode } from '../http/errors.js';
import { rfc3339 } from '../http/json.js';
import { ADMIN_ONLY, ADMIN_PREFIX, adminChain } from './chains.js';
import { TENANT_COLUMNS, getTenant, getTenantBySlug, isUuid, isValidSlug, tenantJson } from '../tenancy/tenants.js';
import type { TenantRow } from '../tenancy/tenants.js';

interface CreateTenantRequest {
  slug: string;
  name: string;
  metadata: Record<string, unknown> | null;
  db_mode: string;
  db_name: string | null;
  auto_generate_keys: boolean;
  admin_email: string | null;
  admin_user_id: string | null;
  send_keys_to_email: boolean;
}

/** Whether the caller may see tenant `id` (instance admins always; others need an assignment). */
async function hasTenantAccess(app: EmulatorApp, ctx: Ctx, id: string): Promise<boolean> {
  if (ctx.auth?.isInstanceAdmin) return true;
  const userId = ctx.auth?.userId ?? '';
  if (!isUuid(userId) || !isUuid(id)) return false;
  const r = await app.main.query<{ e: boolean }>(
    'SELECT EXISTS(SELECT 1 FROM platform.tenant_admin_assignments WHERE tenant_id = $1::uuid AND user_id = $2::uuid) AS e',
    [id, userId],
  );
  return r.rows[0]?.e === true;
}

async function listAdmins(app: EmulatorApp, ctx: Ctx): Promise<void> {
  const id = ctx.params.id ?? '';
  if (!(await hasTenantAccess(app, ctx, id))) {
    sendCode(ctx, 403, 'Access denied to this tenant', 'ACCESS_DENIED');
    return;
  }
  if (!isUuid(id)) {
    sendCode(ctx, 500, 'Failed to list admins', 'INTERNAL_ERROR');
    return;
  }
  const r = await app.main.query<{ id: string; tenant_id: string; user_id: string; assigned_at: string; email: string; dashboard_role: string }>(
    `SELECT ta.id::text AS id, ta.tenant_id::text AS tenant_id, ta.user_id::text AS user_id, ta.assigned_at, u.email, u.role AS dashboard_role
       FROM platform.tenant_admin_assignments ta JOIN platform.users u ON u.id = ta.user_id
      WHERE ta.tenant_id = $1::uuid ORDER BY ta.assigned_at ASC`,
    [id],
  );
  ctx.json(
    200,
    r.rows.map((a) => ({ ...a, assigned_at: rfc3339(a.assigned_at) })),
  );
}

async function assignAdmin(app: EmulatorApp, ctx: Ctx): Promise<void> {
  const req = parseBody<{ user_id: string }>(ctx, { user_id: 'string' });
  if (!req) return;
  const id = ctx.params.id ?? '';
  const exists = isUuid(req.user_id)
    ? (await app.main.query<{ e: boolean }>('SELECT EXISTS(SELECT 1 FROM platform.users WHERE id = $1::uuid AND deleted_at IS NULL) AS e', [req.user_id])).rows[0]?.e
    : false;
  if (!exists) {
    sendCode(ctx, 400, 'User not found', 'NOT_FOUND');
    return;
  }
  try {
    if (!isUuid(id)) throw new Error('invalid tenant id');
    await app.main.query(
      'INSERT INTO platform.tenant_admin_assignments (tenant_id, user_id) VALUES ($1::uuid, $2::uuid) ON CONFLICT (tenant_id, user_id) DO NOTHING',
      [id, req.user_id],
    );
    const r = await app.main.query<{ id: string; tenant_id: string; user_id: string; assigned_at: string }>(
      `SELECT id::text AS id, tenant_id::text AS tenant_id, user_id::text AS user_id, assigned_at
         FROM platform.tenant_admin_assignments WHERE tenant_id = $1::uuid AND user_id = $2::uuid`,
      [id, req.user_id],
    );
    const a = r.rows[0];
    if (!a) throw new Error('assignment vanished');
    ctx.json(201, { ...a, assigned_at: rfc3339(a.assigned_at) });
  } catch {
    sendCode(ctx, 500, 'Failed to assign admin', 'INTERNAL_ERROR');
  }
}

async function removeAdmin(app: EmulatorApp, ctx: Ctx): Promise<void> {
  const id = ctx.params.id ?? '';
  const userId = ctx.params.user_id ?? '';
  if (!isUuid(id) || !isUuid(userId)) {
    sendCode(ctx, 500, 'Failed to remove admin', 'INTERNAL_ERROR');
    return;
  }
  const r = await app.main.query('DELETE FROM platform.tenant_admin_assignments WHERE tenant_id = $1::uuid AND user_id = $2::uuid', [id, userId]);
  if (r.rowCount === 0) {
    sendCode(ctx, 404, 'Admin assignment not found', 'NOT_FOUND');
    return;
  }
  ctx.empty(204);
}

/** Creates the tenant's database; returns an error message or undefined. */
/**
 * F3: in the server's tenant databases `realtime.schema_registry` is a foreign table imported from
 * the main database (internal/tenantdb/fdw.go:305-380), so it has no unique constraint and the
 * enable handler's `INSERT … ON CONFLICT (schema_name, table_name)` fails. Dropping the
 * constraint from the tenant's local registry has the same effect (opt-out:
 * `quirks.tenantRealtimeRegistryForeign: false`).
 */
const FOREIGN_REGISTRY_SQL = `DO $$ DECLARE c text; BEGIN
  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'realtime.schema_registry'::regclass AND contype = 'u' LOOP
    EXECUTE format('ALTER TABLE realtime.schema_registry DROP CONSTRAINT %I', c);
  END LOOP;
END $$`;

async function createTenantDatabase(app: EmulatorApp, dbName: string, existingMode: boolean): Promise<string | undefined> {
  const physical = app.cluster.physicalName(dbName);
  try {
    if (existingMode && (await app.cluster.exists(physical))) return undefined;
    const created = await app.cluster.create(physical);
    if (app.opts.quirks.tenantRealtimeRegistryForeign) await created.exec(FOREIGN_REGISTRY_SQL);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export function registerTenants(router: Router, app: EmulatorApp): void {
  const p = `${ADMIN_PREFIX}/tenants`;
  const db = () => app.main;
  /**
   * The non-deleted tenant named by a `:id` path parameter, or undefined after answering as the
   * server does: a non-UUID id is `500 <failure>` (its SQL cast fails), an unknown or soft-deleted
   * one `404 Tenant not found`.
   */
  const tenantFromPath = async (ctx: Ctx, id: string, failure: string) => {
    if (!isUuid(id)) {
      sendCode(ctx, 500, failure, 'INTERNAL_ERROR');
      return undefined;
    }
    const t = await getTenant(db(), id);
    if (!t) sendCode(ctx, 404, 'Tenant not found', 'NOT_FOUND');
    return t ?? undefined;
  };

  router.add('GET', `${p}/mine`, ...adminChain(app), async (ctx) => {
    const userId = ctx.auth?.userId ?? '';
    if (userId === '') {
      sendCode(ctx, 401, 'Authentication required', 'AUTHENTICATION_REQUIRED');
      return;
    }
    if (!isUuid(userId)) {
      sendCode(ctx, 500, 'Failed to list tenants', 'INTERNAL_ERROR');
      return;
    }
    const r = await db().query<TenantRow>(
      `SELECT ${TENANT_COLUMNS.split(', ').map((c) => `t.${c}`).join(', ')}
         FROM platform.tenants t JOIN platform.tenant_admin_assignments a ON a.tenant_id = t.id
        WHERE a.user_id = $1::uuid AND t.deleted_at IS NULL ORDER BY t.created_at ASC`,
      [userId],
    );
    ctx.json(200, r.rows.map((t) => ({ ...tenantJson(t), my_role: 'tenant_admin' })));
  });

  router.add('GET', p, ...adminChain(app, ADMIN_ONLY), async (ctx) => {
    const r = await db().query<TenantRow>(
      `SELECT ${TENANT_COLUMNS} FROM platform.tenants WHERE deleted_at IS NULL AND status = 'active' ORDER BY created_at ASC`,
    );
    ctx.json(200, r.rows.map(tenantJson));
  });

  router.add('GET', `${p}/deleted`, ...adminChain(app, ADMIN_ONLY), async (ctx) => {
    const r = await db().query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM platform.tenants WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC`);
    ctx.json(200, r.rows.map(tenantJson));
  });

  router.add('POST', p, ...adminChain(app, ADMIN_ONLY), async (ctx) => {
    const req = parseBody<CreateTenantRequest>(ctx, {
      slug: 'string',
      name: 'string',
      metadata: 'map[string]any',
      db_mode: 'string',
      db_name: '*string',
      auto_generate_keys: 'bool',
      admin_email: '*string',
      admin_user_id: '*string',
      send_keys_to_email: 'bool',
    });
    if (!req) return;
    if (!isValidSlug(req.slug)) {
      sendCode(ctx, 400, 'Invalid slug format (use lowercase letters, numbers, and hyphens)', 'INVALID_INPUT');
      return;
    }
    if (await getTenantBySlug(db(), req.slug)) {
      sendCode(ctx, 409, 'Tenant with this slug already exists', 'ALREADY_EXISTS');
      return;
    }
    const count = await db().query<{ n: number }>('SELECT count(*)::int AS n FROM platform.tenants WHERE deleted_at IS NULL');
    if ((count.rows[0]?.n ?? 0) >= app.opts.maxTenants) {
      sendCode(ctx, 409, 'Maximum number of tenants reached', 'CONFLICT');
      return;
    }
    const existingMode = req.db_mode === 'existing';
    if (existingMode && !req.db_name) {
      sendCode(ctx, 500, 'Failed to create tenant', 'INTERNAL_ERROR');
      return;
    }
    const dbName = existingMode ? (req.db_name as string) : `tenant_${req.slug}`;
    let id: string;
    try {
      const ins = await db().query<{ id: string }>(
        `INSERT INTO platform.tenants (slug, name, db_name, status, metadata) VALUES ($1, $2, $3, 'creating', $4::jsonb) RETURNING id::text AS id`,
        [req.slug, req.name, dbName, JSON.stringify(req.metadata ?? {})],
      );
      id = ins.rows[0]?.id ?? '';
    } catch (e) {
      app.log(`tenant insert failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to create tenant', 'INTERNAL_ERROR');
      return;
    }
    const failure = await createTenantDatabase(app, dbName, existingMode);
    if (failure) {
      app.log(`tenant database creation failed: ${failure}`);
      await db().query('DELETE FROM platform.tenants WHERE id = $1::uuid', [id]);
      sendCode(ctx, 500, 'Failed to create tenant', 'INTERNAL_ERROR');
      return;
    }
    if (app.faults.state.tenantCreationFailures.includes(req.slug)) {
      // A failure after the database exists (bootstrap, internal schemas, FDW): the row stays in
      // status `error`, unlisted, holding its slug (internal/tenantdb/manager.go:155-180).
      app.log(`tenant ${req.slug}: injected creation failure after the database was created`);
      await db().query(`UPDATE platform.tenants SET status = 'error', updated_at = now() WHERE id = $1::uuid`, [id]);
      sendCode(ctx, 500, 'Failed to create tenant', 'INTERNAL_ERROR');
      return;
    }
    await db().query(`UPDATE platform.tenants SET status = 'active', updated_at = now() WHERE id = $1::uuid`, [id]);
    if (req.admin_user_id) {
      await db()
        .query('INSERT INTO platform.tenant_admin_assignments (tenant_id, user_id) VALUES ($1::uuid, $2::uuid) ON CONFLICT DO NOTHING', [id, req.admin_user_id])
        .catch(() => {});
    }
    const row = await getTenant(db(), id);
    ctx.json(201, { tenant: row ? tenantJson(row) : { id }, invitation_sent: false });
  });

  router.add('GET', `${p}/:id`, ...adminChain(app), async (ctx) => {
    const id = ctx.params.id ?? '';
    if (!(await hasTenantAccess(app, ctx, id))) {
      sendCode(ctx, 403, 'Access denied to this tenant', 'ACCESS_DENIED');
      return;
    }
    const t = await tenantFromPath(ctx, id, 'Failed to get tenant');
    if (!t) return;
    ctx.json(200, tenantJson(t));
  });

  router.add('PATCH', `${p}/:id`, ...adminChain(app), async (ctx) => {
    const req = parseBody<{ name: string | null; metadata: Record<string, unknown> | null }>(ctx, { name: '*string', metadata: 'map[string]any' });
    if (!req) return;
    const id = ctx.params.id ?? '';
    const t = await tenantFromPath(ctx, id, 'Failed to update tenant');
    if (!t) return;
    const sets: string[] = [];
    const args: unknown[] = [];
    if (req.name !== null) {
      args.push(req.name);
      sets.push(`name = $${args.length}`);
    }
    if (req.metadata !== null) {
      args.push(JSON.stringify(req.metadata));
      sets.push(`metadata = $${args.length}::jsonb`);
    }
    if (sets.length > 0) {
      args.push(id);
      await db().query(`UPDATE platform.tenants SET ${sets.join(', ')}, updated_at = now() WHERE id = $${args.length}::uuid`, args);
    }
    const updated = await getTenant(db(), id);
    if (!updated) {
      sendCode(ctx, 500, 'Failed to get updated tenant', 'INTERNAL_ERROR');
      return;
    }
    ctx.json(200, tenantJson(updated));
  });

  router.add('DELETE', `${p}/:id`, ...adminChain(app, ADMIN_ONLY), async (ctx) => {
    const id = ctx.params.id ?? '';
    const hard = ctx.query.get('hard') === 'true';
    const t = await tenantFromPath(ctx, id, 'Failed to delete tenant');
    if (!t) return;
    if (t.is_default) {
      sendCode(ctx, 400, 'Cannot delete the default tenant', 'INVALID_INPUT');
      return;
    }
    await db().query(`UPDATE platform.tenants SET deleted_at = now(), status = 'deleting' WHERE id = $1::uuid AND deleted_at IS NULL`, [id]);
    if (hard) {
      try {
        await db().query('DELETE FROM auth.webhooks WHERE tenant_id = $1::uuid', [id]);
        if (t.db_name) await app.cluster.drop(app.cluster.physicalName(t.db_name));
        await db().query('DELETE FROM platform.tenants WHERE id = $1::uuid', [id]);
      } catch (e) {
        app.log(`hard delete failed: ${(e as Error).message}`);
        await db().query(`UPDATE platform.tenants SET status = 'error', updated_at = now() WHERE id = $1::uuid`, [id]);
        sendCode(ctx, 500, 'Failed to delete tenant', 'INTERNAL_ERROR');
        return;
      }
    }
    ctx.empty(204);
  });

  router.add('POST', `${p}/:id/recover`, ...adminChain(app, ADMIN_ONLY), async (ctx) => {
    const id = ctx.params.id ?? '';
    if (!isUuid(id)) {
      sendCode(ctx, 500, 'Failed to recover tenant', 'INTERNAL_ERROR');
      return;
    }
    const r = await db().query(
      `UPDATE platform.tenants SET deleted_at = NULL, status = 'active', updated_at = now() WHERE id = $1::uuid AND deleted_at IS NOT NULL`,
      [id],
    );
    if (r.rowCount === 0) {
      sendCode(ctx, 400, 'Tenant is not in a deleted state', 'INVALID_INPUT');
      return;
    }
    ctx.json(200, { status: 'recovered' });
  });

  router.add('POST', `${p}/:id/migrate`, ...adminChain(app, ADMIN_ONLY), async (ctx) => {
    const id = ctx.params.id ?? '';
    const t = await tenantFromPath(ctx, id, 'Failed to migrate tenant');
    if (!t) return;
    if (!t.db_name) {
      ctx.json(200, { reason: 'uses main database', status: 'skipped' });
      return;
    }
    ctx.json(200, { status: 'migrated' });
  });

  router.add('POST', `${p}/:id/repair`, ...adminChain(app, ADMIN_ONLY), async (ctx) => {
    const id = ctx.params.id ?? '';
    const t = await tenantFromPath(ctx, id, 'Failed to repair tenant');
    if (!t) return;
    if (!t.db_name) {
      sendCode(ctx, 400, 'Cannot repair default tenant (uses main database)', 'INVALID_INPUT');
      return;
    }
    const physical = app.cluster.physicalName(t.db_name);
    if (!(await app.cluster.exists(physical))) {
      const failure = await createTenantDatabase(app, t.db_name, false);
      if (failure) {
        sendCode(ctx, 500, 'Failed to repair tenant', 'INTERNAL_ERROR');
        return;
      }
    }
    ctx.json(200, { message: 'Tenant repaired successfully', success: true });
  });

  for (const alias of ['admins', 'members']) {
    router.add('GET', `${p}/:id/${alias}`, ...adminChain(app), (ctx) => listAdmins(app, ctx));
    router.add('POST', `${p}/:id/${alias}`, ...adminChain(app), (ctx) => assignAdmin(app, ctx));
  }
  router.add('PATCH', `${p}/:id/members/:user_id`, ...adminChain(app), (ctx) => assignAdmin(app, ctx));
  for (const alias of ['admins', 'members']) {
    router.add('DELETE', `${p}/:id/${alias}/:user_id`, ...adminChain(app), (ctx) => removeAdmin(app, ctx));
  }
}

/**
 * Migrations API `/api/v1/admin/migrations` (`internal/migrations/handler.go`,
 * `internal/middleware/migrations_security.go`). Contract: docs/api/migrations.md.
 *
 * Chain: TenantContext (bad X-FB-Tenant → 404 first) → migrations security → RequireRole(admin,
 * instance_admin, tenant_admin). The security middleware accepts only `Authorization: Bearer eyJ…`
 * (or a `clientkey: eyJ…` header) JWTs — no cookie, no bare token — or service keys with scope
 * `migrations:execute`; anything else →
 * `401 {"error":"Service key or service_role JWT authentication required for migrations API"}`.
 * Bodies of this API are plain `{"error":…}` (no code, no request_id), 500s add `details`.
 */
import { BlockList, isIP } from 'node:net';
import type { EmulatorApp } from '../app.js';
import type { Ctx, Handler } from '../http/context.js';
import type { Router } from '../http/router.js';
import { bindMap, BindError } from '../http/bind.js';
import { pgErrorText, sqlState } from '../db/types.js';
import { requireRole } from '../auth/middleware.js';
import { tenantContext } from '../tenancy/middleware.js';
import { isUuid } from '../tenancy/tenants.js';
import { ADMIN_PREFIX, DEFAULT_ROLES } from './chains.js';
import { MIGRATION_COLUMNS, executionLogs, getMigration, listMigrations, migrationJson } from '../migrations/store.js';
import type { MigrationRow } from '../migrations/store.js';
import { MigrationExecutor } from '../migrations/executor.js';

const AUTH_FAILED = { error: 'Service key or service_role JWT authentication required for migrations API' };

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * The allowlist part of the migrations security middleware (F6,
 * internal/middleware/migrations_security.go:112-125): IPv4 CIDRs only, checked before
 * authentication; an IPv6 caller (`::1`) never matches. No ranges admit everyone.
 */
function allowlisted(ranges: readonly string[], remote: string | undefined): boolean {
  if (ranges.length === 0) return true;
  const ip = (remote ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  if (isIP(ip) !== 4) return false;
  const key = ranges.join('\n');
  let list = blockLists.get(key);
  if (!list) {
    list = new BlockList();
    for (const r of ranges) {
      const [net, bits] = r.split('/') as [string, string | undefined];
      if (isIP(net) === 4) list.addSubnet(net, Number(bits ?? 32), 'ipv4');
    }
    blockLists.set(key, list);
  }
  return list.check(ip, 'ipv4');
}

/** The allowlist's BlockList by its ranges (built once, not per request). */
const blockLists = new Map<string, BlockList>();

/** The migrations security middleware (allowlist, then auth); sets `isTenantMigration`. */
export function migrationsSecurity(app: EmulatorApp): Handler {
  return async (ctx, next) => {
    if (!allowlisted(app.opts.migrationsAllowedIpRanges, ctx.req.socket.remoteAddress)) {
      app.log(`migrations API access denied - IP ${ctx.req.socket.remoteAddress} not in allowlist`);
      ctx.json(403, { error: 'Access denied - IP not allowlisted for migrations' });
      return;
    }
    const authHeader = ctx.header('authorization');
    const clientKey = ctx.header('clientkey');
    const tenantHeader = ctx.header('x-fb-tenant');
    let jwt = '';
    if (authHeader.startsWith('Bearer ') && authHeader.slice(7).startsWith('eyJ')) jwt = authHeader.slice(7);
    if (jwt === '' && clientKey.startsWith('eyJ')) jwt = clientKey;
    if (jwt !== '') {
      const claims = await app.jwt.verify(jwt);
      if (claims) {
        const role = str(claims.role);
        const base = { userId: str(claims.user_id), email: str(claims.email), role, isInstanceAdmin: role === 'instance_admin', claims, authType: 'jwt' };
        if (role === 'service_role') {
          ctx.auth = tenantHeader !== '' ? { ...base, isTenantMigration: true, migrationTenantId: tenantHeader } : { ...base, isTenantMigration: false };
          return next();
        }
        if (role === 'admin' || role === 'instance_admin') {
          ctx.auth = { ...base, isTenantMigration: false };
          return next();
        }
        if (role === 'tenant_admin' || str(claims.tenant_id) !== '') {
          const tenantId = tenantHeader || str(claims.tenant_id);
          if (tenantId !== '' && isUuid(base.userId) && isUuid(tenantId)) {
            const r = await app.main.query<{ e: boolean }>(
              `SELECT EXISTS(SELECT 1 FROM platform.tenant_admin_assignments a JOIN platform.tenants t ON t.id = a.tenant_id
                 WHERE a.user_id = $1::uuid AND a.tenant_id = $2::uuid AND t.deleted_at IS NULL) AS e`,
              [base.userId, tenantId],
            );
            if (r.rows[0]?.e) {
              ctx.auth = { ...base, isTenantMigration: true, migrationTenantId: tenantId };
              return next();
            }
          }
        }
      }
    }
    let serviceKey = ctx.header('x-service-key');
    if (serviceKey === '') {
      if (authHeader.startsWith('ServiceKey ')) serviceKey = authHeader.slice('ServiceKey '.length);
      else if (authHeader.startsWith('Bearer sk_')) serviceKey = authHeader.slice(7);
    }
    if (serviceKey === '' && clientKey.startsWith('sk_')) serviceKey = clientKey;
    if (serviceKey !== '' && app.serviceKeyVerifier) {
      // migrationsValidateServiceKeyWithScope: sk_ keys only, enabled and unexpired (revocation not checked)
      const caller = await app.serviceKeyVerifier(serviceKey, ctx, 'migrations');
      const scopes = caller?.scopes ?? [];
      if (caller && (scopes.includes('migrations:execute') || scopes.includes('*'))) {
        if (tenantHeader !== '') {
          ctx.auth = { ...caller, authType: 'service_key', isTenantMigration: true, migrationTenantId: tenantHeader };
          return next();
        }
        if (caller.serviceKeyType !== 'tenant_service') {
          ctx.auth = { ...caller, authType: 'service_key', isTenantMigration: false };
          return next();
        }
      }
    }
    ctx.json(401, AUTH_FAILED);
  };
}

function executedBy(ctx: Ctx): string | null {
  const id = ctx.auth?.userId ?? '';
  return isUuid(id) ? id : null;
}

/** Namespace from an optional JSON body (apply/rollback/apply-pending); defaults to "default". */
function bodyNamespace(ctx: Ctx): string {
  try {
    const ns = bindMap(ctx.header('content-type'), ctx.rawBody).namespace;
    return typeof ns === 'string' && ns !== '' ? ns : 'default';
  } catch {
    return 'default';
  }
}

function tryBindStrict<T>(ctx: Ctx, spec: Parameters<Ctx['tryBind']>[0]): T | undefined {
  const req = ctx.tryBind<T>(spec);
  if (req === undefined) ctx.json(400, { error: 'Invalid request body' });
  return req;
}

async function createRow(app: EmulatorApp, m: { namespace: string; name: string; description: string | null; up_sql: string; down_sql: string | null }, createdBy: string | null): Promise<MigrationRow> {
  const r = await app.main.query<MigrationRow>(
    `INSERT INTO platform.migrations (namespace, name, description, up_sql, down_sql, created_by) VALUES ($1, $2, $3, $4, $5, $6::uuid) RETURNING ${MIGRATION_COLUMNS}`,
    [m.namespace, m.name, m.description, m.up_sql, m.down_sql, createdBy],
  );
  return r.rows[0] as MigrationRow;
}

/** `UpdateMigration`: only pending/failed rows; allowed keys description, up_sql, down_sql, status (= "pending"). */
async function updateRow(app: EmulatorApp, namespace: string, name: string, updates: Record<string, unknown>): Promise<void> {
  const sets: string[] = [];
  const args: unknown[] = [];
  for (const [key, value] of Object.entries(updates)) {
    if (!['description', 'up_sql', 'down_sql', 'status'].includes(key)) continue;
    if (key === 'status' && value !== 'pending') throw new Error("can only reset status to 'pending'");
    if (value !== null && typeof value !== 'string') throw new Error(`failed to update migration: failed to encode argument for ${key}`);
    args.push(value);
    sets.push(`${key} = $${args.length}`);
  }
  args.push(namespace, name);
  const r = await app.main.query(
    `UPDATE platform.migrations SET updated_at = now()${sets.map((s) => `, ${s}`).join('')}
      WHERE namespace = $${args.length - 1} AND name = $${args.length} AND status IN ('pending', 'failed')`,
    args,
  );
  if (r.rowCount === 0) throw new Error('failed to update migration: migration not found or already applied/rolled back');
}

export function registerMigrations(router: Router, app: EmulatorApp): void {
  const p = `${ADMIN_PREFIX}/migrations`;
  const chain = [tenantContext(app), migrationsSecurity(app), requireRole(...DEFAULT_ROLES)];
  const executor = new MigrationExecutor(app);
  const target = (ctx: Ctx) => (ctx.auth?.isTenantMigration && ctx.auth.migrationTenantId ? { tenantId: ctx.auth.migrationTenantId } : {});

  router.add('POST', p, ...chain, async (ctx) => {
    const req = tryBindStrict<{ namespace: string; name: string; description: string | null; up_sql: string; down_sql: string | null }>(ctx, {
      namespace: 'string',
      name: 'string',
      description: '*string',
      up_sql: 'string',
      down_sql: '*string',
    });
    if (!req) return;
    const namespace = req.namespace || 'default';
    if (req.name === '') return ctx.json(400, { error: 'Migration name is required' });
    if (req.up_sql === '') return ctx.json(400, { error: 'Up SQL is required' });
    try {
      ctx.json(201, migrationJson(await createRow(app, { ...req, namespace }, executedBy(ctx))));
    } catch (e) {
      if (sqlState(e) === '23505') return ctx.json(409, { error: `Migration '${req.name}' already exists in namespace '${namespace}'` });
      ctx.json(500, { details: `failed to create migration: ${pgErrorText(e)}`, error: 'Failed to create migration' });
    }
  });

  router.add('GET', p, ...chain, async (ctx) => {
    const status = ctx.q('status');
    const rows = await listMigrations(app.main, ctx.q('namespace', 'default'), status === '' ? undefined : status);
    ctx.json(200, rows.length ? rows.map(migrationJson) : null);
  });

  router.add('GET', `${p}/:name`, ...chain, async (ctx) => {
    const m = await getMigration(app.main, ctx.q('namespace', 'default'), ctx.params.name ?? '');
    if (!m) return ctx.json(404, { error: 'Migration not found' });
    ctx.json(200, migrationJson(m));
  });

  router.add('PUT', `${p}/:name`, ...chain, async (ctx) => {
    let updates: Record<string, unknown>;
    try {
      updates = bindMap(ctx.header('content-type'), ctx.rawBody);
    } catch (e) {
      if (e instanceof BindError) return ctx.json(400, { error: 'Invalid request body' });
      throw e;
    }
    const namespace = ctx.q('namespace', 'default');
    const name = ctx.params.name ?? '';
    try {
      await updateRow(app, namespace, name, updates);
    } catch (e) {
      const msg = (e as Error).message;
      if (msg.includes('not found') || msg.includes('already applied')) return ctx.json(400, { error: msg });
      return ctx.json(500, { details: msg, error: 'Failed to update migration' });
    }
    const m = await getMigration(app.main, namespace, name);
    if (!m) return ctx.json(500, { error: 'Migration updated but failed to retrieve' });
    ctx.json(200, migrationJson(m));
  });

  router.add('DELETE', `${p}/:name`, ...chain, async (ctx) => {
    const r = await app.main.query(`DELETE FROM platform.migrations WHERE namespace = $1 AND name = $2 AND status = 'pending'`, [
      ctx.q('namespace', 'default'),
      ctx.params.name ?? '',
    ]);
    if (r.rowCount === 0) return ctx.json(400, { error: 'failed to delete migration: migration not found or already applied' });
    ctx.json(200, { message: 'Migration deleted successfully' });
  });

  router.add('POST', `${p}/:name/apply`, ...chain, async (ctx) => {
    try {
      await executor.apply(bodyNamespace(ctx), ctx.params.name ?? '', executedBy(ctx), target(ctx));
    } catch (e) {
      return ctx.json(500, { details: (e as Error).message, error: 'Failed to apply migration' });
    }
    ctx.json(200, { message: 'Migration applied successfully' });
  });

  router.add('POST', `${p}/:name/rollback`, ...chain, async (ctx) => {
    try {
      await executor.rollback(bodyNamespace(ctx), ctx.params.name ?? '', executedBy(ctx), target(ctx));
    } catch (e) {
      return ctx.json(500, { details: (e as Error).message, error: 'Failed to rollback migration' });
    }
    ctx.json(200, { message: 'Migration rolled back successfully' });
  });

  router.add('POST', `${p}/apply-pending`, ...chain, async (ctx) => {
    const out = await executor.applyPending(bodyNamespace(ctx), executedBy(ctx));
    if (out.error) return ctx.json(500, { applied: out.applied, details: out.error, error: 'Failed to apply pending migrations', failed: out.failed });
    ctx.json(200, { applied: out.applied, failed: out.failed, message: `Applied ${out.applied.length} migrations successfully` });
  });

  router.add('POST', `${p}/sync`, ...chain, async (ctx) => {
    type SyncMigration = { name: string; description: string | null; up_sql: string; down_sql: string | null };
    const req = tryBindStrict<{ namespace: string; migrations: SyncMigration[] | null; options: { update_if_changed: boolean; auto_apply: boolean; dry_run: boolean } }>(ctx, {
      namespace: 'string',
      migrations: { slice: { name: 'string', description: '*string', up_sql: 'string', down_sql: '*string' } },
      options: { struct: { update_if_changed: 'bool', auto_apply: 'bool', dry_run: 'bool' } },
    });
    if (!req) return;
    await sync(app, executor, ctx, req.namespace || 'default', req.migrations ?? [], req.options);
  });

  router.add('GET', `${p}/:name/executions`, ...chain, async (ctx) => {
    const m = await getMigration(app.main, ctx.q('namespace', 'default'), ctx.params.name ?? '');
    if (!m) return ctx.json(404, { error: 'Migration not found' });
    let limit = Number.parseInt(ctx.q('limit', '50'), 10);
    if (!Number.isFinite(limit)) limit = 50;
    if (limit > 100) limit = 100;
    ctx.json(200, await executionLogs(app.main, m.id, Math.max(0, limit)));
  });
}

/**
 * `SyncMigrations`: create missing, update changed pending/failed (with update_if_changed), skip
 * changed applied ones with a warning, optionally auto-apply (on the main database), stop
 * applying after the first failure. Content identity = up_sql + down_sql. 422 when errors > 0.
 */
async function sync(
  app: EmulatorApp,
  executor: MigrationExecutor,
  ctx: Ctx,
  namespace: string,
  migrations: Array<{ name: string; description: string | null; up_sql: string; down_sql: string | null }>,
  options: { update_if_changed: boolean; auto_apply: boolean; dry_run: boolean },
): Promise<void> {
  const createdBy = executedBy(ctx);
  const existing = new Map((await listMigrations(app.main, namespace)).map((m) => [m.name, m]));
  const summary = { created: 0, updated: 0, unchanged: 0, skipped: 0, applied: 0, errors: 0 };
  const details: Record<keyof typeof summary, string[] | null> = { created: null, updated: null, unchanged: null, skipped: null, applied: null, errors: null };
  const add = (k: keyof typeof summary, v: string): void => {
    summary[k]++;
    (details[k] ??= []).push(v);
  };
  const warnings: string[] = [];
  let applyFailed = false;
  const tryApply = async (name: string, prefix: string): Promise<void> => {
    try {
      await executor.apply(namespace, name, createdBy, {});
      add('applied', name);
    } catch (e) {
      add('errors', `${name}: ${prefix} - ${(e as Error).message}`);
      applyFailed = true;
    }
  };
  for (const m of migrations) {
    if (applyFailed) {
      add('skipped', m.name);
      warnings.push(`Migration '${m.name}' skipped due to previous failure`);
      continue;
    }
    const old = existing.get(m.name);
    const content = m.up_sql + (m.down_sql ?? '');
    if (!old) {
      if (!options.dry_run) {
        try {
          await createRow(app, { namespace, ...m }, createdBy);
        } catch (e) {
          add('errors', `${m.name}: failed to create migration: ${pgErrorText(e)}`);
          continue;
        }
      }
      add('created', m.name);
      if (options.auto_apply && !options.dry_run) await tryApply(m.name, 'failed to apply');
      continue;
    }
    if (old.up_sql + (old.down_sql ?? '') === content) {
      if ((old.status === 'pending' || old.status === 'failed') && options.auto_apply && !options.dry_run) {
        await tryApply(m.name, 'failed to apply');
        continue;
      }
      add('unchanged', m.name);
      continue;
    }
    if ((old.status === 'pending' || old.status === 'failed') && options.update_if_changed) {
      if (!options.dry_run) {
        const updates: Record<string, unknown> = { up_sql: m.up_sql, down_sql: m.down_sql };
        if (old.status === 'failed') updates.status = 'pending';
        if (m.description !== null) updates.description = m.description;
        try {
          await updateRow(app, namespace, m.name, updates);
        } catch (e) {
          add('errors', `${m.name}: ${(e as Error).message}`);
          continue;
        }
      }
      add('updated', m.name);
      if (old.status === 'failed' && options.auto_apply && !options.dry_run) await tryApply(m.name, 'failed to apply after update');
      continue;
    }
    if (old.status === 'applied') {
      add('skipped', m.name);
      warnings.push(`Migration '${m.name}' already applied with different content (skipped)`);
      continue;
    }
    add('skipped', m.name);
    warnings.push(`Migration '${m.name}' has status '${old.status}' (skipped)`);
  }
  const message =
    summary.errors > 0
      ? `Sync completed with errors: ${summary.created} created, ${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.errors} errors`
      : `Sync complete: ${summary.created} created, ${summary.updated} updated, ${summary.unchanged} unchanged`;
  ctx.json(summary.errors > 0 ? 422 : 200, {
    details,
    dry_run: options.dry_run,
    message,
    namespace,
    summary,
    warnings: warnings.length ? warnings : undefined,
  });
}

/**
 * Service keys `/api/v1/admin/service-keys` (`internal/api/servicekey_handler.go`; keys doc §1).
 * Admin chain, roles admin / instance_admin / tenant_admin (service_role and tenant_service JWTs
 * pass). Rows live in `auth.service_keys` of the main database with the resolved tenant.
 *
 * | route | success | quirks |
 * |---|---|---|
 * | GET /                 | 200 bare array, `[]`, newest first | tenant-filtered (NULL-tenant keys hidden) |
 * | POST /                | 201 key + `key` | duplicate name in the tenant → 500; `created_at` is "now" |
 * | GET /:id              | 200 | tenant-filtered; 404 |
 * | PUT /:id              | 200 key | partial (COALESCE), no tenant filter on the UPDATE; `quirks.serviceKeyPutBroken` → always 500 |
 * | DELETE /:id           | 204 | tenant-filtered; 404 |
 * | POST /:id/disable, /enable | 204 | tenant-filtered; body ignored |
 * | POST /:id/revoke      | 204 | `reason` from query/form only; `revoked_by` = caller or nil UUID (FK to platform.users → 500) |
 * | POST /:id/deprecate   | 200 `{deprecated_at, grace_period_ends_at}` | `grace_period_hours` from query/form (default 24); nothing enforced |
 * | POST /:id/rotate      | 201 new key + `key` | body ignored; `"<name> (rotated)"`; old key stays enabled |
 * | GET /:id/revocations  | 200 single object | |
 * Bad ids → `400 "Invalid service key ID" INVALID_ID`. A slug in X-FB-Tenant makes the
 * tenant-parsing handlers panic (500 `Internal Server Error`) and the list fail (500).
 */
import type { EmulatorApp } from '../app.js';
import type { Ctx } from '../http/context.js';
import type { Router } from '../http/router.js';
import type { StructSpec } from '../http/bind.js';
import { parseBody, sendCode, sendPanic } from '../http/errors.js';
import { formValue } from '../http/form.js';
import { goNowJson, rfc3339 } from '../http/json.js';
import { isUuid } from '../tenancy/tenants.js';
import { ADMIN_PREFIX, DEFAULT_ROLES, adminChain } from './chains.js';
import { SERVICE_KEY_COLUMNS, hashServiceKey, newServiceKeyValue, serviceKeyJson, serviceKeyVerifier } from '../keys/service-keys.js';
import type { ServiceKeyRow } from '../keys/service-keys.js';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

interface CreateReq {
  name: string;
  description: string | null;
  key_type: string;
  scopes: string[] | null;
  allowed_namespaces: string[] | null;
  rate_limit_per_minute: number | null;
  rate_limit_per_hour: number | null;
  expires_at: string | null;
}

const CREATE_SPEC: StructSpec = {
  name: 'string',
  description: '*string',
  key_type: 'string',
  scopes: '[]string',
  allowed_namespaces: '[]string',
  rate_limit_per_minute: '*int',
  rate_limit_per_hour: '*int',
  expires_at: '*time',
};

interface UpdateReq {
  name: string | null;
  description: string | null;
  scopes: string[] | null;
  allowed_namespaces: string[] | null;
  enabled: boolean | null;
  rate_limit_per_minute: number | null;
  rate_limit_per_hour: number | null;
}

const UPDATE_SPEC: StructSpec = {
  name: '*string',
  description: '*string',
  scopes: '[]string',
  allowed_namespaces: '[]string',
  enabled: '*bool',
  rate_limit_per_minute: '*int',
  rate_limit_per_hour: '*int',
};

/** The key id from the path, or undefined after answering 400. */
function keyId(ctx: Ctx): string | undefined {
  const id = ctx.params.id ?? '';
  if (!isUuid(id)) {
    sendCode(ctx, 400, 'Invalid service key ID', 'INVALID_ID');
    return undefined;
  }
  return id;
}

/**
 * The tenant as the handlers parse it (`uuid.MustParse`): '' when there is none, undefined after
 * answering the panic a non-UUID (slug) value causes.
 */
function parsedTenant(ctx: Ctx): string | undefined {
  const t = ctx.tenant?.id ?? '';
  if (t !== '' && !isUuid(t)) {
    sendPanic(ctx);
    return undefined;
  }
  return t;
}

function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string })?.code === '23505';
}

function nowPlusHours(hours: number): string {
  return new Date(Date.now() + hours * 3_600_000).toISOString().replace(/\.?0+Z$/, 'Z');
}

/** `fmt.Sscanf(gp, "%d", &n)`: a leading (signed) integer, else the default 24. */
function graceHours(raw: string): number {
  const m = /^\s*([+-]?\d+)/.exec(raw);
  return m ? Number(m[1]) : 24;
}

async function getScoped(app: EmulatorApp, id: string, tenant: string): Promise<ServiceKeyRow | undefined> {
  const r = await app.main.query<ServiceKeyRow>(
    `SELECT ${SERVICE_KEY_COLUMNS} FROM auth.service_keys WHERE id = $1::uuid AND ($2::uuid IS NULL OR tenant_id = $2::uuid)`,
    [id, tenant === '' ? null : tenant],
  );
  return r.rows[0];
}

/** GET /:id (also the tail of PUT): tenant-filtered, 404 when not visible. */
async function answerKey(app: EmulatorApp, ctx: Ctx, id: string): Promise<void> {
  const tenant = parsedTenant(ctx);
  if (tenant === undefined) return;
  const k = await getScoped(app, id, tenant).catch(() => undefined);
  if (!k) return sendCode(ctx, 404, 'Service key not found', 'NOT_FOUND');
  ctx.json(200, serviceKeyJson(k));
}

/** A tenant-filtered single-row UPDATE/DELETE answering 204, 404 or 500 `Failed to <op> service key`. */
async function scopedWrite(app: EmulatorApp, ctx: Ctx, op: string, sql: string): Promise<void> {
  const id = keyId(ctx);
  if (!id) return;
  const tenant = parsedTenant(ctx);
  if (tenant === undefined) return;
  let count: number;
  try {
    count = (await app.main.query(`${sql} WHERE id = $1::uuid AND ($2::uuid IS NULL OR tenant_id = $2::uuid)`, [id, tenant === '' ? null : tenant])).rowCount;
  } catch (e) {
    app.log(`service key ${op} failed: ${(e as Error).message}`);
    return sendCode(ctx, 500, `Failed to ${op} service key`, 'INTERNAL_ERROR');
  }
  if (count === 0) return sendCode(ctx, 404, 'Service key not found', 'NOT_FOUND');
  ctx.empty(204);
}

/** Registers the routes and installs the service-key verifier (auth family B, migrations). */
export function registerServiceKeys(router: Router, app: EmulatorApp): void {
  app.serviceKeyVerifier = serviceKeyVerifier(app);
  const p = `${ADMIN_PREFIX}/service-keys`;
  const chain = adminChain(app, DEFAULT_ROLES);

  router.add('GET', p, ...chain, async (ctx) => {
    const t = ctx.tenant?.id ?? '';
    try {
      if (t !== '' && !isUuid(t)) throw new Error(`invalid input syntax for type uuid: "${t}"`);
      const r = await app.main.query<ServiceKeyRow>(
        `SELECT ${SERVICE_KEY_COLUMNS} FROM auth.service_keys WHERE ($1::uuid IS NULL OR tenant_id = $1::uuid) ORDER BY created_at DESC`,
        [t === '' ? null : t],
      );
      ctx.json(200, r.rows.map(serviceKeyJson));
    } catch (e) {
      app.log(`list service keys failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to list service keys', 'INTERNAL_ERROR');
    }
  });

  router.add('POST', p, ...chain, async (ctx) => {
    const req = parseBody<CreateReq>(ctx, CREATE_SPEC);
    if (!req) return;
    if (req.name === '') return sendCode(ctx, 400, 'Name is required', 'MISSING_REQUIRED_FIELD');
    const keyType = req.key_type === '' ? 'service' : req.key_type;
    if (keyType !== 'anon' && keyType !== 'service') return sendCode(ctx, 400, "key_type must be 'anon' or 'service'", 'INVALID_INPUT');
    const key = newServiceKeyValue(keyType);
    const prefix = key.slice(0, 16);
    const scopes = req.scopes ?? (keyType === 'service' ? ['*'] : ['read']);
    const tenant = parsedTenant(ctx);
    if (tenant === undefined) return;
    let id: string;
    try {
      const r = await app.main.query<{ id: string }>(
        `INSERT INTO auth.service_keys (name, description, key_hash, key_prefix, key_type, scopes, allowed_namespaces, enabled, rate_limit_per_minute, rate_limit_per_hour, created_by, expires_at, tenant_id)
         VALUES ($1, $2, $3, $4, $5, $6::text[], $7::text[], true, $8, $9, NULL, $10::timestamptz, $11::uuid) RETURNING id::text AS id`,
        [req.name, req.description, await hashServiceKey(key), prefix, keyType, scopes, req.allowed_namespaces, req.rate_limit_per_minute, req.rate_limit_per_hour, req.expires_at, tenant === '' ? NIL_UUID : tenant],
      );
      id = (r.rows[0] as { id: string }).id;
    } catch (e) {
      app.log(`create service key failed: ${(e as Error).message}`);
      return sendCode(ctx, 500, 'Failed to create service key', 'INTERNAL_ERROR');
    }
    ctx.json(201, {
      id,
      name: req.name,
      description: req.description ?? undefined,
      key_prefix: prefix,
      key_type: keyType,
      scopes,
      allowed_namespaces: req.allowed_namespaces && req.allowed_namespaces.length > 0 ? req.allowed_namespaces : undefined,
      enabled: true,
      rate_limit_per_minute: req.rate_limit_per_minute ?? undefined,
      rate_limit_per_hour: req.rate_limit_per_hour ?? undefined,
      created_at: goNowJson(),
      expires_at: req.expires_at === null ? undefined : rfc3339(req.expires_at),
      key,
    });
  });

  router.add('GET', `${p}/:id`, ...chain, async (ctx) => {
    const id = keyId(ctx);
    if (id) await answerKey(app, ctx, id);
  });

  router.add('PUT', `${p}/:id`, ...chain, async (ctx) => {
    const id = keyId(ctx);
    if (!id) return;
    const req = parseBody<UpdateReq>(ctx, UPDATE_SPEC);
    if (!req) return;
    if (Object.values(req).every((v) => v === null)) return sendCode(ctx, 400, 'No fields to update', 'INVALID_INPUT');
    if (app.opts.quirks.serviceKeyPutBroken) {
      // The real UPDATE also sets updated_at, which auth.service_keys does not have.
      app.log('service key update failed: column "updated_at" of relation "service_keys" does not exist (quirks.serviceKeyPutBroken)');
      return sendCode(ctx, 500, 'Failed to update service key', 'INTERNAL_ERROR');
    }
    let count: number;
    try {
      count = (
        await app.main.query(
          `UPDATE auth.service_keys SET name = COALESCE($1, name), description = COALESCE($2, description), scopes = COALESCE($3::text[], scopes),
                  allowed_namespaces = COALESCE($4::text[], allowed_namespaces), enabled = COALESCE($5, enabled),
                  rate_limit_per_minute = COALESCE($6, rate_limit_per_minute), rate_limit_per_hour = COALESCE($7, rate_limit_per_hour)
            WHERE id = $8::uuid`,
          [req.name, req.description, req.scopes, req.allowed_namespaces, req.enabled, req.rate_limit_per_minute, req.rate_limit_per_hour, id],
        )
      ).rowCount;
    } catch (e) {
      app.log(`service key update failed: ${(e as Error).message}`);
      return sendCode(ctx, 500, 'Failed to update service key', 'INTERNAL_ERROR');
    }
    if (count === 0) return sendCode(ctx, 404, 'Service key not found', 'NOT_FOUND');
    await answerKey(app, ctx, id);
  });

  router.add('DELETE', `${p}/:id`, ...chain, (ctx) => scopedWrite(app, ctx, 'delete', 'DELETE FROM auth.service_keys'));
  router.add('POST', `${p}/:id/disable`, ...chain, (ctx) => scopedWrite(app, ctx, 'disable', 'UPDATE auth.service_keys SET enabled = false'));
  router.add('POST', `${p}/:id/enable`, ...chain, (ctx) => scopedWrite(app, ctx, 'enable', 'UPDATE auth.service_keys SET enabled = true'));

  router.add('POST', `${p}/:id/revoke`, ...chain, async (ctx) => {
    const id = keyId(ctx);
    if (!id) return;
    const uid = ctx.auth?.userId ?? '';
    const revokedBy = isUuid(uid) ? uid : NIL_UUID;
    const reason = formValue(ctx, 'reason', '');
    let count: number;
    try {
      count = (
        await app.main.query(
          'UPDATE auth.service_keys SET revoked_at = now(), revoked_by = $1::uuid, revocation_reason = $2, enabled = false WHERE id = $3::uuid',
          [revokedBy, reason, id],
        )
      ).rowCount;
    } catch (e) {
      app.log(`service key revoke failed: ${(e as Error).message}`);
      return sendCode(ctx, 500, 'Failed to revoke service key', 'INTERNAL_ERROR');
    }
    if (count === 0) return sendCode(ctx, 404, 'Service key not found', 'NOT_FOUND');
    ctx.empty(204);
  });

  router.add('POST', `${p}/:id/deprecate`, ...chain, async (ctx) => {
    const id = keyId(ctx);
    if (!id) return;
    const gp = formValue(ctx, 'grace_period_hours');
    const ends = nowPlusHours(gp === '' ? 24 : graceHours(gp));
    let count: number;
    try {
      count = (await app.main.query('UPDATE auth.service_keys SET deprecated_at = now(), grace_period_ends_at = $1::timestamptz WHERE id = $2::uuid', [ends, id])).rowCount;
    } catch (e) {
      app.log(`service key deprecate failed: ${(e as Error).message}`);
      return sendCode(ctx, 500, 'Failed to deprecate service key', 'INTERNAL_ERROR');
    }
    if (count === 0) return sendCode(ctx, 404, 'Service key not found', 'NOT_FOUND');
    ctx.json(200, { deprecated_at: goNowJson(), grace_period_ends_at: ends });
  });

  router.add('POST', `${p}/:id/rotate`, ...chain, async (ctx) => {
    const id = keyId(ctx);
    if (!id) return;
    const old = (await app.main.query<ServiceKeyRow>(`SELECT ${SERVICE_KEY_COLUMNS} FROM auth.service_keys WHERE id = $1::uuid`, [id])).rows[0];
    if (!old) return sendCode(ctx, 404, 'Service key not found', 'NOT_FOUND');
    const key = newServiceKeyValue(old.key_type);
    const prefix = key.slice(0, 16);
    const hash = await hashServiceKey(key);
    const tenant = parsedTenant(ctx);
    if (tenant === undefined) return;
    const name = `${old.name} (rotated)`;
    let newId: string;
    try {
      newId = await app.main.transaction(async (tx) => {
        const r = await tx.query<{ id: string }>(
          `INSERT INTO auth.service_keys (name, description, key_hash, key_prefix, key_type, scopes, allowed_namespaces, enabled, rate_limit_per_minute, rate_limit_per_hour, created_by, expires_at, tenant_id)
           SELECT $1, description, $2, $3, COALESCE(key_type, 'service'), scopes, allowed_namespaces, true, rate_limit_per_minute, rate_limit_per_hour, NULL, expires_at, $4::uuid
             FROM auth.service_keys WHERE id = $5::uuid RETURNING id::text AS id`,
          [name, hash, prefix, tenant === '' ? NIL_UUID : tenant, id],
        );
        const created = r.rows[0]?.id;
        if (!created) throw new Error('old key vanished');
        await tx.query('UPDATE auth.service_keys SET deprecated_at = now(), replaced_by = $1::uuid WHERE id = $2::uuid', [created, id]);
        // the tenant FK is DEFERRABLE: check it before COMMIT so a violation rolls back here
        await tx.query('SET CONSTRAINTS ALL IMMEDIATE');
        return created;
      });
    } catch (e) {
      app.log(`rotate service key failed: ${(e as Error).message}`);
      return sendCode(ctx, 500, 'Failed to create rotated key', 'INTERNAL_ERROR');
    }
    ctx.json(201, {
      id: newId,
      name,
      description: old.description ?? undefined,
      key_prefix: prefix,
      key_type: old.key_type,
      scopes: old.scopes,
      allowed_namespaces: old.allowed_namespaces && old.allowed_namespaces.length > 0 ? old.allowed_namespaces : undefined,
      enabled: true,
      rate_limit_per_minute: old.rate_limit_per_minute ?? undefined,
      rate_limit_per_hour: old.rate_limit_per_hour ?? undefined,
      created_at: goNowJson(),
      expires_at: old.expires_at === null ? undefined : rfc3339(old.expires_at),
      key,
    });
  });

  router.add('GET', `${p}/:id/revocations`, ...chain, async (ctx) => {
    const id = keyId(ctx);
    if (!id) return;
    const k = (await app.main.query<ServiceKeyRow>(`SELECT ${SERVICE_KEY_COLUMNS} FROM auth.service_keys WHERE id = $1::uuid`, [id])).rows[0];
    if (!k) return sendCode(ctx, 404, 'Service key not found', 'NOT_FOUND');
    ctx.json(200, {
      id: k.id,
      name: k.name,
      revocation_reason: k.revocation_reason,
      revoked_at: k.revoked_at === null ? null : rfc3339(k.revoked_at),
      revoked_by: k.revoked_by,
    });
  });
}

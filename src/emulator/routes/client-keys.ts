/**
 * Client keys `/api/v1/client-keys` (`internal/api/clientkey_handler.go`,
 * `internal/auth/clientkey.go`; keys doc §2). Chain: RequireAdminIfClientKeysDisabled →
 * TenantContext → auth family B → RequireScope (clientkeys:read / clientkeys:write; service and
 * client keys only). No role check. Instance-wide in practice (the handler drops the tenant).
 *
 * | route | success | quirks |
 * |---|---|---|
 * | GET /           | 200 bare array, **`null` when empty**, newest first | non-admin callers see only their own keys (API keys have none) |
 * | GET /:id        | 200 | 400 INVALID_ID, 404 |
 * | POST /          | 201 flat key + `key` | missing/empty/unknown scopes → 500; `allowed_namespaces` never returned |
 * | PATCH /:id      | 200 `{success,message}` | COALESCE; `scopes: []` empties; not found / bad scopes → 500 |
 * | POST /:id/revoke | 200 `{success,message}` | not found → 500 |
 * | DELETE /:id     | 204 | not found → 500 |
 * With `app.auth.allow_user_client_keys` false (row or env), every request gets
 * `403 {"error":"Admin access required. …"}` (the check runs before authentication).
 */
import type { EmulatorApp } from '../app.js';
import type { Ctx, Handler } from '../http/context.js';
import type { Router } from '../http/router.js';
import type { StructSpec } from '../http/bind.js';
import { parseBody, sendCode, sendSuccess } from '../http/errors.js';
import { authOrServiceKey, requireScope } from '../auth/middleware.js';
import { tenantContext } from '../tenancy/middleware.js';
import { isUuid } from '../tenancy/tenants.js';
import { readBoolSetting } from '../settings/store.js';
import { CLIENT_KEY_COLUMNS, clientKeyJson, clientKeyVerifier, hashClientKey, newClientKeyValue, scopesProblem } from '../keys/client-keys.js';
import type { ClientKeyRow } from '../keys/client-keys.js';

interface CreateReq {
  name: string;
  description: string | null;
  scopes: string[] | null;
  rate_limit_per_minute: number;
  expires_at: string | null;
}

const CREATE_SPEC: StructSpec = { name: 'string', description: '*string', scopes: '[]string', rate_limit_per_minute: 'int', expires_at: '*time' };

interface UpdateReq {
  name: string | null;
  description: string | null;
  scopes: string[] | null;
  rate_limit_per_minute: number | null;
}

const UPDATE_SPEC: StructSpec = { name: '*string', description: '*string', scopes: '[]string', rate_limit_per_minute: '*int' };

/** `RequireAdminIfClientKeysDisabled` (runs before authentication, so it refuses everyone). */
function requireAdminIfClientKeysDisabled(app: EmulatorApp): Handler {
  return async (ctx, next) => {
    if (await readBoolSetting(app, 'app.auth.allow_user_client_keys', true)) return next();
    ctx.json(403, { error: 'Admin access required. Only service_role and instance_admin can access this endpoint.' });
  };
}

function isAdminCaller(ctx: Ctx): boolean {
  const role = ctx.auth?.role ?? '';
  return role === 'admin' || role === 'instance_admin' || role === 'service_role';
}

function keyId(ctx: Ctx): string | undefined {
  const id = ctx.params.id ?? '';
  if (!isUuid(id)) {
    sendCode(ctx, 400, 'Invalid client key ID', 'INVALID_ID');
    return undefined;
  }
  return id;
}

async function listKeys(app: EmulatorApp, userId: string | null): Promise<ClientKeyRow[]> {
  const r = await app.main.query<ClientKeyRow>(
    `SELECT ${CLIENT_KEY_COLUMNS} FROM auth.client_keys WHERE ($1::uuid IS NULL OR user_id = $1::uuid) ORDER BY created_at DESC`,
    [userId],
  );
  return r.rows;
}

/** Registers the routes and installs the client-key verifier (auth family B). */
export function registerClientKeys(router: Router, app: EmulatorApp): void {
  app.clientKeyVerifier = clientKeyVerifier(app);
  const p = '/api/v1/client-keys';
  const base = [requireAdminIfClientKeysDisabled(app), tenantContext(app), authOrServiceKey(app)];
  const read = [...base, requireScope('clientkeys:read')];
  const write = [...base, requireScope('clientkeys:write')];

  router.add('GET', p, ...read, async (ctx) => {
    const current = ctx.auth?.userId ?? '';
    const admin = isAdminCaller(ctx);
    let filter: string | null = null;
    const wanted = ctx.q('user_id');
    if (wanted !== '') {
      if (!isUuid(wanted)) return sendCode(ctx, 400, 'Invalid user ID', 'INVALID_ID');
      if (!admin && wanted !== current) return sendCode(ctx, 403, "Cannot view other users' client keys", 'ACCESS_DENIED');
      filter = wanted;
    } else if (!admin && current !== '' && isUuid(current)) {
      filter = current;
    }
    try {
      const rows = await listKeys(app, filter);
      ctx.json(200, rows.length === 0 ? null : rows.map((k) => clientKeyJson(k)));
    } catch {
      sendCode(ctx, 500, 'Failed to list client keys', 'INTERNAL_ERROR');
    }
  });

  router.add('GET', `${p}/:id`, ...read, async (ctx) => {
    const id = keyId(ctx);
    if (!id) return;
    // the server lists every key and picks the id; a direct lookup sees the same rows
    const k = (await app.main.query<ClientKeyRow>(`SELECT ${CLIENT_KEY_COLUMNS} FROM auth.client_keys WHERE id = $1::uuid`, [id])).rows[0];
    if (!k) return sendCode(ctx, 404, 'Client key not found', 'NOT_FOUND');
    if (!isAdminCaller(ctx) && k.user_id !== null && k.user_id !== (ctx.auth?.userId ?? '')) {
      return sendCode(ctx, 403, "Cannot view other users' client keys", 'ACCESS_DENIED');
    }
    ctx.json(200, clientKeyJson(k));
  });

  router.add('POST', p, ...write, async (ctx) => {
    const req = parseBody<CreateReq>(ctx, CREATE_SPEC);
    if (!req) return;
    if (req.name === '') return sendCode(ctx, 400, 'Name is required', 'MISSING_REQUIRED_FIELD');
    const problem = scopesProblem(req.scopes);
    if (problem) {
      app.log(`client key create refused: invalid scopes: ${problem}`);
      return sendCode(ctx, 500, 'Failed to create client key', 'INTERNAL_ERROR');
    }
    const key = newClientKeyValue();
    try {
      const r = await app.main.query<ClientKeyRow>(
        `INSERT INTO auth.client_keys (name, description, key_hash, key_prefix, user_id, scopes, rate_limit_per_minute, expires_at)
         VALUES ($1, $2, $3, $4, NULL, $5::text[], $6, $7::timestamptz) RETURNING ${CLIENT_KEY_COLUMNS}`,
        [req.name, req.description, hashClientKey(key), key.slice(0, 12), req.scopes, req.rate_limit_per_minute === 0 ? 100 : req.rate_limit_per_minute, req.expires_at],
      );
      ctx.json(201, { ...clientKeyJson(r.rows[0] as ClientKeyRow, false), key });
    } catch (e) {
      app.log(`client key create failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to create client key', 'INTERNAL_ERROR');
    }
  });

  router.add('PATCH', `${p}/:id`, ...write, async (ctx) => {
    const id = keyId(ctx);
    if (!id) return;
    const req = parseBody<UpdateReq>(ctx, UPDATE_SPEC);
    if (!req) return;
    let count = 0;
    if (req.scopes === null || req.scopes.length === 0 || !scopesProblem(req.scopes)) {
      count = (
        await app.main.query(
          `UPDATE auth.client_keys SET name = COALESCE($2, name), description = COALESCE($3, description), scopes = COALESCE($4::text[], scopes),
                  rate_limit_per_minute = COALESCE($5, rate_limit_per_minute) WHERE id = $1::uuid`,
          [id, req.name, req.description, req.scopes, req.rate_limit_per_minute],
        )
      ).rowCount;
    }
    if (count === 0) return sendCode(ctx, 500, 'Failed to update client key', 'INTERNAL_ERROR');
    sendSuccess(ctx, 'Client key updated successfully');
  });

  router.add('POST', `${p}/:id/revoke`, ...write, async (ctx) => {
    const id = keyId(ctx);
    if (!id) return;
    const r = await app.main.query('UPDATE auth.client_keys SET revoked_at = now() WHERE id = $1::uuid', [id]);
    if (r.rowCount === 0) return sendCode(ctx, 500, 'Failed to revoke client key', 'INTERNAL_ERROR');
    sendSuccess(ctx, 'Client key revoked successfully');
  });

  router.add('DELETE', `${p}/:id`, ...write, async (ctx) => {
    const id = keyId(ctx);
    if (!id) return;
    const r = await app.main.query('DELETE FROM auth.client_keys WHERE id = $1::uuid', [id]);
    if (r.rowCount === 0) return sendCode(ctx, 500, 'Failed to delete client key', 'INTERNAL_ERROR');
    ctx.empty(204);
  });
}

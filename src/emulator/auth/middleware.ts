/**
 * Authentication and authorisation middlewares.
 *
 * - {@link unifiedAuth}: auth family A, every `/api/v1/admin/*` route (`UnifiedAuthMiddleware`).
 * - {@link requireRole}: `RequireRole(roles…)`.
 * - {@link authOrServiceKey} + {@link requireScope}: auth family B (`/api/v1/webhooks`,
 *   later `/api/v1/client-keys`), `RequireAuthOrServiceKey`.
 */
import type { EmulatorApp } from '../app.js';
import type { AuthLocals, Claims, Ctx, Handler } from '../http/context.js';
import { sendCode, sendPanic } from '../http/errors.js';

/** Reads a cookie value from the request. */
export function cookie(ctx: Ctx, name: string): string {
  for (const part of ctx.header('cookie').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return '';
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * The identity UnifiedAuth derives from verified claims (without the DB promotion):
 * instance_admin tokens use `sub` as user id and set is_instance_admin; others use `user_id`.
 */
export function identityFromClaims(claims: Claims): AuthLocals {
  const role = str(claims.role);
  if (role === 'instance_admin') {
    return { userId: str(claims.sub), email: str(claims.email), role, isInstanceAdmin: true, claims, authType: 'jwt' };
  }
  return { userId: str(claims.user_id), email: str(claims.email), role, isInstanceAdmin: false, claims, authType: 'jwt' };
}

/** Role promotion: an `authenticated` JWT whose auth.users row says admin/service_role. */
async function promotedRole(app: EmulatorApp, userId: string): Promise<string | undefined> {
  if (!userId) return undefined;
  try {
    const r = await app.main.query<{ role: string }>('SELECT role FROM auth.users WHERE id::text = $1', [userId]);
    const role = r.rows[0]?.role;
    return role === 'admin' || role === 'service_role' ? role : undefined;
  } catch {
    return undefined;
  }
}

/**
 * UnifiedAuth: token from cookie `fluxbase_access_token`, else `Authorization` (a `Bearer `
 * prefix is stripped, a bare token is used as is). HS256 with the JWT secret.
 * No token → 401 MISSING_AUTHENTICATION; bad token → 401 INVALID_TOKEN; revoked (non
 * instance_admin) → 401 REVOKED_TOKEN.
 */
export function unifiedAuth(app: EmulatorApp): Handler {
  return async (ctx, next) => {
    let token = cookie(ctx, 'fluxbase_access_token');
    if (token === '') {
      const header = ctx.header('authorization');
      if (header === '') {
        sendCode(ctx, 401, 'Missing authentication', 'MISSING_AUTHENTICATION');
        return;
      }
      token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : header;
    }
    const claims = await app.jwt.verify(token);
    if (!claims) {
      sendCode(ctx, 401, 'Invalid or expired token', 'INVALID_TOKEN');
      return;
    }
    const identity = identityFromClaims(claims);
    if (!identity.isInstanceAdmin) {
      if (typeof claims.jti === 'string' && app.revokedJtis.has(claims.jti)) {
        sendCode(ctx, 401, 'Token has been revoked', 'REVOKED_TOKEN');
        return;
      }
      if (identity.role === 'authenticated') {
        identity.role = (await promotedRole(app, identity.userId)) ?? identity.role;
      }
    }
    ctx.auth = identity;
    await next();
  };
}

/**
 * RequireRole: service_role always passes; tenant_service passes only where tenant_admin is
 * allowed; a service key (auth_type service_key) passes unless it is a tenant_service key on a
 * route without tenant_admin. No role → 401 "Unauthorized" AUTHENTICATION_REQUIRED; otherwise
 * 403 "Insufficient permissions" INSUFFICIENT_PERMISSIONS.
 */
export function requireRole(...roles: string[]): Handler {
  const tenantAdminAllowed = roles.includes('tenant_admin');
  return async (ctx, next) => {
    const auth = ctx.auth;
    if (auth?.authType === 'service_key') {
      if (auth.serviceKeyType !== 'tenant_service' || tenantAdminAllowed) {
        await next();
        return;
      }
      sendCode(ctx, 403, 'Insufficient permissions', 'INSUFFICIENT_PERMISSIONS');
      return;
    }
    if (!auth) {
      sendCode(ctx, 401, 'Unauthorized', 'AUTHENTICATION_REQUIRED');
      return;
    }
    const role = auth.role;
    if (role === 'service_role' || (role === 'tenant_service' && tenantAdminAllowed) || roles.includes(role)) {
      await next();
      return;
    }
    sendCode(ctx, 403, 'Insufficient permissions', 'INSUFFICIENT_PERMISSIONS');
  };
}

/** Verifies a JWT as a "service role token" (role anon, service_role or authenticated). */
async function serviceRoleClaims(app: EmulatorApp, token: string): Promise<Claims | undefined> {
  const claims = await app.jwt.verify(token);
  const role = str(claims?.role);
  return claims && (role === 'anon' || role === 'service_role' || role === 'authenticated') ? claims : undefined;
}

/**
 * Auth family B (`RequireAuthOrServiceKey`), in the server's order:
 * 1. `X-Service-Key` / `Authorization: ServiceKey <key>`: `eyJ…` → service-role JWT
 *    (else `401 {"error":"Invalid service role token"}`); opaque keys → the registered service-key
 *    verifier (else `401 {"error":"Invalid service key"}`).
 * 2. `Authorization: Bearer <jwt>` (or `?token=`): user/dashboard JWT, then a service_role/anon
 *    JWT; else `401 {"error":"Invalid or expired Bearer token"}` (so `Bearer sk_…` fails).
 * 3. a `clientkey` header holding a JWT.
 * 4. a client key (`X-Client-Key`, `?clientkey=`, `clientkey` header) → the client-key verifier,
 *    else `401 {"error":"Invalid client key"}`.
 * 5. nothing → `401 {"error":"Authentication required. Provide Bearer token, X-Client-Key, or X-Service-Key"}`.
 * Bodies carry no `code`. No role check applies afterwards.
 */
export function authOrServiceKey(app: EmulatorApp): Handler {
  return async (ctx, next) => {
    const authHeader = ctx.header('authorization');
    let serviceKey = ctx.header('x-service-key');
    if (serviceKey === '' && authHeader.startsWith('ServiceKey ')) serviceKey = authHeader.slice('ServiceKey '.length);
    if (serviceKey !== '') {
      if (serviceKey.startsWith('eyJ')) {
        const claims = await serviceRoleClaims(app, serviceKey);
        if (!claims) {
          ctx.json(401, { error: 'Invalid service role token' });
          return;
        }
        ctx.auth = { userId: '', email: '', role: str(claims.role), isInstanceAdmin: false, claims, authType: 'service_role_jwt' };
        await next();
        return;
      }
      const viaKey = app.serviceKeyVerifier ? await app.serviceKeyVerifier(serviceKey, ctx) : undefined;
      if (!viaKey) {
        ctx.json(401, { error: 'Invalid service key' });
        return;
      }
      ctx.auth = viaKey;
      await next();
      return;
    }

    const token = authHeader.startsWith('Bearer ') ? authHeader.slice('Bearer '.length) : ctx.q('token');
    if (token !== '') {
      const claims = await app.jwt.verify(token);
      const role = str(claims?.role);
      // F5: every valid JWT but an instance_admin's reaches the revocation check, which
      // dereferences claims.IssuedAt (internal/middleware/clientkey_auth.go:429): a token without
      // `iat` panics, and Fiber's recover answers 500.
      if (claims && role !== 'instance_admin' && claims.iat === undefined && app.opts.quirks.iatRequired) {
        app.log('panic recovered: runtime error: invalid memory address or nil pointer dereference (token without iat, clientkey_auth.go:429)');
        sendPanic(ctx);
        return;
      }
      if (claims && role !== 'service_role' && role !== 'anon') {
        const identity = identityFromClaims(claims);
        if (!identity.isInstanceAdmin && typeof claims.jti === 'string' && app.revokedJtis.has(claims.jti)) {
          ctx.json(401, { error: 'token_revoked', message: 'Token has been revoked' });
          return;
        }
        ctx.auth = identity;
        await next();
        return;
      }
      if (claims && token.startsWith('eyJ')) {
        ctx.auth = { userId: '', email: '', role, isInstanceAdmin: false, claims, authType: 'service_role_jwt' };
        await next();
        return;
      }
      ctx.json(401, { error: 'Invalid or expired Bearer token' });
      return;
    }

    const clientKeyHeader = ctx.header('clientkey');
    if (clientKeyHeader.startsWith('eyJ')) {
      const claims = await app.jwt.verify(clientKeyHeader);
      if (claims) {
        const role = str(claims.role);
        const identity =
          role === 'service_role' || role === 'anon'
            ? { userId: str(claims.user_id), email: '', role, isInstanceAdmin: false, claims, authType: 'service_role_jwt' }
            : identityFromClaims(claims);
        ctx.auth = identity;
        await next();
        return;
      }
    }

    const clientKey = ctx.header('x-client-key') || ctx.q('clientkey') || clientKeyHeader;
    if (clientKey !== '') {
      const viaKey = app.clientKeyVerifier ? await app.clientKeyVerifier(clientKey, ctx) : undefined;
      if (!viaKey) {
        ctx.json(401, { error: 'Invalid client key' });
        return;
      }
      ctx.auth = viaKey;
      await next();
      return;
    }
    ctx.json(401, { error: 'Authentication required. Provide Bearer token, X-Client-Key, or X-Service-Key' });
  };
}

/**
 * RequireScope: applies only to service-key and client-key callers (JWT callers bypass);
 * `*` grants everything. Missing → `403 {"error":"Insufficient permissions","required_scope":…}`.
 */
export function requireScope(...scopes: string[]): Handler {
  return async (ctx, next) => {
    const auth = ctx.auth;
    if (auth && (auth.authType === 'service_key' || auth.authType === 'client_key')) {
      const have = auth.scopes ?? [];
      const missing = scopes.find((s) => !have.includes(s) && !have.includes('*'));
      if (missing !== undefined) {
        ctx.json(403, { error: 'Insufficient permissions', required_scope: missing });
        return;
      }
    }
    await next();
  };
}

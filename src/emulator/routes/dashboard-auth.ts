/**
 * Dashboard auth (`internal/api/admin_auth_handler.go`; auth doc §2.3). Group "dashboard-auth"
 * under /api/v1/admin with **no tenant middleware**:
 *
 * | route | chain | success |
 * |---|---|---|
 * | GET  /setup/status | setup limiter | 200 `{"needs_setup","has_admin"}` |
 * | POST /setup        | setup limiter (same bucket) | 201 `{user,access_token,refresh_token,expires_in}` |
 * | POST /login        | login limiter | 200, same shape |
 * | POST /refresh      | – | 200 `{access_token, refresh_token (unchanged), expires_in, user}` |
 * | POST /logout       | UnifiedAuth | 200 `{"success":true,"message":"Logged out successfully"}` |
 * | GET  /me           | UnifiedAuth | 200 `{"user":{id,email,role}}` only for role `admin` |
 */
import type { EmulatorApp } from '../app.js';
import type { Ctx, Handler } from '../http/context.js';
import type { Router } from '../http/router.js';
import type { Sql } from '../db/types.js';
import { pgErrorText } from '../db/types.js';
import { parseBody, sendCode, sendSuccess } from '../http/errors.js';
import { goNowJson, rfc3339 } from '../http/json.js';
import { unifiedAuth } from '../auth/middleware.js';
import { constantTimeEqual, hashPassword, verifyPassword } from '../auth/passwords.js';
import { ACCESS_TTL_SECONDS } from '../auth/jwt.js';
import { ADMIN_PREFIX } from './chains.js';

interface UserRow {
  id: string;
  email: string;
  email_verified: boolean;
  password_hash: string;
  full_name: string | null;
  avatar_url: string | null;
  role: string;
  totp_enabled: boolean;
  is_active: boolean;
  is_locked: boolean;
  locked_until: string | null;
  failed_login_attempts: number;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
}

const USER_COLUMNS =
  'id::text AS id, email, email_verified, password_hash, full_name, avatar_url, role, totp_enabled, is_active, is_locked, locked_until, failed_login_attempts, last_login_at, created_at, updated_at';

/** `DashboardUser` JSON: full_name, avatar_url, locked_until, last_login_at omitted when null. */
export function dashboardUserJson(u: UserRow): Record<string, unknown> {
  return {
    id: u.id,
    email: u.email,
    email_verified: u.email_verified,
    full_name: u.full_name ?? undefined,
    avatar_url: u.avatar_url ?? undefined,
    totp_enabled: u.totp_enabled,
    is_active: u.is_active,
    is_locked: u.is_locked,
    locked_until: u.locked_until ? rfc3339(u.locked_until) : undefined,
    last_login_at: u.last_login_at ? rfc3339(u.last_login_at) : undefined,
    created_at: rfc3339(u.created_at),
    updated_at: rfc3339(u.updated_at),
    role: u.role || undefined,
  };
}

function clientIp(ctx: Ctx): string {
  return ctx.req.socket.remoteAddress ?? '';
}

function limiter(app: EmulatorApp, which: 'setup' | 'login'): Handler {
  const l = which === 'setup' ? app.setupLimiter : app.loginLimiter;
  return async (ctx, next) => {
    if (l.check(ctx, clientIp(ctx))) await next();
  };
}

/** Setup is complete when the `setup_completed` row exists in `app.settings` (any value). */
async function isSetupComplete(db: Sql): Promise<boolean> {
  const r = await db.query<{ e: boolean }>("SELECT EXISTS(SELECT 1 FROM app.settings WHERE key = 'setup_completed') AS e");
  return r.rows[0]?.e === true;
}

/** `ValidateEmail`: trimmed, 3–254 chars, x@y.z, none of `<>"'\`. */
function emailProblem(email: string): string | undefined {
  const e = email.trim();
  const len = [...e].length;
  if (len < 3) return 'email address is too short';
  if (len > 254) return 'email address is too long (max 254 characters)';
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e) || /[<>"'\\]/.test(e)) return 'invalid email address';
  return undefined;
}

function nameProblem(name: string): string | undefined {
  const n = [...name.trim()].length;
  if (n < 1) return 'name is required';
  if (n > 100) return 'name is too long (max 100 characters)';
  return undefined;
}

type LoginOutcome =
  | { ok: true; user: UserRow; accessToken: string; refreshToken: string }
  | { ok: false; kind: 'invalid' | 'locked' | 'inactive' };

/** `DashboardAuthService.Login`: lockout after the 5th consecutive failure, for 15 minutes. */
async function login(app: EmulatorApp, email: string, password: string): Promise<LoginOutcome> {
  const db = app.main;
  const r = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM platform.users WHERE email = $1 AND deleted_at IS NULL`, [email]);
  const user = r.rows[0];
  if (!user) return { ok: false, kind: 'invalid' };
  if (user.is_locked) {
    const stillLocked = await db.query<{ locked: boolean }>('SELECT coalesce(locked_until > now(), true) AS locked FROM platform.users WHERE id = $1::uuid', [user.id]);
    if (stillLocked.rows[0]?.locked) return { ok: false, kind: 'locked' };
    await db.query('UPDATE platform.users SET is_locked = false, locked_until = NULL, failed_login_attempts = 0, updated_at = now() WHERE id = $1::uuid', [user.id]);
    user.is_locked = false;
    user.locked_until = null;
  }
  if (!user.is_active) return { ok: false, kind: 'inactive' };
  if (!(await verifyPassword(password, user.password_hash))) {
    await db.query(
      `UPDATE platform.users SET failed_login_attempts = failed_login_attempts + 1,
         is_locked = failed_login_attempts >= 4,
         locked_until = CASE WHEN failed_login_attempts >= 4 THEN now() + interval '15 minutes' ELSE locked_until END
       WHERE id = $1::uuid`,
      [user.id],
    );
    return { ok: false, kind: 'invalid' };
  }
  await db.query('UPDATE platform.users SET failed_login_attempts = 0, locked_until = NULL, last_login_at = now() WHERE id = $1::uuid', [user.id]);
  const pair = await app.jwt.dashboardPair(
    { id: user.id, email: user.email, role: user.role || 'dashboard_user', fullName: user.full_name },
    app.defaultTenantId || undefined,
  );
  return { ok: true, user, accessToken: pair.accessToken, refreshToken: pair.refreshToken };
}

export function registerDashboardAuth(router: Router, app: EmulatorApp): void {
  const p = ADMIN_PREFIX;

  router.add('GET', `${p}/setup/status`, limiter(app, 'setup'), async (ctx) => {
    let complete = false;
    try {
      complete = await isSetupComplete(app.main);
    } catch {
      complete = false;
    }
    ctx.json(200, { needs_setup: !complete, has_admin: complete });
  });

  router.add('POST', `${p}/setup`, limiter(app, 'setup'), async (ctx) => {
    if (await isSetupComplete(app.main)) {
      sendCode(ctx, 403, 'Setup has already been completed', 'SETUP_ALREADY_COMPLETED');
      return;
    }
    const req = parseBody<{ email: string; password: string; name: string; setup_token: string }>(ctx, {
      email: 'string',
      password: 'string',
      name: 'string',
      setup_token: 'string',
    });
    if (!req) return;
    if (app.opts.setupToken === '') {
      sendCode(ctx, 403, 'Admin setup is disabled. Set FLUXBASE_SECURITY_SETUP_TOKEN to enable.', 'SETUP_DISABLED');
      return;
    }
    if (req.setup_token === '') {
      sendCode(ctx, 400, 'setup_token is required', 'MISSING_REQUIRED_FIELD');
      return;
    }
    if (!constantTimeEqual(req.setup_token, app.opts.setupToken)) {
      sendCode(ctx, 401, 'Invalid setup token', 'INVALID_SETUP_TOKEN');
      return;
    }
    if (Buffer.byteLength(req.password) < 12) {
      sendCode(ctx, 400, 'password must be at least 12 characters long', 'VALIDATION_FAILED');
      return;
    }
    const problem =
      (emailProblem(req.email) && `invalid email: ${emailProblem(req.email)}`) ||
      (nameProblem(req.name) && `invalid name: ${nameProblem(req.name)}`) ||
      (Buffer.byteLength(req.password) > 72 ? 'password must be at most 72 characters' : undefined);
    if (problem) {
      sendCode(ctx, 500, `Failed to create admin user: ${problem}`, 'INTERNAL_ERROR');
      return;
    }
    let adminId = '';
    try {
      const r = await app.main.query<{ id: string }>(
        `INSERT INTO platform.users (email, password_hash, full_name, email_verified, role) VALUES ($1, $2, $3, true, 'instance_admin') RETURNING id::text AS id`,
        [req.email, await hashPassword(req.password), req.name],
      );
      adminId = r.rows[0]?.id ?? '';
    } catch (e) {
      sendCode(ctx, 500, `Failed to create admin user: failed to create user: ${pgErrorText(e)}`, 'INTERNAL_ERROR');
      return;
    }
    // MarkSetupComplete: a system row listed by GET /system/settings like any other.
    await app.main.query(
      `INSERT INTO app.settings (key, value, description, category)
       VALUES ('setup_completed', jsonb_build_object('completed', true, 'completed_at', $1::text, 'first_admin_id', $2::text, 'first_admin_email', $3::text),
               'Tracks initial setup completion', 'system')
       ON CONFLICT DO NOTHING`,
      [goNowJson(), adminId, req.email],
    );
    const out = await login(app, req.email, req.password);
    if (!out.ok) {
      sendCode(ctx, 500, 'User created but failed to generate access token', 'INTERNAL_ERROR');
      return;
    }
    ctx.json(201, {
      user: dashboardUserJson(out.user),
      access_token: out.accessToken,
      refresh_token: out.refreshToken,
      expires_in: ACCESS_TTL_SECONDS,
    });
  });

  router.add('POST', `${p}/login`, limiter(app, 'login'), async (ctx) => {
    const req = parseBody<{ email: string; password: string }>(ctx, { email: 'string', password: 'string' });
    if (!req) return;
    const out = await login(app, req.email, req.password);
    if (!out.ok) {
      if (out.kind === 'invalid') sendCode(ctx, 401, 'Invalid email or password', 'INVALID_CREDENTIALS');
      else if (out.kind === 'locked') sendCode(ctx, 403, 'Account is locked due to too many failed login attempts', 'ACCOUNT_LOCKED');
      else sendCode(ctx, 500, 'Authentication failed: account is inactive', 'INTERNAL_ERROR');
      return;
    }
    if (out.user.role !== 'instance_admin') {
      sendCode(ctx, 403, 'Access denied. Admin role required.', 'ADMIN_REQUIRED');
      return;
    }
    ctx.json(200, {
      user: dashboardUserJson(out.user),
      access_token: out.accessToken,
      refresh_token: out.refreshToken,
      expires_in: ACCESS_TTL_SECONDS,
    });
  });

  router.add('POST', `${p}/refresh`, async (ctx) => {
    const req = parseBody<{ refresh_token: string }>(ctx, { refresh_token: 'string' });
    if (!req) return;
    const claims = await app.jwt.verify(req.refresh_token);
    const role = typeof claims?.role === 'string' ? claims.role : '';
    if (!claims || claims.token_type !== 'refresh' || (role !== 'instance_admin' && role !== 'tenant_admin')) {
      sendCode(ctx, 401, 'Invalid or expired refresh token', 'INVALID_TOKEN');
      return;
    }
    const accessToken = await app.jwt.accessFromRefresh(claims);
    const userId = String(claims.user_id ?? '');
    const r = await app.main.query<UserRow>(`SELECT ${USER_COLUMNS} FROM platform.users WHERE id::text = $1 AND deleted_at IS NULL`, [userId]);
    const user = r.rows[0];
    if (!user) {
      sendCode(ctx, 500, 'Failed to fetch user', 'OPERATION_FAILED');
      return;
    }
    if (user.role !== 'instance_admin' && user.role !== 'tenant_admin') {
      sendCode(ctx, 403, 'Admin role required', 'ADMIN_REQUIRED');
      return;
    }
    ctx.json(200, {
      access_token: accessToken,
      expires_in: ACCESS_TTL_SECONDS,
      refresh_token: req.refresh_token,
      user: dashboardUserJson(user),
    });
  });

  router.add('POST', `${p}/logout`, unifiedAuth(app), async (ctx) => {
    const header = ctx.header('authorization');
    if (header === '') {
      sendCode(ctx, 401, 'Missing authentication', 'MISSING_AUTHENTICATION');
      return;
    }
    const parts = header.split(' ');
    if (parts.length !== 2 || parts[0] !== 'Bearer') {
      sendCode(ctx, 401, 'Invalid authorization header format', 'INVALID_FORMAT');
      return;
    }
    const claims = await app.jwt.verify(parts[1] ?? '');
    if (claims && typeof claims.jti === 'string') app.revokedJtis.add(claims.jti);
    sendSuccess(ctx, 'Logged out successfully');
  });

  router.add('GET', `${p}/me`, unifiedAuth(app), async (ctx) => {
    const auth = ctx.auth;
    if (!auth || auth.userId === '') {
      sendCode(ctx, 401, 'User not authenticated', 'AUTHENTICATION_REQUIRED');
      return;
    }
    if (auth.role !== 'admin') {
      sendCode(ctx, 403, 'Admin role required', 'ADMIN_REQUIRED');
      return;
    }
    ctx.json(200, { user: { email: auth.email, id: auth.userId, role: auth.role } });
  });
}

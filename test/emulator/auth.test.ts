import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ADMIN, Api, appAdminToken, instanceAdminToken, signToken, startPgEmulator, tenantAdminToken } from './helpers.js';

describe('emulator auth (auth doc §2, §11.1)', () => {
  let emu: RunningEmulator;
  let api: Api;
  const setupToken = 'setup-token-for-tests';

  beforeAll(async () => {
    emu = await startPgEmulator({ setupToken, rateLimits: { setup: 1000, login: 3 } });
    api = new Api(emu);
  });
  afterAll(() => emu?.close());

  it('rejects a request without credentials with 401 MISSING_AUTHENTICATION', async () => {
    const r = await api.get(`${ADMIN}/ddl/schemas`, { token: null });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: 'Missing authentication', code: 'MISSING_AUTHENTICATION' });
    expect(r.body.request_id).toBe(r.headers['x-request-id']);
  });

  it('rejects a token signed with another secret with 401 INVALID_TOKEN', async () => {
    const r = await api.get(`${ADMIN}/ddl/schemas`, { token: 'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJl' });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: 'Invalid or expired token', code: 'INVALID_TOKEN' });
  });

  it('rejects an expired token', async () => {
    const token = await signToken(emu, { role: 'service_role' }, -10);
    expect((await api.get(`${ADMIN}/ddl/schemas`, { token })).status).toBe(401);
  });

  it('accepts a bare JWT in Authorization (no Bearer prefix) and the fluxbase_access_token cookie', async () => {
    const bare = await api.get(`${ADMIN}/ddl/schemas`, { token: null, headers: { authorization: emu.serviceRoleToken } });
    expect(bare.status).toBe(200);
    const cookie = await api.get(`${ADMIN}/ddl/schemas`, { token: null, headers: { cookie: `fluxbase_access_token=${emu.serviceRoleToken}` } });
    expect(cookie.status).toBe(200);
  });

  it('ignores X-Service-Key on admin routes', async () => {
    const r = await api.get(`${ADMIN}/ddl/schemas`, { token: null, headers: { 'x-service-key': 'sk_live_whatever' } });
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('MISSING_AUTHENTICATION');
  });

  it('checks X-FB-Tenant before authentication: an unknown tenant gives 404 even unauthenticated', async () => {
    const r = await api.get(`${ADMIN}/ddl/schemas`, { token: null, tenant: 'no-such-tenant' });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: 'tenant not found' });
  });

  describe('role matrix', () => {
    const cases: Array<[string, string, string, number]> = [
      ['tenant_admin may list schemas (default roles)', 'tenant', 'GET /ddl/schemas', 200],
      ['tenant_admin may not create policies', 'tenant', 'POST /policies', 403],
      ['tenant_admin may not toggle RLS', 'tenant', 'POST /tables/public/x/rls/toggle', 403],
      ['tenant_admin may not list tenants', 'tenant', 'GET /tenants', 403],
      ['tenant_admin may not create tenants', 'tenant', 'POST /tenants', 403],
      ['tenant_admin may not list deleted tenants', 'tenant', 'GET /tenants/deleted', 403],
      ['an authenticated app user gets 403 everywhere', 'user', 'GET /ddl/schemas', 403],
      ['an app admin may create policies', 'appadmin', 'GET /policies', 200],
      ['instance_admin may list tenants', 'instance', 'GET /tenants', 200],
      ['service_role may list tenants', 'service', 'GET /tenants', 200],
    ];
    it.each(cases)('%s', async (_name, who, route, status) => {
      const token =
        who === 'tenant'
          ? await tenantAdminToken(emu)
          : who === 'user'
            ? await signToken(emu, { user_id: crypto.randomUUID(), role: 'authenticated' })
            : who === 'appadmin'
              ? await appAdminToken(emu)
              : who === 'instance'
                ? await instanceAdminToken(emu)
                : emu.serviceRoleToken;
      const [method, path] = route.split(' ') as [string, string];
      const r = await api.call(method, `${ADMIN}${path}`, { token, body: method === 'POST' ? {} : undefined });
      expect(r.status).toBe(status);
      if (status === 403) expect(r.body).toMatchObject({ error: 'Insufficient permissions', code: 'INSUFFICIENT_PERMISSIONS' });
    });

    it('gives 403 to a token whose role claim is missing (user_role is then the empty string)', async () => {
      const token = await signToken(emu, { user_id: crypto.randomUUID() });
      const r = await api.get(`${ADMIN}/ddl/schemas`, { token });
      expect(r.status).toBe(403);
    });

    it('gives a service_role JWT 403 on GET /tenants/:id and 401 on /me', async () => {
      const list = await api.get(`${ADMIN}/tenants`);
      const id = list.body[0].id;
      const one = await api.get(`${ADMIN}/tenants/${id}`);
      expect(one.status).toBe(403);
      expect(one.body).toMatchObject({ error: 'Access denied to this tenant', code: 'ACCESS_DENIED' });
      const me = await api.get(`${ADMIN}/me`);
      expect(me.status).toBe(401);
      expect(me.body).toMatchObject({ error: 'User not authenticated', code: 'AUTHENTICATION_REQUIRED' });
    });
  });

  describe('dashboard setup, login, refresh, logout, me', () => {
    const email = 'owner@example.com';
    const password = 'correct-horse-battery';

    it('reports needs_setup before setup and refuses a wrong setup token', async () => {
      expect((await api.get(`${ADMIN}/setup/status`, { token: null })).body).toEqual({ needs_setup: true, has_admin: false });
      const bad = await api.post(`${ADMIN}/setup`, { email, password, name: 'Owner', setup_token: 'nope' }, { token: null });
      expect(bad.status).toBe(401);
      expect(bad.body.code).toBe('INVALID_SETUP_TOKEN');
      const short = await api.post(`${ADMIN}/setup`, { email, password: 'short', name: 'Owner', setup_token: setupToken }, { token: null });
      expect(short.status).toBe(400);
      expect(short.body).toMatchObject({ error: 'password must be at least 12 characters long', code: 'VALIDATION_FAILED' });
      const noToken = await api.post(`${ADMIN}/setup`, { email, password, name: 'Owner' }, { token: null });
      expect(noToken.body).toMatchObject({ error: 'setup_token is required', code: 'MISSING_REQUIRED_FIELD' });
    });

    it('creates the first instance admin with 201 and logs it in', async () => {
      const r = await api.post(`${ADMIN}/setup`, { email, password, name: 'Owner', setup_token: setupToken }, { token: null });
      expect(r.status).toBe(201);
      expect(r.body.user).toMatchObject({ email, email_verified: true, full_name: 'Owner', role: 'instance_admin', totp_enabled: false, is_active: true, is_locked: false });
      expect(r.body.user).not.toHaveProperty('last_login_at');
      expect(r.body.expires_in).toBe(86400);
      expect((await api.get(`${ADMIN}/setup/status`, { token: null })).body).toEqual({ needs_setup: false, has_admin: true });
      const again = await api.post(`${ADMIN}/setup`, { email, password, name: 'Owner', setup_token: setupToken }, { token: null });
      expect(again.status).toBe(403);
      expect(again.body.code).toBe('SETUP_ALREADY_COMPLETED');
    });

    it('logs in, refreshes without rotating the refresh token, and answers /me with 403 ADMIN_REQUIRED', async () => {
      const wrong = await api.post(`${ADMIN}/login`, { email, password: 'wrong-password!' }, { token: null });
      expect(wrong.status).toBe(401);
      expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
      const login = await api.post(`${ADMIN}/login`, { email, password }, { token: null });
      expect(login.status).toBe(200);
      expect(login.body.user.last_login_at).toBeTruthy();
      const refreshed = await api.post(`${ADMIN}/refresh`, { refresh_token: login.body.refresh_token }, { token: null });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.refresh_token).toBe(login.body.refresh_token);
      expect(refreshed.body.user.role).toBe('instance_admin');
      const admin = api.as(refreshed.body.access_token);
      expect((await admin.get(`${ADMIN}/tenants`)).status).toBe(200);
      const me = await admin.get(`${ADMIN}/me`);
      expect(me.status).toBe(403);
      expect(me.body).toMatchObject({ error: 'Admin role required', code: 'ADMIN_REQUIRED' });
      const badRefresh = await api.post(`${ADMIN}/refresh`, { refresh_token: login.body.access_token }, { token: null });
      expect(badRefresh.status).toBe(401);
      expect(badRefresh.body).toMatchObject({ error: 'Invalid or expired refresh token', code: 'INVALID_TOKEN' });
    });

    it('rate-limits login with the real 429 body once the configured limit is used up', async () => {
      let last;
      for (let i = 0; i < 4; i++) last = await api.post(`${ADMIN}/login`, { email, password: 'x' }, { token: null });
      expect(last?.status).toBe(429);
      expect(last?.body).toEqual({
        code: 'RATE_LIMIT_EXCEEDED',
        error: 'Rate limit exceeded',
        message: 'Too many admin login attempts. Please try again in 1 minutes.',
        retry_after: 60,
      });
      expect(last?.headers['retry-after']).toBe('60');
    });

    it('answers /me for an app admin and revokes its token at logout (instance_admin tokens survive logout)', async () => {
      const token = await appAdminToken(emu);
      const app = api.as(token);
      const me = await app.get(`${ADMIN}/me`);
      expect(me.status).toBe(200);
      expect(me.body.user.role).toBe('admin');
      const out = await app.post(`${ADMIN}/logout`);
      expect(out.body).toEqual({ success: true, message: 'Logged out successfully' });
      const after = await app.get(`${ADMIN}/me`);
      expect(after.status).toBe(401);
      expect(after.body.code).toBe('REVOKED_TOKEN');

      const inst = api.as(await instanceAdminToken(emu));
      await inst.post(`${ADMIN}/logout`);
      expect((await inst.get(`${ADMIN}/tenants`)).status).toBe(200);
    });

    it('requires exactly "Bearer <token>" on logout', async () => {
      const r = await api.post(`${ADMIN}/logout`, undefined, { token: null, headers: { authorization: emu.serviceRoleToken } });
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('INVALID_FORMAT');
    });
  });
});

describe('setup is disabled without a setup token', () => {
  it('answers 403 SETUP_DISABLED and shares one rate-limit bucket between status and setup', async () => {
    const emu = await startPgEmulator({ rateLimits: { setup: 3, login: 10 } });
    try {
      const api = new Api(emu, null);
      expect((await api.get(`${ADMIN}/setup/status`)).status).toBe(200);
      const r = await api.post(`${ADMIN}/setup`, { email: 'a@b.co', password: 'x'.repeat(12), name: 'A', setup_token: 't' });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('SETUP_DISABLED');
      expect((await api.get(`${ADMIN}/setup/status`)).status).toBe(200);
      const limited = await api.get(`${ADMIN}/setup/status`);
      expect(limited.status).toBe(429);
      expect(limited.body.retry_after).toBe(900);
    } finally {
      await emu.close();
    }
  });
});

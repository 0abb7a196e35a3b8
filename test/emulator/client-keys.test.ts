import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ADMIN, Api, instanceAdminToken, signToken, startPgEmulator } from './helpers.js';

const CK = '/api/v1/client-keys';
const W = '/api/v1/webhooks';

describe('emulator client keys (keys doc §2)', () => {
  let emu: RunningEmulator;
  let api: Api;

  beforeAll(async () => {
    emu = await startPgEmulator();
    api = new Api(emu);
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('lists null when empty, creates a flat key shown once, and lists newest first', async () => {
    expect((await api.get(CK)).body).toBeNull();
    const r = await api.post(CK, { name: 'mobile', description: 'app', scopes: ['tables:read', 'webhooks:read'], rate_limit: 5, expires_in: 60 });
    expect(r.status).toBe(201);
    expect(r.body.key).toMatch(/^fbk_[A-Za-z0-9_-]{43}=$/);
    expect(r.body).toMatchObject({ name: 'mobile', description: 'app', scopes: ['tables:read', 'webhooks:read'], rate_limit_per_minute: 100, key_prefix: r.body.key.slice(0, 12) });
    expect(r.body).not.toHaveProperty('client_key');
    for (const absent of ['user_id', 'allowed_namespaces', 'revoked_at', 'expires_at', 'last_used_at', 'revoked']) expect(r.body).not.toHaveProperty(absent);
    const second = await api.post(CK, { name: 'mobile', scopes: ['*'], rate_limit_per_minute: 7 }); // names are not unique
    expect(second.status).toBe(201);
    const list = (await api.get(CK)).body as Array<{ id: string; key?: string }>;
    expect(list.map((k) => k.id)).toEqual([second.body.id, r.body.id]);
    expect(list[0]).not.toHaveProperty('key');
    const got = await api.get(`${CK}/${r.body.id}`);
    expect(got.body).toMatchObject({ id: r.body.id, name: 'mobile' });
    expect((await api.get(`${CK}/${randomUUID()}`)).body).toMatchObject({ error: 'Client key not found', code: 'NOT_FOUND' });
    expect((await api.get(`${CK}/x`)).body).toMatchObject({ error: 'Invalid client key ID', code: 'INVALID_ID' });
  });

  it('refuses missing, empty and unknown scopes with 500 and a missing name with 400', async () => {
    expect((await api.post(CK, { scopes: ['*'] })).body).toMatchObject({ error: 'Name is required', code: 'MISSING_REQUIRED_FIELD' });
    for (const scopes of [undefined, [], ['read:users'], ['tables:read', 'nope']]) {
      const r = await api.post(CK, { name: 'bad', scopes });
      expect(r.status).toBe(500);
      expect(r.body).toMatchObject({ error: 'Failed to create client key', code: 'INTERNAL_ERROR' });
    }
  });

  it('PATCHes with COALESCE semantics and answers 500 for unknown keys and bad scopes', async () => {
    const k = await api.post(CK, { name: 'patch', description: 'keep', scopes: ['storage:read'] });
    const before = (await api.get(`${CK}/${k.body.id}`)).body;
    const r = await api.patch(`${CK}/${k.body.id}`, { name: 'renamed', description: null });
    expect(r.body).toEqual({ success: true, message: 'Client key updated successfully' });
    const after = (await api.get(`${CK}/${k.body.id}`)).body;
    expect(after).toMatchObject({ name: 'renamed', description: 'keep', scopes: ['storage:read'] });
    expect(after.updated_at > before.updated_at).toBe(true);
    expect((await api.patch(`${CK}/${k.body.id}`, { scopes: ['bogus'] })).body).toMatchObject({ error: 'Failed to update client key', code: 'INTERNAL_ERROR' });
    expect((await api.patch(`${CK}/${k.body.id}`, { scopes: [] })).status).toBe(200);
    expect((await api.get(`${CK}/${k.body.id}`)).body.scopes).toEqual([]);
    expect((await api.patch(`${CK}/${randomUUID()}`, { name: 'x' })).status).toBe(500);
  });

  it('revokes with 200 and deletes with 204; unknown keys → 500 for both', async () => {
    const k = await api.post(CK, { name: 'gone', scopes: ['webhooks:read'] });
    expect((await api.get(W, { token: null, headers: { 'x-client-key': k.body.key } })).status).toBe(200);
    expect((await api.post(`${CK}/${k.body.id}/revoke`)).body).toEqual({ success: true, message: 'Client key revoked successfully' });
    expect((await api.get(`${CK}/${k.body.id}`)).body.revoked_at).toBeDefined();
    expect((await api.get(W, { token: null, headers: { 'x-client-key': k.body.key } })).body).toEqual({ error: 'Invalid client key' });
    expect((await api.post(`${CK}/${randomUUID()}/revoke`)).body).toMatchObject({ error: 'Failed to revoke client key' });
    const del = await api.delete(`${CK}/${k.body.id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    const again = await api.delete(`${CK}/${k.body.id}`);
    expect(again.status).toBe(500);
    expect(again.body).toMatchObject({ error: 'Failed to delete client key', code: 'INTERNAL_ERROR' });
  });

  it('authenticates client keys by header or query with scope checks, and expired keys fail', async () => {
    const k = await api.post(CK, { name: 'reader', scopes: ['clientkeys:read'] });
    expect((await api.get(CK, { token: null, headers: { 'x-client-key': k.body.key } })).status).toBe(200);
    expect((await api.get(`${CK}?clientkey=${encodeURIComponent(k.body.key)}`, { token: null })).status).toBe(200);
    expect((await api.get(CK, { token: null, headers: { clientkey: k.body.key } })).status).toBe(200);
    expect((await api.post(CK, { name: 'x', scopes: ['*'] }, { token: null, headers: { 'x-client-key': k.body.key } })).body).toEqual({
      error: 'Insufficient permissions',
      required_scope: 'clientkeys:write',
    });
    expect((await api.get(`${CK}/${k.body.id}`)).body.last_used_at).toBeDefined();
    const old = await api.post(CK, { name: 'old', scopes: ['*'], expires_at: '2001-01-01T00:00:00Z' });
    expect((await api.get(CK, { token: null, headers: { 'x-client-key': old.body.key } })).body).toEqual({ error: 'Invalid client key' });
    expect((await api.get(CK, { token: null, headers: { 'x-client-key': 'fbk_nope' } })).body).toEqual({ error: 'Invalid client key' });
  });

  it('shows API keys to admin-like callers only; app users see their own (none) and may not ask for others', async () => {
    const admin = api.as(await instanceAdminToken(emu));
    expect((await admin.get(CK)).body.length).toBeGreaterThan(0);
    const userId = randomUUID();
    const user = api.as(await signToken(emu, { user_id: userId, role: 'authenticated' }));
    expect((await user.get(CK)).body).toBeNull();
    expect((await user.get(`${CK}?user_id=${randomUUID()}`)).body).toMatchObject({ error: "Cannot view other users' client keys", code: 'ACCESS_DENIED' });
    expect((await user.get(`${CK}?user_id=bad`)).body).toMatchObject({ error: 'Invalid user ID', code: 'INVALID_ID' });
    expect((await user.get(`${CK}?user_id=${userId}`)).body).toBeNull();
  });

  it('is instance-wide: a tenant header changes nothing', async () => {
    const t = await api.post(`${ADMIN}/tenants`, { slug: 'ck', name: 'C' });
    const all = (await api.get(CK)).body.length;
    expect((await api.get(CK, { tenant: t.body.tenant.id })).body.length).toBe(all);
    expect((await api.get(CK, { tenant: 'no-such-tenant' })).body).toEqual({ error: 'tenant not found' });
  });
});

describe('app.auth.allow_user_client_keys disabled', () => {
  it('refuses everyone with 403 before authentication (env override)', async () => {
    const emu = await startPgEmulator({ envOverrides: { FLUXBASE_AUTH_ALLOW_USER_CLIENT_KEYS: 'false' } });
    try {
      const r = await new Api(emu).get(CK);
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ error: 'Admin access required. Only service_role and instance_admin can access this endpoint.' });
    } finally {
      await emu.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ADMIN, Api, SETUP_TOKEN, setupInstanceAdmin, startPgEmulator, tenantAdminToken } from './helpers.js';

const SK = `${ADMIN}/service-keys`;
const W = '/api/v1/webhooks';
const CK = '/api/v1/client-keys';

describe('emulator service keys (keys doc §1)', () => {
  let emu: RunningEmulator;
  let api: Api;
  let admin: Api;

  beforeAll(async () => {
    emu = await startPgEmulator({ setupToken: SETUP_TOKEN });
    api = new Api(emu);
    admin = api.as((await setupInstanceAdmin(api)).token);
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('creates a key shown once, with the real format, defaults and omitted NULLs', async () => {
    const r = await api.post(SK, { name: 'ci-deployer', enabled: false, tenant_id: randomUUID() });
    expect(r.status).toBe(201);
    expect(r.body.key).toMatch(/^sk_live_[A-Za-z0-9_-]{43}=$/);
    expect(r.body.key).toHaveLength(52);
    expect(r.body).toMatchObject({ name: 'ci-deployer', key_type: 'service', scopes: ['*'], enabled: true, key_prefix: r.body.key.slice(0, 16) });
    for (const absent of ['description', 'allowed_namespaces', 'rate_limit_per_minute', 'created_by', 'expires_at', 'revoked_at', 'tenant_id', 'updated_at', 'is_active']) {
      expect(r.body).not.toHaveProperty(absent);
    }
    const got = await api.get(`${SK}/${r.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('key');
    expect(got.body).toMatchObject({ id: r.body.id, key_prefix: r.body.key_prefix, scopes: ['*'] });

    const anon = await api.post(SK, { name: 'public', key_type: 'anon', description: 'd', allowed_namespaces: [], rate_limit_per_minute: 5, expires_at: '2099-01-01T00:00:00Z' });
    expect(anon.body.key.startsWith('pk_live_')).toBe(true);
    expect(anon.body).toMatchObject({ key_type: 'anon', scopes: ['read'], description: 'd', rate_limit_per_minute: 5, expires_at: '2099-01-01T00:00:00Z' });
    expect(anon.body).not.toHaveProperty('allowed_namespaces'); // [] is omitted like NULL
  });

  it('validates create, answers 500 for a duplicate name and lists the tenant’s keys newest first', async () => {
    expect((await api.post(SK, { description: 'x' })).body).toMatchObject({ error: 'Name is required', code: 'MISSING_REQUIRED_FIELD' });
    expect((await api.post(SK, { name: 'x', key_type: 'publishable' })).body).toMatchObject({ error: "key_type must be 'anon' or 'service'", code: 'INVALID_INPUT' });
    expect((await api.post(SK, { name: 'x', expires_at: 'tomorrow' })).status).toBe(400);
    expect((await api.call('POST', SK, { raw: '{"name":"x"}', headers: { 'content-type': 'text/plain' } })).body.code).toBe('INVALID_REQUEST_BODY');
    await api.post(SK, { name: 'dup' });
    const dup = await api.post(SK, { name: 'dup' });
    expect(dup.status).toBe(500);
    expect(dup.body).toMatchObject({ error: 'Failed to create service key', code: 'INTERNAL_ERROR' });
    const list = (await api.get(SK)).body as Array<{ name: string }>;
    expect(Array.isArray(list)).toBe(true);
    expect(list[0]?.name).toBe('dup');

    const t = await api.post(`${ADMIN}/tenants`, { slug: 'keys', name: 'K' });
    const tenant = t.body.tenant.id as string;
    expect((await api.get(SK, { tenant })).body).toEqual([]);
    const own = await api.post(SK, { name: 'dup' }, { tenant }); // same name, other tenant: fine
    expect(own.status).toBe(201);
    expect((await api.get(SK, { tenant })).body.map((k: { name: string }) => k.name)).toEqual(['dup']);
    expect((await api.get(`${SK}/${own.body.id}`)).status).toBe(404); // default tenant cannot see it
    expect((await api.delete(`${SK}/${own.body.id}`)).status).toBe(404);
    expect((await api.get(`${SK}/${own.body.id}`, { tenant })).status).toBe(200);
    expect((await api.get(`${SK}/${own.body.id}`, { tenant: 'keys' })).body).toMatchObject({ error: 'Internal Server Error' }); // slug → panic
    expect((await api.get(SK, { tenant: 'keys' })).body).toMatchObject({ error: 'Failed to list service keys' });
    expect((await api.get(`${SK}/nope`)).body).toMatchObject({ error: 'Invalid service key ID', code: 'INVALID_ID' });
  });

  it('lets tenant_admin in, refuses app users, and never accepts service keys on admin routes', async () => {
    expect((await api.as(await tenantAdminToken(emu)).get(SK)).status).toBe(200);
    const k = await api.post(SK, { name: 'not-for-admin' });
    expect((await api.get(SK, { token: k.body.key })).body).toMatchObject({ error: 'Invalid or expired token', code: 'INVALID_TOKEN' });
    expect((await api.get(SK, { token: null, headers: { 'x-service-key': k.body.key } })).body.code).toBe('MISSING_AUTHENTICATION');
  });

  it('answers 500 "Failed to update service key" for every PUT past the id and body checks, unknown ids included (F11)', async () => {
    const k = await api.post(SK, { name: 'frozen', description: 'before' });
    const r = await api.put(`${SK}/${k.body.id}`, { description: 'after' });
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ error: 'Failed to update service key', code: 'INTERNAL_ERROR' });
    expect((await api.get(`${SK}/${k.body.id}`)).body.description).toBe('before');
    expect((await api.put(`${SK}/${randomUUID()}`, { description: 'probe' })).status).toBe(500);
    expect((await api.put(`${SK}/not-a-uuid`, { description: 'x' })).status).toBe(400);
    expect((await api.put(`${SK}/${k.body.id}`, {})).status).toBe(400);
    expect((await api.post(`${SK}/${k.body.id}/disable`)).status).toBe(204);
  });

  it('enables, disables, deletes with 204 and 404 for unknown keys', async () => {
    const k = await api.post(SK, { name: 'toggle' });
    const d = await api.post(`${SK}/${k.body.id}/disable`, { enabled: true });
    expect(d.status).toBe(204);
    expect(d.text).toBe('');
    expect((await api.get(`${SK}/${k.body.id}`)).body.enabled).toBe(false);
    expect((await api.post(`${SK}/${k.body.id}/enable`)).status).toBe(204);
    expect((await api.get(`${SK}/${k.body.id}`)).body.enabled).toBe(true);
    expect((await api.post(`${SK}/${randomUUID()}/enable`)).status).toBe(404);
    expect((await api.delete(`${SK}/${k.body.id}`)).status).toBe(204);
    expect((await api.delete(`${SK}/${k.body.id}`)).body).toMatchObject({ error: 'Service key not found', code: 'NOT_FOUND' });
  });

  it('revokes with the reason from the query only; a caller without a dashboard user cannot revoke (FK → 500)', async () => {
    const me = await api.get(`${ADMIN}/setup/status`, { token: null });
    expect(me.body.has_admin).toBe(true);
    const k = await api.post(SK, { name: 'revoked' });
    const asService = await api.post(`${SK}/${k.body.id}/revoke?reason=leak`);
    expect(asService.status).toBe(500);
    expect(asService.body).toMatchObject({ error: 'Failed to revoke service key', code: 'INTERNAL_ERROR' });

    const viaJson = await admin.post(`${SK}/${k.body.id}/revoke`, { reason: 'ignored' });
    expect(viaJson.status).toBe(204);
    let history = (await admin.get(`${SK}/${k.body.id}/revocations`)).body;
    expect(history).toMatchObject({ id: k.body.id, name: 'revoked', revocation_reason: '' });
    expect(typeof history.revoked_by).toBe('string');

    await admin.post(`${SK}/${k.body.id}/revoke?reason=leaked+in+CI`);
    history = (await admin.get(`${SK}/${k.body.id}/revocations`)).body;
    expect(history.revocation_reason).toBe('leaked in CI');
    const form = await admin.call('POST', `${SK}/${k.body.id}/revoke`, { raw: 'reason=from+form', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(204);
    expect((await admin.get(`${SK}/${k.body.id}/revocations`)).body.revocation_reason).toBe('from form');
    expect((await admin.get(`${SK}/${k.body.id}`)).body).toMatchObject({ enabled: false });

    const fresh = await api.post(SK, { name: 'never-revoked' });
    expect((await api.get(`${SK}/${fresh.body.id}/revocations`)).body).toEqual({ id: fresh.body.id, name: 'never-revoked', revocation_reason: null, revoked_at: null, revoked_by: null });
    expect((await admin.post(`${SK}/${randomUUID()}/revoke`)).status).toBe(404);
  });

  it('deprecates with grace_period_hours from the query (default 24) and rotates into "<name> (rotated)"', async () => {
    const k = await api.post(SK, { name: 'old', description: 'd', scopes: ['webhooks:read'], rate_limit_per_minute: 7 });
    const dep = await api.post(`${SK}/${k.body.id}/deprecate?grace_period_hours=48`, { grace_period_hours: 1 });
    expect(dep.status).toBe(200);
    expect(Object.keys(dep.body)).toEqual(['deprecated_at', 'grace_period_ends_at']);
    const hours = (Date.parse(dep.body.grace_period_ends_at) - Date.parse(dep.body.deprecated_at)) / 3_600_000;
    expect(Math.round(hours)).toBe(48);
    const dep2 = await api.post(`${SK}/${k.body.id}/deprecate?grace_period_hours=abc`);
    expect(Math.round((Date.parse(dep2.body.grace_period_ends_at) - Date.now()) / 3_600_000)).toBe(24);

    const rot = await api.post(`${SK}/${k.body.id}/rotate`, { new_name: 'ignored' });
    expect(rot.status).toBe(201);
    expect(rot.body).toMatchObject({ name: 'old (rotated)', description: 'd', scopes: ['webhooks:read'], rate_limit_per_minute: 7, enabled: true });
    expect(rot.body.key).toMatch(/^sk_live_/);
    const old = (await api.get(`${SK}/${k.body.id}`)).body;
    expect(old).toMatchObject({ enabled: true, replaced_by: rot.body.id });
    expect(old.deprecated_at).toBeDefined();
    const again = await api.post(`${SK}/${k.body.id}/rotate`);
    expect(again.body).toMatchObject({ error: 'Failed to create rotated key', code: 'INTERNAL_ERROR' });
    expect((await api.post(`${SK}/${randomUUID()}/rotate`)).status).toBe(404);
  });

  it('authenticates valid keys on family-B routes with scope checks, and refuses disabled, revoked and expired ones', async () => {
    const full = await api.post(SK, { name: 'full-access' });
    const h = (key: string) => ({ token: null, headers: { 'x-service-key': key } });
    expect((await api.get(W, h(full.body.key))).status).toBe(200);
    expect((await api.get(W, { token: null, headers: { authorization: `ServiceKey ${full.body.key}` } })).status).toBe(200);
    expect((await api.get(W, { token: full.body.key })).body).toEqual({ error: 'Invalid or expired Bearer token' });
    expect((await api.get(CK, h(full.body.key))).status).toBe(200);

    const readOnly = await api.post(SK, { name: 'hooks-read', scopes: ['webhooks:read'] });
    expect((await api.get(W, h(readOnly.body.key))).status).toBe(200);
    const denied = await api.post(W, { name: 'x', url: 'http://127.0.0.1:9/x' }, h(readOnly.body.key));
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ error: 'Insufficient permissions', required_scope: 'webhooks:write' });
    const anon = await api.post(SK, { name: 'anon', key_type: 'anon' });
    expect((await api.get(W, h(anon.body.key))).body).toEqual({ error: 'Insufficient permissions', required_scope: 'webhooks:read' });

    const used = (await api.get(`${SK}/${readOnly.body.id}`)).body;
    expect(used.last_used_at).toBeDefined();

    await api.post(`${SK}/${readOnly.body.id}/disable`);
    expect((await api.get(W, h(readOnly.body.key))).body).toEqual({ error: 'Invalid service key' });
    await api.post(`${SK}/${readOnly.body.id}/enable`);
    expect((await api.get(W, h(readOnly.body.key))).status).toBe(200);
    await admin.post(`${SK}/${readOnly.body.id}/revoke`);
    await api.post(`${SK}/${readOnly.body.id}/enable`); // no un-revoke: still refused
    expect((await api.get(W, h(readOnly.body.key))).body).toEqual({ error: 'Invalid service key' });

    const expired = await api.post(SK, { name: 'expired', expires_at: '2000-01-01T00:00:00Z' });
    expect((await api.get(W, h(expired.body.key))).body).toEqual({ error: 'Invalid service key' });
    expect((await api.get(W, h(`${full.body.key.slice(0, 20)}tampered`))).body).toEqual({ error: 'Invalid service key' });
  });

  it('authenticates sk_ keys with migrations:execute on the migrations API, revocation not checked there', async () => {
    const M = `${ADMIN}/migrations`;
    const mig = await api.post(SK, { name: 'migrator', scopes: ['migrations:execute'] });
    const h = { token: null, headers: { 'x-service-key': mig.body.key } };
    expect((await api.get(M, h)).status).toBe(200);
    expect((await api.get(M, { token: null, headers: { authorization: `Bearer ${mig.body.key}` } })).status).toBe(200);
    const noScope = await api.post(SK, { name: 'no-migrations', scopes: ['webhooks:read'] });
    expect((await api.get(M, { token: null, headers: { 'x-service-key': noScope.body.key } })).status).toBe(401);
    const anon = await api.post(SK, { name: 'anon-mig', key_type: 'anon', scopes: ['*'] });
    expect((await api.get(M, { token: null, headers: { 'x-service-key': anon.body.key } })).status).toBe(401); // pk_ keys never
    await admin.post(`${SK}/${mig.body.id}/revoke`);
    expect((await api.get(M, h)).status).toBe(401); // revoke also disables
    await api.post(`${SK}/${mig.body.id}/enable`);
    expect((await api.get(M, h)).status).toBe(200); // …but re-enabling brings it back for migrations
    expect((await api.get(W, h)).body).toEqual({ error: 'Invalid service key' });
  });
});

describe('opt-in: the intended PUT (quirks.serviceKeyPutBroken: false)', () => {
  it('updates with PUT as a true partial update, 404 for an unknown id and no PATCH route', async () => {
    const emu = await startPgEmulator({ quirks: { serviceKeyPutBroken: false } });
    const api = new Api(emu);
    try {
      const k = await api.post(SK, { name: 'partial', description: 'keep me', scopes: ['webhooks:read'], rate_limit_per_hour: 10 });
      const r = await api.put(`${SK}/${k.body.id}`, { name: 'renamed', enabled: false, scopes: [] });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ name: 'renamed', description: 'keep me', enabled: false, scopes: [], rate_limit_per_hour: 10 });
      expect((await api.put(`${SK}/${k.body.id}`, { description: null })).body).toMatchObject({ error: 'No fields to update', code: 'INVALID_INPUT' });
      expect((await api.put(`${SK}/${randomUUID()}`, { description: 'probe' })).body).toMatchObject({ error: 'Service key not found', code: 'NOT_FOUND' });
      expect((await api.patch(`${SK}/${k.body.id}`, { name: 'x' })).body).toEqual({ error: 'Not Found', path: `${SK}/${k.body.id}` });
    } finally {
      await emu.close();
    }
  });
});


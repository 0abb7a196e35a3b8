import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { SecretBox } from '../../src/emulator/auth/secret-box.js';
import { ADMIN, Api, instanceAdminToken, startPgEmulator, tenantAdminToken } from './helpers.js';

const C = `${ADMIN}/settings/custom`;
const SYS = `${ADMIN}/system/settings`;

describe('emulator custom and secret settings (keys doc §6)', () => {
  let emu: RunningEmulator;
  let api: Api; // a dashboard instance admin (has a user id)
  let userId: string;
  let tenant: string;

  beforeAll(async () => {
    emu = await startPgEmulator();
    userId = randomUUID();
    api = new Api(emu, await instanceAdminToken(emu, userId));
    tenant = (await api.post(`${ADMIN}/tenants`, { slug: 'acme', name: 'Acme' })).body.tenant.id;
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('lists null when empty, creates with defaults and reads back by key', async () => {
    expect((await api.get(C)).body).toBeNull();
    const r = await api.post(C, { key: 'billing.tiers', value: { tiers: ['free', 'pro'] }, value_type: 'json', is_public: true });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ key: 'billing.tiers', value: { tiers: ['free', 'pro'] }, value_type: 'json', editable_by: ['instance_admin'], created_by: userId, updated_by: userId });
    expect(r.body).not.toHaveProperty('description');
    expect(r.body).not.toHaveProperty('metadata');
    const plain = await api.post(C, { key: 'motd', value: { value: 'hi' }, description: 'message', metadata: { ui: 'text' } });
    expect(plain.body).toMatchObject({ value_type: 'string', description: 'message', metadata: { ui: 'text' } });
    expect((await api.get(`${C}/billing.tiers`)).body).toEqual(r.body);
    expect(((await api.get(C)).body as Array<{ key: string }>).map((s) => s.key)).toEqual(['billing.tiers', 'motd']);
    expect((await api.get(`${C}/nope`)).body).toMatchObject({ error: 'Setting not found', code: 'NOT_FOUND' });
  });

  it('validates create: user id (401 for a service_role JWT), key, value, value_type (500)', async () => {
    const service = api.as(emu.serviceRoleToken);
    const noUser = await service.post(C, { key: 'x', value: { value: 1 } });
    expect(noUser.status).toBe(401);
    expect(noUser.body).toMatchObject({ error: 'Authentication required', code: 'AUTHENTICATION_REQUIRED' });
    expect((await service.put(`${C}/motd`, { value: { value: 'x' } })).status).toBe(401);
    expect((await service.post(`${C}/secret`, { key: 'x', value: 'y' })).status).toBe(401);
    expect((await service.get(`${C}/motd`)).status).toBe(200); // reads need no user id
    expect((await api.post(C, { value: { value: 1 } })).body).toMatchObject({ error: 'Setting key is required', code: 'MISSING_REQUIRED_FIELD' });
    expect((await api.post(C, { key: 'x' })).body).toMatchObject({ error: 'Setting value is required' });
    expect((await api.post(C, { key: 'x', value: 5 })).body).toMatchObject({ error: 'Invalid request body' });
    for (const value_type of ['array', 'integer']) {
      const r = await api.post(C, { key: 'x', value: { value: 1 }, value_type });
      expect(r.status).toBe(500);
      expect(r.body).toMatchObject({ error: 'Failed to create setting', code: 'INTERNAL_ERROR' });
    }
  });

  it('keeps keys unique across the instance: other tenants and system keys give 409 DUPLICATE_KEY', async () => {
    const inTenant = await api.post(C, { key: 'shared.key', value: { value: 1 } }, { tenant });
    expect(inTenant.status).toBe(201);
    expect((await api.get(C, { tenant })).body.map((s: { key: string }) => s.key)).toEqual(['shared.key']);
    expect((await api.get(`${C}/shared.key`)).status).toBe(404); // invisible from the default tenant…
    const dup = await api.post(C, { key: 'shared.key', value: { value: 2 } }); // …yet taken
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ error: 'A setting with this key already exists', code: 'DUPLICATE_KEY' });
    await api.put(`${SYS}/app.rpc.enabled`, { value: { value: false } });
    expect((await api.post(C, { key: 'app.rpc.enabled', value: { value: true } })).status).toBe(409);
    expect((await api.get(`${C}/app.rpc.enabled`)).status).toBe(404); // instance rows are not custom settings
    expect((await api.get(C, { tenant: 'acme' })).status).toBe(500); // a slug breaks the tenant scoping
  });

  it('updates without upsert, keeping description and replacing editable_by/metadata only when given', async () => {
    await api.post(C, { key: 'flags', value: { beta: true }, description: 'd', editable_by: ['instance_admin', 'tenant_admin'], metadata: { a: 1 } });
    const r = await api.put(`${C}/flags`, { value: { beta: false } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ value: { beta: false }, description: 'd', editable_by: ['instance_admin', 'tenant_admin'], metadata: { a: 1 } });
    const r2 = await api.put(`${C}/flags`, { value: {}, description: '', editable_by: [], metadata: {} });
    expect(r2.body).toMatchObject({ value: {}, editable_by: ['instance_admin', 'tenant_admin'] });
    expect(r2.body).not.toHaveProperty('description');
    expect(r2.body).not.toHaveProperty('metadata');
    expect((await api.put(`${C}/absent`, { value: {} })).body).toMatchObject({ error: 'Setting not found', code: 'NOT_FOUND' });
    expect((await api.put(`${C}/flags`, {})).body).toMatchObject({ error: 'Setting value is required' });
  });

  it('lets tenant_admin edit only what lists it in editable_by', async () => {
    const ta = api.as(await tenantAdminToken(emu));
    await api.post(C, { key: 'admins.only', value: { v: 1 } });
    const denied = await ta.put(`${C}/admins.only`, { value: { v: 2 } });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: 'You do not have permission to edit this setting', code: 'ACCESS_DENIED' });
    expect((await ta.delete(`${C}/admins.only`)).body).toMatchObject({ error: 'You do not have permission to delete this setting' });
    const own = await ta.post(C, { key: 'ta.default', value: { v: 1 } });
    expect(own.status).toBe(201);
    expect((await ta.put(`${C}/ta.default`, { value: { v: 2 } })).status).toBe(403); // default editable_by locks its creator out
    expect((await ta.put(`${C}/flags`, { value: { beta: true } })).status).toBe(200);
    expect((await api.as(emu.serviceRoleToken).delete(`${C}/ta.default`)).status).toBe(204);
    expect((await api.delete(`${C}/ta.default`)).status).toBe(404);
  });

  it('stores secrets encrypted, never returns them, and routes secrets / secret/… paths', async () => {
    expect((await api.get(`${C}/secrets`)).body).toBeNull();
    const s = await api.post(`${C}/secret`, { key: 'stripe.key', value: 'sk_test_123', description: 'Stripe' });
    expect(s.status).toBe(201);
    expect(Object.keys(s.body).sort()).toEqual(['created_at', 'created_by', 'description', 'id', 'key', 'updated_at', 'updated_by']);
    expect(JSON.stringify(s.body)).not.toContain('sk_test_123');
    const viaCustom = await api.post(C, { key: 'smtp.pass', value: { value: 'hunter2' }, is_secret: true });
    expect(viaCustom.status).toBe(201);
    expect(viaCustom.body).not.toHaveProperty('value');
    expect((await api.post(C, { key: 'bad.secret', value: { value: 1, other: 2 }, is_secret: true })).body).toMatchObject({
      error: 'Secret value must be a non-empty string (use {"value": "your-secret"})',
      code: 'INVALID_INPUT',
    });
    expect((await api.post(`${C}/secret`, { key: 'stripe.key', value: 'x' })).body).toMatchObject({ error: 'A secret setting with this key already exists', code: 'DUPLICATE_KEY' });
    expect((await api.post(`${C}/secret`, { key: 'k' })).body).toMatchObject({ error: 'Setting value is required' });

    const list = (await api.get(`${C}/secrets`)).body as Array<{ key: string }>;
    expect(list.map((m) => m.key)).toEqual(['smtp.pass', 'stripe.key']);
    const custom = (await api.get(C)).body as Array<{ key: string; value: unknown }>;
    expect(custom.find((c) => c.key === 'stripe.key')?.value).toEqual({ value: '[ENCRYPTED]' });
    expect((await api.get(`${C}/secret/stripe.key`)).body).toMatchObject({ key: 'stripe.key', description: 'Stripe' });
    expect((await api.get(`${C}/secret/motd`)).body).toMatchObject({ error: 'Secret setting not found', code: 'NOT_FOUND' });

    const upd = await api.put(`${C}/secret/stripe.key`, { value: 'sk_test_456' });
    expect(upd.body).toMatchObject({ description: 'Stripe' });
    const db = new pg.Client({ connectionString: inject('databaseUrl') });
    await db.connect();
    try {
      const names = await db.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'fbemu_%_main'");
      let found = false;
      for (const { datname } of names.rows) {
        const c = new pg.Client({ connectionString: inject('databaseUrl').replace(/\/[^/]*$/, `/${datname}`) });
        await c.connect();
        const row = await c.query<{ encrypted_value: string; value: unknown }>("SELECT encrypted_value, value FROM app.settings WHERE key = 'stripe.key' AND id = $1", [s.body.id]).catch(() => ({ rows: [] }));
        await c.end();
        const hit = row.rows[0];
        if (!hit) continue;
        found = true;
        expect(hit.value).toEqual({ value: '[ENCRYPTED]' });
        expect(hit.encrypted_value).not.toContain('sk_test');
        expect(new SecretBox(emu.jwtSecret).open(hit.encrypted_value)).toBe('sk_test_456');
      }
      expect(found).toBe(true);
    } finally {
      await db.end();
    }

    expect((await api.get(`${C}/secrets`, { tenant })).body).toBeNull(); // tenant-scoped
    expect((await api.delete(`${C}/secret/stripe.key`)).status).toBe(204);
    expect((await api.delete(`${C}/secret/stripe.key`)).status).toBe(404);
  });
});

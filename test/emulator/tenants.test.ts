import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ADMIN, Api, instanceAdminToken, startPgEmulator, tenantAdminToken } from './helpers.js';

describe('emulator tenants (auth doc §4)', () => {
  let emu: RunningEmulator;
  let api: Api;

  beforeAll(async () => {
    emu = await startPgEmulator({ maxTenants: 7, faults: { tenantCreationFailures: ['stuck'] } });
    api = new Api(emu);
  });
  afterAll(() => emu?.close());

  it('pre-seeds the default tenant without db_name and metadata', async () => {
    const r = await api.get(`${ADMIN}/tenants`);
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(1);
    const t = r.body[0];
    expect(t).toMatchObject({ slug: 'default', name: 'default', is_default: true, status: 'active' });
    expect(t).not.toHaveProperty('db_name');
    expect(t).not.toHaveProperty('metadata');
    expect(t).not.toHaveProperty('deleted_at');
    expect(t.updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  });

  it('creates a tenant with a 201 wrapper, its own database and the slug rules', async () => {
    for (const slug of ['Acme', '1acme', 'acme-', '', 'a'.repeat(64), 'ac_me']) {
      const bad = await api.post(`${ADMIN}/tenants`, { slug, name: 'x' });
      expect(bad.status, slug).toBe(400);
      expect(bad.body).toMatchObject({ error: 'Invalid slug format (use lowercase letters, numbers, and hyphens)', code: 'INVALID_INPUT' });
    }
    const r = await api.post(`${ADMIN}/tenants`, { slug: 'acme', name: 'Acme', metadata: { plan: 'pro' } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ invitation_sent: false, tenant: { slug: 'acme', name: 'Acme', db_name: 'tenant_acme', status: 'active', is_default: false, metadata: { plan: 'pro' } } });
    expect(r.body).not.toHaveProperty('anon_key');
    const dup = await api.post(`${ADMIN}/tenants`, { slug: 'acme', name: 'again' });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ error: 'Tenant with this slug already exists', code: 'ALREADY_EXISTS' });
  });

  it('accepts an empty name and routes DDL to the tenant database only by UUID (a slug routes to the main database)', async () => {
    const created = await api.post(`${ADMIN}/tenants`, { slug: 'routing', name: '' });
    expect(created.status).toBe(201);
    const id = created.body.tenant.id;
    const mk = await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: 'only_in_tenant', columns: [{ name: 'id', type: 'integer' }] }, { tenant: id });
    expect(mk.status).toBe(201);
    const inTenant = await api.get(`${ADMIN}/ddl/tables?schema=public`, { tenant: id });
    expect(inTenant.body.tables).toEqual([{ schema: 'public', name: 'only_in_tenant' }]);
    const viaSlug = await api.get(`${ADMIN}/ddl/tables?schema=public`, { tenant: 'routing' });
    expect(viaSlug.status).toBe(200);
    expect(viaSlug.body.tables).toBeNull();
    const main = await api.get(`${ADMIN}/ddl/tables?schema=public`);
    expect(main.body.tables).toBeNull();
  });

  it('PATCH replaces metadata wholesale, leaves omitted fields, and {} clears metadata', async () => {
    const { body } = await api.post(`${ADMIN}/tenants`, { slug: 'patchme', name: 'P', metadata: { a: 1, b: 2 } });
    const id = body.tenant.id;
    const p1 = await api.patch(`${ADMIN}/tenants/${id}`, { metadata: { c: 3 } });
    expect(p1.status).toBe(200);
    expect(p1.body).toMatchObject({ name: 'P', metadata: { c: 3 } });
    const p2 = await api.patch(`${ADMIN}/tenants/${id}`, { Name: 'Renamed' });
    expect(p2.body).toMatchObject({ name: 'Renamed', metadata: { c: 3 } });
    const p3 = await api.patch(`${ADMIN}/tenants/${id}`, { metadata: {} });
    expect(p3.body).not.toHaveProperty('metadata');
    expect((await api.patch(`${ADMIN}/tenants/${randomUUID()}`, {})).status).toBe(404);
    expect((await api.patch(`${ADMIN}/tenants/not-a-uuid`, {})).status).toBe(500);
  });

  it('soft-deletes with 204, then hides the tenant (404 on GET and DELETE, 404 on X-FB-Tenant) until recovered', async () => {
    const { body } = await api.post(`${ADMIN}/tenants`, { slug: 'doomed', name: 'D' });
    const id = body.tenant.id;
    const admin = api.as(await instanceAdminToken(emu));
    const del = await api.delete(`${ADMIN}/tenants/${id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await admin.get(`${ADMIN}/tenants/${id}`)).status).toBe(404);
    const again = await api.delete(`${ADMIN}/tenants/${id}`);
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ error: 'Tenant not found', code: 'NOT_FOUND' });
    expect((await api.get(`${ADMIN}/ddl/schemas`, { tenant: id })).body).toEqual({ error: 'tenant not found' });
    const deleted = await api.get(`${ADMIN}/tenants/deleted`);
    expect(deleted.body.map((t: { id: string }) => t.id)).toContain(id);
    expect(deleted.body.find((t: { id: string }) => t.id === id)).toMatchObject({ status: 'deleting' });
    expect(deleted.body.find((t: { id: string }) => t.id === id).deleted_at).toBeTruthy();
    const reuse = await api.post(`${ADMIN}/tenants`, { slug: 'doomed', name: 'D2' });
    expect(reuse.status).toBe(500);
    expect(reuse.body).toMatchObject({ error: 'Failed to create tenant', code: 'INTERNAL_ERROR' });
    const rec = await api.post(`${ADMIN}/tenants/${id}/recover`);
    expect(rec.body).toEqual({ status: 'recovered' });
    const rec2 = await api.post(`${ADMIN}/tenants/${id}/recover`);
    expect(rec2.status).toBe(400);
    expect(rec2.body).toMatchObject({ error: 'Tenant is not in a deleted state', code: 'INVALID_INPUT' });
    expect((await api.post(`${ADMIN}/tenants/nope/recover`)).status).toBe(500);
  });

  it('hard-deletes with ?hard=true and frees the slug', async () => {
    const { body } = await api.post(`${ADMIN}/tenants`, { slug: 'gone', name: 'G' });
    expect((await api.delete(`${ADMIN}/tenants/${body.tenant.id}?hard=true`)).status).toBe(204);
    expect((await api.get(`${ADMIN}/tenants/deleted`)).body.map((t: { slug: string }) => t.slug)).not.toContain('gone');
    const again = await api.post(`${ADMIN}/tenants`, { slug: 'gone', name: 'G' });
    expect(again.status).toBe(201);
    await api.delete(`${ADMIN}/tenants/${again.body.tenant.id}?hard=true`);
  });

  it('refuses to delete the default tenant and answers 500 for a non-UUID id', async () => {
    const def = (await api.get(`${ADMIN}/tenants`)).body.find((t: { is_default: boolean }) => t.is_default);
    const r = await api.delete(`${ADMIN}/tenants/${def.id}`);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'Cannot delete the default tenant', code: 'INVALID_INPUT' });
    expect((await api.delete(`${ADMIN}/tenants/abc`)).body).toMatchObject({ error: 'Failed to delete tenant' });
  });

  it('lets instance admins read any tenant and tenant admins only assigned ones; /mine lists assignments', async () => {
    const { body } = await api.post(`${ADMIN}/tenants`, { slug: 'members', name: 'M' });
    const id = body.tenant.id;
    const admin = api.as(await instanceAdminToken(emu));
    expect((await admin.get(`${ADMIN}/tenants/${id}`)).status).toBe(200);
    expect((await admin.get(`${ADMIN}/tenants/not-a-uuid`)).status).toBe(500);
    const ta = api.as(await tenantAdminToken(emu));
    expect((await ta.get(`${ADMIN}/tenants/${id}`)).status).toBe(403);
    const unknownUser = await api.post(`${ADMIN}/tenants/${id}/admins`, { user_id: randomUUID() });
    expect(unknownUser.status).toBe(400);
    expect(unknownUser.body).toMatchObject({ error: 'User not found', code: 'NOT_FOUND' });
    expect((await admin.get(`${ADMIN}/tenants/${id}/admins`)).body).toEqual([]);
    expect((await api.get(`${ADMIN}/tenants/mine`)).status).toBe(401);
  });

  it('keeps a tenant whose creation failed after its database existed: unlisted, in status error, its slug taken (F11)', async () => {
    const failed = await api.post(`${ADMIN}/tenants`, { slug: 'stuck', name: 'Stuck' });
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ error: 'Failed to create tenant' });
    expect((await api.get(`${ADMIN}/tenants`)).body.map((t: { slug: string }) => t.slug)).not.toContain('stuck');
    const again = await api.post(`${ADMIN}/tenants`, { slug: 'stuck', name: 'Stuck' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'Tenant with this slug already exists', code: 'ALREADY_EXISTS' });
    const admin = api.as(await instanceAdminToken(emu));
    const row = await admin.post(`${ADMIN}/sql/execute`, { query: "SELECT status FROM platform.tenants WHERE slug = 'stuck'" });
    expect(row.body.results[0].rows).toEqual([{ status: 'error' }]);
  });

  it('answers 409 CONFLICT once max_tenants is reached', async () => {
    let last;
    for (let i = 0; i < 6; i++) last = await api.post(`${ADMIN}/tenants`, { slug: `fill-${i}`, name: 'f' });
    expect(last?.status).toBe(409);
    expect(last?.body).toMatchObject({ error: 'Maximum number of tenants reached', code: 'CONFLICT' });
  });
});

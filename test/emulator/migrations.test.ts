import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ADMIN, Api, instanceAdminToken, startPgEmulator, uniq } from './helpers.js';

const M = `${ADMIN}/migrations`;

describe('emulator migrations API (docs/api/migrations.md)', () => {
  let emu: RunningEmulator;
  let api: Api;
  let admin: Api;
  let adminId: string;
  let tenantId: string;

  beforeAll(async () => {
    emu = await startPgEmulator();
    api = new Api(emu);
    adminId = randomUUID();
    admin = api.as(await instanceAdminToken(emu, adminId));
    const t = await api.post(`${ADMIN}/tenants`, { slug: 'migr', name: 'M' });
    tenantId = t.body.tenant.id;
  });
  afterAll(() => emu?.close());

  const tablesIn = async (tenant?: string) =>
    ((await api.get(`${ADMIN}/ddl/tables?schema=public`, tenant ? { tenant } : {})).body.tables ?? []).map((t: { name: string }) => t.name);

  it('accepts only Bearer JWTs (service_role, admin, instance_admin) — not bare tokens or cookies', async () => {
    const none = await api.get(M, { token: null });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: 'Service key or service_role JWT authentication required for migrations API' });
    expect((await api.get(M, { token: null, headers: { authorization: emu.serviceRoleToken } })).status).toBe(401);
    expect((await api.get(M, { token: null, headers: { 'x-service-key': 'sk_live_nope' } })).status).toBe(401);
    expect((await api.get(M, { tenant: 'nope' })).body).toEqual({ error: 'tenant not found' });
    expect((await api.get(M)).status).toBe(200);
    expect((await admin.get(M)).status).toBe(200);
  });

  it('creates (201), refuses duplicates per namespace (409), lists by namespace (null when empty) and gets', async () => {
    expect((await api.get(`${M}?namespace=${uniq('ns')}`)).body).toBeNull();
    expect((await api.post(M, { up_sql: 'select 1' })).body).toEqual({ error: 'Migration name is required' });
    expect((await api.post(M, { name: 'x' })).body).toEqual({ error: 'Up SQL is required' });
    expect((await api.call('POST', M, { raw: '{' })).body).toEqual({ error: 'Invalid request body' });
    const ns = uniq('ns');
    const created = await admin.post(M, { namespace: ns, name: '001_init', description: 'init', up_sql: 'select 1', down_sql: 'select 2' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ namespace: ns, name: '001_init', description: 'init', version: 1, status: 'pending', created_by: adminId, applied_by: null, applied_at: null, rolled_back_at: null });
    const dup = await admin.post(M, { namespace: ns, name: '001_init', up_sql: 'select 1' });
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ error: `Migration '001_init' already exists in namespace '${ns}'` });
    expect((await api.post(M, { name: '001_init', up_sql: 'select 1' })).status).toBe(201);
    expect((await api.get(`${M}?namespace=${ns}`)).body.map((m: { name: string }) => m.name)).toEqual(['001_init']);
    expect((await api.get(`${M}/001_init?namespace=${ns}`)).body.description).toBe('init');
    expect((await api.get(`${M}/nope?namespace=${ns}`)).body).toEqual({ error: 'Migration not found' });
  });

  it('updates pending migrations only and deletes pending ones only', async () => {
    const ns = uniq('ns');
    await api.post(M, { namespace: ns, name: 'a', up_sql: 'select 1' });
    const upd = await api.put(`${M}/a?namespace=${ns}`, { up_sql: 'select 11', ignored: true });
    expect(upd.body).toMatchObject({ up_sql: 'select 11', status: 'pending' });
    expect((await api.put(`${M}/a?namespace=${ns}`, { status: 'applied' })).body).toEqual({ details: "can only reset status to 'pending'", error: 'Failed to update migration' });
    await api.post(`${M}/a/apply`, { namespace: ns });
    expect((await api.put(`${M}/a?namespace=${ns}`, { up_sql: 'x' })).body).toEqual({ error: 'failed to update migration: migration not found or already applied/rolled back' });
    expect((await api.delete(`${M}/a?namespace=${ns}`)).body).toEqual({ error: 'failed to delete migration: migration not found or already applied' });
    await api.post(M, { namespace: ns, name: 'b', up_sql: 'select 1' });
    expect((await api.delete(`${M}/b?namespace=${ns}`)).body).toEqual({ message: 'Migration deleted successfully' });
  });

  it('applies an admin JWT migration on the MAIN database as the admin user, even with X-FB-Tenant, and records history', async () => {
    const name = uniq('mig');
    const tbl = uniq('main_only');
    await admin.post(M, { name, up_sql: `CREATE TABLE public.${tbl} (id int); ALTER TABLE public.${tbl} ADD COLUMN note text`, down_sql: `DROP TABLE public.${tbl}` });
    const applied = await admin.post(`${M}/${name}/apply`, undefined, { tenant: tenantId });
    expect(applied.body).toEqual({ message: 'Migration applied successfully' });
    expect(await tablesIn()).toContain(tbl);
    expect(await tablesIn(tenantId)).not.toContain(tbl);
    const m = (await api.get(`${M}/${name}`)).body;
    expect(m).toMatchObject({ status: 'applied', applied_by: adminId });
    expect(m.applied_at).toBeTruthy();
    expect((await admin.post(`${M}/${name}/apply`)).status).toBe(200);
    const rolled = await admin.post(`${M}/${name}/rollback`, {});
    expect(rolled.body).toEqual({ message: 'Migration rolled back successfully' });
    expect(await tablesIn()).not.toContain(tbl);
    const history = (await api.get(`${M}/${name}/executions`)).body;
    expect(history.map((h: { action: string; status: string }) => `${h.action}:${h.status}`)).toEqual(['rollback:success', 'apply:success']);
    expect(history[0]).toMatchObject({ error_message: null, logs: null, executed_by: adminId });
    expect(typeof history[0].duration_ms).toBe('number');
    const again = await api.post(`${M}/${name}/apply`);
    expect(again.status).toBe(500);
    expect(again.body).toEqual({ details: 'migration status is rolled_back, cannot apply', error: 'Failed to apply migration' });
  });

  it('applies a service_role migration with X-FB-Tenant in the tenant database', async () => {
    const name = uniq('tmig');
    const tbl = uniq('tenant_only');
    await api.post(M, { name, up_sql: `CREATE TABLE public.${tbl} (id int); ALTER TABLE public.${tbl} ADD COLUMN extra text` });
    const r = await api.post(`${M}/${name}/apply`, undefined, { tenant: tenantId });
    expect(r.body).toEqual({ message: 'Migration applied successfully' });
    expect(await tablesIn(tenantId)).toContain(tbl);
    expect(await tablesIn()).not.toContain(tbl);
    // the registry is global: the migration now counts as applied for every tenant
    expect((await api.get(`${M}/${name}`)).body.status).toBe('applied');
  });

  it('records failures with the PostgreSQL text, marks the migration failed, and lets a fixed retry succeed', async () => {
    const name = uniq('bad');
    await api.post(M, { name, up_sql: 'CREATE TABLE public.nope_x (id int); SELECT * FROM missing_table' });
    const r = await api.post(`${M}/${name}/apply`);
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ details: 'migration failed: ERROR: relation "missing_table" does not exist (SQLSTATE 42P01)', error: 'Failed to apply migration' });
    expect(await tablesIn()).not.toContain('nope_x');
    expect((await api.get(`${M}/${name}`)).body.status).toBe('failed');
    const hist = (await api.get(`${M}/${name}/executions`)).body;
    expect(hist[0]).toMatchObject({ action: 'apply', status: 'failed', error_message: 'ERROR: relation "missing_table" does not exist (SQLSTATE 42P01)' });
    await api.put(`${M}/${name}`, { up_sql: 'SELECT 1', status: 'pending' });
    expect((await api.post(`${M}/${name}/apply`)).status).toBe(200);
    const t = await api.post(M, { name: uniq('tbad'), up_sql: 'SELECT * FROM missing_table' });
    const tr = await api.post(`${M}/${t.body.name}/apply`, undefined, { tenant: tenantId });
    expect(tr.body.details).toBe('migration failed: SQL execution failed: ERROR: relation "missing_table" does not exist (SQLSTATE 42P01)');
    expect((await api.post(`${M}/${name}/rollback`)).body).toEqual({ details: 'migration has no rollback SQL', error: 'Failed to rollback migration' });
    expect((await api.post(`${M}/nope/apply`)).body.error).toBe('Failed to apply migration');
    expect((await api.get(`${M}/nope/executions`)).status).toBe(404);
  });

  it('applies pending migrations in name order on the main database and stops at the first failure', async () => {
    const ns = uniq('pend');
    await api.post(M, { namespace: ns, name: '002', up_sql: 'SELECT 2' });
    await api.post(M, { namespace: ns, name: '001', up_sql: 'SELECT 1' });
    await api.post(M, { namespace: ns, name: '003', up_sql: 'SELECT * FROM nope' });
    await api.post(M, { namespace: ns, name: '004', up_sql: 'SELECT 4' });
    const r = await api.post(`${M}/apply-pending`, { namespace: ns });
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ applied: ['001', '002'], failed: ['003'], error: 'Failed to apply pending migrations' });
    const empty = await api.post(`${M}/apply-pending`, { namespace: uniq('none') });
    expect(empty.body).toEqual({ applied: [], failed: [], message: 'Applied 0 migrations successfully' });
  });

  it('syncs: creates, leaves unchanged, updates changed pending ones, skips changed applied ones, and auto-applies', async () => {
    const ns = uniq('sync');
    const first = await api.post(`${M}/sync`, { namespace: ns, migrations: [{ name: 'a', up_sql: 'SELECT 1' }, { name: 'b', up_sql: 'SELECT 2' }], options: { auto_apply: true } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      details: { applied: ['a', 'b'], created: ['a', 'b'], errors: null, skipped: null, unchanged: null, updated: null },
      dry_run: false,
      message: 'Sync complete: 2 created, 0 updated, 0 unchanged',
      namespace: ns,
      summary: { applied: 2, created: 2, errors: 0, skipped: 0, unchanged: 0, updated: 0 },
    });
    await api.post(M, { namespace: ns, name: 'c', up_sql: 'SELECT 3' });
    const second = await api.post(`${M}/sync`, {
      namespace: ns,
      migrations: [{ name: 'a', up_sql: 'SELECT 1' }, { name: 'b', up_sql: 'SELECT 22' }, { name: 'c', up_sql: 'SELECT 33' }, { name: 'd', up_sql: 'SELECT * FROM nope' }, { name: 'e', up_sql: 'SELECT 5' }],
      options: { update_if_changed: true, auto_apply: true },
    });
    expect(second.status).toBe(422);
    expect(second.body.summary).toEqual({ applied: 0, created: 1, errors: 1, skipped: 2, unchanged: 1, updated: 1 });
    expect(second.body.warnings).toEqual(["Migration 'b' already applied with different content (skipped)", "Migration 'e' skipped due to previous failure"]);
    const dry = await api.post(`${M}/sync`, { namespace: ns, migrations: [{ name: 'z', up_sql: 'SELECT 1' }], options: { dry_run: true } });
    expect(dry.body).toMatchObject({ dry_run: true, summary: { created: 1 } });
    expect((await api.get(`${M}/z?namespace=${ns}`)).status).toBe(404);
  });
});

describe('tenant migrations run as tenant_migration_role (F2)', () => {
  it('runs as tenant_migration_role, which cannot ALTER tables created through the DDL API', async () => {
    const emu = await startPgEmulator();
    try {
      const api = new Api(emu);
      const t = await api.post(`${ADMIN}/tenants`, { slug: 'quirky', name: 'Q' });
      const tenant = t.body.tenant.id;
      await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: 'owned', columns: [{ name: 'id', type: 'integer' }] }, { tenant });
      await api.post(M, { name: 'alter_owned', up_sql: 'ALTER TABLE public.owned ADD COLUMN x text' });
      const denied = await api.post(`${M}/alter_owned/apply`, undefined, { tenant });
      expect(denied.status).toBe(500);
      expect(denied.body.details).toBe('migration failed: SQL execution failed: ERROR: must be owner of table owned (SQLSTATE 42501)');
      await api.post(M, { name: 'new_table', up_sql: 'CREATE TABLE public.fresh (id int); CREATE SCHEMA nope_schema' });
      const schemaDenied = await api.post(`${M}/new_table/apply`, undefined, { tenant });
      expect(schemaDenied.body.details).toMatch(/^migration failed: SQL execution failed: ERROR: permission denied for database \S+ \(SQLSTATE 42501\)$/);
      await api.post(M, { name: 'only_public', up_sql: 'CREATE TABLE public.fresh (id int)' });
      expect((await api.post(`${M}/only_public/apply`, undefined, { tenant })).status).toBe(200);
      // the admin path is unaffected by the switch
      await api.post(M, { name: 'main_alter', up_sql: 'CREATE TABLE public.m (id int); ALTER TABLE public.m ADD COLUMN y text' });
      expect((await api.post(`${M}/main_alter/apply`)).status).toBe(200);
    } finally {
      await emu.close();
    }
  });
});

describe('opt-in: tenant migrations as the admin user (quirks.tenantMigrationRole: false)', () => {
  it('alters a table the DDL API created', async () => {
    const emu = await startPgEmulator({ quirks: { tenantMigrationRole: false } });
    try {
      const api = new Api(emu);
      const tenant = (await api.post(`${ADMIN}/tenants`, { slug: 'intended', name: 'I' })).body.tenant.id;
      await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: 'owned', columns: [{ name: 'id', type: 'integer' }] }, { tenant });
      await api.post(M, { name: 'alter_owned', up_sql: 'ALTER TABLE public.owned ADD COLUMN x text' });
      expect((await api.post(`${M}/alter_owned/apply`, undefined, { tenant })).status).toBe(200);
    } finally {
      await emu.close();
    }
  });
});

describe('the migrations IP allowlist (F6)', () => {
  it('refuses callers outside migrations.allowed_ip_ranges with 403 before authentication; loopback is allowed by default', async () => {
    const emu = await startPgEmulator({ migrationsAllowedIpRanges: ['10.0.0.0/8', '192.168.0.0/16'] });
    try {
      const api = new Api(emu);
      for (const token of [emu.serviceRoleToken, null]) {
        const r = await api.get(M, { token });
        expect(r.status).toBe(403);
        expect(r.body).toEqual({ error: 'Access denied - IP not allowlisted for migrations' });
      }
      expect((await api.get(`${ADMIN}/tenants`)).status).toBe(200);
    } finally {
      await emu.close();
    }
  });
});

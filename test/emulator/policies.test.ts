import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ADMIN, Api, startPgEmulator, uniq } from './helpers.js';

describe('emulator RLS and policies (auth doc §6)', () => {
  let emu: RunningEmulator;
  let api: Api;
  let table: string;

  beforeAll(async () => {
    emu = await startPgEmulator();
    api = new Api(emu);
    table = uniq('posts');
    await api.post(`${ADMIN}/ddl/tables`, {
      schema: 'public',
      name: table,
      columns: [
        { name: 'id', type: 'uuid', primaryKey: true, defaultValue: 'gen_random_uuid()' },
        { name: 'user_id', type: 'uuid', nullable: true },
        { name: 'published', type: 'boolean', defaultValue: 'false' },
      ],
    });
  });
  afterAll(() => emu?.close());

  it('toggles RLS with {"enabled"}; an omitted field disables it; unknown tables 404', async () => {
    const on = await api.post(`${ADMIN}/tables/public/${table}/rls/toggle`, { enabled: true });
    expect(on.body).toEqual({ success: true, rls_enabled: true });
    expect((await api.get(`${ADMIN}/tables/public/${table}/rls`)).body).toMatchObject({ rls_enabled: true, rls_forced: false, policy_count: 0, policies: [], has_warnings: false });
    const off = await api.post(`${ADMIN}/tables/public/${table}/rls/toggle`, { enable: true });
    expect(off.body.rls_enabled).toBe(false);
    const missing = await api.post(`${ADMIN}/tables/public/nope/rls/toggle`, { enabled: true });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: 'Table not found', code: 'NOT_FOUND' });
    await api.post(`${ADMIN}/tables/public/${table}/rls/toggle`, { enabled: true });
  });

  it('creates RESTRICTIVE policies by default and returns the SQL it ran', async () => {
    const r = await api.post(`${ADMIN}/policies`, { schema: 'public', table, name: 'p_read', command: 'select', roles: ['authenticated'], using: 'published AND user_id IS NOT NULL' });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      success: true,
      sql: `CREATE POLICY "p_read" ON "public"."${table}" AS RESTRICTIVE FOR SELECT TO "authenticated" USING (published AND user_id IS NOT NULL)`,
    });
  });

  it('returns PostgreSQL-deparsed expressions straight from pg_policies', async () => {
    await api.post(`${ADMIN}/policies`, { schema: 'public', table, name: 'p_own', command: 'ALL', permissive: true, roles: ['authenticated'], using: 'auth.uid() = user_id', with_check: 'auth.uid() = user_id' });
    await api.post(`${ADMIN}/policies`, { schema: 'public', table, name: 'p_pub', command: 'SELECT', permissive: true, using: 'true' });
    const all = (await api.get(`${ADMIN}/policies?schema=public&table=ignored`)).body.filter((p: { table: string }) => p.table === table);
    expect(all).toEqual([
      { schema: 'public', table, policy_name: 'p_own', permissive: 'PERMISSIVE', roles: ['authenticated'], command: 'ALL', using: '(auth.uid() = user_id)', with_check: '(auth.uid() = user_id)' },
      { schema: 'public', table, policy_name: 'p_pub', permissive: 'PERMISSIVE', roles: ['public'], command: 'SELECT', using: 'true', with_check: null },
      { schema: 'public', table, policy_name: 'p_read', permissive: 'RESTRICTIVE', roles: ['authenticated'], command: 'SELECT', using: '(published AND (user_id IS NOT NULL))', with_check: null },
    ]);
    const status = (await api.get(`${ADMIN}/policies/public/${table}/whatever`)).body;
    expect(status).toMatchObject({ schema: 'public', table, rls_enabled: true, policy_count: 3 });
  });

  it.each([
    ['an existing policy name', { name: 'p_own', command: 'ALL' }, 'ERROR: policy "p_own" for table "TABLE" already exists (SQLSTATE 42710)'],
    ['a missing table', { name: 'px', command: 'ALL', table: 'nope' }, 'ERROR: relation "public.nope" does not exist (SQLSTATE 42P01)'],
    ['WITH CHECK on SELECT', { name: 'px', command: 'SELECT', with_check: 'true' }, 'ERROR: WITH CHECK cannot be applied to SELECT or DELETE (SQLSTATE 42601)'],
    ['USING on INSERT', { name: 'px', command: 'INSERT', using: 'true' }, 'ERROR: only WITH CHECK expression allowed for INSERT (SQLSTATE 42601)'],
    ['a mis-cased role', { name: 'px', command: 'ALL', roles: ['Authenticated'] }, 'ERROR: role "Authenticated" does not exist (SQLSTATE 42704)'],
  ])('answers 400 with the raw PostgreSQL text for %s', async (_name, extra, error) => {
    const r = await api.post(`${ADMIN}/policies`, { schema: 'public', table, ...extra });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe(error.replace('TABLE', table));
    expect(r.body).not.toHaveProperty('code');
    expect(r.body.request_id).toBeTruthy();
  });

  it('validates required fields, the name and the command before running SQL', async () => {
    expect((await api.post(`${ADMIN}/policies`, { schema: 'public', table })).body).toMatchObject({ error: 'schema, table, and name are required', code: 'MISSING_FIELDS' });
    expect((await api.post(`${ADMIN}/policies`, { schema: 'public', table, name: 'bad-name', command: 'ALL' })).body.code).toBe('INVALID_NAME');
    expect((await api.post(`${ADMIN}/policies`, { schema: 'public', table, name: 'ok' })).body).toMatchObject({ error: 'command must be ALL, SELECT, INSERT, UPDATE, or DELETE', code: 'INVALID_COMMAND' });
    const badSchema = await api.post(`${ADMIN}/policies`, { schema: 'bad schema', table, name: 'ok', command: 'ALL' });
    expect(badSchema.status).toBe(400);
    expect(badSchema.body.error).toMatch(/syntax error/);
  });

  it('alters roles and expressions with PUT; null/absent leaves them; "" is a syntax error', async () => {
    const r = await api.put(`${ADMIN}/policies/public/${table}/p_own`, { using: 'user_id IS NOT NULL', with_check: null });
    expect(r.body).toEqual({ success: true, message: "Policy 'p_own' updated successfully", sql: `ALTER POLICY "p_own" ON "public"."${table}" USING (user_id IS NOT NULL)` });
    const p = (await api.get(`${ADMIN}/tables/public/${table}/rls`)).body.policies.find((x: { policy_name: string }) => x.policy_name === 'p_own');
    expect(p).toMatchObject({ using: '(user_id IS NOT NULL)', with_check: '(auth.uid() = user_id)' });
    expect((await api.put(`${ADMIN}/policies/public/${table}/p_own`, { using: '' })).status).toBe(400);
    expect((await api.put(`${ADMIN}/policies/public/${table}/p_own`, { roles: ['bad role'] })).body).toMatchObject({ error: 'Invalid role name: bad role', code: 'INVALID_ROLE' });
    expect((await api.put(`${ADMIN}/policies/public/bad-table/p_own`, {})).body.code).toBe('INVALID_IDENTIFIER');
    const missing = await api.put(`${ADMIN}/policies/public/${table}/nope`, {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe(`ERROR: policy "nope" for table "${table}" does not exist (SQLSTATE 42704)`);
  });

  it('drops policies with {"success":true} and 400 + PG text when missing', async () => {
    expect((await api.delete(`${ADMIN}/policies/public/${table}/p_pub`)).body).toEqual({ success: true });
    const again = await api.delete(`${ADMIN}/policies/public/${table}/p_pub`);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe(`ERROR: policy "p_pub" for table "${table}" does not exist (SQLSTATE 42704)`);
  });

  it('lists tables with RLS status and warnings, sorted by name', async () => {
    const other = uniq('aaa');
    await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: other, columns: [{ name: 'id', type: 'integer' }] });
    const list = (await api.get(`${ADMIN}/tables/rls`)).body;
    const names = list.map((t: { table: string }) => t.table);
    expect(names).toEqual([...names].sort());
    expect(list.find((t: { table: string }) => t.table === other)).toMatchObject({ rls_enabled: false, has_warnings: true, policy_count: 0, policies: [] });
    expect(list.find((t: { table: string }) => t.table === table)).toMatchObject({ rls_enabled: true, has_warnings: false });
    const warnings = (await api.get(`${ADMIN}/security/warnings`)).body;
    expect(warnings.warnings.some((w: { id: string }) => w.id === `no-rls-${other}`)).toBe(true);
    expect(warnings.summary.total).toBe(warnings.warnings.length);
    expect((await api.get(`${ADMIN}/policies/templates`)).body.map((t: { id: string }) => t.id)).toEqual([
      'user-owns-row', 'authenticated-read', 'public-read', 'admin-full-access', 'owner-modify', 'team-access',
    ]);
  });
});

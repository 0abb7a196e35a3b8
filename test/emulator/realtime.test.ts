import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ADMIN, Api, instanceAdminToken, startPgEmulator, uniq } from './helpers.js';

describe('emulator realtime enablement (auth doc §8)', () => {
  let emu: RunningEmulator;
  let api: Api;
  let table: string;

  beforeAll(async () => {
    emu = await startPgEmulator();
    api = new Api(emu);
    table = uniq('feed');
    await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: table, columns: [{ name: 'id', type: 'integer', primaryKey: true }, { name: 'secret', type: 'text', nullable: true }] });
  });
  afterAll(() => emu?.close());

  it('validates the request in the server order', async () => {
    expect((await api.post(`${ADMIN}/realtime/tables`, {})).body).toMatchObject({ error: 'Table name is required', code: 'MISSING_REQUIRED_FIELD' });
    expect((await api.post(`${ADMIN}/realtime/tables`, { table, events: ['insert'] })).body).toMatchObject({ error: 'Invalid event type: insert. Must be INSERT, UPDATE, or DELETE', code: 'INVALID_INPUT' });
    expect((await api.post(`${ADMIN}/realtime/tables`, { schema: 'auth', table: 'users' })).body).toMatchObject({ error: "Cannot enable realtime on system schema 'auth'" });
    const missing = await api.post(`${ADMIN}/realtime/tables`, { table: 'nope' });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe("Table 'public.nope' does not exist");
  });

  it('enables realtime idempotently (201 twice) with a <table>_realtime_notify trigger', async () => {
    const first = await api.post(`${ADMIN}/realtime/tables`, { table, events: ['INSERT'], exclude: ['secret'] });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ schema: 'public', table, events: ['INSERT'], trigger_name: `${table}_realtime_notify`, exclude: ['secret'] });
    const second = await api.post(`${ADMIN}/realtime/tables`, { table });
    expect(second.status).toBe(201);
    expect(second.body).not.toHaveProperty('exclude');
    const admin = api.as(await instanceAdminToken(emu));
    const trig = await admin.post(`${ADMIN}/sql/execute`, { query: `SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.${table}'::regclass AND NOT tgisinternal` });
    expect(trig.body.results[0].rows).toEqual([{ tgname: `${table}_realtime_notify` }]);
  });

  it('reads status and lists enabled tables with Go time strings', async () => {
    const one = (await api.get(`${ADMIN}/realtime/tables/public/${table}`)).body;
    expect(one).toMatchObject({ schema: 'public', table, realtime_enabled: true, events: ['INSERT', 'UPDATE', 'DELETE'] });
    expect(one.id).toBeGreaterThan(0);
    expect(one.created_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? \+0000 UTC$/);
    const list = (await api.get(`${ADMIN}/realtime/tables`)).body;
    expect(list.count).toBe(list.tables.length);
    expect(list.tables.map((t: { table: string }) => t.table)).toContain(table);
  });

  it('reports an existing but unregistered table with id 0 and empty times', async () => {
    const other = uniq('quiet');
    await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: other, columns: [{ name: 'id', type: 'integer' }] });
    const r = await api.get(`${ADMIN}/realtime/tables/public/${other}`);
    expect(r.body).toEqual({ id: 0, schema: 'public', table: other, realtime_enabled: false, events: [], created_at: '', updated_at: '' });
    expect((await api.get(`${ADMIN}/realtime/tables/public/nope`)).status).toBe(404);
  });

  it('updates the registry with PATCH and needs at least one field', async () => {
    expect((await api.patch(`${ADMIN}/realtime/tables/public/${table}`, {})).body).toMatchObject({ error: 'No updates provided', code: 'INVALID_INPUT' });
    const r = await api.patch(`${ADMIN}/realtime/tables/public/${table}`, { events: ['UPDATE'], exclude: ['secret'] });
    expect(r.body).toEqual({ success: true, message: `Realtime configuration updated for 'public.${table}'` });
    expect((await api.get(`${ADMIN}/realtime/tables/public/${table}`)).body).toMatchObject({ events: ['UPDATE'], excluded_columns: ['secret'] });
    await api.patch(`${ADMIN}/realtime/tables/public/${table}`, { exclude: [] });
    expect((await api.get(`${ADMIN}/realtime/tables/public/${table}`)).body).not.toHaveProperty('excluded_columns');
  });

  it('disables realtime, keeping the registry row, and PATCH then answers 404', async () => {
    const r = await api.delete(`${ADMIN}/realtime/tables/public/${table}`);
    expect(r.body).toEqual({ success: true, message: `Realtime disabled on table 'public.${table}'` });
    expect((await api.get(`${ADMIN}/realtime/tables`)).body.tables.map((t: { table: string }) => t.table)).not.toContain(table);
    expect((await api.get(`${ADMIN}/realtime/tables?enabled=false`)).body.tables.find((t: { table: string }) => t.table === table)).toMatchObject({ realtime_enabled: false });
    const patch = await api.patch(`${ADMIN}/realtime/tables/public/${table}`, { events: ['INSERT'] });
    expect(patch.status).toBe(404);
    expect(patch.body.error).toBe(`Realtime not enabled on table 'public.${table}'`);
    expect((await api.delete(`${ADMIN}/realtime/tables/public/${table}`)).status).toBe(200);
  });

  it('answers 500 when X-FB-Tenant is a slug (the tenant id is cast to uuid)', async () => {
    const t = await api.post(`${ADMIN}/tenants`, { slug: 'rt-slug', name: 'x' });
    expect(t.status).toBe(201);
    const r = await api.get(`${ADMIN}/realtime/tables`, { tenant: 'rt-slug' });
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ error: 'Failed to list realtime tables', code: 'INTERNAL_ERROR' });
    const byId = await api.get(`${ADMIN}/realtime/tables`, { tenant: t.body.tenant.id });
    expect(byId.body).toEqual({ count: 0, tables: [] });
  });

  it('cannot enable realtime in a tenant database, whose registry is a foreign table (F3); list and disable work', async () => {
    const tenant = (await api.post(`${ADMIN}/tenants`, { slug: 'rt-tenant', name: 'x' })).body.tenant.id as string;
    await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: 'events', columns: [{ name: 'id', type: 'integer', primaryKey: true }] }, { tenant });
    const r = await api.post(`${ADMIN}/realtime/tables`, { table: 'events' }, { tenant });
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ error: 'Failed to enable realtime' });
    expect((await api.get(`${ADMIN}/realtime/tables`, { tenant })).body).toEqual({ count: 0, tables: [] });
    expect((await api.delete(`${ADMIN}/realtime/tables/public/events`, { tenant })).status).toBe(200);
  });
});

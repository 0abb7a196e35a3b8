import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ADMIN, Api, instanceAdminToken, startPgEmulator, uniq } from './helpers.js';

describe('emulator /sql/execute (auth doc §7)', () => {
  let emu: RunningEmulator;
  let api: Api;
  let admin: Api;
  let table: string;

  beforeAll(async () => {
    emu = await startPgEmulator();
    api = new Api(emu);
    admin = api.as(await instanceAdminToken(emu));
    table = uniq('items');
    await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: table, columns: [{ name: 'id', type: 'integer', primaryKey: true }, { name: 'label', type: 'text', nullable: true }] });
  });
  afterAll(() => emu?.close());

  const run = (who: Api, query: string, tenant?: string) => who.post(`${ADMIN}/sql/execute`, { query }, tenant ? { tenant } : {});

  it('rejects an empty query with 400 INVALID_INPUT', async () => {
    const r = await run(api, '   ');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'Query cannot be empty', code: 'INVALID_INPUT' });
  });

  it('runs an instance admin without X-FB-Tenant as service_role, which may write DDL-created tables but not create tables', async () => {
    const r = await run(admin, `SELECT current_user AS who; INSERT INTO public.${table} (id, label) VALUES (1, 'a'), (2, 'b'); CREATE TABLE public.nope_${table} (id int)`);
    expect(r.status).toBe(200);
    const [who, ins, create] = r.body.results;
    expect(who).toMatchObject({ columns: ['who'], rows: [{ who: 'service_role' }], row_count: 1, statement: 'SELECT current_user AS who' });
    expect(ins).toMatchObject({ row_count: 2, affected_rows: 2 });
    expect(ins).not.toHaveProperty('columns');
    expect(create.error).toBe('ERROR: permission denied for schema public (SQLSTATE 42501)');
    // the failure rolled everything back, yet the answer is 200
    const check = await run(admin, `SELECT count(*) AS n FROM public.${table}`);
    expect(check.body.results[0].rows).toEqual([{ n: 0 }]);
  });

  it('keeps the batch all-or-nothing and reports 25P02 for statements after a failure', async () => {
    const r = await run(admin, `INSERT INTO public.${table} (id) VALUES (10); SELECT * FROM nope; SELECT 1`);
    expect(r.body.results.map((x: { error?: string }) => x.error ?? 'ok')).toEqual([
      'ok',
      'ERROR: relation "nope" does not exist (SQLSTATE 42P01)',
      'ERROR: current transaction is aborted, commands ignored until end of transaction block (SQLSTATE 25P02)',
    ]);
    expect(r.body.results[1]).toEqual({ row_count: 0, execution_time_ms: expect.any(Number), error: expect.any(String), statement: 'SELECT * FROM nope' });
    const ok = await run(admin, `INSERT INTO public.${table} (id, label) VALUES (3, 'c'); SELECT id, label FROM public.${table} ORDER BY id`);
    expect(ok.body.results[1]).toMatchObject({ columns: ['id', 'label'], rows: [{ id: 3, label: 'c' }], row_count: 1 });
  });

  it('runs a service_role JWT as "authenticated" with request.jwt.claims, so DDL-created tables are not readable', async () => {
    const r = await run(api, `SELECT current_user AS u, auth.role() AS r, auth.jwt() ->> 'tenant_id' AS t; SELECT * FROM public.${table}`);
    const [claims, select] = r.body.results;
    expect(claims.rows[0]).toMatchObject({ u: 'authenticated', r: 'service_role' });
    expect(claims.rows[0].t).toMatch(/^[0-9a-f-]{36}$/);
    expect(select.error).toBe(`ERROR: permission denied for table ${table} (SQLSTATE 42501)`);
  });

  it('runs an instance admin WITH X-FB-Tenant as authenticated too', async () => {
    const tenants = (await api.get(`${ADMIN}/tenants`)).body;
    const r = await run(admin, 'SELECT current_user AS u', tenants[0].id);
    expect(r.body.results[0].rows).toEqual([{ u: 'authenticated' }]);
  });

  it('renders values like the Go server: numbers, booleans, uuids, RFC 3339 times, embedded json, arrays, omitted empty rows', async () => {
    const r = await run(
      admin,
      `SELECT 1::int8 AS i, 1.50::numeric AS n, true AS b, '00000000-0000-0000-0000-000000000001'::uuid AS u,
              '2026-03-07 10:00:00.123+00'::timestamptz AS ts, '2026-03-07'::date AS d, '{"b":1,"a":[1,2]}'::jsonb AS j,
              ARRAY['x','y'] AS arr, '\\x0102'::bytea AS bin, NULL::text AS nothing;
       SELECT 1 AS one WHERE false`,
    );
    expect(r.body.results[0].rows[0]).toEqual({ arr: ['x', 'y'], b: true, bin: 'AQI=', d: '2026-03-07T00:00:00Z', i: 1, j: { a: [1, 2], b: 1 }, n: 1.5, nothing: null, ts: '2026-03-07T10:00:00.123Z', u: '00000000-0000-0000-0000-000000000001' });
    expect(Object.keys(r.body.results[0].rows[0])).toEqual(['arr', 'b', 'bin', 'd', 'i', 'j', 'n', 'nothing', 'ts', 'u']);
    expect(r.body.results[1]).toEqual({ columns: ['one'], row_count: 0, execution_time_ms: expect.any(Number), statement: 'SELECT 1 AS one WHERE false' });
  });

  it('limits results to 1000 rows with an error', async () => {
    const r = await run(admin, 'SELECT g FROM generate_series(1, 1005) g');
    expect(r.body.results[0].row_count).toBe(1000);
    expect(r.body.results[0].rows).toHaveLength(1000);
    expect(r.body.results[0].error).toBe('Result limited to 1000 rows (query returned 1005 rows)');
  });

  it('splits with the PostgreSQL parser (semicolons in strings) and falls back to a naive split on syntax errors', async () => {
    const parsed = await run(admin, "SELECT 'a;b' AS s;\n   SELECT 2 AS two;\n");
    expect(parsed.body.results.map((x: { statement: string }) => x.statement)).toEqual(["SELECT 'a;b' AS s", 'SELECT 2 AS two']);
    expect(parsed.body.results[0].rows).toEqual([{ s: 'a;b' }]);
    const naive = await run(admin, "SELECT 'a;b'; SELEC 1");
    expect(naive.body.results.map((x: { statement: string }) => x.statement)).toEqual(["SELECT 'a", "b'", 'SELEC 1']);
  });

  it('honours X-Impersonation-Token and refuses an invalid one with 400', async () => {
    const bad = await api.post(`${ADMIN}/sql/execute`, { query: 'select 1' }, { headers: { 'x-impersonation-token': 'nope' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'Invalid impersonation token', code: 'INVALID_INPUT' });
  });
});

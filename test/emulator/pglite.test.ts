import { afterAll, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/index.js';
import { PgliteCluster, pgliteTemplateCachePath } from '../../src/emulator/db/pglite-cluster.js';
import { ADMIN, Api } from './helpers.js';

describe('emulator on embedded PGlite', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('starts tenant databases lazily from the cached template and keeps user objects across restarts with dataDir, dropping those in internal schemas as the server does (F1)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'fluxbase-emu-pglite-'));
    dirs.push(dataDir);
    const lines: string[] = [];
    const first = await startEmulator({ storage: { kind: 'pglite', dataDir }, log: (l) => lines.push(l) });
    let tenantId: string;
    try {
      expect(existsSync(pgliteTemplateCachePath())).toBe(true);
      const api = new Api(first);
      const t = await api.post(`${ADMIN}/tenants`, { slug: 'lite', name: 'Lite' });
      expect(t.status).toBe(201);
      tenantId = t.body.tenant.id;
      expect(lines.some((l) => /created PGlite database tenant_lite/.test(l))).toBe(true);
      const mk = await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: 'notes', columns: [{ name: 'id', type: 'uuid', primaryKey: true, defaultValue: 'gen_random_uuid()' }, { name: 'body', type: 'text', defaultValue: 'hello' }] }, { tenant: tenantId });
      expect(mk.status).toBe(201);
      const info = (await api.get(`${ADMIN}/tables/public/notes`, { tenant: tenantId })).body;
      expect(info.columns.find((c: { name: string }) => c.name === 'body').default_value).toBe("'hello'::text");
      await api.post(`${ADMIN}/policies`, { schema: 'public', table: 'notes', name: 'p', command: 'SELECT', using: 'body IS NOT NULL' }, { tenant: tenantId });
      for (const tenant of [undefined, tenantId]) {
        const r = await api.post(`${ADMIN}/ddl/tables`, { schema: 'app', name: 'doomed', columns: [{ name: 'id', type: 'uuid', primaryKey: true }] }, { tenant });
        expect(r.status).toBe(201);
      }
      expect((await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: 'kept', columns: [{ name: 'id', type: 'uuid', primaryKey: true }] })).status).toBe(201);
      const sql = await api.post(`${ADMIN}/sql/execute`, { query: 'SELECT 1 AS one; SELECT * FROM nope' }, { tenant: tenantId });
      expect(sql.body.results[1].error).toBe('ERROR: relation "nope" does not exist (SQLSTATE 42P01)');
    } finally {
      await first.close();
    }

    lines.length = 0;
    const second = await startEmulator({ storage: { kind: 'pglite', dataDir }, log: (l) => lines.push(l) });
    try {
      const api = new Api(second);
      // the tenant database is not started until a request routes to it
      expect(lines.some((l) => /tenant_lite/.test(l))).toBe(false);
      expect(lines.some((l) => /rebuilt the internal schemas of the main database .*dropping: table app\.doomed$/.test(l))).toBe(true);
      expect((await api.get(`${ADMIN}/ddl/tables?schema=app`)).body.tables).toEqual([{ schema: 'app', name: 'settings' }]);
      expect((await api.get(`${ADMIN}/ddl/tables?schema=public`)).body.tables).toEqual([{ schema: 'public', name: 'kept' }]);
      expect((await api.get(`${ADMIN}/tenants`)).body.map((t: { slug: string }) => t.slug)).toEqual(['default', 'lite']);
      const tables = await api.get(`${ADMIN}/ddl/tables?schema=public`, { tenant: tenantId });
      expect(tables.body.tables).toEqual([{ schema: 'public', name: 'notes' }]);
      expect(lines.some((l) => /started PGlite database tenant_lite/.test(l))).toBe(true);
      expect((await api.get(`${ADMIN}/ddl/tables?schema=app`, { tenant: tenantId })).body.tables).toEqual(null);
      const policies = (await api.get(`${ADMIN}/policies`, { tenant: tenantId })).body;
      expect(policies).toEqual([{ schema: 'public', table: 'notes', policy_name: 'p', permissive: 'RESTRICTIVE', roles: ['public'], command: 'SELECT', using: '(body IS NOT NULL)', with_check: null }]);
      expect((await api.delete(`${ADMIN}/tenants/${tenantId}?hard=true`)).status).toBe(204);
      expect(existsSync(join(dataDir, 'databases', 'tenant_lite'))).toBe(false);
    } finally {
      await second.close();
    }
  });

  it('runs in memory by default', async () => {
    const emu = await startEmulator();
    try {
      const api = new Api(emu);
      expect((await api.get(`${ADMIN}/ddl/schemas`)).body.schemas).toHaveLength(13);
      const m = await api.post(`${ADMIN}/migrations`, { name: 'm1', up_sql: 'CREATE TABLE public.t (id int)' });
      expect(m.status).toBe(201);
      expect((await api.post(`${ADMIN}/migrations/m1/apply`)).status).toBe(200);
      expect((await api.get(`${ADMIN}/ddl/tables?schema=public`)).body.tables).toEqual([{ schema: 'public', name: 't' }]);
    } finally {
      await emu.close();
    }
  });

  it('runs at most maxRunning tenant databases at once; a stopped one keeps its data and restarts on its next query; a temporary cluster leaves no files', async () => {
    const lines: string[] = [];
    const cluster = await PgliteCluster.start({ maxRunning: 1, log: (l) => lines.push(l) });
    const root = (cluster as unknown as { root: string }).root;
    try {
      const a = await cluster.create('tenant_a');
      await a.exec('CREATE TABLE public.kept (v text); INSERT INTO public.kept VALUES ($$from a$$)');
      const b = await cluster.create('tenant_b');
      await b.query('SELECT 1');
      await vi.waitFor(() => expect(lines).toContain('stopped idle PGlite database tenant_a'));
      // the same object answers: started again, with its data
      expect((await a.query<{ v: string }>('SELECT v FROM public.kept')).rows).toEqual([{ v: 'from a' }]);
      // started when created, and once more after it was stopped
      expect(lines.filter((l) => l.startsWith('started PGlite database tenant_a'))).toHaveLength(2);
      await vi.waitFor(() => expect(lines).toContain('stopped idle PGlite database tenant_b'));
      expect(existsSync(root)).toBe(true);
    } finally {
      await cluster.close();
    }
    expect(existsSync(root)).toBe(false);
  });
});

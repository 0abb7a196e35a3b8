import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ADMIN, Api, startPgEmulator, tenantAdminToken, uniq } from './helpers.js';

const col = (name: string, type: string, extra: Record<string, unknown> = {}) => ({ name, type, ...extra });

describe('emulator DDL (auth doc §5)', () => {
  let emu: RunningEmulator;
  let api: Api;

  beforeAll(async () => {
    emu = await startPgEmulator();
    api = new Api(emu);
  });
  afterAll(() => emu?.close());

  it('lists the internal schemas of a fresh instance with the constant owner "postgres"', async () => {
    const r = await api.get(`${ADMIN}/ddl/schemas`);
    expect(r.body.schemas.map((s: { name: string }) => s.name)).toEqual(['ai', 'app', 'auth', 'branching', 'functions', 'jobs', 'logging', 'mcp', 'platform', 'public', 'realtime', 'rpc', 'storage']);
    expect(new Set(r.body.schemas.map((s: { owner: string }) => s.owner))).toEqual(new Set(['postgres']));
    expect((await api.get(`${ADMIN}/schemas`)).body).toContain('public');
  });

  it('creates a schema (201) and answers 409 when it exists; tenant_admin sees only the fixed subset', async () => {
    const name = uniq('app');
    const r = await api.post(`${ADMIN}/ddl/schemas`, { name });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ success: true, schema: name, message: `Schema '${name}' created successfully` });
    const dup = await api.post(`${ADMIN}/schemas`, { name });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ error: `Schema '${name}' already exists`, code: 'ALREADY_EXISTS' });
    const ta = api.as(await tenantAdminToken(emu));
    const listed = (await ta.get(`${ADMIN}/ddl/schemas`)).body.schemas.map((s: { name: string }) => s.name);
    expect(listed).not.toContain(name);
    expect(listed).not.toContain('app');
  });

  it.each([
    ['empty name', '', 'schema name cannot be empty'],
    ['too long', 'a'.repeat(64), 'schema name cannot exceed 63 characters'],
    ['bad characters', '1abc', 'schema name must start with a letter or underscore and contain only letters, numbers, and underscores'],
    ['reserved word (case-insensitive)', 'Select', "'Select' is a reserved keyword and cannot be used as a schema name"],
  ])('validates identifiers: %s', async (_n, name, message) => {
    const r = await api.post(`${ADMIN}/ddl/schemas`, { name });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: message, code: 'VALIDATION_FAILED' });
  });

  describe('create table validation order', () => {
    it('validates schema, then table name, then requires columns', async () => {
      expect((await api.post(`${ADMIN}/ddl/tables`, { schema: '', name: 'x', columns: [] })).body.error).toBe('schema name cannot be empty');
      expect((await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: 'order', columns: [] })).body.error).toBe("'order' is a reserved keyword and cannot be used as a table name");
      const r = await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: 'x', columns: [] });
      expect(r.body).toMatchObject({ error: 'At least one column is required', code: 'VALIDATION_FAILED' });
    });

    it('answers 404 for a missing schema and 409 for an existing table BEFORE validating columns', async () => {
      const missing = await api.post(`${ADMIN}/ddl/tables`, { schema: 'nope_schema', name: 't', columns: [col('', 'int')] });
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ error: "Schema 'nope_schema' does not exist", code: 'NOT_FOUND' });
      const name = uniq('t');
      await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name, columns: [col('id', 'integer')] });
      const exists = await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name, columns: [col('id', 'int')] });
      expect(exists.status).toBe(409);
      expect(exists.body).toMatchObject({ error: `Table 'public.${name}' already exists`, code: 'ALREADY_EXISTS' });
    });

    it('reports column problems with a 1-based index or the column name', async () => {
      const a = await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: uniq('t'), columns: [col('id', 'integer'), col('', 'text')] });
      expect(a.body).toMatchObject({ error: 'column 2: column name cannot be empty', code: 'VALIDATION_FAILED' });
      for (const type of ['int', 'varchar(255)', 'text[]', 'serial', 'numeric(10,2)']) {
        const b = await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: uniq('t'), columns: [col('x', type)] });
        expect(b.body.error).toBe(`column 'x': invalid data type '${type}'`);
      }
    });

    it('answers 500 "Failed to create table" when PostgreSQL refuses (duplicate column names)', async () => {
      const r = await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: uniq('t'), columns: [col('a', 'text'), col('a', 'text')] });
      expect(r.status).toBe(500);
      expect(r.body).toMatchObject({ error: 'Failed to create table', code: 'INTERNAL_ERROR' });
    });

    it('rejects a malformed body or a type mismatch with INVALID_REQUEST_BODY and ignores snake_case aliases', async () => {
      const bad = await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: 't', columns: [{ name: 'a', type: 'text', nullable: 'yes' }] });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ error: 'Invalid request body', code: 'INVALID_REQUEST_BODY' });
      const malformed = await api.call('POST', `${ADMIN}/ddl/tables`, { raw: '{"schema":' });
      expect(malformed.body.code).toBe('INVALID_REQUEST_BODY');
      const noType = await api.call('POST', `${ADMIN}/ddl/tables`, { headers: { 'content-type': 'text/plain' }, raw: '{}' });
      expect(noType.body.code).toBe('INVALID_REQUEST_BODY');
      const name = uniq('snake');
      const r = await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name, columns: [{ name: 'id', type: 'integer', primary_key: true }] });
      expect(r.status).toBe(201);
      const info = await api.get(`${ADMIN}/tables/public/${name}`);
      expect(info.body.primary_key).toBeNull();
    });
  });

  it('renders types and defaults as PostgreSQL does (§5.3 table) with nullable defaulting to false', async () => {
    const name = uniq('render');
    const r = await api.post(`${ADMIN}/ddl/tables`, {
      schema: 'public',
      name,
      columns: [
        col('id', 'uuid', { primaryKey: true, defaultValue: 'gen_random_uuid()' }),
        col('t', 'text', { defaultValue: 'hello' }),
        col('v', 'varchar', { defaultValue: 'v' }),
        col('c', 'char', { nullable: true }),
        col('i0', 'integer', { defaultValue: '0' }),
        col('i1', 'integer', { defaultValue: '-1' }),
        col('b', 'bigint', { defaultValue: '42' }),
        col('n', 'numeric', { defaultValue: '1.50' }),
        col('r', 'real', { nullable: true }),
        col('dp', 'double precision', { nullable: true }),
        col('bo', 'boolean', { defaultValue: 'TRUE' }),
        col('d', 'date', { defaultValue: 'now()::date' }),
        col('d2', 'date', { defaultValue: 'CURRENT_DATE' }),
        col('ts', 'timestamp', { defaultValue: 'now()' }),
        col('tz', 'timestamptz', { defaultValue: 'current_timestamp' }),
        col('tm', 'time', { nullable: true }),
        col('j', 'jsonb', { defaultValue: '{}' }),
        col('f', 'text', { defaultValue: 'Now()' }),
        col('nul', 'text', { nullable: true, defaultValue: 'NULL' }),
        col('ip', 'inet', { nullable: true }),
      ],
    });
    expect(r.status).toBe(201);
    const info = (await api.get(`${ADMIN}/tables/public/${name}`)).body;
    expect(info).toMatchObject({ schema: 'public', name, type: '', rls_enabled: false, primary_key: ['id'], foreign_keys: null });
    const byName = Object.fromEntries(info.columns.map((c: { name: string }) => [c.name, c]));
    const expectations: Array<[string, string, string | null]> = [
      ['id', 'uuid', 'gen_random_uuid()'],
      ['t', 'text', "'hello'::text"],
      ['v', 'character varying', "'v'::character varying"],
      ['c', 'character', null],
      ['i0', 'integer', '0'],
      ['i1', 'integer', "'-1'::integer"],
      ['b', 'bigint', '42'],
      ['n', 'numeric', '1.50'],
      ['r', 'real', null],
      ['dp', 'double precision', null],
      ['bo', 'boolean', 'true'],
      ['d', 'date', '(now())::date'],
      ['d2', 'date', 'CURRENT_DATE'],
      ['ts', 'timestamp without time zone', 'now()'],
      ['tz', 'timestamp with time zone', 'CURRENT_TIMESTAMP'],
      ['tm', 'time without time zone', null],
      ['j', 'jsonb', "'{}'::jsonb"],
      ['f', 'text', "'Now()'::text"],
      ['nul', 'text', null],
      ['ip', 'inet', null],
    ];
    for (const [c, type, def] of expectations) {
      expect(byName[c].data_type, c).toBe(type);
      expect(byName[c].default_value, c).toBe(def);
    }
    expect(byName.c.max_length).toBe(1);
    expect(byName.t.is_nullable).toBe(false);
    expect(byName.c.is_nullable).toBe(true);
    expect(byName.id).toMatchObject({ is_primary_key: true, is_unique: false, position: 1 });
    expect(info.indexes).toEqual([{ name: `${name}_pkey`, columns: ['id'], is_unique: true, is_primary: true }]);
  });

  it('lists rich TableInfo with type and rls_enabled, null keys for views, and hides pg* tables', async () => {
    const schema = uniq('rich');
    await api.post(`${ADMIN}/ddl/schemas`, { name: schema });
    await api.post(`${ADMIN}/ddl/tables`, { schema, name: 'parent', columns: [col('id', 'integer', { primaryKey: true })] });
    await api.post(`${ADMIN}/ddl/tables`, { schema, name: 'pgroups', columns: [col('id', 'integer')] });
    await api.post(`${ADMIN}/sql/execute`, { query: 'select 1' });
    // DDL the API cannot express goes through the migrations API (runs as the admin user)
    const mig = uniq('m');
    await api.post(`${ADMIN}/migrations`, {
      name: mig,
      up_sql: `CREATE TABLE ${schema}.child (id int PRIMARY KEY, pid int REFERENCES ${schema}.parent(id) ON DELETE CASCADE);
               CREATE UNIQUE INDEX child_pid_key ON ${schema}.child (pid);
               CREATE VIEW ${schema}.v AS SELECT id FROM ${schema}.parent;`,
    });
    expect((await api.post(`${ADMIN}/migrations/${mig}/apply`)).status).toBe(200);
    const list = (await api.get(`${ADMIN}/tables?schema=${schema}`)).body;
    expect(list.map((t: { name: string; type: string }) => `${t.name}:${t.type}`)).toEqual(['child:table', 'parent:table', 'v:view']);
    const child = list.find((t: { name: string }) => t.name === 'child');
    expect(child.foreign_keys).toEqual([
      { name: 'child_pid_fkey', column_name: 'pid', referenced_table: `${schema}.parent`, referenced_column: 'id', on_delete: 'CASCADE', on_update: 'NO ACTION' },
    ]);
    expect(child.columns.find((c: { name: string }) => c.name === 'pid')).toMatchObject({ is_foreign_key: true, is_unique: false });
    expect(child.indexes.map((i: { name: string; is_unique: boolean }) => `${i.name}:${i.is_unique}`)).toEqual(['child_pid_key:true', 'child_pkey:true']);
    const view = list.find((t: { name: string }) => t.name === 'v');
    expect(view).toMatchObject({ primary_key: null, foreign_keys: null, indexes: null, rls_enabled: false });
    expect((await api.get(`${ADMIN}/ddl/tables?schema=${schema}`)).body.tables.map((t: { name: string }) => t.name)).toEqual(['child', 'parent']);
  });

  it('makes a whole schema vanish from the lists when one relation needs quoting, and 404s the single GET', async () => {
    const schema = uniq('mixed');
    await api.post(`${ADMIN}/ddl/schemas`, { name: schema });
    await api.post(`${ADMIN}/ddl/tables`, { schema, name: 'fine', columns: [col('id', 'integer')] });
    expect((await api.get(`${ADMIN}/ddl/tables?schema=${schema}`)).body.tables).toHaveLength(1);
    const made = await api.post(`${ADMIN}/ddl/tables`, { schema, name: 'MyTable', columns: [col('id', 'integer')] });
    expect(made.status).toBe(201);
    expect((await api.get(`${ADMIN}/ddl/tables?schema=${schema}`)).body).toEqual({ tables: null });
    expect((await api.get(`${ADMIN}/tables?schema=${schema}`)).body).toBeNull();
    const one = await api.get(`${ADMIN}/tables/${schema}/MyTable`);
    expect(one.status).toBe(404);
    expect(one.body).toEqual({ error: `Table not found: ${schema}.MyTable` });
    expect((await api.get(`${ADMIN}/tables/${schema}/fine`)).status).toBe(200);
  });

  it('answers 200 with null metadata for a table that does not exist (single-table GET)', async () => {
    const r = await api.get(`${ADMIN}/tables/public/does_not_exist`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ schema: 'public', name: 'does_not_exist', type: '', columns: null, primary_key: null, foreign_keys: null, indexes: null, rls_enabled: false });
  });

  it('renames, adds and drops columns, and drops tables with the documented statuses', async () => {
    const a = uniq('a');
    const b = uniq('b');
    await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: a, columns: [col('id', 'integer')] });
    await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: b, columns: [col('id', 'integer')] });
    expect((await api.patch(`${ADMIN}/tables/public/${a}`, { newName: b })).body).toMatchObject({ error: `Table 'public.${b}' already exists`, code: 'ALREADY_EXISTS' });
    expect((await api.patch(`${ADMIN}/tables/public/nope_${a}`, { newName: 'x1' })).status).toBe(404);
    const renamed = `${a}_r`;
    const ren = await api.patch(`${ADMIN}/tables/public/${a}`, { NewName: renamed });
    expect(ren.body).toEqual({ success: true, message: `Table 'public.${a}' renamed to 'public.${renamed}'` });

    const add = await api.post(`${ADMIN}/tables/public/${renamed}/columns`, { name: 'note', type: 'TEXT ', nullable: true, defaultValue: 'x' });
    expect(add.status).toBe(201);
    expect(add.body).toEqual({ success: true, message: `Column 'note' added to table 'public.${renamed}'` });
    expect((await api.post(`${ADMIN}/tables/public/${renamed}/columns`, { name: 'note', type: 'text' })).status).toBe(409);
    const badType = await api.post(`${ADMIN}/tables/public/${renamed}/columns`, { name: 'n2', type: 'int' });
    expect(badType.body).toMatchObject({ error: "Invalid data type 'int'", code: 'INVALID_INPUT' });
    expect((await api.post(`${ADMIN}/tables/public/nope_${a}/columns`, { name: 'n2', type: 'text' })).body.error).toBe(`Table 'public.nope_${a}' does not exist`);
    await api.post(`${ADMIN}/sql/execute`, { query: 'select 1' });

    expect((await api.delete(`${ADMIN}/tables/public/${renamed}/columns/missing`)).body).toMatchObject({ error: `Column 'missing' does not exist in table 'public.${renamed}'` });
    const drop = await api.delete(`${ADMIN}/tables/public/${renamed}/columns/note`);
    expect(drop.body).toEqual({ success: true, message: `Column 'note' dropped from table 'public.${renamed}'` });

    expect((await api.delete(`${ADMIN}/ddl/tables/public/${renamed}`)).body).toEqual({ success: true, message: `Table 'public.${renamed}' deleted successfully` });
    expect((await api.delete(`${ADMIN}/tables/public/${renamed}`)).status).toBe(404);
  });

  it('refuses to drop a table others depend on (no CASCADE) with 500', async () => {
    const p = uniq('p');
    await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: p, columns: [col('id', 'integer', { primaryKey: true })] });
    const m = uniq('m');
    await api.post(`${ADMIN}/migrations`, { name: m, up_sql: `CREATE VIEW public.${p}_v AS SELECT id FROM public.${p}` });
    await api.post(`${ADMIN}/migrations/${m}/apply`);
    const r = await api.delete(`${ADMIN}/ddl/tables/public/${p}`);
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ error: 'Failed to drop table', code: 'INTERNAL_ERROR' });
  });

  it('answers {"tables":null} for an empty schema and the POST /query stub', async () => {
    const schema = uniq('empty');
    await api.post(`${ADMIN}/ddl/schemas`, { name: schema });
    expect((await api.get(`${ADMIN}/ddl/tables?schema=${schema}`)).body).toEqual({ tables: null });
    expect((await api.post(`${ADMIN}/query`, { anything: 1 })).body).toEqual({ message: 'Execute query endpoint - to be implemented' });
  });
});

/**
 * The type-change classes of src/sql/type-change.ts, checked against the test PostgreSQL (18) on
 * real rows: every listed conversion is run as `ALTER COLUMN … TYPE` without USING (what the tool
 * sends), and the test asserts what PostgreSQL actually did — refused it (needs-using, or a value
 * that does not fit), rewrote the table file (relfilenode) or not, and whether every value survived
 * the round trip back to the old type.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadSqlParser } from '../../src/sql/parser.js';
import { classifyTypeChange, type TypeChangeClass } from '../../src/sql/type-change.js';
import { BUILTIN_TYPES, parseType } from '../../src/sql/types.js';

interface Case {
  from: string;
  to: string;
  expect: TypeChangeClass;
  /** Values (SQL literals) that convert: they must survive the round trip (unless `loses`). */
  fits: string[];
  /** lossy: a value the conversion changes. */
  loses?: string;
  /** narrowing: a value PostgreSQL refuses. */
  refused?: string;
  /** Session time zone for the case (default UTC). */
  tz?: string;
}

const CASES: Case[] = [
  // binary-coercible: no rewrite
  { from: 'varchar(10)', to: 'varchar(20)', expect: 'binary', fits: ["'hello'"] },
  { from: 'varchar(10)', to: 'text', expect: 'binary', fits: ["'hello'"] },
  { from: 'varchar(10)', to: 'varchar', expect: 'binary', fits: ["'hello'"] },
  { from: 'text', to: 'varchar', expect: 'binary', fits: ["'hello world'"] },
  { from: 'varchar', to: 'text', expect: 'binary', fits: ["'hello world'"] },
  { from: 'numeric(8,2)', to: 'numeric(12,2)', expect: 'binary', fits: ['123456.78'] },
  { from: 'numeric(8,2)', to: 'numeric', expect: 'binary', fits: ['123456.78'] },
  { from: 'timestamp(3)', to: 'timestamp(6)', expect: 'binary', fits: ["'2024-01-01 10:00:00.123'"] },
  { from: 'timestamptz(0)', to: 'timestamptz', expect: 'binary', fits: ["'2024-01-01 10:00:00+00'"] },
  { from: 'cidr', to: 'inet', expect: 'binary', fits: ["'10.0.0.0/8'"] },
  { from: 'bit(3)', to: 'varbit', expect: 'binary', fits: ["B'101'"] },
    // rewritten, every value kept
  { from: 'integer', to: 'bigint', expect: 'rewrite', fits: ['2147483647', '-5'] },
  { from: 'smallint', to: 'integer', expect: 'rewrite', fits: ['32767'] },
  { from: 'integer', to: 'numeric', expect: 'rewrite', fits: ['2147483647'] },
  { from: 'integer', to: 'numeric(12,0)', expect: 'rewrite', fits: ['2147483647'] },
  { from: 'integer', to: 'double precision', expect: 'rewrite', fits: ['2147483647'] },
  { from: 'smallint', to: 'real', expect: 'rewrite', fits: ['32767'] },
  { from: 'real', to: 'double precision', expect: 'rewrite', fits: ['0.1', '3.4e38'] },
  { from: 'numeric(8,2)', to: 'numeric(10,4)', expect: 'rewrite', fits: ['123456.78'] },
  { from: 'date', to: 'timestamp', expect: 'rewrite', fits: ["'2024-02-29'"] },
  { from: 'date', to: 'timestamptz', expect: 'rewrite', fits: ["'2024-02-29'"] },
  { from: 'timestamp', to: 'timestamptz', expect: 'rewrite', fits: ["'2024-01-01 10:00:00'"], tz: 'America/New_York' },
  { from: 'integer', to: 'text', expect: 'rewrite', fits: ['42'] },
  { from: 'uuid', to: 'text', expect: 'rewrite', fits: ["'6f1c2b1e-8c1a-4e3b-9f5d-0a1b2c3d4e5f'"] },
  { from: 'jsonb', to: 'text', expect: 'rewrite', fits: ['\'{"a": 1}\''] },
  { from: 'boolean', to: 'text', expect: 'rewrite', fits: ['true'] },
  { from: 'char(5)', to: 'text', expect: 'rewrite', fits: ["'ab'"] },
  { from: 'char(3)', to: 'char(5)', expect: 'rewrite', fits: ["'ab'"] },
  { from: 'jsonb', to: 'json', expect: 'rewrite', fits: ['\'{"a": 1}\''] },
  { from: 'time', to: 'timetz', expect: 'rewrite', fits: ["'10:00'"] },
  { from: 'time', to: 'interval', expect: 'rewrite', fits: ["'10:00'"] },
  { from: 'macaddr', to: 'macaddr8', expect: 'rewrite', fits: ["'08:00:2b:01:02:03'"] },
  { from: 'varchar(5)[]', to: 'varchar(10)[]', expect: 'rewrite', fits: ["'{ab,cd}'"] },
  { from: 'text[]', to: 'varchar[]', expect: 'rewrite', fits: ["'{a,b}'"] },
  { from: 'integer[]', to: 'text', expect: 'rewrite', fits: ["'{1,2}'"] },
  // rewritten; PostgreSQL refuses what does not fit (nothing truncated)
  { from: 'text', to: 'varchar(5)', expect: 'narrowing', fits: ["'hello'"], refused: "'hello world, this is long'" },
  { from: 'varchar(10)', to: 'varchar(5)', expect: 'narrowing', fits: ["'hello'"], refused: "'hello you'" },
  { from: 'bigint', to: 'integer', expect: 'narrowing', fits: ['5'], refused: '3000000000' },
  { from: 'integer', to: 'smallint', expect: 'narrowing', fits: ['5'], refused: '40000' },
  { from: 'numeric(10,2)', to: 'numeric(6,2)', expect: 'narrowing', fits: ['1234.56'], refused: '123456.78' },
  { from: 'integer', to: 'numeric(5,0)', expect: 'narrowing', fits: ['12345'], refused: '123456' },
  { from: 'text', to: 'char(3)', expect: 'narrowing', fits: ["'abc'"], refused: "'abcd'" },
  { from: 'integer', to: 'varchar(3)', expect: 'narrowing', fits: ['123'], refused: '1234' },
  { from: 'macaddr8', to: 'macaddr', expect: 'narrowing', fits: ["'08:00:2b:ff:fe:01:02:03'"], refused: "'08:00:2b:01:02:03:04:05'" },
  { from: 'text[]', to: 'varchar(3)[]', expect: 'narrowing', fits: ["'{ab}'"], refused: "'{abcd}'" },
  // rewritten; values silently change
  { from: 'numeric(10,2)', to: 'integer', expect: 'lossy', fits: ['20'], loses: '19.99' },
  { from: 'numeric', to: 'numeric(10,2)', expect: 'lossy', fits: ['1.50'], loses: '1.234' },
  { from: 'numeric(10,4)', to: 'numeric(10,2)', expect: 'lossy', fits: [], loses: '1.2345' },
  { from: 'double precision', to: 'integer', expect: 'lossy', fits: ['2'], loses: '1.5' },
  { from: 'double precision', to: 'real', expect: 'lossy', fits: ['0.5'], loses: '0.1234567890123' },
  { from: 'double precision', to: 'numeric', expect: 'lossy', fits: ['0.5'], loses: '0.30000000000000004' },
  { from: 'bigint', to: 'double precision', expect: 'lossy', fits: ['5'], loses: '9007199254740993' },
  { from: 'integer', to: 'real', expect: 'lossy', fits: ['5'], loses: '16777217' },
  { from: 'numeric', to: 'double precision', expect: 'lossy', fits: ['0.5'], loses: '0.1234567890123456789' },
  { from: 'timestamptz', to: 'date', expect: 'lossy', fits: [], loses: "'2024-01-01 10:00:00+00'" },
  { from: 'timestamp', to: 'date', expect: 'lossy', fits: [], loses: "'2024-01-01 10:00:00'" },
  { from: 'timestamptz', to: 'timestamp', expect: 'lossy', fits: [], loses: "'2024-11-03 05:30:00+00'", tz: 'America/New_York' },
  { from: 'timestamp', to: 'time', expect: 'lossy', fits: [], loses: "'2024-01-01 10:00:00'" },
  { from: 'timestamp(6)', to: 'timestamp(0)', expect: 'lossy', fits: ["'2024-01-01 10:00:00'"], loses: "'2024-01-01 10:00:00.123456'" },
  { from: 'timetz', to: 'time', expect: 'lossy', fits: [], loses: "'10:00:00+02'" },
  { from: 'interval', to: 'time', expect: 'lossy', fits: ["'02:00'"], loses: "'1 day 02:00'" },
  { from: 'json', to: 'jsonb', expect: 'lossy', fits: [], loses: '\'{"a":1,"a":2}\'' },
  { from: 'inet', to: 'cidr', expect: 'lossy', fits: ["'10.0.0.0/8'"], loses: "'192.168.1.5/24'" },
  // refused without USING
  { from: 'text', to: 'integer', expect: 'needs-using', fits: ["'1'"] },
  { from: 'text', to: 'uuid', expect: 'needs-using', fits: ["'6f1c2b1e-8c1a-4e3b-9f5d-0a1b2c3d4e5f'"] },
  { from: 'text', to: 'jsonb', expect: 'needs-using', fits: ["'{}'"] },
  { from: 'text', to: 'date', expect: 'needs-using', fits: ["'2024-01-01'"] },
  { from: 'text', to: 'boolean', expect: 'needs-using', fits: ["'true'"] },
  { from: 'varchar(10)', to: 'integer', expect: 'needs-using', fits: ["'1'"] },
  { from: 'char(5)', to: 'integer', expect: 'needs-using', fits: ["'1'"] },
  { from: 'integer', to: 'boolean', expect: 'needs-using', fits: ['1'] },
  { from: 'boolean', to: 'integer', expect: 'needs-using', fits: ['true'] },
  { from: 'jsonb', to: 'integer', expect: 'needs-using', fits: ["'1'"] },
  { from: 'integer', to: 'date', expect: 'needs-using', fits: ['1'] },
  { from: 'uuid', to: 'bytea', expect: 'needs-using', fits: ["'6f1c2b1e-8c1a-4e3b-9f5d-0a1b2c3d4e5f'"] },
  { from: 'integer[]', to: 'integer', expect: 'needs-using', fits: ["'{1}'"] },
  { from: 'integer', to: 'integer[]', expect: 'needs-using', fits: ['1'] },
];

let client: pg.Client;
const schema = `type_change_${process.pid}`;

beforeAll(async () => {
  await loadSqlParser();
  client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
});

afterAll(async () => {
  await client?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client?.end();
});

/** Creates a table with `c` (converted) and `orig` (kept) holding `values`; returns its relfilenode. */
async function table(name: string, type: string, values: string[]): Promise<number> {
  await client.query(`CREATE TABLE ${schema}.${name} (c ${type}, orig ${type})`);
  for (const v of values) await client.query(`INSERT INTO ${schema}.${name} VALUES (${v}, ${v})`);
  return relfilenode(name);
}

async function relfilenode(name: string): Promise<number> {
  const r = await client.query<{ n: number }>(`SELECT relfilenode::int AS n FROM pg_class WHERE oid = '${schema}.${name}'::regclass`);
  return r.rows[0]!.n;
}

/** ALTER … TYPE without USING; the SQLSTATE when PostgreSQL refuses. */
async function alter(name: string, to: string): Promise<string | undefined> {
  try {
    await client.query(`ALTER TABLE ${schema}.${name} ALTER COLUMN c TYPE ${to}`);
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? 'error';
  }
}

/** Rows whose value did not survive: converted back to the old type (or, without a cast back, as text) and compared. */
async function changedRows(name: string, from: string): Promise<number> {
  const count = async (back: string) =>
    (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.${name} WHERE ${back}::text IS DISTINCT FROM orig::text`)).rows[0]!.n;
  try {
    return await count(`(c::${from})`);
  } catch {
    return count('c');
  }
}

describe('column type changes on PostgreSQL 18 rows', () => {
  CASES.forEach((c, i) => {
    it(`${c.from} → ${c.to} is ${c.expect}`, async () => {
      expect(classifyTypeChange(c.from, c.to).kind).toBe(c.expect);
      await client.query(`SET TimeZone = '${c.tz ?? 'UTC'}'`);
      const name = `t${i}`;
      const values = c.loses ? [...c.fits, c.loses] : c.fits;
      const before = await table(name, c.from, values);
      const refused = await alter(name, c.to);
      if (c.expect === 'needs-using') {
        expect(refused).toBe('42804'); // column "c" cannot be cast automatically to type …
        return;
      }
      expect(refused).toBeUndefined();
      const rewritten = (await relfilenode(name)) !== before;
      expect(rewritten).toBe(c.expect !== 'binary');
      expect(await changedRows(name, c.from)).toBe(c.expect === 'lossy' ? 1 : 0);
      if (c.refused) {
        await table(`${name}_r`, c.from, [...c.fits, c.refused]);
        expect(await alter(`${name}_r`, c.to)).toBeDefined();
      }
    });
  });

  it('knows every built-in type name it lists as a pg_catalog type', async () => {
    const names = [...BUILTIN_TYPES];
    const r = await client.query<{ typname: string }>(
      `SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'pg_catalog' AND typname = ANY($1)`,
      [names],
    );
    expect(r.rows.map((x) => x.typname).sort()).toEqual(names.sort());
    expect(parseType('integer')?.name).toBe('int4');
  });
});

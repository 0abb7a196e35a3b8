/**
 * The postgres backend's connection handling: a statement failing with a server error keeps its
 * pooled connection (no new backend per failed statement), reset to the state of a new session;
 * an error inside an open transaction block still discards the connection. A transaction's BEGIN
 * may share a message with its first statement (`withBegin`) and still encloses it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { PgCluster } from '../../src/emulator/db/pg-cluster.js';

describe('postgres backend connections', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await PgCluster.start({ databaseUrl: inject('databaseUrl') });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  const session = async () =>
    (
      await cluster.main.query<{ pid: number; tz: string; role: string; locks: number }>(
        `SELECT pg_backend_pid() AS pid, current_setting('TimeZone') AS tz, current_user::text AS role,
                (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks`,
      )
    ).rows[0]!;

  it('keeps the connection after a failed statement, reset like a new session', async () => {
    const before = await session();
    expect(before).toMatchObject({ tz: 'UTC', role: 'postgres', locks: 0 });
    // session state changed by statements before the failing one of the same script (an implicit
    // COMMIT keeps them): a new connection would not have it, nor does the reused one
    await expect(
      cluster.main.exec("SET TimeZone = 'Europe/Paris'; SET ROLE anon; COMMIT; SELECT pg_advisory_lock(42); SELECT 1/0"),
    ).rejects.toMatchObject({ code: '22012' });
    await expect(cluster.main.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    const after = await session();
    expect(after).toEqual({ pid: before.pid, tz: 'UTC', role: 'postgres', locks: 0 });
  });

  it('drops a connection left in a failed transaction block', async () => {
    const before = await session();
    await expect(cluster.main.exec('BEGIN; SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    const after = await session();
    expect(after.pid).not.toBe(before.pid);
    expect(after).toMatchObject({ tz: 'UTC', role: 'postgres', locks: 0 });
  });

  it('runs a withBegin statement inside the transaction, with the same result as on its own', async () => {
    const locks = (db: { query: typeof cluster.main.query }) =>
      db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242").then((r) => r.rows[0]!.n);
    const plain = await cluster.main.transaction((tx) => tx.query('SELECT pg_try_advisory_xact_lock(4242) AS ok, 1::int AS one, now()::timestamptz AS at'));
    const merged = await cluster.main.transaction(async (tx) => {
      const r = await tx.query('SELECT pg_try_advisory_xact_lock(4242) AS ok, 1::int AS one, now()::timestamptz AS at', undefined, { withBegin: true });
      // a transaction-scoped lock still held by the next statement: BEGIN was in effect
      expect(await locks(tx)).toBe(1);
      const inTx = await tx.query<{ same: boolean }>('SELECT now() = $1::timestamptz AS same', [r.rows[0]!.at]);
      expect(inTx.rows[0]!.same).toBe(true);
      return r;
    });
    expect(await locks(cluster.main)).toBe(0);
    expect(merged.fields).toEqual(plain.fields);
    expect(merged.rowCount).toBe(plain.rowCount);
    expect(merged.rows.map((r) => ({ ...r, at: typeof r.at }))).toEqual(plain.rows.map((r) => ({ ...r, at: typeof r.at })));
  });

  it('rolls back a transaction begun with a withBegin statement when it throws', async () => {
    await cluster.main.exec('CREATE TABLE IF NOT EXISTS public.pool_probe (n int)');
    await expect(
      cluster.main.transaction(async (tx) => {
        await tx.query('SELECT 1 AS one', undefined, { withBegin: true });
        await tx.query('INSERT INTO public.pool_probe VALUES (1)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await cluster.main.query('SELECT count(*)::int AS n FROM public.pool_probe')).rows[0]).toEqual({ n: 0 });
  });

  it('fails a withBegin statement with the error it gives on its own, inside the transaction', async () => {
    const failure = (withBegin: boolean) =>
      cluster.main
        .transaction(async (tx) => {
          const e = await tx.query('SET LOCAL ROLE no_such_role', undefined, { withBegin }).then(() => undefined, (err: unknown) => err);
          // the transaction is open and aborted, as after a separate BEGIN
          const next = await tx.query('SELECT 1').then(() => 'ran', (err: { code?: string }) => err.code);
          return { e, next };
        })
        .then(({ e, next }) => ({ message: (e as Error).message, code: (e as { code?: string }).code, next }));
    expect(await failure(true)).toEqual(await failure(false));
    expect(await failure(true)).toEqual({ message: 'role "no_such_role" does not exist', code: '22023', next: '25P02' });
  });
});

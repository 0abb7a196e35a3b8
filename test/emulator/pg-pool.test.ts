/**
 * The postgres backend's connection handling: a statement failing with a server error keeps its
 * pooled connection (no new backend per failed statement), reset to the state of a new session;
 * an error inside an open transaction block still discards the connection.
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
});

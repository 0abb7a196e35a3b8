/**
 * A PostgreSQL server for tests.
 *
 * - `FLUXBASE_TEST_DATABASE_URL` set: that server is used as is (it must accept a superuser).
 * - Otherwise a throwaway PostgreSQL cluster is created with `initdb` and started with `pg_ctl`
 *   on a free loopback port, with durability off (fast), and removed again by `stop()`.
 *   As root the binaries run as the `postgres` OS user (`runuser -u postgres --`).
 *
 * The binaries are looked up on PATH, then under /usr/lib/postgresql/<version>/bin.
 */
import { execFile as execFileCb } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);

export interface TestPostgres {
  /** Superuser connection URL, e.g. postgres://postgres@127.0.0.1:54123/postgres */
  url: string;
  /** Stops and deletes the throwaway cluster (no-op for an external server). */
  stop(): Promise<void>;
}

function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const p = join(base, v, 'bin', name);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL binary, as the `postgres` OS user when we are root. */
async function runPg(binary: string, args: string[]): Promise<void> {
  const asRoot = userInfo().uid === 0;
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  await execFile(cmd, argv, { timeout: 120_000 });
}

/** Starts (or adopts, via FLUXBASE_TEST_DATABASE_URL) a PostgreSQL server. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const external = process.env.FLUXBASE_TEST_DATABASE_URL;
  if (external) return { url: external, stop: async () => {} };

  const initdb = findBinary('initdb');
  const pgCtl = findBinary('pg_ctl');
  if (!initdb || !pgCtl) {
    throw new Error(
      'PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin. ' +
        'Install the `postgresql` Debian package (apt-get install -y postgresql), ' +
        'or set FLUXBASE_TEST_DATABASE_URL to a PostgreSQL superuser URL.',
    );
  }

  const dir = await mkdtemp(join(tmpdir(), 'fluxbase-test-pg-'));
  const dataDir = join(dir, 'data');
  if (userInfo().uid === 0) {
    const { stdout } = await execFile('id', ['-u', 'postgres']);
    const { stdout: gid } = await execFile('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await chmod(dir, 0o700);
  await runPg(initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=300',
    '-c shared_buffers=64MB',
  ].join(' ');
  await runPg(pgCtl, ['-D', dataDir, '-o', settings, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await runPg(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

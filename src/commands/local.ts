/**
 * `fluxbase local start`: run the local Fluxbase emulator (src/emulator) in the foreground.
 * Reads FLUXBASE_AUTH_JWT_SECRET (a random secret is generated when it is unset) and prints the
 * URL and a service-role token once it listens. When FLUXBASE_ADMIN_EMAIL and
 * FLUXBASE_ADMIN_PASSWORD are set, it also creates that dashboard admin (custom settings need a
 * login), as the real server's first-run setup would. Other FLUXBASE_<KEY> variables lock the
 * matching settings, as they do on the real server.
 */
import { randomBytes } from 'node:crypto';
import type { CommandIO } from './io.js';

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
const NOT_SETTINGS = new Set(['FLUXBASE_URL', 'FLUXBASE_TOKEN', 'FLUXBASE_ADMIN_EMAIL', 'FLUXBASE_ADMIN_PASSWORD', 'FLUXBASE_AUTH_JWT_SECRET', 'FLUXBASE_SECURITY_SETUP_TOKEN', 'FLUXBASE_PREVENT_DESTROY']);

/**
 * FLUXBASE_<KEY> variables lock the matching server settings, as on the real server (e.g.
 * FLUXBASE_STORAGE_ENABLED=true, which the stock docker-compose sets).
 */
function settingOverrides(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('FLUXBASE_') && !NOT_SETTINGS.has(e[0]) && typeof e[1] === 'string' && e[1] !== ''),
  );
}

/** Starts the emulator and resolves when it is stopped by SIGINT/SIGTERM. */
export async function localStartCommand(io: CommandIO, options: LocalStartOptions, signal: AbortSignal): Promise<number> {
  const { startEmulator } = await import('../emulator/index.js');
  const jwtSecret = io.env.FLUXBASE_AUTH_JWT_SECRET;
  const adminEmail = io.env.FLUXBASE_ADMIN_EMAIL;
  const adminPassword = io.env.FLUXBASE_ADMIN_PASSWORD;
  const setupToken = io.env.FLUXBASE_SECURITY_SETUP_TOKEN ?? (adminEmail && adminPassword ? randomBytes(16).toString('hex') : undefined);
  const emulator = await startEmulator({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 8080,
    ...(jwtSecret ? { jwtSecret } : {}),
    ...(setupToken ? { setupToken } : {}),
    storage: options.databaseUrl
      ? { kind: 'postgres', databaseUrl: options.databaseUrl, ...(options.databasePrefix ? { prefix: options.databasePrefix, keep: true } : {}) }
      : { kind: 'pglite', ...(options.dataDir ? { dataDir: options.dataDir } : {}) },
    webhookUrlGuard: !(options.debug ?? false),
    ...(options.migrationsAllowedIpRanges ? { migrationsAllowedIpRanges: options.migrationsAllowedIpRanges.split(',').map((r) => r.trim()).filter(Boolean) } : {}),
    envOverrides: settingOverrides(io.env),
  });
  if (adminEmail && adminPassword) {
    const res = await fetch(`${emulator.url}/api/v1/admin/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: adminEmail, password: adminPassword, name: 'Admin', setup_token: setupToken }),
    });
    if (res.status !== 201) {
      io.err(`could not create the dashboard admin ${adminEmail}: ${res.status} ${await res.text()}`);
      await emulator.close();
      return 1;
    }
  }
  io.out(`Fluxbase emulator listening on ${emulator.url}`);
  if (adminEmail && adminPassword) io.out(`  dashboard admin: ${adminEmail} (FLUXBASE_ADMIN_EMAIL / FLUXBASE_ADMIN_PASSWORD)`);
  io.out(
    `  storage: ${options.databaseUrl ? `PostgreSQL server${options.databasePrefix ? ` (databases ${options.databasePrefix}*, kept across restarts)` : ''}` : options.dataDir ? `PGlite in ${options.dataDir}` : 'PGlite in memory'}`,
  );
  io.out(`  webhook URL guard: ${options.debug ? 'off (--debug, as FLUXBASE_DEBUG=true)' : 'on, as on a production server (private and unresolvable hosts are refused; --debug turns it off)'}`);
  if (!jwtSecret) io.out('  FLUXBASE_AUTH_JWT_SECRET is not set: a random secret was generated for this run.');
  io.out(`  export FLUXBASE_URL=${emulator.url}`);
  io.out(`  export FLUXBASE_TOKEN=${emulator.serviceRoleToken}    # a service-role JWT`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await emulator.close();
  io.out('Emulator stopped.');
  return 0;
}

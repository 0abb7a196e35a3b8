/**
 * `fluxbase local start`: run the local Fluxbase emulator (src/emulator) in the foreground.
 * Reads FLUXBASE_AUTH_JWT_SECRET (a service-role token is generated and printed when it is unset,
 * with a generated secret) and prints the URL once it listens.
 */
import type { CommandIO } from './io.js';

/** Options of `fluxbase local start`. */
export interface LocalStartOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  webhookUrlGuard?: boolean;
}

/** Starts the emulator and resolves when it is stopped by SIGINT/SIGTERM. */
export async function localStartCommand(io: CommandIO, options: LocalStartOptions, signal: AbortSignal): Promise<number> {
  const { startEmulator } = await import('../emulator/index.js');
  const jwtSecret = io.env.FLUXBASE_AUTH_JWT_SECRET;
  const emulator = await startEmulator({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 8080,
    ...(jwtSecret ? { jwtSecret } : {}),
    ...(io.env.FLUXBASE_SECURITY_SETUP_TOKEN ? { setupToken: io.env.FLUXBASE_SECURITY_SETUP_TOKEN } : {}),
    storage: options.databaseUrl ? { kind: 'postgres', databaseUrl: options.databaseUrl } : { kind: 'pglite', ...(options.dataDir ? { dataDir: options.dataDir } : {}) },
    webhookUrlGuard: options.webhookUrlGuard ?? false,
  });
  io.out(`Fluxbase emulator listening on ${emulator.url}`);
  io.out(`  storage: ${options.databaseUrl ? 'PostgreSQL server' : options.dataDir ? `PGlite in ${options.dataDir}` : 'PGlite in memory'}`);
  io.out(`  webhook URL guard: ${options.webhookUrlGuard ? 'on (private and unresolvable hosts are refused)' : 'off (as with FLUXBASE_DEBUG=true)'}`);
  if (!jwtSecret) {
    io.out('  FLUXBASE_AUTH_JWT_SECRET is not set: a random secret was generated for this run.');
    io.out(`  export FLUXBASE_URL=${emulator.url}`);
    io.out(`  export FLUXBASE_TOKEN=${emulator.serviceRoleToken}`);
  }
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await emulator.close();
  io.out('Emulator stopped.');
  return 0;
}

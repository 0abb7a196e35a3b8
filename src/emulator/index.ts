/**
 * The local Fluxbase emulator: an HTTP server answering the real Fluxbase admin API routes with
 * the real paths, JSON shapes, status codes and error bodies (quirks included), backed by a real
 * PostgreSQL (embedded PGlite or a PostgreSQL server). See docs/emulator.md.
 *
 * ```ts
 * const emu = await startEmulator({ storage: { kind: 'postgres', databaseUrl } });
 * await fetch(`${emu.url}/api/v1/admin/ddl/schemas`, { headers: { authorization: `Bearer ${emu.serviceRoleToken}` } });
 * await emu.close();
 * ```
 *
 * This module (and everything under src/emulator) imports nothing from the tool itself.
 */
import type { AddressInfo } from 'node:net';
import { EmulatorApp } from './app.js';
import { PgCluster } from './db/pg-cluster.js';
import { PgliteCluster } from './db/pglite-cluster.js';
import type { Cluster } from './db/types.js';
import { createServer } from './http/server.js';
import { resolveOptions } from './options.js';
import type { EmulatorOptions, RunningEmulator } from './options.js';
import { buildRouter } from './routes/index.js';
import { getTenant, seedDefaultTenant } from './tenancy/tenants.js';
import { rebuildInternalSchemas } from './db/restart.js';

export type { Sql, QueryResult, Field } from './db/types.js';
export { isPgError, pgErrorText, sqlState } from './db/types.js';
export type { ConfigOAuthProvider, EmailConfig, EmulatorOptions, FaultOptions, FaultState, QuirkOptions, RunningEmulator, StorageOptions } from './options.js';
export { STOCK_EMAIL_CONFIG } from './options.js';
export { EmulatorApp } from './app.js';
export type { KeyVerifier } from './app.js';

/**
 * Starts an emulator. Resolves once it listens; `close()` stops it and releases its storage
 * (the postgres backend drops the databases it created; a PGlite `dataDir` is kept).
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const opts = resolveOptions(options);
  const started = Date.now();
  const cluster: Cluster =
    opts.storage.kind === 'postgres'
      ? await PgCluster.start({ databaseUrl: opts.storage.databaseUrl, prefix: opts.storage.prefix, keep: opts.storage.keep, log: opts.log })
      : await PgliteCluster.start({ dataDir: opts.storage.dataDir, log: opts.log });
  const app = new EmulatorApp(opts, cluster);
  let server: ReturnType<typeof createServer> | undefined;
  try {
    app.defaultTenantId = await seedDefaultTenant(cluster.main);
    if (cluster.restarted && opts.quirks.rebuildInternalSchemasAtStart) await rebuildAtStart(cluster, opts.log);
    server = createServer(app, buildRouter(app));
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(opts.port, opts.host, () => resolve());
    });
  } catch (e) {
    server?.close();
    await cluster.close().catch(() => {});
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  app.baseUrl = url;
  opts.log(`emulator listening on ${url} (${cluster.kind}, started in ${Date.now() - started} ms)`);
  const serviceRoleToken = await app.jwt.serviceRoleToken();
  let closing: Promise<void> | undefined;
  const srv = server;
  return {
    url,
    jwtSecret: opts.jwtSecret,
    serviceRoleToken,
    faults: opts.faults,
    requestCount: () => app.requestCount,
    transaction: async (tenantId, fn) => {
      if (tenantId === undefined || tenantId === app.defaultTenantId) return cluster.main.transaction(fn);
      const tenant = await getTenant(cluster.main, tenantId);
      if (!tenant) throw new Error(`no tenant ${tenantId}`);
      const db = tenant.is_default || !tenant.db_name ? cluster.main : await app.tenantDatabase(tenant.db_name);
      return db.transaction(fn);
    },
    requests: () => app.requestLog,
    close: () => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          srv.close(() => resolve());
          srv.closeAllConnections();
        });
        await cluster.close();
      })();
      return closing;
    },
  };
}

/**
 * F1 at a restart: rebuild the internal schemas of the main database now, and of each tenant
 * database when it is first opened (they start lazily; the server does it to all at start, which
 * no request can tell apart). See db/restart.ts.
 */
async function rebuildAtStart(cluster: Cluster, log: (line: string) => void): Promise<void> {
  const report = (where: string, dropped: string[]) => {
    if (dropped.length > 0) log(`start-up rebuilt the internal schemas of ${where} as the server does, dropping: ${dropped.join(', ')}`);
  };
  report('the main database', await rebuildInternalSchemas(cluster.main));
  cluster.onReopen = async (name, db) => report(`database ${name}`, await rebuildInternalSchemas(db));
}

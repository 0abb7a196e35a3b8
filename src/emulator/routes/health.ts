/**
 * `GET /health` (and `GET /`): `{"status":"ok"|"degraded","timestamp":…}`; degraded (503) when
 * the main database does not answer. For an admin, instance_admin, service_role or tenant_admin
 * caller it adds `services: {database, realtime, database_size}` (F11,
 * internal/api/server.go:252-267). Never subject to fault injection.
 */
import type { EmulatorApp } from '../app.js';
import type { Router } from '../http/router.js';
import { goNowJson } from '../http/json.js';

export function registerHealth(router: Router, app: EmulatorApp): void {
  const handler = async (ctx: Parameters<Parameters<Router['add']>[2]>[0]): Promise<void> => {
    let ok = true;
    try {
      await app.main.query('SELECT 1');
    } catch {
      ok = false;
    }
    const body: Record<string, unknown> = { status: ok ? 'ok' : 'degraded', timestamp: goNowJson() };
    const bearer = ctx.header('authorization').replace(/^Bearer /, '');
    const claims = bearer ? await app.jwt.verify(bearer) : undefined;
    if (claims && ['admin', 'instance_admin', 'service_role', 'tenant_admin'].includes(String(claims.role))) {
      const services: Record<string, unknown> = { database: ok, realtime: true };
      if (ok) {
        const size = await app.main.query<{ s: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS s').catch(() => undefined);
        if (size?.rows[0]) services.database_size = size.rows[0].s;
      }
      body.services = services;
    }
    ctx.json(ok ? 200 : 503, body);
  };
  router.add('GET', '/health', handler);
  router.add('GET', '/', handler);
}

/**
 * The route table, in the real registry's order (groups registered earlier win ties).
 *
 * To add an area (service keys, client keys, settings, OAuth…): write `routes/<area>.ts`
 * exporting `register<Area>(router, app)` that uses `adminChain(app, roles)` (admin routes) or
 * the family-B chain (`authOrServiceKey` + `requireScope`, see `webhooks.ts`), put its tables in
 * `db/bootstrap.ts` (CONTROL_PLANE_SQL for main-database tables), and call it below at the
 * position its group has in `internal/api/routes/registry.go`. Opaque keys become valid for
 * family-B routes and the migrations API by setting `app.serviceKeyVerifier` /
 * `app.clientKeyVerifier`.
 */
import type { EmulatorApp } from '../app.js';
import { Router } from '../http/router.js';
import { registerHealth } from './health.js';
import { registerDashboardAuth } from './dashboard-auth.js';
import { registerSchemaAdmin } from './schema-admin.js';
import { registerTenants } from './tenants.js';
import { registerMigrations } from './migrations.js';
import { registerWebhooks } from './webhooks.js';

export function buildRouter(app: EmulatorApp): Router {
  const router = new Router();
  registerHealth(router, app);
  registerWebhooks(router, app);
  registerDashboardAuth(router, app);
  // admin group: subgroups in the server's order (branch, schema admin, auth providers, users, tenants, service keys, …)
  registerSchemaAdmin(router, app);
  registerTenants(router, app);
  registerMigrations(router, app);
  return router;
}

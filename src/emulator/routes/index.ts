/**
 * The route table, in the real registry's order (groups registered earlier win ties).
 *
 * To add an area: write `routes/<area>.ts` exporting `register<Area>(router, app)` that uses
 * `adminChain(app, roles)` (admin routes) or the family-B chain (`authOrServiceKey` +
 * `requireScope`, see `webhooks.ts`), put its tables in `db/bootstrap.ts` (CONTROL_PLANE_SQL for
 * main-database tables), and call it below at the position its group has in
 * `internal/api/routes/registry.go` / `admin.go`. Opaque keys are credentials for family-B routes
 * and the migrations API through `app.serviceKeyVerifier` / `app.clientKeyVerifier`, which
 * `service-keys.ts` and `client-keys.ts` install.
 */
import type { EmulatorApp } from '../app.js';
import { Router } from '../http/router.js';
import { registerHealth } from './health.js';
import { registerDashboardAuth } from './dashboard-auth.js';
import { registerSchemaAdmin } from './schema-admin.js';
import { registerTenants } from './tenants.js';
import { registerMigrations } from './migrations.js';
import { registerWebhooks } from './webhooks.js';
import { registerClientKeys } from './client-keys.js';
import { registerOAuthProviders } from './oauth-providers.js';
import { registerAuthSettings } from './auth-settings.js';
import { registerServiceKeys } from './service-keys.js';
import { registerSystemSettings } from './system-settings.js';
import { registerCustomSettings } from './custom-settings.js';
import { registerAppSettings } from './app-settings.js';

export function buildRouter(app: EmulatorApp): Router {
  const router = new Router();
  registerHealth(router, app);
  registerWebhooks(router, app);
  registerClientKeys(router, app);
  registerDashboardAuth(router, app);
  // admin group: subgroups in the server's order (branch, schema admin, auth providers, users,
  // tenants, service keys, functions, jobs, ai, rpc, logs, settings, extensions)
  registerSchemaAdmin(router, app);
  registerOAuthProviders(router, app);
  registerAuthSettings(router, app);
  registerTenants(router, app);
  registerServiceKeys(router, app);
  // settings subgroup: system settings, custom + secret settings, app settings
  registerSystemSettings(router, app);
  registerCustomSettings(router, app);
  registerAppSettings(router, app);
  registerMigrations(router, app);
  return router;
}

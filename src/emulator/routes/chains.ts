/**
 * Route chains. Every `/api/v1/admin/*` route of the admin group runs
 * TenantContext → TenantDBContext → UnifiedAuth → RequireRole(roles) → handler
 * (tenant checks before authentication, as in the real registry).
 */
import type { EmulatorApp } from '../app.js';
import type { Handler } from '../http/context.js';
import { requireRole, unifiedAuth } from '../auth/middleware.js';
import { tenantContext, tenantDb } from '../tenancy/middleware.js';

/** Default roles of the admin subgroups (schema admin, tenants, …). */
export const DEFAULT_ROLES = ['admin', 'instance_admin', 'tenant_admin'];
/** Routes restricted to instance-level admins (tenant_admin gets 403). */
export const ADMIN_ONLY = ['admin', 'instance_admin'];

export const ADMIN_PREFIX = '/api/v1/admin';

/** The admin chain for a route allowing `roles`. */
export function adminChain(app: EmulatorApp, roles: string[] = DEFAULT_ROLES): Handler[] {
  return [tenantContext(app, { prefetch: true }), tenantDb(app), unifiedAuth(app), requireRole(...roles)];
}

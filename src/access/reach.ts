/**
 * Who reaches which database role through Fluxbase's API, in one tenant — the half of the access
 * model that policies do not show. From the server's source (9776aa70):
 * - every data request runs `SET LOCAL ROLE <role>` with `request.jwt.claims` set
 *   (internal/middleware/rls.go SetRLSContext); the server only ever switches to `anon`,
 *   `authenticated`, `service_role` and `tenant_service` (rls.go:145-150), so a role that only a
 *   policy or grant names is never reached through the API;
 * - a user's JWT → `authenticated` (any application role other than anon/service_role/
 *   instance_admin/tenant_service maps to it, rls.go mapAppRoleToDatabaseRole); anyone can get
 *   one by signing up while `app.auth.signup_enabled` is true (the default);
 * - a service key → its `key_type`: `service` → service_role, `anon` → anon
 *   (clientkey_auth.go:901 mapKeyTypetoRole); in a non-default tenant service_role becomes
 *   `tenant_service` (rls.go WrapWithRLS);
 * - a client key created through the API has no user, so its requests run as `anon`
 *   (clientkey_auth.go:650-665, clientkey_handler.go CreateClientKey; rls.go:56-60);
 * - keys are limited by their scopes on the REST routes: `tables:read` for GET and POST …/query,
 *   `tables:write` for POST, PUT, PATCH and DELETE, `*` for all (rest_handler.go:241-253,
 *   clientkey_auth.go RequireScope); JWTs have no scopes.
 */
import type { Command, RoleReach } from './types.js';

/** The roles Fluxbase's API switches to. */
export const API_ROLES: readonly string[] = ['anon', 'authenticated', 'service_role', 'tenant_service'];

/** Roles Fluxbase uses internally that never serve API requests (migrations). */
export const INTERNAL_ROLES: ReadonlySet<string> = new Set(['tenant_migration_role']);

/** A key as the reach model needs it. */
export interface KeyInput {
  address: string;
  kind: 'client_key' | 'service_key';
  name: string;
  /** Service keys only. */
  tenant?: string;
  keyType?: string;
  scopes: readonly string[];
  /** False for disabled, revoked or expired keys. */
  active: boolean;
}

/** Commands a key's scopes let its holder run on tables through the REST API. */
export function scopeCommands(scopes: readonly string[]): Command[] {
  const out = new Set<Command>();
  for (const s of scopes) {
    if (s === '*' || s === 'tables:read') out.add('SELECT');
    if (s === '*' || s === 'tables:write') ['INSERT', 'UPDATE', 'DELETE'].forEach((c) => out.add(c as Command));
  }
  return (['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as Command[]).filter((c) => out.has(c));
}

/** The database role a key's requests run as in a tenant. */
export function keyRole(key: KeyInput, defaultTenant: boolean): string {
  if (key.kind === 'client_key') return 'anon';
  if (key.keyType === 'anon') return 'anon';
  if (key.keyType === 'service' || key.keyType === 'global_service') return defaultTenant ? 'service_role' : 'tenant_service';
  if (key.keyType === 'tenant_service') return 'tenant_service';
  if (key.keyType === 'publishable') return 'authenticated';
  return 'anon';
}

/** Input of {@link roleReach}. */
export interface ReachInput {
  tenant: string;
  defaultTenant: boolean;
  /** Roles of the tenant's matrix. */
  roles: readonly string[];
  keys: readonly KeyInput[];
  /** `app.auth.signup_enabled` as it will be (or is); `source` names where it comes from. */
  signup: { open: boolean; source: string };
}

/** Who reaches each role of the tenant. */
export function roleReach(req: ReachInput): RoleReach[] {
  const out: RoleReach[] = [];
  for (const role of req.roles) {
    const reach: RoleReach = { role, via: [], keys: [] };
    for (const key of req.keys) {
      if (!key.active || (key.kind === 'service_key' && key.tenant !== req.tenant)) continue;
      if (keyRole(key, req.defaultTenant) !== role) continue;
      const commands = scopeCommands(key.scopes);
      const label = `${key.kind === 'client_key' ? 'client key' : 'service key'} \`${key.name}\``;
      reach.keys.push({ address: key.address, label, commands });
      reach.via.push(`${label} (${commands.length > 0 ? commands.join(', ') : 'no table scope'})`);
    }
    if (role === 'anon') reach.via.push('JWTs with role `anon`');
    else if (role === 'authenticated') {
      reach.via.push('signed-in users (user JWTs)');
      if (req.signup.open) reach.via.push(`anyone who signs up (sign-up is open: ${req.signup.source})`);
    } else if (role === 'service_role') {
      if (req.defaultTenant) reach.via.push('service-role JWTs, dashboard instance admins');
      else reach.via.push('nothing in this tenant (service-role callers run as `tenant_service` here)');
    } else if (role === 'tenant_service') {
      if (req.defaultTenant) reach.via.push('nothing in the default tenant');
      else reach.via.push('service-role JWTs with this tenant selected');
    } else {
      reach.unreachable = true;
      reach.via.push("nothing: Fluxbase's API never switches to this role (only direct database connections use it)");
    }
    out.push(reach);
  }
  return out;
}

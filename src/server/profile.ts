/**
 * What the real Fluxbase server does that a client cannot see from its routes: one place for
 * every behaviour the tool plans around, each with its finding
 * (shared/fluxbase-api/real-server-behaviour.md F1–F11) and the server source it follows
 * (nimbleflux/fluxbase `v2026.3.7-rc.13` = 9776aa70). Handlers and the engine read these flags
 * instead of hard-coding the behaviour, so a later Fluxbase release that fixes one gets a
 * profile with that flag off.
 *
 * The server reports no version through its API (GET /health answers status, timestamp and,
 * for admins, `services`; the OpenAPI document's `info.version` is the constant "1.0.0"), so the
 * profile is chosen by `FLUXBASE_SERVER_VERSION` (e.g. `2026.3.7`); without it the newest
 * known profile applies.
 */

/** Fluxbase's internal schemas (internal/migrations/declarative.go:51-55, internal/tenantdb/fdw.go:34-37). */
export const FLUXBASE_INTERNAL_SCHEMAS: readonly string[] = [
  'ai', 'app', 'auth', 'branching', 'functions', 'jobs', 'logging', 'mcp', 'platform', 'realtime', 'rpc', 'storage',
];

/** The role a non-default tenant's migrations run as (F2). */
export const TENANT_MIGRATION_ROLE = 'tenant_migration_role';

/** One server release's behaviours. Every flag is true when the server behaves that way. */
export interface ServerProfile {
  /** The release this profile describes, e.g. `2026.3.7`. */
  version: string;
  /**
   * F1. User tables (and their columns, indexes and policies) in the internal schemas are dropped
   * at the next server start: tenant databases re-import those schemas as foreign tables after
   * `DROP TABLE … CASCADE` (internal/api/server_init.go:325-339, internal/tenantdb/fdw.go:305-380);
   * the main database re-applies Fluxbase's own schema files (cmd/fluxbase/main.go:201-266).
   */
  internalSchemasRebuiltAtStart: boolean;
  /**
   * F2. Migrations of a tenant with its own database run `SET LOCAL ROLE tenant_migration_role`
   * (internal/migrations/tenant_executor.go:195-227). That role has USAGE and CREATE on `public`
   * only (internal/database/bootstrap/bootstrap.sql:137-145, 191-192, 388-394), so it can create
   * tables in `public` and change the tables it owns, nothing else; tables the DDL endpoints
   * create are owned by the admin user (internal/api/ddl_handler.go:565-572).
   */
  tenantMigrationsAsMigrationRole: boolean;
  /**
   * F3. Enabling realtime in a tenant database answers 500: its `realtime.schema_registry` is a
   * foreign table, on which the handler's `INSERT … ON CONFLICT` fails
   * (internal/api/realtime_admin_handler.go:166-186, 487-491).
   */
  tenantRealtimeBroken: boolean;
  /**
   * F5. A JWT without `iat` crashes `RequireAuthOrServiceKey` on the webhook and client-key
   * routes with a 500 (internal/middleware/clientkey_auth.go:429; internal/auth/jwt.go:358-394
   * does not require `iat`).
   */
  iatRequiredOnKeyRoutes: boolean;
  /**
   * F6. The migrations API admits only callers from these networks (IPv4 only;
   * internal/config/config_defaults.go:233-239, internal/middleware/migrations_security.go:112-125),
   * answering `403 {"error":"Access denied - IP not allowlisted for migrations"}` otherwise.
   */
  migrationsAllowlist: readonly string[];
  /**
   * F7. Webhook delivery: the trigger is installed on `schema.table` (a bare name means
   * `auth.<name>`), but the trigger function matches events by the bare table name
   * (`event->>'table' = TG_TABLE_NAME`; internal/webhook/webhook.go:240-267,
   * internal/database/schema/schemas/auth.sql:2497), and triggers are only installed in the main
   * database (webhook.go:284-290).
   */
  webhookEventsMatchBareName: boolean;
  /** F7. Tables in a tenant database never get a webhook trigger. */
  webhookTriggersMainDatabaseOnly: boolean;
  /**
   * F8. PUT /api/v1/admin/auth/settings stores unprefixed keys (`enable_signup`, …;
   * internal/api/oauth_provider_handler.go:840-860) that the runtime never reads: it reads the
   * `app.auth.*` keys (internal/auth/service.go:257, 643; internal/api/auth_handler.go:1528-1531,
   * 1597). Only `disable_dashboard_password_login` is read unprefixed
   * (internal/api/dashboard_auth_handler.go:752-757).
   */
  authSettingsIgnoredByRuntime: boolean;
  /** F8, per key: see {@link AUTH_SETTINGS_AT_RUNTIME}. */
  /**
   * F9. Webhook URLs must be public and resolvable unless the server runs with
   * FLUXBASE_DEBUG=true (`AllowPrivateIPs = cfg.Debug`, internal/api/server_init.go:282;
   * internal/webhook/webhook.go:172-227, 302-309): otherwise `500 "Failed to create webhook"`.
   */
  webhookUrlGuardUnlessDebug: boolean;
  /**
   * F10. An `Idempotency-Key` makes the server store the full response for 24 h in
   * `platform.idempotency_keys` — a new key's one-time value included — and a retry while the
   * first attempt runs answers `409 IDEMPOTENCY_REQUEST_IN_PROGRESS`
   * (internal/middleware/idempotency.go:187-270, 361-378).
   */
  idempotencyStoresResponses: boolean;
  /** F11. PUT /api/v1/admin/service-keys/:id always answers 500 (internal/api/servicekey_handler.go:337-352). */
  serviceKeyPutBroken: boolean;
  /** F11. Deleting a policy that is already gone answers 400 with PostgreSQL's text (internal/api/policy_handler.go:406-430). */
  policyDeleteOfMissing400: boolean;
  /** F11. DELETE /api/v1/admin/ddl/tables/… has no CASCADE (internal/api/ddl_handler.go:262). */
  tableDropWithoutCascade: boolean;
  /**
   * F11. Tenants stuck in `creating`/`error` are not listed (internal/tenantdb/storage.go:159-165)
   * but keep their slug: a create answers 409 (internal/api/tenant_handler.go:203-206).
   */
  stuckTenantsKeepSlug: boolean;
}

/**
 * F8: what the runtime makes of each key of PUT /api/v1/admin/auth/settings, which stores them
 * unprefixed. `effective` keys are read as written; `use` names where to declare the control so
 * the runtime reads it; `why` says what happens otherwise. Sources: internal/auth/service.go:257,
 * 643 (sign-up), internal/api/auth_handler.go:1520-1534, 1597 (GET /api/v1/auth/config reads
 * app.auth.*), internal/api/server_init.go:128 (passwords are checked against the server
 * configuration's auth.password_min_length only), internal/api/dashboard_auth_handler.go:752-757.
 */
export const AUTH_SETTINGS_AT_RUNTIME: Readonly<Record<string, { effective?: true; use?: string; why: string }>> = {
  enable_signup: { use: 'settings.app.authentication.enable_signup', why: 'the runtime reads app.auth.signup_enabled' },
  enable_magic_link: { use: 'settings.app.authentication.enable_magic_link', why: 'the runtime reads app.auth.magic_link_enabled' },
  require_email_verification: { use: 'settings.app.authentication.require_email_verification', why: 'the runtime reads app.auth.require_email_verification' },
  password_min_length: {
    use: 'settings.app.authentication.password_min_length',
    why: "clients are told app.auth.password_min_length (GET /api/v1/auth/config), and passwords are checked against the server configuration's auth.password_min_length (FLUXBASE_AUTH_PASSWORD_MIN_LENGTH)",
  },
  password_require_uppercase: { why: 'no password check reads it (the hasher is built with a minimum length only)' },
  password_require_lowercase: { why: 'no password check reads it (the hasher is built with a minimum length only)' },
  password_require_number: { why: 'no password check reads it (the hasher is built with a minimum length only)' },
  password_require_special: { why: 'no password check reads it (the hasher is built with a minimum length only)' },
  session_timeout_minutes: { why: 'nothing on the server reads it' },
  max_sessions_per_user: { why: 'nothing on the server reads it' },
  disable_app_password_login: { why: 'the runtime reads app.auth.disable_app_password_login, which no API route writes, so app password login stays enabled' },
  disable_dashboard_password_login: { effective: true, why: 'read as written' },
};

/** Fluxbase 2026.3.7 (v2026.3.7-rc.13, 9776aa70; main at 4b44e727 is identical for these routes). */
export const FLUXBASE_2026_3: ServerProfile = Object.freeze({
  version: '2026.3.7',
  internalSchemasRebuiltAtStart: true,
  tenantMigrationsAsMigrationRole: true,
  tenantRealtimeBroken: true,
  iatRequiredOnKeyRoutes: true,
  migrationsAllowlist: Object.freeze(['172.16.0.0/12', '10.0.0.0/8', '192.168.0.0/16', '127.0.0.0/8']),
  webhookEventsMatchBareName: true,
  webhookTriggersMainDatabaseOnly: true,
  authSettingsIgnoredByRuntime: true,
  webhookUrlGuardUnlessDebug: true,
  idempotencyStoresResponses: true,
  serviceKeyPutBroken: true,
  policyDeleteOfMissing400: true,
  tableDropWithoutCascade: true,
  stuckTenantsKeepSlug: true,
});

/** Every known profile, newest first. */
export const SERVER_PROFILES: readonly ServerProfile[] = [FLUXBASE_2026_3];

/**
 * The profile for a server version (`2026.3.7`, `v2026.3.7-rc.13`): the newest profile whose
 * version is not newer than it, or the oldest for an older server; the newest when `version`
 * is absent or unparsable.
 */
export function profileFor(version?: string): ServerProfile {
  const wanted = version ? parseVersion(version) : undefined;
  if (!wanted) return SERVER_PROFILES[0]!;
  for (const p of SERVER_PROFILES) if (compare(parseVersion(p.version)!, wanted) <= 0) return p;
  return SERVER_PROFILES[SERVER_PROFILES.length - 1]!;
}

/** The profile this process plans against (`FLUXBASE_SERVER_VERSION`, else the newest). */
export function currentProfile(env: Record<string, string | undefined> = process.env): ServerProfile {
  return profileFor(env.FLUXBASE_SERVER_VERSION);
}

function parseVersion(v: string): number[] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * Options of the local Fluxbase emulator and their defaults. See docs/emulator.md.
 */
import { randomBytes } from 'node:crypto';
import type { Sql } from './db/types.js';

/**
 * Where the emulator keeps its data. `postgres`: databases named `<prefix>main`,
 * `<prefix>tenant_<slug>` on the server at `databaseUrl`; with a fixed `prefix` and `keep` they
 * survive `close()` (and a killed process), and the next start with that prefix resumes them.
 */
export type StorageOptions = { kind: 'pglite'; dataDir?: string } | { kind: 'postgres'; databaseUrl: string; prefix?: string; keep?: boolean };

/** Fault injection (for client retry tests). Rates are shares of requests in [0, 1]. */
export interface FaultOptions {
  /** Share of `/api/*` requests answered `429` with the real rate-limit body and `Retry-After`. */
  rate429?: number;
  /** Share of `/api/*` requests answered `503 {"error":"Service Unavailable"}`. */
  rate503?: number;
  /** `Retry-After` header and `retry_after` value of injected 429s, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** Seed of the deterministic fault sequence (default 1). */
  seed?: number;
  /**
   * Tenant slugs whose creation fails after the tenant database was created (like a failed
   * bootstrap on the server, internal/tenantdb/manager.go:155-165): the tenant stays in status
   * `error`, unlisted, its slug taken, and the create answers `500 "Failed to create tenant"`.
   */
  tenantCreationFailures?: string[];
  /**
   * Responses lost after the server acted: the next `times` requests with this method and path are
   * processed normally, then the connection is reset without an answer (a transport failure whose
   * outcome the client cannot know).
   */
  dropResponses?: { method: string; path: string; times: number }[];
}

/**
 * Real-server behaviours (Fluxbase 2026.3.7, shared/fluxbase-api/real-server-behaviour.md) that
 * differ from what the server intends. Every switch defaults to **true** — the emulator behaves
 * like the real server — and `false` is an explicit, documented opt-in to the intended behaviour
 * (docs/emulator.md, "Opt-ins"). Tests of the tool never turn one off to pass.
 */
export interface QuirkOptions {
  /**
   * F2. Tenant migrations (service_role JWT + X-FB-Tenant) run `SET LOCAL ROLE
   * tenant_migration_role` (internal/migrations/tenant_executor.go:195-227): that role may only
   * create in `public` and does not own tables created through the DDL API, so `ALTER TABLE` on
   * them fails. `false`: they run as the admin user in the tenant database.
   */
  tenantMigrationRole?: boolean;
  /**
   * F11. `PUT /api/v1/admin/service-keys/:id` fails (internal/api/servicekey_handler.go:337-352:
   * its SQL sets `updated_at`, a column `auth.service_keys` does not have): every PUT that passes
   * the id and body checks answers `500 "Failed to update service key"`, even for an unknown id.
   * `false`: the intended partial update (404 for an unknown id).
   */
  serviceKeyPutBroken?: boolean;
  /**
   * F5. A valid JWT without `iat` (other than an instance_admin's) crashes the webhook and
   * client-key routes (`RequireAuthOrServiceKey` dereferences `claims.IssuedAt`,
   * internal/middleware/clientkey_auth.go:429): `500 {"error":"Internal Server Error"}`.
   * `false`: such tokens are accepted.
   */
  iatRequired?: boolean;
  /**
   * F3. In a tenant database `realtime.schema_registry` is a foreign table (FDW import of the main
   * database's), so it has no unique constraint and the enable handler's `INSERT … ON CONFLICT`
   * fails: `500 "Failed to enable realtime"`. The emulator gives tenant databases a registry
   * without constraints to the same effect. `false`: a local registry that works.
   */
  tenantRealtimeRegistryForeign?: boolean;
  /**
   * F1. At start, the server rebuilds its internal schemas: in tenant databases every local
   * table there is dropped (`DROP TABLE … CASCADE`) and re-imported as a foreign table; in the
   * main database every table that is not one of Fluxbase's own is dropped, and the policies of
   * its own tables are re-created. An emulator restarted on a persisted `dataDir` does the same.
   * `false`: user tables in internal schemas survive a restart.
   */
  rebuildInternalSchemasAtStart?: boolean;
}

/**
 * An OAuth provider declared in the server's configuration file (`auth.oauth_providers`), listed
 * by `GET /api/v1/admin/oauth/providers` after the database providers with the nil UUID and
 * `source: "config"` (keys doc §8). Defaults follow the config comments: enabled true,
 * allow_app_login true, allow_dashboard_login false.
 */
export interface ConfigOAuthProvider {
  provider_name: string;
  display_name?: string;
  enabled?: boolean;
  client_id?: string;
  client_secret?: string;
  /** OIDC issuer; a provider with one is listed with `is_custom: true`. */
  issuer_url?: string;
  scopes?: string[];
  allow_dashboard_login?: boolean;
  allow_app_login?: boolean;
  required_claims?: Record<string, string[]>;
  denied_claims?: Record<string, string[]>;
}

/**
 * The server configuration's `email` block (viper keys `email.*`). Non-empty values overlay the
 * email section of `GET /api/v1/admin/app/settings` (keys doc §4.1). `FLUXBASE_EMAIL_*` entries of
 * `envOverrides` feed it too. {@link STOCK_EMAIL_CONFIG} holds the real server's defaults.
 */
export interface EmailConfig {
  enabled?: boolean;
  provider?: string;
  from_address?: string;
  from_name?: string;
  reply_to_address?: string;
  smtp_host?: string;
  smtp_port?: number;
  smtp_username?: string;
  smtp_tls?: boolean;
  mailgun_domain?: string;
  ses_region?: string;
}

/** `migrations.allowed_ip_ranges` of the real server (internal/config/config_defaults.go:233-239). */
export const SERVER_MIGRATIONS_ALLOWLIST: readonly string[] = ['172.16.0.0/12', '10.0.0.0/8', '192.168.0.0/16', '127.0.0.0/8'];

/** The real server's built-in email config defaults (`internal/config/config_defaults.go`). */
export const STOCK_EMAIL_CONFIG: Readonly<EmailConfig> = Object.freeze({
  enabled: true,
  provider: 'smtp',
  from_address: 'noreply@localhost',
  from_name: 'Fluxbase',
  smtp_port: 587,
  smtp_tls: true,
});

export interface EmulatorOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Listen port; default 0 (an ephemeral port, see `RunningEmulator.url`). */
  port?: number;
  /** FLUXBASE_AUTH_JWT_SECRET (>= 32 chars); a random one is generated when absent. */
  jwtSecret?: string;
  /** FLUXBASE_SECURITY_SETUP_TOKEN; POST /setup answers 403 SETUP_DISABLED when absent. */
  setupToken?: string;
  /** Default: PGlite in memory. */
  storage?: StorageOptions;
  /**
   * F9. The real webhook URL guard (scheme, localhost, internal names, DNS resolution, private
   * IPs; internal/webhook/webhook.go:172-227), on unless the server runs with
   * FLUXBASE_DEBUG=true (`AllowPrivateIPs = cfg.Debug`, internal/api/server_init.go:282).
   * Default true; `false` is the server's debug mode.
   */
  webhookUrlGuard?: boolean;
  /**
   * Static name resolution for the URL guard, consulted before DNS (like /etc/hosts on the
   * server's machine): `{ 'hooks.example.com': '93.184.216.34', '*.example': '93.184.216.35' }`
   * (`*.` matches any subdomain). Lets tests and offline demos
   * keep the guard on with hostnames that DNS cannot resolve here. Default none.
   */
  hosts?: Record<string, string>;
  faults?: FaultOptions;
  quirks?: QuirkOptions;
  /**
   * Requests per window of the two dashboard-auth limiters: `setup` (shared by GET /setup/status
   * and POST /setup, default 5 per 15 min) and `login` (default 10 per minute).
   */
  rateLimits?: { login?: number; setup?: number };
  /**
   * F6. `migrations.allowed_ip_ranges`: the migrations API answers
   * `403 {"error":"Access denied - IP not allowlisted for migrations"}` to callers outside these
   * IPv4 networks, before authentication. Default the server's
   * `['172.16.0.0/12', '10.0.0.0/8', '192.168.0.0/16', '127.0.0.0/8']`; `[]` admits everyone.
   */
  migrationsAllowedIpRanges?: string[];
  /** `tenants.max_tenants`: POST /tenants answers 409 when reached (default 100). */
  maxTenants?: number;
  /**
   * The server's environment, as far as settings are concerned: `FLUXBASE_<KEY>` variables (key
   * without `app.`, upper case, `.` → `_`) lock the matching settings everywhere the server does
   * (keys doc §12.4): app settings `overrides` + 500 on PUT, system settings `is_overridden` /
   * `override_source` + 409, auth settings `_overrides` + 409 for any PUT. Empty values lock
   * nothing. Example: `{ FLUXBASE_STORAGE_ENABLED: 'true', FLUXBASE_AUTH_SIGNUP_ENABLED: 'false' }`.
   */
  envOverrides?: Record<string, string>;
  /** OAuth providers of the server's config file (listed with `source: "config"`). Default none. */
  configOAuthProviders?: ConfigOAuthProvider[];
  /** The config file's email block (overlays the app-settings email view). Default: all empty. */
  emailConfig?: EmailConfig;
  /** Called with one line per notable event (startup, database creation, errors). */
  log?: (line: string) => void;
}

/** Mutable fault settings of a running emulator. */
export interface FaultState {
  rate429: number;
  rate503: number;
  retryAfterSeconds: number;
  tenantCreationFailures: string[];
  dropResponses: { method: string; path: string; times: number }[];
}

export interface RunningEmulator {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  jwtSecret: string;
  /** A service_role JWT signed with `jwtSecret` (no expiry), as deploy/generate-keys.sh mints. */
  serviceRoleToken: string;
  /** Fault injection; mutate at runtime (tests toggle it). */
  faults: FaultState;
  /** Number of requests answered (any path, injected faults included). */
  requestCount(): number;
  /**
   * Runs `fn` in one transaction on a tenant's database (by tenant UUID; the main database for
   * the default tenant or when `tenantId` is undefined) over the emulator's administrative
   * connection — a superuser that may `SET LOCAL ROLE` to the RLS roles as the real server's
   * runtime user does (internal/middleware/rls.go SetRLSContext). Commits when `fn` resolves,
   * rolls back when it throws (the error is rethrown). Throws when the tenant does not exist.
   * For tools that run SQL the way the server's REST handlers do (`fluxbase test`).
   */
  transaction<T>(tenantId: string | undefined, fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** `METHOD path` of every request received, in order (e.g. to count writes in tests). */
  requests(): readonly string[];
  /** Stops the server and closes (postgres backend: drops) its databases. */
  close(): Promise<void>;
}

/** Options after defaults. */
export interface ResolvedOptions {
  host: string;
  port: number;
  jwtSecret: string;
  setupToken: string;
  storage: StorageOptions;
  webhookUrlGuard: boolean;
  hosts: Record<string, string>;
  faultSeed: number;
  faults: FaultState;
  quirks: Required<QuirkOptions>;
  rateLimits: { login: number; setup: number };
  maxTenants: number;
  migrationsAllowedIpRanges: string[];
  envOverrides: Record<string, string>;
  configOAuthProviders: ConfigOAuthProvider[];
  emailConfig: EmailConfig;
  log: (line: string) => void;
}

export function resolveOptions(o: EmulatorOptions = {}): ResolvedOptions {
  const jwtSecret = o.jwtSecret ?? randomBytes(32).toString('hex');
  if (jwtSecret.length < 32) throw new Error('jwtSecret must be at least 32 characters (FLUXBASE_AUTH_JWT_SECRET)');
  return {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    jwtSecret,
    setupToken: o.setupToken ?? '',
    storage: o.storage ?? { kind: 'pglite' },
    webhookUrlGuard: o.webhookUrlGuard ?? true,
    hosts: { ...(o.hosts ?? {}) },
    faultSeed: o.faults?.seed ?? 1,
    faults: {
      rate429: o.faults?.rate429 ?? 0,
      rate503: o.faults?.rate503 ?? 0,
      retryAfterSeconds: o.faults?.retryAfterSeconds ?? 1,
      tenantCreationFailures: [...(o.faults?.tenantCreationFailures ?? [])],
      dropResponses: (o.faults?.dropResponses ?? []).map((d) => ({ ...d })),
    },
    quirks: {
      tenantMigrationRole: o.quirks?.tenantMigrationRole ?? true,
      serviceKeyPutBroken: o.quirks?.serviceKeyPutBroken ?? true,
      iatRequired: o.quirks?.iatRequired ?? true,
      tenantRealtimeRegistryForeign: o.quirks?.tenantRealtimeRegistryForeign ?? true,
      rebuildInternalSchemasAtStart: o.quirks?.rebuildInternalSchemasAtStart ?? true,
    },
    rateLimits: { login: o.rateLimits?.login ?? 10, setup: o.rateLimits?.setup ?? 5 },
    maxTenants: o.maxTenants ?? 100,
    migrationsAllowedIpRanges: [...(o.migrationsAllowedIpRanges ?? SERVER_MIGRATIONS_ALLOWLIST)],
    envOverrides: { ...(o.envOverrides ?? {}) },
    configOAuthProviders: [...(o.configOAuthProviders ?? [])],
    emailConfig: { ...(o.emailConfig ?? {}) },
    log: o.log ?? (() => {}),
  };
}

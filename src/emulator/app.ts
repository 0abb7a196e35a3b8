/**
 * Shared state of one emulator instance: options, storage, JWT service, limiters, idempotency
 * store, revoked token ids, and the extension points for credentials added by later route files
 * (service keys, client keys).
 */
import type { Cluster, Database } from './db/types.js';
import type { ResolvedOptions } from './options.js';
import type { AuthLocals, Ctx } from './http/context.js';
import { JwtService } from './auth/jwt.js';
import { FaultInjector, FixedWindowLimiter } from './http/limits.js';
import { IdempotencyStore } from './http/idempotency.js';
import { EnvOverrides } from './settings/env.js';
import { SecretBox } from './auth/secret-box.js';

/**
 * Verifies an opaque key (service key `sk_…`/`pk_…`/`fb_…`, or a client key). Returns the caller
 * when valid, undefined when not. Registered by the route files that own those keys.
 * `use: 'migrations'` applies the migrations API's own service-key check (`sk_` keys only,
 * revocation not checked); the default is auth family B's.
 */
export type KeyVerifier = (key: string, ctx: Ctx, use?: 'family-b' | 'migrations') => Promise<AuthLocals | undefined>;

export class EmulatorApp {
  readonly jwt: JwtService;
  readonly idempotency = new IdempotencyStore(() => this.main);
  readonly faults: FaultInjector;
  /** `jti`s blacklisted by POST /logout (checked for every role but instance_admin). */
  readonly revokedJtis = new Set<string>();
  readonly setupLimiter: FixedWindowLimiter;
  readonly loginLimiter: FixedWindowLimiter;
  /** Opaque service-key verifier (auth family B and migrations); none until service keys exist. */
  serviceKeyVerifier?: KeyVerifier;
  /** Client-key verifier (auth family B); none until client keys exist. */
  clientKeyVerifier?: KeyVerifier;
  /** Id of the default tenant (seeded at start). */
  defaultTenantId = '';
  /** The emulated server environment (settings locked by `FLUXBASE_*` variables). */
  readonly env: EnvOverrides;
  /** Encryption at rest of secret settings and OAuth client secrets. */
  readonly secrets: SecretBox;
  /** Public base URL (`http://host:port`), set once listening; used in config provider redirects. */
  baseUrl = '';
  private served = 0;

  constructor(readonly opts: ResolvedOptions, readonly cluster: Cluster) {
    this.jwt = new JwtService(opts.jwtSecret);
    this.faults = new FaultInjector(opts.faults, opts.faultSeed);
    this.env = new EnvOverrides(opts.envOverrides);
    this.secrets = new SecretBox(opts.jwtSecret);
    this.setupLimiter = new FixedWindowLimiter(
      () => opts.rateLimits.setup,
      15 * 60,
      'admin_setup',
      'Too many admin setup attempts. Please try again in 15 minutes.',
    );
    this.loginLimiter = new FixedWindowLimiter(
      () => opts.rateLimits.login,
      60,
      'admin_login',
      'Too many admin login attempts. Please try again in 1 minutes.',
    );
  }

  /** The main database (default tenant, control plane). */
  get main(): Database {
    return this.cluster.main;
  }

  /** Opens a tenant's own database by its logical `db_name` (lazy for PGlite). */
  tenantDatabase(dbName: string): Promise<Database> {
    return this.cluster.open(this.cluster.physicalName(dbName));
  }

  /** `METHOD path` of every request answered, in arrival order (RunningEmulator.requests()). */
  readonly requestLog: string[] = [];

  countRequest(): void {
    this.served++;
  }

  get requestCount(): number {
    return this.served;
  }

  log(line: string): void {
    this.opts.log(line);
  }
}

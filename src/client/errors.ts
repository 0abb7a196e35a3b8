import { error, type Diagnostic } from '../diag/index.js';

/**
 * The identity a request needs: `user` — a token that carries a platform user id (custom setting
 * writes refuse service-role JWTs, which have none); `service_role` — a service-role JWT (the
 * migrations API runs a dashboard admin's migrations on the main database, a service-role
 * JWT's in the tenant's database).
 */
export type Identity = 'user' | 'service_role';

/** The credentials cannot act as the identity a request needs. */
export class IdentityError extends Error {
  readonly identity: Identity;
  constructor(identity: Identity, why: string) {
    super(why);
    this.name = 'IdentityError';
    this.identity = identity;
  }
}

/**
 * A non-2xx answer from the Fluxbase API. `code` is the body's `code` when present (the server
 * uses six error body shapes, shared/fluxbase-api §1; several have no code), `message` its
 * `error` text. Never carries request bodies (which may hold secrets).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly body: unknown;
  readonly method: string;
  readonly path: string;
  readonly requestId: string | undefined;

  constructor(init: { status: number; body: unknown; method: string; path: string; requestId?: string }) {
    const b = (init.body ?? {}) as Record<string, unknown>;
    const message = typeof b.error === 'string' ? b.error : typeof init.body === 'string' ? init.body : `HTTP ${init.status}`;
    super(`${init.method} ${init.path}: ${init.status} ${message}`);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = typeof b.code === 'string' ? b.code : undefined;
    this.body = init.body;
    this.method = init.method;
    this.path = init.path;
    this.requestId = init.requestId ?? (typeof b.request_id === 'string' ? b.request_id : undefined);
  }

  /** The server's error text (`error` field), with `details` appended when present. */
  get serverMessage(): string {
    const b = (this.body ?? {}) as Record<string, unknown>;
    const main = typeof b.error === 'string' ? b.error : `HTTP ${this.status}`;
    return typeof b.details === 'string' && b.details !== '' ? `${main}: ${b.details}` : main;
  }
}

/** A failure to reach the server at all (connection refused, DNS, TLS, timeout). */
export class NetworkError extends Error {
  readonly method: string;
  readonly path: string;
  constructor(method: string, path: string, cause: Error) {
    super(`${method} ${path}: ${cause.message}`, { cause });
    this.name = 'NetworkError';
    this.method = method;
    this.path = path;
  }
}

/**
 * Answers of the real server whose cause its body does not say (src/server/profile.ts): matched
 * by route and text, each with its own code and the fix.
 */
const KNOWN_ANSWERS: { code: Diagnostic['code']; match: (e: ApiError) => boolean; detail: string }[] = [
  {
    // F6: migrations_security.go:112-125 (checked before authentication).
    code: 'api.migrations-allowlist',
    match: (e) => e.status === 403 && /IP not allowlisted for migrations/i.test(e.serverMessage),
    detail:
      'The server admits migration calls only from the networks in migrations.allowed_ip_ranges (default 172.16.0.0/12, 10.0.0.0/8, 192.168.0.0/16, 127.0.0.0/8; IPv4 only). ' +
      "Run the tool from inside one of them, or add this machine's address to FLUXBASE_MIGRATIONS_ALLOWED_IP_RANGES on the server. This is not a credentials problem.",
  },
  {
    // F9: internal/webhook/webhook.go:172-227, 302-309; only logged by the server.
    code: 'api.url-guard',
    match: (e) => e.status === 500 && /\/api\/v1\/webhooks/.test(e.path) && /Failed to (create|update) webhook/.test(e.serverMessage),
    detail:
      "The server refuses webhook URLs whose host is localhost, an internal name, unresolvable from the server, or resolves to a loopback, private or link-local address, unless it runs with FLUXBASE_DEBUG=true (it answers only this 500 and logs the reason). " +
      'Use a public host the server can resolve, or run the server in debug mode for local development (`fluxbase local start --debug`).',
  },
];

/** Turns an error from the client into a diagnostic (unknown errors are re-thrown: they are bugs). */
export function apiDiagnostic(e: unknown, extra: Partial<Diagnostic> = {}): Diagnostic {
  const known = e instanceof ApiError ? KNOWN_ANSWERS.find((k) => k.match(e)) : undefined;
  if (e instanceof ApiError && known) {
    return error(known.code, `${e.method} ${e.path} answered ${e.status}: ${e.serverMessage}`, { detail: known.detail, ...extra });
  }
  if (e instanceof ApiError) {
    const auth = e.status === 401 || e.status === 403;
    return error(auth ? 'api.auth' : 'api.http', `${e.method} ${e.path} answered ${e.status}: ${e.serverMessage}`, {
      detail: auth
        ? 'Check FLUXBASE_TOKEN (an admin access token or a service-role JWT) or FLUXBASE_ADMIN_EMAIL/FLUXBASE_ADMIN_PASSWORD.'
        : e.requestId
          ? `Server request id: ${e.requestId}.`
          : undefined,
      ...extra,
    });
  }
  if (e instanceof NetworkError) {
    return error('api.network', `cannot reach the Fluxbase server: ${e.message}`, {
      detail: 'Check --url / FLUXBASE_URL and that the server is running (`fluxbase local start` runs a local one).',
      ...extra,
    });
  }
  throw e;
}

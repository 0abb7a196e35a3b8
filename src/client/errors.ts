import { error, type Diagnostic } from '../diag/index.js';

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

/** Turns an error from the client into a diagnostic (unknown errors are re-thrown: they are bugs). */
export function apiDiagnostic(e: unknown, extra: Partial<Diagnostic> = {}): Diagnostic {
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

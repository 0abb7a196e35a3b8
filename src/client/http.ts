/**
 * The HTTP client for the Fluxbase API (undici). One instance per command. It
 * - authenticates (a bearer token, or admin email + password with login and refresh),
 * - bounds concurrent calls (`parallelism`, default 4: the real server's optional global limiter
 *   allows 100 requests per minute per IP),
 * - retries with undici's RetryAgent: any request on 429 (honouring Retry-After), idempotent
 *   requests (GET/PUT/DELETE, POST/PATCH carrying an Idempotency-Key, and POSTs that only read)
 *   on connection errors and 502/503/504, with jittered exponential backoff. Requests whose
 *   response carries a secret (a new key's value) are sent without an Idempotency-Key, because
 *   the server stores the whole response for 24 h (F10), and are never retried after the server
 *   may have acted: their handlers reconcile with a list call instead (resources/keys.ts),
 * - sends requests marked `once` at most once where the server may have acted (see
 *   {@link ApiRequest.once}),
 * - counts calls by route for `--json` output and benchmarks,
 * - logs what it sends and receives when asked (`FLUXBASE_LOG=debug|trace`): the method, route,
 *   status and time at `debug`, bodies too at `trace`, with every secret masked (credentials,
 *   declared write-only values, and fields such as `secret`, `password`, `token`, `key`).
 */
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
// undici's index loads everything undici offers (fetch, WebSocket, caches, mocks, proxies: ~130
// files, 60-90 ms of every command that calls the API, and ~40 % of the provider's bundle). The
// client needs the agent, the retry agent and `request`, imported from their modules (undici has
// no `exports` map; the types are in ./undici-parts.d.ts). A version of undici that moves them
// fails the build, not a user.
import Agent from 'undici/lib/dispatcher/agent.js';
import RetryAgent from 'undici/lib/dispatcher/retry-agent.js';
import { request as dispatcherRequest } from 'undici/lib/api/index.js';
import { ApiError, NetworkError, IdentityError, type Identity } from './errors.js';

/**
 * How the client authenticates: a bearer token (an admin access token or a service-role JWT),
 * admin email + password (login and refresh), or both. With both, requests use the login except
 * those that need a service-role identity (a tenant's migrations), which use the token.
 */
export interface Credentials {
  token?: string;
  email?: string;
  password?: string;
}

// Defined beside ApiError so that modules which only check for it do not load undici.
export { IdentityError, type Identity } from './errors.js';

/** Options for {@link FluxbaseClient}. */
export interface ClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 (no trailing path). */
  url: string;
  credentials: Credentials;
  /** Maximum concurrent requests (default 4). */
  parallelism?: number;
  /** Retry attempts after the first (default 5). */
  maxRetries?: number;
  /** First backoff in ms (default 200); doubles per attempt with full jitter. */
  minBackoffMs?: number;
  /** Longest single wait in ms, including a server's Retry-After (default 65 000). */
  maxBackoffMs?: number;
  /** Per-request timeout in ms (default 120 000: tenant creation is synchronous and slow). */
  timeoutMs?: number;
  /**
   * With both a token and a login: send every request that does not need the `user` identity
   * with the token, so the login (rate-limited by the server) happens only when such a request
   * is made. Default false: the login is used for everything but service-role requests.
   */
  preferToken?: boolean;
  /** Observer of each completed attempt (for progress output); never receives bodies. */
  onAttempt?: (info: { method: string; route: string; status: number | undefined; retry: boolean }) => void;
  /** Where log lines go, and how much is logged (see module doc). Default: nothing is logged. */
  log?: { write: (line: string) => void; level: 'debug' | 'trace' };
}

/** One API request. `route` is the path template (counted per kind); `params` fill its `:name`s. */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  route: string;
  params?: Record<string, string>;
  query?: Record<string, string | undefined>;
  /** Tenant UUID sent as X-FB-Tenant (the server routes DDL by UUID only; a slug silently hits the main database). */
  tenantId?: string;
  body?: unknown;
  /** Statuses treated as success (default: any 2xx). Anything else throws ApiError. */
  expect?: number[];
  /** Skip authentication (setup/login). */
  anonymous?: boolean;
  /** Identity the request needs (default: the login if any, else the token). */
  identity?: Identity;
  /**
   * How a POST/PATCH may be retried (GET/PUT/DELETE are always idempotent):
   * - `key` (default): sent with a fresh `Idempotency-Key`, so the server answers a retry from its
   *   record instead of acting twice;
   * - `read`: the request only reads (e.g. /sql/execute of a catalog query): retried freely,
   *   without a key, so the server keeps no copy of a possibly large response;
   * - `none`: the response carries a secret (a new key's value), which the server would keep in
   *   `platform.idempotency_keys` for 24 h next to the key (F10): no key, and no retry once the
   *   request may have reached the server (429 answers are still retried: the limiter answers
   *   them before the handler runs).
   */
  idempotency?: 'key' | 'read' | 'none';
  /**
   * The path to send, for routes whose last segment is a wildcard the server does not URL-decode
   * (setting keys with dots): sent verbatim; `route` is still what is counted.
   */
  rawPath?: string;
  /**
   * Send at most once where the server may have acted: retried only when it certainly did not
   * (429, 503, connection refused), never after a reset connection, a 502/504 or a timeout. For
   * creates of kinds whose names the server does not keep unique (webhooks, client keys, OAuth
   * providers), where a blind retry could make a second object; the caller reports the unknown
   * outcome and the next run resolves it (engine/pending.ts).
   */
  once?: boolean;
}

/** A successful response. `body` is parsed JSON, or undefined for an empty body. */
export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRY_CODES = ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH'];
/** Connection errors that mean the request never reached the server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Fields whose values are masked in logs wherever they appear. */
const SECRET_FIELDS = /^(secret|client_secret|password|new_password|smtp_password|token|access_token|refresh_token|service_key|anon_key|key|setup_token|authorization)$/i;

/** Client for one Fluxbase server. */
export class FluxbaseClient {
  readonly url: string;
  private readonly dispatcher: Dispatcher;
  private readonly options: ClientOptions;
  private accessToken: string | undefined;
  private refreshToken: string | undefined;
  private readonly staticToken: string | undefined;
  private identity: { user: boolean; serviceRole: boolean } | undefined;
  private loggingIn: Promise<void> | undefined;
  private readonly counts = new Map<string, number>();
  private retries = 0;
  /** Idempotency keys of requests sent with `once`. */
  private readonly onceKeys = new Set<string>();
  /** Values masked in logs (credentials, declared write-only values). */
  private readonly secrets = new Set<string>();

  constructor(options: ClientOptions) {
    this.options = options;
    this.url = options.url.replace(/\/+$/, '');
    this.staticToken = options.credentials.token;
    if (!this.hasLogin()) this.accessToken = this.staticToken;
    this.addSecrets([options.credentials.token, options.credentials.password]);
    const agent = new Agent({
      connections: options.parallelism ?? 4,
      headersTimeout: options.timeoutMs ?? 120_000,
      bodyTimeout: options.timeoutMs ?? 120_000,
    });
    const minTimeout = options.minBackoffMs ?? 200;
    const maxTimeout = options.maxBackoffMs ?? 65_000;
    const maxRetries = options.maxRetries ?? 5;
    this.dispatcher = new RetryAgent(agent, {
      maxRetries,
      minTimeout,
      maxTimeout,
      throwOnError: false,
      statusCodes: [429, 502, 503, 504],
      errorCodes: RETRY_CODES,
      methods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'POST', 'PATCH'],
      retry: (err, { state, opts }, cb) => {
        const e = err as Error & { statusCode?: number; code?: string; headers?: Record<string, string | string[]> };
        const method = String(opts.method).toUpperCase();
        const headers = (opts.headers ?? {}) as Record<string, string>;
        const safe = IDEMPOTENT.has(method) || headers['idempotency-key'] !== undefined || (opts as { idempotent?: boolean }).idempotent === true;
        const status = e.statusCode;
        const once = this.onceKeys.has(headers['idempotency-key'] ?? '');
        const notActed = status === 429 || status === 503 || (status === undefined && NOT_SENT_CODES.has(e.code ?? ''));
        const transient = status === 429 || ((status === 502 || status === 503 || status === 504 || status === undefined) && safe && (!once || notActed));
        if (!transient || state.counter > maxRetries || (status === undefined && e.code && !RETRY_CODES.includes(e.code))) {
          cb(err);
          return;
        }
        const retryAfter = Number(firstHeader(e.headers?.['retry-after']));
        const backoff = Math.min(maxTimeout, minTimeout * 2 ** Math.max(0, state.counter - 1));
        // Full jitter for our own backoff; the server's Retry-After is a floor, plus a little jitter.
        const wait = Number.isFinite(retryAfter) && retryAfter > 0
          ? Math.min(maxTimeout, retryAfter * 1000 + Math.random() * minTimeout)
          : Math.random() * backoff;
        this.retries++;
        setTimeout(() => cb(null), wait);
      },
    });
  }

  /** Calls made so far, by `METHOD route` (retries not included). */
  callCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** Total calls made so far (retries not included). */
  totalCalls(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  /** Retries made so far. */
  retryCount(): number {
    return this.retries;
  }

  /** Adds values to mask in logs (e.g. the configuration's write-only values). */
  addSecrets(values: Iterable<string | null | undefined>): void {
    for (const v of values) if (typeof v === 'string' && v.length >= 4) this.secrets.add(v);
  }

  /** Which identities these credentials can act as (see {@link Identity}). */
  identities(): { user: boolean; serviceRole: boolean } {
    // The credentials never change, so neither does the answer (the provider asks per resource).
    if (!this.identity) {
      const claims = decodeClaims(this.staticToken);
      this.identity = {
        user: this.hasLogin() || (claims !== undefined && (typeof claims.user_id === 'string' || typeof claims.sub === 'string') && claims.role !== 'service_role'),
        serviceRole: claims?.role === 'service_role',
      };
    }
    return { ...this.identity };
  }

  /**
   * The claims of the JWT that requests needing no particular identity are sent with, when it is
   * the configured token (undefined when they use the login, whose tokens the server mints, or
   * when the token is not a JWT). Used to recognise tokens the server mishandles (F5).
   */
  defaultTokenClaims(): Record<string, unknown> | undefined {
    if (this.hasLogin() && this.options.preferToken !== true) return undefined;
    return decodeClaims(this.staticToken);
  }

  private hasLogin(): boolean {
    return Boolean(this.options.credentials.email && this.options.credentials.password);
  }

  /**
   * Sends one request and returns the parsed response. Throws ApiError for an unexpected status
   * (after retries) and NetworkError when the server cannot be reached. A 401 INVALID_TOKEN with
   * email/password credentials triggers one refresh (or login) and one retry.
   */
  async request<T = unknown>(req: ApiRequest): Promise<ApiResponse<T>> {
    if (req.identity) {
      const can = this.identities();
      if (req.identity === 'service_role' && !can.serviceRole) {
        throw new IdentityError('service_role', 'this call needs a service-role JWT in FLUXBASE_TOKEN');
      }
      if (req.identity === 'user' && !can.user) {
        throw new IdentityError('user', 'this call needs a dashboard admin login (FLUXBASE_ADMIN_EMAIL and FLUXBASE_ADMIN_PASSWORD): the server refuses tokens without a user id here');
      }
    }
    const useToken = this.hasLogin() && this.staticToken !== undefined && (req.identity === 'service_role' || (this.options.preferToken === true && req.identity !== 'user'));
    if (!req.anonymous && !useToken) await this.ensureAuthenticated();
    const first = await this.send<T>(req, useToken ? this.staticToken : undefined);
    if (first.status === 401 && !req.anonymous && !useToken && this.hasLogin()) {
      await this.reauthenticate();
      return this.check(req, await this.send<T>(req));
    }
    return this.check(req, first);
  }

  /**
   * Makes sure the credentials can act as `identity` now: with a login, logs in (once; later
   * calls reuse it) so a wrong email or password is found before any change is made. Throws
   * ApiError (401) when the server refuses the login, IdentityError when the credentials cannot
   * act as it at all. A bearer token is not checked here (the server checks it on every call).
   */
  async verifyIdentity(identity: Identity): Promise<void> {
    const can = this.identities();
    if (identity === 'service_role' ? !can.serviceRole : !can.user) {
      throw new IdentityError(identity, identity === 'user' ? 'the credentials carry no dashboard login' : 'the credentials carry no service-role JWT');
    }
    if (identity === 'user' && this.hasLogin()) await this.ensureAuthenticated();
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private check<T>(req: ApiRequest, res: ApiResponse<T> & { requestId?: string; path: string }): ApiResponse<T> {
    const ok = req.expect ? req.expect.includes(res.status) : res.status >= 200 && res.status < 300;
    if (!ok) throw new ApiError({ status: res.status, body: res.body, method: req.method, path: res.path, requestId: res.requestId });
    return { status: res.status, body: res.body };
  }

  private async send<T>(req: ApiRequest, token?: string): Promise<ApiResponse<T> & { requestId?: string; path: string }> {
    let path = req.rawPath ?? req.route.replace(/:([a-z_]+)/g, (_, name: string) => {
      const v = req.params?.[name];
      if (v === undefined) throw new Error(`missing route parameter ${name} for ${req.route}`);
      return encodeURIComponent(v);
    });
    const query = Object.entries(req.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
    if (query.length > 0) path += `?${new URLSearchParams(query).toString()}`;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'fluxbase-iac' };
    const bearer = token ?? this.accessToken;
    if (!req.anonymous && bearer) headers.authorization = `Bearer ${bearer}`;
    if (req.tenantId) headers['x-fb-tenant'] = req.tenantId;
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    // Never on login/refresh or secret-bearing creates: the server would keep the response for 24 h.
    const mutating = req.method === 'POST' || req.method === 'PATCH';
    if (mutating && !req.anonymous && (req.idempotency ?? 'key') === 'key') headers['idempotency-key'] = randomUUID();
    if (req.once && headers['idempotency-key']) this.onceKeys.add(headers['idempotency-key']);
    const key = `${req.method} ${req.route}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const started = Date.now();
    this.logRequest(req, path, headers);
    let res: Dispatcher.ResponseData;
    try {
      const url = new URL(`${this.url}${path}`);
      res = await dispatcherRequest.call(this.dispatcher, {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        // Read-only POSTs may be retried although they carry no Idempotency-Key.
        idempotent: !mutating || req.idempotency === 'read',
      });
    } catch (e) {
      this.options.onAttempt?.({ method: req.method, route: req.route, status: undefined, retry: false });
      this.log(`<- ${req.method} ${path}: ${(e as Error).message} (${Date.now() - started} ms)`);
      throw new NetworkError(req.method, path, e as Error);
    } finally {
      if (headers['idempotency-key']) this.onceKeys.delete(headers['idempotency-key']);
    }
    const text = await res.body.text();
    this.options.onAttempt?.({ method: req.method, route: req.route, status: res.statusCode, retry: false });
    this.log(`<- ${res.statusCode} ${req.method} ${path} (${Date.now() - started} ms)`, text);
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: res.statusCode, body: body as T, requestId: firstHeader(res.headers['x-request-id']), path };
  }

  /** Logs one request (`debug`: method, path, tenant; `trace`: headers and body too), secrets masked. */
  private logRequest(req: ApiRequest, path: string, headers: Record<string, string>): void {
    if (!this.options.log) return;
    const extra = this.options.log.level === 'trace'
      ? `\n  headers: ${this.mask(JSON.stringify(headers))}${req.body === undefined ? '' : `\n  body: ${this.mask(JSON.stringify(req.body))}`}`
      : req.tenantId ? ` (X-FB-Tenant ${req.tenantId})` : '';
    this.options.log.write(`-> ${req.method} ${path}${extra}`);
  }

  /** Logs a line; at `trace` with a response body (masked). */
  private log(line: string, body?: string): void {
    if (!this.options.log) return;
    const withBody = this.options.log.level === 'trace' && body ? `${line}\n  body: ${this.mask(body)}` : line;
    this.options.log.write(withBody);
  }

  /** Masks secret fields and every known secret value in a JSON (or any) text. */
  private mask(text: string): string {
    let out = text;
    try {
      out = JSON.stringify(JSON.parse(text), (k, v: unknown) => (SECRET_FIELDS.test(k) && v !== null && v !== '' && typeof v !== 'object' ? '(sensitive)' : v));
    } catch {
      // not JSON: only known values are masked
    }
    for (const secret of this.secrets) out = out.split(secret).join('(sensitive)').split(JSON.stringify(secret).slice(1, -1)).join('(sensitive)');
    return out.replace(/Bearer [A-Za-z0-9._~+/=-]+/g, 'Bearer (sensitive)');
  }

  private async ensureAuthenticated(): Promise<void> {
    if (this.accessToken) return;
    await this.reauthenticate();
  }

  private reauthenticate(): Promise<void> {
    this.loggingIn ??= this.login().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  /** POST /api/v1/admin/refresh with the refresh token, else POST /api/v1/admin/login. */
  private async login(): Promise<void> {
    const creds = this.options.credentials;
    if (!creds.email || !creds.password) return;
    if (this.refreshToken) {
      const res = await this.send<{ access_token?: string }>({
        method: 'POST',
        route: '/api/v1/admin/refresh',
        body: { refresh_token: this.refreshToken },
        anonymous: true,
      });
      if (res.status === 200 && res.body?.access_token) {
        this.accessToken = res.body.access_token;
        return;
      }
    }
    const res = this.check(
      { method: 'POST', route: '/api/v1/admin/login', anonymous: true },
      await this.send<{ access_token: string; refresh_token: string }>({
        method: 'POST',
        route: '/api/v1/admin/login',
        body: { email: creds.email, password: creds.password },
        anonymous: true,
      }),
    );
    this.accessToken = res.body.access_token;
    this.refreshToken = res.body.refresh_token;
  }
}

/** The payload of a JWT, without verifying it (the server verifies); undefined for non-JWTs. */
function decodeClaims(token: string | undefined): Record<string, unknown> | undefined {
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

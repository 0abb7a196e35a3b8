/**
 * Per-request context: the parsed request, what middlewares established (tenant, identity), and
 * the buffered response (written by the server once the chain finishes, so idempotency and
 * request counting see the final status and body).
 */
import type { IncomingMessage } from 'node:http';
import type { Database } from '../db/types.js';
import { goJson } from './json.js';
import { bindBody, BindError } from './bind.js';
import type { StructSpec } from './bind.js';

/** The tenant established by TenantContext / TenantDBContext. */
export interface TenantLocals {
  /** Raw `X-FB-Tenant` value (uuid or slug), or the default tenant's id; '' when none. */
  id: string;
  /** 'header' when taken from X-FB-Tenant, 'default' otherwise. */
  source: 'header' | 'default' | '';
  /** Database DDL/introspection run against: the tenant's own, or the main database. */
  db: Database;
  /** Logical database name of the tenant when it has its own database. */
  dbName?: string;
  /** The tenant row when the id resolved to a tenant by UUID. */
  slug?: string;
}

/** Claims of a verified JWT (the subset the server reads). */
export interface Claims {
  user_id?: string;
  sub?: string;
  email?: string;
  role?: string;
  session_id?: string;
  tenant_id?: string;
  tenant_role?: string;
  is_instance_admin?: boolean;
  token_type?: string;
  jti?: string;
  user_metadata?: Record<string, unknown>;
  app_metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The caller's identity as the auth middlewares set it (Fiber locals). */
export interface AuthLocals {
  userId: string;
  email: string;
  /** `user_role` local: instance_admin, admin, service_role, authenticated, … */
  role: string;
  isInstanceAdmin: boolean;
  claims?: Claims;
  /** 'jwt', 'service_role_jwt', 'service_key', 'client_key' (auth family B / migrations). */
  authType?: string;
  /** Scopes of a service/client key; JWT callers bypass scope checks. */
  scopes?: string[];
  /** Key type of a service key (e.g. tenant_service). */
  serviceKeyType?: string;
  /** Set by the migrations security middleware. */
  isTenantMigration?: boolean;
  /** Tenant id taken by the migrations middleware from X-FB-Tenant. */
  migrationTenantId?: string;
}

export class Ctx {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  params: Record<string, string> = {};
  requestId = '';
  tenant?: TenantLocals;
  auth?: AuthLocals;

  status = 200;
  readonly headers: Record<string, string> = {};
  body: Buffer = Buffer.alloc(0);
  responded = false;

  constructor(readonly req: IncomingMessage, readonly rawBody: Buffer) {
    this.method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://localhost');
    this.path = url.pathname;
    this.query = url.searchParams;
  }

  /** A request header (case-insensitive), '' when absent. */
  header(name: string): string {
    const v = this.req.headers[name.toLowerCase()];
    if (Array.isArray(v)) return v[0] ?? '';
    return v ?? '';
  }

  /** Query parameter with a default (Fiber `c.Query(name, def)`: empty counts as absent). */
  q(name: string, def = ''): string {
    const v = this.query.get(name);
    return v === null || v === '' ? def : v;
  }

  /** Sends a JSON body with Go encoding. */
  json(status: number, value: unknown): void {
    this.status = status;
    this.headers['content-type'] = 'application/json';
    this.body = Buffer.from(goJson(value));
    this.responded = true;
  }

  /** Sends an empty body (204 and the like). */
  empty(status: number): void {
    this.status = status;
    delete this.headers['content-type'];
    this.body = Buffer.alloc(0);
    this.responded = true;
  }

  /** Binds the JSON body (Go semantics); undefined when binding fails. */
  tryBind<T>(spec: StructSpec): T | undefined {
    try {
      return bindBody<T>(this.header('content-type'), this.rawBody, spec);
    } catch (e) {
      if (e instanceof BindError) return undefined;
      throw e;
    }
  }
}

/** A step of a route chain: call `next()` to continue, or respond and return. */
export type Handler = (ctx: Ctx, next: () => Promise<void>) => Promise<void> | void;

/**
 * Shared helpers for the emulator tests: start an emulator on the run's PostgreSQL server and
 * call it over real HTTP (undici).
 */
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { inject } from 'vitest';
import { SignJWT } from 'jose';
import { startEmulator } from '../../src/emulator/index.js';
import { EXAMPLE_HOSTS } from '../support/hosts.js';
import type { EmulatorOptions, RunningEmulator } from '../../src/emulator/index.js';

/**
 * Starts an emulator backed by the test PostgreSQL server, behaving like the real server, with
 * rate limits raised and the example webhook hosts resolvable (unless given).
 */
export function startPgEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({
    rateLimits: { login: 1000, setup: 1000 },
    hosts: EXAMPLE_HOSTS,
    ...options,
    storage: { kind: 'postgres', databaseUrl: inject('databaseUrl') },
  });
}

export interface Reply<T = any> {
  status: number;
  headers: Record<string, string>;
  body: T;
  text: string;
}

export interface CallOptions {
  body?: unknown;
  /** Raw body text (sent as is). */
  raw?: string;
  headers?: Record<string, string>;
  /** Bearer token; `null` = no Authorization header. Defaults to the client's token. */
  token?: string | null;
  tenant?: string;
}

/** A small HTTP client bound to an emulator and a default token. */
export class Api {
  constructor(readonly emu: RunningEmulator, readonly token: string | null = emu.serviceRoleToken) {}

  as(token: string | null): Api {
    return new Api(this.emu, token);
  }

  async call<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    const token = opts.token === undefined ? this.token : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
    if (opts.tenant) headers['x-fb-tenant'] = opts.tenant;
    Object.assign(headers, opts.headers ?? {});
    const res = await request(`${this.emu.url}${path}`, {
      method: method as 'GET',
      headers,
      body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
    const text = await res.body.text();
    let body: unknown = undefined;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : String(v);
    return { status: res.statusCode, headers: flat, body: body as T, text };
  }

  get<T = any>(path: string, opts?: CallOptions) {
    return this.call<T>('GET', path, opts);
  }
  post<T = any>(path: string, body?: unknown, opts?: CallOptions) {
    return this.call<T>('POST', path, { ...opts, body });
  }
  put<T = any>(path: string, body?: unknown, opts?: CallOptions) {
    return this.call<T>('PUT', path, { ...opts, body });
  }
  patch<T = any>(path: string, body?: unknown, opts?: CallOptions) {
    return this.call<T>('PATCH', path, { ...opts, body });
  }
  delete<T = any>(path: string, opts?: CallOptions) {
    return this.call<T>('DELETE', path, opts);
  }
}

/** Signs arbitrary claims with the emulator's JWT secret (HS256). */
export function signToken(emu: RunningEmulator, claims: Record<string, unknown>, ttlSeconds = 3600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(emu.jwtSecret));
}

/** A dashboard-style instance_admin token for a random user id. */
export function instanceAdminToken(emu: RunningEmulator, userId: string = randomUUID()): Promise<string> {
  return signToken(emu, { user_id: userId, sub: userId, email: 'admin@example.com', role: 'instance_admin', is_instance_admin: true, token_type: 'access' });
}

/** A tenant_admin dashboard token. */
export function tenantAdminToken(emu: RunningEmulator, userId: string = randomUUID()): Promise<string> {
  return signToken(emu, { user_id: userId, sub: userId, email: 'ta@example.com', role: 'tenant_admin', token_type: 'access' });
}

/** An app-user token with role `admin`. */
export function appAdminToken(emu: RunningEmulator, userId: string = randomUUID()): Promise<string> {
  return signToken(emu, { user_id: userId, sub: userId, email: 'app-admin@example.com', role: 'admin' });
}

/** Unique lowercase identifier for test objects. */
export function uniq(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
}

export const ADMIN = '/api/v1/admin';

/**
 * Runs the first-time setup (the emulator must have `setupToken: SETUP_TOKEN`) and returns the
 * dashboard instance_admin's access token and platform user id.
 */
export async function setupInstanceAdmin(api: Api): Promise<{ token: string; userId: string }> {
  const r = await api.post(`${ADMIN}/setup`, { email: 'owner@example.com', password: 'correct-horse-battery', name: 'Owner', setup_token: SETUP_TOKEN }, { token: null });
  if (r.status !== 201) throw new Error(`setup failed: ${r.status} ${r.text}`);
  return { token: r.body.access_token as string, userId: r.body.user.id as string };
}

export const SETUP_TOKEN = 'setup-token-for-tests';

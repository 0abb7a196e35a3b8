/**
 * Client keys in `auth.client_keys` (`internal/auth/clientkey.go`, `scopes.go`; keys doc §2).
 *
 * - Format: `fbk_` + padded base64url of 32 random bytes (48 characters); `key_prefix` is the
 *   first 12 characters. Stored as SHA-256 (base64url, padded), looked up by that hash.
 * - As credentials (`X-Client-Key`, `?clientkey=`, `clientkey` header; auth family B): not
 *   revoked, not expired. Using a key updates `last_used_at` (and, through the trigger,
 *   `updated_at`). Scopes are checked by RequireScope.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { EmulatorApp, KeyVerifier } from '../app.js';
import { rfc3339 } from '../http/json.js';

/** The scope vocabulary (`AllScopes` + `*`). */
export const CLIENT_KEY_SCOPES: readonly string[] = [
  'tables:read', 'tables:write', 'storage:read', 'storage:write', 'functions:read', 'functions:execute',
  'auth:read', 'auth:write', 'clientkeys:read', 'clientkeys:write', 'webhooks:read', 'webhooks:write',
  'monitoring:read', 'realtime:connect', 'realtime:broadcast', 'rpc:read', 'rpc:execute', 'jobs:read',
  'jobs:write', 'ai:read', 'ai:write', 'secrets:read', 'secrets:write', 'migrations:read', 'migrations:execute', '*',
];

/** `ValidateScopes`: the (logged-only) problem, or undefined when every scope is known and there is one at least. */
export function scopesProblem(scopes: string[] | null): string | undefined {
  if (!scopes || scopes.length === 0) return 'at least one scope must be specified';
  const bad = scopes.filter((s) => !CLIENT_KEY_SCOPES.includes(s));
  return bad.length > 0 ? `invalid scopes: ${bad.join(', ')}` : undefined;
}

export interface ClientKeyRow {
  id: string;
  name: string;
  description: string | null;
  key_prefix: string;
  user_id: string | null;
  scopes: string[] | null;
  allowed_namespaces: string[] | null;
  rate_limit_per_minute: number | null;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
  updated_at: string;
}

export const CLIENT_KEY_COLUMNS =
  'id::text AS id, name, description, key_prefix, user_id::text AS user_id, scopes, allowed_namespaces, rate_limit_per_minute, last_used_at, expires_at, revoked_at, created_at, updated_at';

/** The `ClientKey` JSON (§2.1). `withNamespaces` false for create, whose RETURNING omits them. */
export function clientKeyJson(k: ClientKeyRow, withNamespaces = true): Record<string, unknown> {
  return {
    id: k.id,
    name: k.name,
    description: k.description ?? undefined,
    key_prefix: k.key_prefix,
    user_id: k.user_id ?? undefined,
    scopes: k.scopes,
    allowed_namespaces: withNamespaces && k.allowed_namespaces && k.allowed_namespaces.length > 0 ? k.allowed_namespaces : undefined,
    rate_limit_per_minute: k.rate_limit_per_minute ?? 0,
    last_used_at: k.last_used_at === null ? undefined : rfc3339(k.last_used_at),
    expires_at: k.expires_at === null ? undefined : rfc3339(k.expires_at),
    revoked_at: k.revoked_at === null ? undefined : rfc3339(k.revoked_at),
    created_at: rfc3339(k.created_at),
    updated_at: rfc3339(k.updated_at),
  };
}

/** A new key value `fbk_…`. */
export function newClientKeyValue(): string {
  return `fbk_${randomBytes(32).toString('base64url')}=`;
}

/** `hashClientKey`: SHA-256, padded base64url. */
export function hashClientKey(key: string): string {
  const b64 = createHash('sha256').update(key).digest('base64url');
  return b64 + '='.repeat((4 - (b64.length % 4)) % 4);
}

/** The verifier installed as `app.clientKeyVerifier`. */
export function clientKeyVerifier(app: EmulatorApp): KeyVerifier {
  return async (key) => {
    const r = await app.main.query<ClientKeyRow & { expired: boolean }>(
      `SELECT ${CLIENT_KEY_COLUMNS}, (expires_at IS NOT NULL AND expires_at < now()) AS expired FROM auth.client_keys WHERE key_hash = $1`,
      [hashClientKey(key)],
    );
    const row = r.rows[0];
    if (!row || row.revoked_at !== null || row.expired) return undefined;
    await app.main.query('UPDATE auth.client_keys SET last_used_at = now() WHERE id = $1::uuid', [row.id]).catch(() => {});
    return { userId: row.user_id ?? '', email: '', role: '', isInstanceAdmin: false, authType: 'client_key', scopes: row.scopes ?? [] };
  };
}

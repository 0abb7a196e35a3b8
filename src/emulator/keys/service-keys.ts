/**
 * Service keys in `auth.service_keys` (`internal/api/servicekey_handler.go`,
 * `internal/middleware/clientkey_auth.go`, `migrations_security.go`; keys doc §1, §0.2B).
 *
 * - Format: `sk_live_` (service) or `pk_live_` (anon) + padded base64url of 32 random bytes
 *   (52 characters); `key_prefix` is the first 16 characters, the lookup key.
 * - Stored as an scrypt hash (the server uses bcrypt); the value is shown only by create/rotate.
 * - As credentials (`X-Service-Key` / `Authorization: ServiceKey …`, auth family B): enabled, not
 *   revoked, not expired, hash match. The migrations API's own check takes `sk_` keys only and
 *   ignores `revoked_at` (so a revoked key that was re-enabled still runs migrations).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { EmulatorApp, KeyVerifier } from '../app.js';
import type { AuthLocals } from '../http/context.js';
import { rfc3339 } from '../http/json.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';

export interface ServiceKeyRow {
  id: string;
  name: string;
  description: string | null;
  key_hash: string;
  key_prefix: string;
  key_type: string;
  scopes: string[] | null;
  allowed_namespaces: string[] | null;
  enabled: boolean | null;
  rate_limit_per_minute: number | null;
  rate_limit_per_hour: number | null;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  revocation_reason: string | null;
  deprecated_at: string | null;
  grace_period_ends_at: string | null;
  replaced_by: string | null;
  tenant_id: string | null;
}

export const SERVICE_KEY_COLUMNS =
  "id::text AS id, name, description, key_hash, key_prefix, COALESCE(key_type, 'service') AS key_type, scopes, allowed_namespaces, enabled, rate_limit_per_minute, rate_limit_per_hour, created_by::text AS created_by, created_at, last_used_at, expires_at, revoked_at, revoked_by::text AS revoked_by, revocation_reason, deprecated_at, grace_period_ends_at, replaced_by::text AS replaced_by, tenant_id::text AS tenant_id";

function ts(v: string | null): string | undefined {
  return v === null ? undefined : rfc3339(v);
}

/** The `ServiceKey` JSON (§1.1): NULLs omitted, `allowed_namespaces` omitted when empty too. */
export function serviceKeyJson(k: ServiceKeyRow): Record<string, unknown> {
  return {
    id: k.id,
    name: k.name,
    description: k.description ?? undefined,
    key_prefix: k.key_prefix,
    key_type: k.key_type,
    scopes: k.scopes,
    allowed_namespaces: k.allowed_namespaces && k.allowed_namespaces.length > 0 ? k.allowed_namespaces : undefined,
    enabled: k.enabled === true,
    rate_limit_per_minute: k.rate_limit_per_minute ?? undefined,
    rate_limit_per_hour: k.rate_limit_per_hour ?? undefined,
    created_by: k.created_by ?? undefined,
    created_at: rfc3339(k.created_at),
    last_used_at: ts(k.last_used_at),
    expires_at: ts(k.expires_at),
    revoked_at: ts(k.revoked_at),
    deprecated_at: ts(k.deprecated_at),
    grace_period_ends_at: ts(k.grace_period_ends_at),
    replaced_by: k.replaced_by ?? undefined,
  };
}

/** A new key value: `sk_live_…` / `pk_live_…` (anon), 52 characters. */
export function newServiceKeyValue(keyType: string): string {
  return (keyType === 'anon' ? 'pk_live_' : 'sk_live_') + randomBytes(32).toString('base64url') + '=';
}

/** The stored hash of a key value (scrypt N=1024: the value has 256 random bits). */
export function hashServiceKey(key: string): Promise<string> {
  return hashPassword(key, 1024);
}

/** `mapKeyTypetoRole`. */
export function serviceKeyRole(keyType: string): string {
  switch (keyType) {
    case 'anon':
      return 'anon';
    case 'tenant_service':
      return 'tenant_service';
    case 'service':
    case 'global_service':
      return 'service_role';
    case 'publishable':
      return 'authenticated';
    default:
      return 'anon';
  }
}

/** Prefixes of `platform.service_keys` (config/bootstrap keys; none exist in the emulator). */
const PLATFORM_PREFIXES = ['fb_anon_', 'fb_pk_', 'fb_tsk_', 'fb_gsk_'];

/**
 * Verified (hash → digest of the key) pairs, so repeated requests with the same key skip scrypt.
 * Only successful comparisons are remembered.
 */
const verified = new Map<string, string>();

async function hashMatches(key: string, hash: string): Promise<boolean> {
  const digest = createHash('sha256').update(key).digest('hex');
  if (verified.get(hash) === digest) return true;
  const ok = await verifyPassword(key, hash);
  if (ok) {
    if (verified.size > 1000) verified.clear();
    verified.set(hash, digest);
  }
  return ok;
}

/** The verifier installed as `app.serviceKeyVerifier`. */
export function serviceKeyVerifier(app: EmulatorApp): KeyVerifier {
  return async (key, _ctx, use = 'family-b') => {
    if (key.length < 8 || PLATFORM_PREFIXES.some((p) => key.startsWith(p))) return undefined;
    const ok = use === 'migrations' ? key.startsWith('sk_') : key.startsWith('sk_') || key.startsWith('pk_');
    if (!ok || key.length < 16) return undefined;
    const r = await app.main.query<ServiceKeyRow & { expired: boolean }>(
      `SELECT ${SERVICE_KEY_COLUMNS}, (expires_at IS NOT NULL AND expires_at < now()) AS expired FROM auth.service_keys WHERE key_prefix = $1`,
      [key.slice(0, 16)],
    );
    const row = r.rows[0];
    if (!row || row.enabled !== true || row.expired) return undefined;
    if (use === 'family-b' && row.revoked_at !== null) return undefined;
    if (!(await hashMatches(key, row.key_hash))) return undefined;
    await app.main.query('UPDATE auth.service_keys SET last_used_at = now() WHERE id = $1::uuid', [row.id]).catch(() => {});
    const caller: AuthLocals = {
      userId: '',
      email: '',
      role: serviceKeyRole(row.key_type),
      isInstanceAdmin: false,
      authType: 'service_key',
      scopes: row.scopes ?? [],
      serviceKeyType: row.key_type,
    };
    return caller;
  };
}

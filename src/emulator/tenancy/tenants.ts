/**
 * Tenant rows (`platform.tenants` in the main database) and their JSON form (`TenantResponse`,
 * auth doc §4): `db_name`, `metadata` (when empty) and `deleted_at` omitted when absent;
 * `updated_at` always present; timestamps as Go RFC 3339.
 */
import type { Sql } from '../db/types.js';
import { rfc3339, sortKeys } from '../http/json.js';

export interface TenantRow {
  id: string;
  slug: string;
  name: string;
  db_name: string | null;
  status: string;
  is_default: boolean;
  metadata: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export const TENANT_COLUMNS = 'id::text AS id, slug, name, db_name, status, is_default, metadata, created_at, updated_at, deleted_at';

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Whether PostgreSQL would accept `s` as a uuid (the checks that make `$1::uuid` fail). */
export function isUuid(s: string): boolean {
  const t = s.trim().replace(/^\{(.*)\}$/, '$1');
  return UUID_RE.test(t);
}

/** The JSON the tenants API returns for a row. */
export function tenantJson(t: TenantRow): Record<string, unknown> {
  const metadata = t.metadata && Object.keys(t.metadata).length > 0 ? sortKeys(t.metadata) : undefined;
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    db_name: t.db_name ?? undefined,
    status: t.status,
    is_default: t.is_default,
    metadata,
    created_at: rfc3339(t.created_at),
    updated_at: rfc3339(t.updated_at),
    deleted_at: t.deleted_at ? rfc3339(t.deleted_at) : undefined,
  };
}

/** Non-deleted tenant by UUID (`GetTenant`); undefined when absent or `id` is not a uuid. */
export async function getTenant(db: Sql, id: string): Promise<TenantRow | undefined> {
  if (!isUuid(id)) return undefined;
  const r = await db.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM platform.tenants WHERE id = $1::uuid AND deleted_at IS NULL`, [id]);
  return r.rows[0];
}

/** Non-deleted tenant by slug (`GetTenantBySlug`). */
export async function getTenantBySlug(db: Sql, slug: string): Promise<TenantRow | undefined> {
  const r = await db.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM platform.tenants WHERE slug = $1 AND deleted_at IS NULL`, [slug]);
  return r.rows[0];
}

/** The default tenant's id, or '' when there is none. */
export async function defaultTenantId(db: Sql): Promise<string> {
  const r = await db.query<{ id: string }>('SELECT id::text AS id FROM platform.tenants WHERE is_default = true AND deleted_at IS NULL LIMIT 1');
  return r.rows[0]?.id ?? '';
}

/** Creates the default tenant (slug `default`, no db_name) when missing; returns its id. */
export async function seedDefaultTenant(db: Sql): Promise<string> {
  const existing = await defaultTenantId(db);
  if (existing) return existing;
  await db.query(
    `INSERT INTO platform.tenants (slug, name, is_default, status) VALUES ('default', 'default', true, 'active') ON CONFLICT (slug) DO NOTHING`,
  );
  return defaultTenantId(db);
}

/** Slug rule (`isValidSlug`): 1–63 of [a-z0-9-], first a-z, last a-z or 0-9. */
export function isValidSlug(slug: string): boolean {
  return slug.length >= 1 && slug.length <= 63 && /^[a-z]([a-z0-9-]*[a-z0-9])?$/.test(slug);
}

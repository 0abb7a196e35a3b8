/**
 * Tenants (shared/fluxbase-api auth-tenants §4). Keyed by slug in the config, by UUID on the wire.
 * The default tenant (slug `default`) is built in: adopted, never created or deleted.
 * DELETE is a soft delete: the slug of a soft-deleted tenant cannot be reused until it is recovered.
 */
import { formatAddress } from '../model/address.js';
import { fingerprint } from '../model/canonical.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import { compact, hazard, preventDestroy, sourceOf } from './common.js';
import type { ApplyRequest, ApplyResult, DesiredRequest, ListRequest, PlanRequest, PlanResult, ResourceHandler, SpecFragment, ToSpecRequest } from './types.js';
import { error, type Diagnostic } from '../diag/index.js';
import { currentProfile } from '../server/profile.js';

/** The built-in default tenant's slug. */
export const DEFAULT_TENANT_SLUG = 'default';

/** Tenant JSON (TenantResponse): `metadata` and `db_name` are omitted when empty. */
export interface TenantJson {
  id: string;
  slug: string;
  name: string;
  status: string;
  is_default: boolean;
  metadata?: Record<string, unknown>;
  db_name?: string;
  deleted_at?: string;
}

/** Names the server gives the default tenant when its config names none (cmd/fluxbase/main.go; the emulator uses the slug). */
const DEFAULT_TENANT_NAMES: ReadonlySet<string> = new Set(['Default', DEFAULT_TENANT_SLUG]);

/** `tenant.<slug>` */
export function tenantAddress(slug: string): string {
  return formatAddress('tenant', [slug]);
}

export const tenantHandler: ResourceHandler = {
  kind: 'tenant',
  scope: 'instance',
  rules: [{ path: 'metadata', exact: true }],

  desired({ config, sources, preventDestroyDefault }: DesiredRequest): DesiredResource[] {
    return Object.entries(config.tenants ?? {}).map(([slug, t]) => {
      const path = ['tenants', slug];
      return {
        address: tenantAddress(slug),
        kind: 'tenant',
        attrs: compact({ name: t?.name, metadata: t?.metadata }),
        writeOnly: {},
        dependsOn: [],
        preventDestroy: preventDestroy(t?.lifecycle, preventDestroyDefault),
        builtin: slug === DEFAULT_TENANT_SLUG,
        source: sourceOf(sources, path),
        path,
      };
    });
  },

  /** GET /api/v1/admin/tenants: a bare array of ACTIVE tenants only. */
  async list({ client }: ListRequest): Promise<LiveResource[]> {
    const res = await client.request<TenantJson[]>({ method: 'GET', route: '/api/v1/admin/tenants' });
    return (res.body ?? []).map((t) => ({
      address: tenantAddress(t.slug),
      kind: 'tenant',
      id: t.id,
      attrs: { name: t.name, metadata: t.metadata ?? {} },
      fingerprint: fingerprint({ name: t.name, metadata: t.metadata ?? {}, status: t.status }),
      builtin: t.is_default,
    }));
  },

  /** `name` is omitted when it is the slug (or the default tenant's built-in name), `metadata` when empty. */
  toSpec({ live, includeInternal }: ToSpecRequest): SpecFragment {
    const slug = live.address.slice('tenant.'.length);
    const { name, metadata } = live.attrs as { name: string; metadata: Record<string, unknown> };
    const builtinName = name === slug || (live.builtin === true && DEFAULT_TENANT_NAMES.has(name));
    const spec = compact({
      name: builtinName && !includeInternal ? undefined : name,
      metadata: Object.keys(metadata).length === 0 ? undefined : metadata,
    });
    return { path: ['tenants', slug], spec: live.builtin && Object.keys(spec).length === 0 && !includeInternal ? undefined : spec };
  },

  plan({ change }: PlanRequest): PlanResult {
    if (change.action === 'delete' || change.action === 'replace') {
      return {
        hazards: [
          hazard('DELETES_DATA', `Soft-deletes tenant ${change.address.slice('tenant.'.length)}: its API stops answering and its slug cannot be reused until it is recovered.`),
        ],
      };
    }
    return {};
  },

  /** POST /api/v1/admin/tenants → 201 {"tenant":{…}} (a wrapper, not a bare tenant). */
  /**
   * A new tenant's slug may be held by a tenant the list does not show (F11): a soft-deleted one
   * (GET /api/v1/admin/tenants/deleted; creating the slug again answers 500), or one stuck in
   * `creating`/`error` after a failed creation (internal/tenantdb/storage.go:159-165; creating
   * answers 409). Stuck tenants are only visible in `platform.tenants`, which only the
   * service_role database role may read: /sql/execute runs as that role for a dashboard login, so
   * that check needs FLUXBASE_ADMIN_EMAIL/PASSWORD.
   */
  async preflight({ client, changes, desired }): Promise<Diagnostic[]> {
    const creating = changes.filter((c) => c.action === 'create').map((c) => ({ change: c, slug: c.address.slice('tenant.'.length) }));
    if (creating.length === 0) return [];
    const out: Diagnostic[] = [];
    const deleted = await client.request<TenantJson[] | null>({ method: 'GET', route: '/api/v1/admin/tenants/deleted', expect: [200, 403] });
    const held = new Map<string, string>();
    for (const t of deleted.status === 200 ? (deleted.body ?? []) : []) held.set(t.slug, `a soft-deleted tenant (id ${t.id}, deleted ${t.deleted_at ?? 'earlier'})`);
    if (client.identities().user && currentProfile().stuckTenantsKeepSlug) {
      const res = await client.request<{ results: { rows?: { slug: string; status: string; id: string }[]; error?: string }[] }>({
        method: 'POST',
        route: '/api/v1/admin/sql/execute',
        identity: 'user',
        idempotency: 'read',
        body: { query: "SELECT id::text AS id, slug, status FROM platform.tenants WHERE deleted_at IS NULL AND status <> 'active'" },
        expect: [200],
      });
      for (const r of res.body.results?.[0]?.rows ?? []) held.set(r.slug, `a tenant stuck in status '${r.status}' after a failed creation (id ${r.id})`);
    }
    for (const { change, slug } of creating) {
      const why = held.get(slug);
      if (!why) continue;
      out.push(
        error('plan.server-limit', `tenant slug ${slug} is taken by ${why}`, {
          address: change.address,
          location: desired.get(change.address)?.source,
          detail: why.startsWith('a soft-deleted')
            ? 'The server keeps the slug of a soft-deleted tenant, and creating it again fails. Recover it (POST /api/v1/admin/tenants/<id>/recover) and run `fluxbase import ' + change.address + '`, delete it for good (DELETE /api/v1/admin/tenants/<id>?hard=true), or choose another slug.'
            : 'The server hides tenants that are not active from its lists but keeps their slug, so creating it answers 409. Repair it (POST /api/v1/admin/tenants/<id>/repair) and import it, delete it (DELETE /api/v1/admin/tenants/<id>?hard=true), or choose another slug.',
        }),
      );
    }
    return out;
  },

  async create({ client, desired }: ApplyRequest): Promise<ApplyResult> {
    const slug = desired!.path[1]!;
    const attrs = desired!.attrs as { name?: string; metadata?: Record<string, unknown> };
    const res = await client.request<{ tenant: TenantJson }>({
      method: 'POST',
      route: '/api/v1/admin/tenants',
      body: compact({ slug, name: attrs.name ?? slug, metadata: attrs.metadata }),
      expect: [201],
    });
    return { id: res.body.tenant.id };
  },

  /** PATCH /api/v1/admin/tenants/:id with only the changed fields (`metadata` replaces the whole object). */
  async update({ client, change, desired }: ApplyRequest): Promise<ApplyResult> {
    const attrs = desired!.attrs as { name?: string; metadata?: Record<string, unknown> };
    const changed = new Set(change.attributes.map((a) => a.path[0]));
    await client.request({
      method: 'PATCH',
      route: '/api/v1/admin/tenants/:id',
      params: { id: change.id! },
      body: compact({
        name: changed.has('name') ? attrs.name : undefined,
        metadata: changed.has('metadata') ? attrs.metadata : undefined,
      }),
      expect: [200],
    });
    return { id: change.id };
  },

  /** DELETE /api/v1/admin/tenants/:id → 204 (soft delete). */
  async delete({ client, change }: ApplyRequest): Promise<void> {
    await client.request({ method: 'DELETE', route: '/api/v1/admin/tenants/:id', params: { id: change.id! }, expect: [204, 404] });
  },
};

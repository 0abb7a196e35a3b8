/**
 * Service keys of a tenant (shared/fluxbase-api keys-webhooks-settings §1),
 * `service_key.<tenant>.<name>`. POST /api/v1/admin/service-keys returns the key value once
 * (revealed at apply, never stored). `enabled` changes use POST /{id}/enable|disable, which work.
 * Other changes need PUT /{id}, which on the real server most likely always answers 500 (its SQL
 * sets a column the table does not have): before planning such an update the tool probes it
 * (PUT on a random id answers 404 when the endpoint works, 500 when it is broken) and, when it is
 * broken, plans a visible replacement with a warning that the key's value changes. key_type and
 * expires_at cannot change in place; a key revoked outside the tool is replaced.
 */
import { randomUUID } from 'node:crypto';
import { ApiError } from '../client/errors.js';
import { warning } from '../diag/index.js';
import { formatAddress, parseAddress } from '../model/address.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import { compact, hazard, preventDestroy, sourceOf } from './common.js';
import { createKeyOnce, deleteConfirmed, revealKey } from './keys.js';
import { tenantAddress } from './tenant.js';
import type { ApplyRequest, ApplyResult, DesiredRequest, ListRequest, PlanRequest, PlanResult, ResourceHandler, SpecFragment, ToSpecRequest } from './types.js';

interface ServiceKeyJson {
  id: string;
  name: string;
  description?: string;
  key_type: string;
  scopes: string[] | null;
  allowed_namespaces?: string[];
  enabled: boolean;
  rate_limit_per_minute?: number;
  rate_limit_per_hour?: number;
  expires_at?: string;
  revoked_at?: string;
  key?: string;
}

const ROUTE = '/api/v1/admin/service-keys/:id';

/** `service_key.<tenant>.<name>` */
export function serviceKeyAddress(tenant: string, name: string): string {
  return formatAddress('service_key', [tenant, name]);
}

export const serviceKeyHandler: ResourceHandler = {
  kind: 'service_key',
  scope: 'tenant',
  rules: [
    { path: 'scopes', compare: 'set' },
    { path: 'allowed_namespaces', compare: 'set' },
    { path: 'key_type', replace: true },
    { path: 'expires_at', replace: true },
    { path: 'revoked', replace: true },
  ],

  desired({ config, sources, preventDestroyDefault }: DesiredRequest): DesiredResource[] {
    const out: DesiredResource[] = [];
    for (const [slug, tenant] of Object.entries(config.tenants ?? {})) {
      for (const [name, k] of Object.entries(tenant?.service_keys ?? {})) {
        const path = ['tenants', slug, 'service_keys', name];
        const keyType = k!.key_type ?? 'service';
        out.push({
          address: serviceKeyAddress(slug, name),
          kind: 'service_key',
          tenant: slug,
          attrs: compact({
            description: k!.description,
            key_type: keyType,
            scopes: [...(k!.scopes ?? (keyType === 'anon' ? ['read'] : ['*']))].sort(),
            allowed_namespaces: k!.allowed_namespaces ? [...k!.allowed_namespaces].sort() : undefined,
            rate_limit_per_minute: k!.rate_limit_per_minute,
            rate_limit_per_hour: k!.rate_limit_per_hour,
            expires_at: k!.expires_at ? new Date(k!.expires_at).toISOString() : null,
            enabled: k!.enabled ?? true,
            revoked: false,
          }),
          writeOnly: {},
          dependsOn: [tenantAddress(slug)],
          preventDestroy: preventDestroy(k!.lifecycle, preventDestroyDefault),
          source: sourceOf(sources, path),
          path,
          meta: { name },
        });
      }
    }
    return out;
  },

  /** GET /api/v1/admin/service-keys: the tenant's keys (bare array, newest first). */
  async list({ client, tenant }: ListRequest): Promise<LiveResource[]> {
    const res = await client.request<ServiceKeyJson[] | null>({ method: 'GET', route: '/api/v1/admin/service-keys', tenantId: tenant!.id });
    return (res.body ?? []).map((k) => {
      const attrs = {
        description: k.description ?? null,
        key_type: k.key_type,
        scopes: [...(k.scopes ?? [])].sort(),
        allowed_namespaces: [...(k.allowed_namespaces ?? [])].sort(),
        rate_limit_per_minute: k.rate_limit_per_minute ?? null,
        rate_limit_per_hour: k.rate_limit_per_hour ?? null,
        expires_at: k.expires_at ? new Date(k.expires_at).toISOString() : null,
        enabled: k.enabled,
        revoked: Boolean(k.revoked_at),
      };
      return {
        address: serviceKeyAddress(tenant!.slug, k.name),
        kind: 'service_key' as const,
        tenant: tenant!.slug,
        id: k.id,
        attrs,
        parent: tenantAddress(tenant!.slug),
      };
    });
  },

  /**
   * Defaults omitted (type service, the type's default scopes, enabled). The key's value cannot be
   * read and is not part of the declaration; a revoked key cannot be declared (the tool would
   * replace it) and is reported instead.
   */
  toSpec({ live }: ToSpecRequest): SpecFragment {
    const [tenant, name] = parseAddress(live.address)!.segments as [string, string];
    const path = ['tenants', tenant, 'service_keys', name];
    const a = live.attrs as { description: string | null; key_type: string; scopes: string[]; allowed_namespaces: string[]; rate_limit_per_minute: number | null; rate_limit_per_hour: number | null; expires_at: string | null; enabled: boolean; revoked: boolean };
    if (a.revoked) return { path, notes: ['the key is revoked; a revoked key cannot be declared'] };
    const defaultScopes = a.key_type === 'anon' ? ['read'] : ['*'];
    return {
      path,
      spec: compact({
        key_type: a.key_type === 'service' ? undefined : a.key_type,
        description: a.description ? a.description : undefined,
        scopes: a.scopes.join('\u0000') === defaultScopes.join('\u0000') ? undefined : a.scopes,
        allowed_namespaces: a.allowed_namespaces.length > 0 ? a.allowed_namespaces : undefined,
        rate_limit_per_minute: a.rate_limit_per_minute ?? undefined,
        rate_limit_per_hour: a.rate_limit_per_hour ?? undefined,
        expires_at: a.expires_at ?? undefined,
        enabled: a.enabled ? undefined : false,
      }),
    };
  },

  /**
   * Probes PUT /api/v1/admin/service-keys/{random id}: 404 means the endpoint works (the key just
   * does not exist); 500 means it is broken, as on the real server.
   */
  async probe({ client }): Promise<Record<string, boolean>> {
    try {
      const res = await client.request({ method: 'PUT', route: ROUTE, params: { id: randomUUID() }, body: { description: 'fluxbase-iac capability probe' }, expect: [200, 404] });
      return { put: res.status === 404 || res.status === 200 };
    } catch (e) {
      if (e instanceof ApiError && e.status >= 500) return { put: false };
      throw e;
    }
  },

  plan({ change, capabilities }: PlanRequest): PlanResult {
    const hazards = [];
    if (change.action === 'delete') hazards.push(hazard('ROTATES_CREDENTIAL', `Deletes ${change.address}: clients using it are refused.`));
    if (change.action === 'replace') {
      hazards.push(hazard('ROTATES_CREDENTIAL', `Replaces ${change.address}: a new key value is issued and clients using the old one are refused.`));
    }
    if (change.action === 'update') {
      const needsPut = change.attributes.filter((a) => a.path[0] !== 'enabled');
      if (needsPut.length > 0 && capabilities?.put === false) {
        return {
          requiresReplace: needsPut.map((a) => a.path),
          diagnostics: [
            warning('api.capability', `changing ${needsPut.map((a) => a.path.join('.')).join(', ')} replaces the key, so its value changes`, {
              detail: "This server's PUT /api/v1/admin/service-keys/{id} does not work (it answers 500), so the key is deleted and created again with the new settings. Distribute the new value (shown once by apply) to its users.",
            }),
          ],
        };
      }
    }
    return { hazards };
  },

  /** POST /api/v1/admin/service-keys → 201 with the key plus `key` (shown once); then disable if declared disabled. */
  async create(request: ApplyRequest): Promise<ApplyResult> {
    const { client, desired, tenant } = request;
    const a = desired!.attrs as Record<string, unknown>;
    const name = desired!.meta!.name as string;
    const send = () => client.request<ServiceKeyJson>({
      method: 'POST',
      route: '/api/v1/admin/service-keys',
      tenantId: tenant!.id,
      idempotency: 'none',
      body: compact({
        name,
        description: a.description,
        key_type: a.key_type,
        scopes: a.scopes,
        allowed_namespaces: a.allowed_namespaces,
        rate_limit_per_minute: a.rate_limit_per_minute,
        rate_limit_per_hour: a.rate_limit_per_hour,
        expires_at: a.expires_at ?? undefined,
      }),
      expect: [201],
    });
    const res = await createKeyOnce({
      create: send,
      findByName: async () => {
        const live = await client.request<ServiceKeyJson[] | null>({ method: 'GET', route: '/api/v1/admin/service-keys', tenantId: tenant!.id });
        return (live.body ?? []).filter((k) => k.name === name).map((k) => k.id);
      },
      remove: (id) => deleteConfirmed({ client, route: ROUTE, id, tenantId: tenant!.id }),
    });
    const revealed = await revealKey(request, res.body.key);
    if (a.enabled === false) await setEnabled(req(client, tenant!.id), res.body.id, false);
    return { id: res.body.id, revealed };
  },

  /** PUT /{id} for the fields that changed (when any but `enabled`), then enable/disable. */
  async update({ client, change, desired, tenant }: ApplyRequest): Promise<ApplyResult> {
    const a = desired!.attrs;
    const fields = change.attributes.map((x) => x.path[0]!).filter((f) => f !== 'enabled');
    if (fields.length > 0) {
      await client.request({
        method: 'PUT',
        route: ROUTE,
        params: { id: change.id! },
        tenantId: tenant!.id,
        body: Object.fromEntries(fields.map((f) => [f, a[f] ?? null])),
        expect: [200],
      });
    }
    if (change.attributes.some((x) => x.path[0] === 'enabled')) await setEnabled(req(client, tenant!.id), change.id!, a.enabled === true);
    return { id: change.id };
  },

  /** DELETE /api/v1/admin/service-keys/:id → 204. */
  async delete({ client, change, tenant }: ApplyRequest): Promise<void> {
    await deleteConfirmed({ client, route: ROUTE, id: change.id!, tenantId: tenant!.id });
  },
};

function req(client: ApplyRequest['client'], tenantId: string) {
  return { client, tenantId };
}

/** POST /api/v1/admin/service-keys/:id/enable|disable → 204. */
async function setEnabled(r: { client: ApplyRequest['client']; tenantId: string }, id: string, enabled: boolean): Promise<void> {
  await r.client.request({
    method: 'POST',
    route: enabled ? '/api/v1/admin/service-keys/:id/enable' : '/api/v1/admin/service-keys/:id/disable',
    params: { id },
    tenantId: r.tenantId,
    expect: [204],
  });
}

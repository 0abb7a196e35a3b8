/**
 * Client keys (shared/fluxbase-api keys-webhooks-settings §2), instance-wide, `client_key.<name>`.
 * POST /api/v1/client-keys returns the key value once (revealed at apply, never stored);
 * PATCH /{id} changes name, description, scopes and rate limit; expires_at cannot change, and a
 * key revoked outside the tool is replaced — both change the key's value (ROTATES_CREDENTIAL).
 * The server answers 500 for a missing key on update and delete, so deletes are confirmed with
 * a GET. Names are not unique on the server: duplicates are reported as ambiguous.
 */
import { formatAddress, parseAddress } from '../model/address.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import { compact, groupByName, hazard, preventDestroy, sourceOf } from './common.js';
import { createKeyOnce, deleteConfirmed, revealKey } from './keys.js';
import type { ApplyRequest, ApplyResult, DesiredRequest, ListRequest, PlanRequest, PlanResult, ResourceHandler, SpecFragment, ToSpecRequest } from './types.js';

interface ClientKeyJson {
  id: string;
  name: string;
  description?: string;
  scopes: string[] | null;
  rate_limit_per_minute: number;
  expires_at?: string;
  revoked_at?: string;
  key?: string;
}

/** `client_key.<name>` */
export function clientKeyAddress(name: string): string {
  return formatAddress('client_key', [name]);
}

function isoOrNull(v: string | undefined | null): string | null {
  return v ? new Date(v).toISOString() : null;
}

export const clientKeyHandler: ResourceHandler = {
  kind: 'client_key',
  scope: 'instance',
  rules: [
    { path: 'scopes', compare: 'set' },
    { path: 'expires_at', replace: true },
    { path: 'revoked', replace: true },
  ],

  desired({ config, sources, preventDestroyDefault }: DesiredRequest): DesiredResource[] {
    return Object.entries(config.client_keys ?? {}).map(([name, k]) => {
      const path = ['client_keys', name];
      return {
        address: clientKeyAddress(name),
        kind: 'client_key',
        attrs: compact({
          description: k!.description,
          scopes: [...k!.scopes].sort(),
          rate_limit_per_minute: k!.rate_limit_per_minute ?? 100,
          expires_at: isoOrNull(k!.expires_at),
          revoked: false,
        }),
        writeOnly: {},
        dependsOn: [],
        preventDestroy: preventDestroy(k!.lifecycle, preventDestroyDefault),
        source: sourceOf(sources, path),
        path,
        meta: { name },
      };
    });
  },

  /** GET /api/v1/client-keys: a bare array (null when empty), instance-wide in practice. */
  async list({ client }: ListRequest): Promise<LiveResource[]> {
    const res = await client.request<ClientKeyJson[] | null>({ method: 'GET', route: '/api/v1/client-keys' });
    return [...groupByName(res.body ?? [], (k) => k.name).entries()].map(([name, rows]) => {
      const active = rows.filter((r) => !r.revoked_at);
      const k = active[0] ?? rows[0]!;
      const attrs = {
        description: k.description ?? null,
        scopes: [...(k.scopes ?? [])].sort(),
        rate_limit_per_minute: k.rate_limit_per_minute,
        expires_at: isoOrNull(k.expires_at),
        revoked: Boolean(k.revoked_at),
      };
      return {
        address: clientKeyAddress(name),
        kind: 'client_key' as const,
        id: k.id,
        attrs,
        ...(active.length > 1 ? { ambiguous: active.map((r) => r.id) } : {}),
      };
    });
  },

  /**
   * The default rate limit (100/min) is omitted; the key's value is not part of the declaration.
   * Revoked keys, and names held by several live keys, cannot be declared and are reported.
   */
  toSpec({ live }: ToSpecRequest): SpecFragment {
    const path = ['client_keys', parseAddress(live.address)!.segments[0]!];
    const a = live.attrs as { description: string | null; scopes: string[]; rate_limit_per_minute: number; expires_at: string | null; revoked: boolean };
    if (live.ambiguous) return { path, notes: [`${live.ambiguous.length} live client keys have this name (ids ${live.ambiguous.join(', ')})`] };
    if (a.revoked) return { path, notes: ['the key is revoked; a revoked key cannot be declared'] };
    return {
      path,
      spec: compact({
        description: a.description ? a.description : undefined,
        scopes: a.scopes,
        rate_limit_per_minute: a.rate_limit_per_minute === 100 ? undefined : a.rate_limit_per_minute,
        expires_at: a.expires_at ?? undefined,
      }),
    };
  },

  plan({ change }: PlanRequest): PlanResult {
    if (change.action === 'delete') return { hazards: [hazard('ROTATES_CREDENTIAL', `Deletes ${change.address}: clients using it are refused.`)] };
    if (change.action === 'replace') {
      return { hazards: [hazard('ROTATES_CREDENTIAL', `Replaces ${change.address}: a new key value is issued and clients using the old one are refused.`)] };
    }
    return {};
  },

  /** POST /api/v1/client-keys → 201 with the key object plus `key` (shown once). */
  async create(request: ApplyRequest): Promise<ApplyResult> {
    const { client, desired } = request;
    const a = desired!.attrs as { description?: string; scopes: string[]; rate_limit_per_minute: number; expires_at?: string | null };
    const name = desired!.meta!.name as string;
    const res = await createKeyOnce({
      create: () =>
        client.request<ClientKeyJson>({
          method: 'POST',
          route: '/api/v1/client-keys',
          idempotency: 'none',
          body: compact({ name, description: a.description, scopes: a.scopes, rate_limit_per_minute: a.rate_limit_per_minute, expires_at: a.expires_at ?? undefined }),
          expect: [201],
        }),
      findByName: async () => {
        const live = await client.request<ClientKeyJson[] | null>({ method: 'GET', route: '/api/v1/client-keys' });
        return (live.body ?? []).filter((k) => k.name === name).map((k) => k.id);
      },
      remove: (id) => deleteConfirmed({ client, route: '/api/v1/client-keys/:id', id }),
    });
    return { id: res.body.id, revealed: await revealKey(request, res.body.key) };
  },

  /** PATCH /api/v1/client-keys/:id → 200 {success,message} (500 when missing). */
  async update({ client, change, desired }: ApplyRequest): Promise<ApplyResult> {
    const changed = new Set(change.attributes.map((a) => a.path[0]!));
    const a = desired!.attrs;
    await client.request({
      method: 'PATCH',
      route: '/api/v1/client-keys/:id',
      params: { id: change.id! },
      body: compact({
        description: changed.has('description') ? a.description : undefined,
        scopes: changed.has('scopes') ? a.scopes : undefined,
        rate_limit_per_minute: changed.has('rate_limit_per_minute') ? a.rate_limit_per_minute : undefined,
      }),
      expect: [200],
    });
    return { id: change.id };
  },

  /** DELETE /api/v1/client-keys/:id → 204 (500 when missing: confirmed with a GET). */
  async delete({ client, change }: ApplyRequest): Promise<void> {
    await deleteConfirmed({ client, route: '/api/v1/client-keys/:id', id: change.id! });
  },
};

/**
 * Live state for one provider process, read through the resource handlers' `list()` (the same
 * calls `fluxbase plan` makes) and cached per kind and tenant: Terraform reads and plans each
 * resource separately, so a refresh of N resources costs O(kinds × tenants) list calls instead
 * of N. Concurrent readers share one in-flight call. Every write invalidates what it can affect.
 */
import type { FluxbaseClient } from '../client/http.js';
import { parseAddress } from '../model/address.js';
import type { LiveResource, ResourceKind, TenantRef } from '../model/resource.js';
import { handlerFor } from '../resources/index.js';
import { isInternalSchema } from '../resources/schema.js';

/** Cached `list()` results. */
export class LiveCache {
  private readonly lists = new Map<string, Promise<LiveResource[]>>();
  private readonly byAddress = new WeakMap<readonly LiveResource[], Map<string, LiveResource>>();
  private readonly bySlug = new WeakMap<readonly LiveResource[], Map<string, LiveResource>>();
  /** List calls made (for tests and benchmarks). */
  calls = 0;

  constructor(private readonly client: FluxbaseClient) {}

  private cached(key: string, load: () => Promise<LiveResource[]>): Promise<LiveResource[]> {
    let p = this.lists.get(key);
    if (!p) {
      this.calls++;
      p = load();
      this.lists.set(key, p);
      // A failed call is not cached: the next reader tries again.
      p.catch(() => this.lists.get(key) === p && this.lists.delete(key));
    }
    return p;
  }

  /** GET /api/v1/admin/tenants (active tenants), through the tenant handler. */
  tenants(): Promise<LiveResource[]> {
    return this.cached('tenant', () => handlerFor('tenant').list({ client: this.client, schemas: new Set() }));
  }

  /** A live tenant by slug, or undefined. */
  async tenant(slug: string): Promise<TenantRef | undefined> {
    const t = this.index(this.bySlug, await this.tenants(), (r) => parseAddress(r.address)?.segments[0]).get(slug);
    return t ? { slug, id: t.id!, isDefault: t.builtin ?? false } : undefined;
  }

  /**
   * A list's items by `key` (the first item wins, as Array.find would), built once per list:
   * Terraform asks for each of a thousand resources in turn.
   */
  private index(
    indexes: WeakMap<readonly LiveResource[], Map<string, LiveResource>>,
    list: readonly LiveResource[],
    key: (r: LiveResource) => string | undefined,
  ): Map<string, LiveResource> {
    let index = indexes.get(list);
    if (!index) {
      index = new Map();
      for (const r of list) {
        const k = key(r);
        if (k !== undefined && !index.has(k)) index.set(k, r);
      }
      indexes.set(list, index);
    }
    return index;
  }

  /**
   * Every live resource of `kind` (in `tenant` for tenant-scoped kinds). Fluxbase's internal
   * schemas are read only when `schema` names one (see ListRequest.schemas).
   */
  async list(kind: ResourceKind, tenant?: string, schema?: string): Promise<LiveResource[]> {
    if (kind === 'tenant') return this.tenants();
    const handler = handlerFor(kind);
    if (handler.scope === 'instance') return this.cached(kind, () => handler.list({ client: this.client, schemas: new Set() }));
    const ref = tenant === undefined ? undefined : await this.tenant(tenant);
    if (!ref) return [];
    const internal = schema !== undefined && isInternalSchema(schema) ? schema : '';
    return this.cached(`${kind}|${tenant}|${internal}`, () => handler.list({ client: this.client, tenant: ref, schemas: new Set(internal ? [internal] : []) }));
  }

  /** The live resource at `address`, or undefined. */
  async find(kind: ResourceKind, address: string, tenant?: string, schema?: string): Promise<LiveResource | undefined> {
    return this.index(this.byAddress, await this.list(kind, tenant, schema), (r) => r.address).get(address);
  }

  /**
   * Forgets what a write to `kind` in `tenant` can change: that kind's lists (tables also change
   * policy lists, schemas table lists), or everything for tenant writes.
   */
  invalidate(kind: ResourceKind, tenant?: string): void {
    if (kind === 'tenant') {
      this.lists.clear();
      return;
    }
    const related: ResourceKind[] = kind === 'table' ? ['table', 'policy'] : kind === 'schema' ? ['schema', 'table', 'policy'] : [kind];
    for (const key of [...this.lists.keys()]) {
      const [k, t] = key.split('|');
      if (related.includes(k as ResourceKind) && (tenant === undefined || t === undefined || t === tenant)) this.lists.delete(key);
    }
  }

  /** Forgets everything (a new Terraform command in debug mode). */
  clear(): void {
    this.lists.clear();
  }
}

/**
 * Live state for one provider process, read through the resource handlers' `list()` (the same
 * calls `fluxbase plan` makes) and cached per kind and tenant: Terraform reads and plans each
 * resource separately, so a refresh of N resources costs O(kinds × tenants) list calls instead
 * of N. Concurrent readers share one in-flight call. Every write invalidates what it can affect.
 *
 * An apply reads each created object back from its kind's list, so every write is followed by a
 * list call, each as long as the server's list. Those calls are coalesced: a reader that finds
 * only a stale call in flight (one started before a write it must see) queues one call to start
 * when that one ends, and every write and reader that comes while it waits shares it. At most one
 * call per list runs at a time, and a call started after a write always sees it.
 */
import type { FluxbaseClient } from '../client/http.js';
import { parseAddress } from '../model/address.js';
import type { LiveResource, ResourceKind, TenantRef } from '../model/resource.js';
import { handlerFor } from '../resources/index.js';
import { isInternalSchema } from '../resources/schema.js';

/** Cached `list()` results. */
export class LiveCache {
  /** The call each list is read from; `started` is false while it waits for a stale call to end. */
  private readonly lists = new Map<string, { promise: Promise<LiveResource[]>; started: boolean }>();
  /** The last call made for each list (maybe stale), until it ends: what a new call waits for. */
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly byAddress = new WeakMap<readonly LiveResource[], Map<string, LiveResource>>();
  private readonly bySlug = new WeakMap<readonly LiveResource[], Map<string, LiveResource>>();
  /** List calls made (for tests and benchmarks). */
  calls = 0;

  constructor(private readonly client: FluxbaseClient) {}

  private cached(key: string, load: () => Promise<LiveResource[]>): Promise<LiveResource[]> {
    const found = this.lists.get(key);
    if (found) return found.promise;
    const entry: { promise: Promise<LiveResource[]>; started: boolean } = { promise: Promise.resolve([]), started: false };
    const start = () => {
      entry.started = true;
      this.calls++;
      return load();
    };
    const stale = this.running.get(key);
    entry.promise = stale ? stale.then(start, start) : start();
    this.lists.set(key, entry);
    const ended = entry.promise.then(
      () => undefined,
      () => {
        // A failed call is not cached: the next reader tries again.
        if (this.lists.get(key) === entry) this.lists.delete(key);
      },
    );
    this.running.set(key, ended);
    void ended.then(() => this.running.get(key) === ended && this.running.delete(key));
    return entry.promise;
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
   * Forgets what a write to `kind` in `tenant` can change, once the write has returned: that kind's
   * lists (tables also change policy lists, schemas table lists), or everything for tenant writes.
   * A call still waiting to start is kept: it starts after the write, so it sees it.
   */
  invalidate(kind: ResourceKind, tenant?: string): void {
    const related: ResourceKind[] = kind === 'table' ? ['table', 'policy'] : kind === 'schema' ? ['schema', 'table', 'policy'] : [kind];
    for (const [key, entry] of [...this.lists]) {
      if (!entry.started) continue;
      const [k, t] = key.split('|');
      if (kind === 'tenant' || (related.includes(k as ResourceKind) && (tenant === undefined || t === undefined || t === tenant))) this.lists.delete(key);
    }
  }

  /** Forgets everything (a new Terraform command in debug mode). */
  clear(): void {
    this.lists.clear();
  }
}

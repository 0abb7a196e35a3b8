/**
 * Stage 4 — refresh: read the live state with list endpoints, one call per resource kind per
 * tenant (not one per resource), concurrently; the client bounds how many calls run at once.
 * Only tenants the configuration declares or the state manages are read in depth (every kind, so
 * what is not managed is reported whatever its kind); other tenants are reported as not managed.
 */
import type { FluxbaseClient } from '../client/http.js';
import { apiDiagnostic } from '../client/errors.js';
import type { Diagnostic } from '../diag/index.js';
import { parseAddress } from '../model/address.js';
import { RESOURCE_KINDS, type LiveResource, type ResourceKind, type TenantRef } from '../model/resource.js';
import { allHandlers, handlerFor } from '../resources/index.js';
import type { StateDocument } from '../state/document.js';
import { desiredTenants, type DesiredState } from './graph.js';

/** The live state as refreshed. */
export interface LiveState {
  resources: Map<string, LiveResource>;
  /** Every live tenant by slug. */
  tenants: Map<string, TenantRef>;
  /** Tenants whose resources were listed. */
  scanned: Set<string>;
  /** Refresh problems; after an authentication or connection failure, that one failure only. */
  diagnostics: Diagnostic[];
}

/** Reads the live state relevant to a desired state and a state document. */
export async function refresh(req: {
  client: FluxbaseClient;
  desired: DesiredState;
  state: StateDocument | undefined;
  /** Limit listing to these kinds (default: all). */
  kinds?: ReadonlySet<ResourceKind>;
  /** Limit listing to these tenants (default: declared ∪ managed). */
  tenants?: ReadonlySet<string>;
  /**
   * Fluxbase's internal schemas to read in every listed tenant besides the declared and managed
   * ones (`fluxbase export` looks for user tables in them, e.g. `app.posts`).
   */
  schemas?: ReadonlySet<string>;
}): Promise<LiveState> {
  const { client } = req;
  const live: LiveState = { resources: new Map(), tenants: new Map(), scanned: new Set(), diagnostics: [] };
  let tenantList: LiveResource[];
  try {
    tenantList = await handlerFor('tenant').list({ client, schemas: new Set() });
  } catch (e) {
    live.diagnostics.push(withUrlHint(apiDiagnostic(e), client.url));
    return live;
  }
  for (const t of tenantList) {
    live.resources.set(t.address, t);
    const slug = parseAddress(t.address)!.segments[0]!;
    live.tenants.set(slug, { slug, id: t.id!, isDefault: t.builtin ?? false });
  }
  const wanted = req.tenants ?? new Set([...desiredTenants(req.desired), ...stateTenants(req.state)]);
  // Every kind is read, so "not managed" lists what this configuration does not own whatever its
  // kind. Kinds it neither declares nor manages hold nothing it owns: a failure to list one only
  // leaves that report incomplete (a warning), it cannot make the plan wrong.
  const kinds = req.kinds ?? new Set(RESOURCE_KINDS);
  const relevant = req.kinds ?? relevantKinds(req.desired, req.state);
  const failed = (kind: ResourceKind, extra: Partial<Diagnostic>) => (e: unknown) => {
    const d = apiDiagnostic(e, extra);
    live.diagnostics.push(
      relevant.has(kind) ? d : { ...d, severity: 'warning', summary: `cannot list ${kind.replace(/_/g, ' ')}s to report those not managed: ${d.summary}` },
    );
  };
  const jobs: Promise<void>[] = [];
  const schemasByTenant = schemasOf(req.desired, req.state);
  for (const slug of wanted) {
    const tenant = live.tenants.get(slug);
    if (!tenant) continue;
    live.scanned.add(slug);
    const schemas = new Set([...(schemasByTenant.get(slug) ?? []), ...(req.schemas ?? [])]);
    for (const handler of allHandlers()) {
      if (handler.scope !== 'tenant' || !kinds.has(handler.kind)) continue;
      jobs.push(
        handler.list({ client, tenant, schemas }).then((items) => {
          for (const item of items) live.resources.set(item.address, item);
        }, failed(handler.kind, { address: `tenant.${slug}` })),
      );
    }
  }
  for (const handler of allHandlers()) {
    if (handler.scope !== 'instance' || handler.kind === 'tenant' || !kinds.has(handler.kind)) continue;
    jobs.push(
      handler.list({ client, schemas: new Set() }).then((items) => {
        for (const item of items) live.resources.set(item.address, item);
      }, failed(handler.kind, {})),
    );
  }
  await Promise.all(jobs);
  live.diagnostics = oneAccessFailure(live.diagnostics);
  return live;
}

/**
 * After an authentication or connection failure every other call fails the same way: keep the
 * first such failure (by route, so the choice is deterministic) and drop the repeats.
 */
function oneAccessFailure(diagnostics: Diagnostic[]): Diagnostic[] {
  const access = diagnostics.filter((d) => d.severity === 'error' && (d.code === 'api.auth' || d.code === 'api.network')).sort((a, b) => (a.summary < b.summary ? -1 : a.summary > b.summary ? 1 : 0));
  if (access.length <= 1) return diagnostics;
  return diagnostics.filter((d) => (d.code !== 'api.auth' && d.code !== 'api.network') || d === access[0]);
}

/**
 * The URL should be the server's base URL: `http://host:8080/api/v1` makes every route
 * `/api/v1/api/v1/...`, which the server answers 404. Says so when the first call failed.
 */
function withUrlHint(d: Diagnostic, url: string): Diagnostic {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return d;
  }
  const pathname = parsed.pathname;
  const at = pathname.search(/\/api(\/|$)/);
  if (at < 0) return d;
  const base = `${parsed.origin}${pathname.slice(0, at)}`;
  const hint = `The URL should not contain the API path: use ${base} (FLUXBASE_URL / --url), without ${pathname.slice(at).replace(/\/+$/, '')}.`;
  return { ...d, detail: d.detail ? `${hint} ${d.detail}` : hint };
}

/** Schemas each tenant's desired resources and managed resources live in (one pass over each). */
function schemasOf(desired: DesiredState, state: StateDocument | undefined): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (slug: string, schema: string) => {
    const set = out.get(slug);
    if (set) set.add(schema);
    else out.set(slug, new Set([schema]));
  };
  for (const r of desired.values()) {
    if (r.tenant === undefined) continue;
    if (r.kind === 'schema' || r.kind === 'table' || r.kind === 'policy') add(r.tenant, r.path[3]!);
    // A webhook's tables (a bare name is in auth), so tables in Fluxbase's own schemas are read too.
    if (r.kind === 'webhook') {
      for (const table of (r.meta?.eventTables ?? []) as string[]) if (table !== '*') add(r.tenant, table.includes('.') ? table.split('.')[0]! : 'auth');
    }
    if (r.kind === 'table') {
      for (const c of Object.values((r.attrs.columns ?? {}) as Record<string, { references?: { table: string } | null }>)) {
        if (c.references) add(r.tenant, c.references.table.split('.')[0]!);
      }
    }
  }
  for (const address of stateAddresses(state)) {
    const parsed = parseAddress(address);
    if (parsed && ['schema', 'table', 'policy'].includes(parsed.kind)) add(parsed.segments[0]!, parsed.segments[1]!);
  }
  return out;
}

/** Addresses a state document manages or has pending operations for. */
function stateAddresses(state: StateDocument | undefined): string[] {
  return [...Object.keys(state?.resources ?? {}), ...(state?.pending ?? []).map((p) => p.address)];
}

/** Kinds declared in the desired state or recorded in the state document. */
export function relevantKinds(desired: DesiredState, state: StateDocument | undefined): Set<ResourceKind> {
  const kinds = new Set<ResourceKind>();
  for (const r of desired.values()) kinds.add(r.kind);
  for (const entry of Object.values(state?.resources ?? {})) kinds.add(entry.kind);
  for (const op of state?.pending ?? []) kinds.add(op.kind);
  return kinds;
}

/** Slugs of tenants that own resources recorded in a state document. */
export function stateTenants(state: StateDocument | undefined): Set<string> {
  const out = new Set<string>();
  for (const address of stateAddresses(state)) {
    const parsed = parseAddress(address);
    if (!parsed) continue;
    const kind = parsed.kind as ResourceKind;
    if (kind === 'tenant' || handlerScope(kind) === 'tenant') out.add(parsed.segments[0]!);
  }
  return out;
}

function handlerScope(kind: ResourceKind): 'instance' | 'tenant' | undefined {
  try {
    return handlerFor(kind).scope;
  } catch {
    return undefined;
  }
}

/**
 * Reads one resource by address with its kind's list call (one call for its scope), for apply to
 * confirm that a resource is gone after a delete that failed. Undefined when it does not exist
 * (or its tenant does not). Throws ApiError/NetworkError.
 */
export async function readLive(req: { client: FluxbaseClient; kind: ResourceKind; address: string; tenant?: TenantRef }): Promise<LiveResource | undefined> {
  const handler = handlerFor(req.kind);
  const parsed = parseAddress(req.address);
  const schemas = new Set<string>();
  if (parsed && ['schema', 'table', 'policy'].includes(parsed.kind) && parsed.segments[1]) schemas.add(parsed.segments[1]);
  if (handler.scope === 'tenant' && !req.tenant) return undefined;
  const items = await handler.list({ client: req.client, tenant: handler.scope === 'tenant' ? req.tenant : undefined, schemas });
  return items.find((i) => i.address === req.address);
}

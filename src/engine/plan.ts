/**
 * Stage 6 — plan: match desired, live and state resources by address, decide each resource's
 * action, attach hazards, SQL and steps from its handler, enforce ownership and
 * `prevent_destroy`, and order the changes (creates and updates in dependency order, then
 * deletes in reverse). The result is plain data (model/plan.ts).
 *
 * Ownership: a live resource is managed when the state records it, when it is built in (default
 * tenant, schema public) or when the config imports it. Removing a managed resource from the
 * config plans its deletion; a live resource nobody manages is listed as "not managed" and never
 * changed; declaring a name that exists live but is not managed is an error that suggests import.
 */
import { error, hasErrors, warning, type Diagnostic } from '../diag/index.js';
import { fingerprint } from '../model/canonical.js';
import { PLAN_FORMAT_VERSION, summarize, type AttributeChange, type Plan, type ResourceChange, type UnmanagedResource } from '../model/plan.js';
import type { DesiredResource, LiveResource, ResourceKind } from '../model/resource.js';
import { RESOURCE_KINDS } from '../model/resource.js';
import { desiredFingerprint, secretFingerprint, UNKNOWN_WRITE_ONLY, type StateDocument } from '../state/document.js';
import { createChange, deleteChange, finishChange, updateChange } from './change.js';
import type { DesiredState } from './graph.js';
import { forceReplace, removedAddresses, targetChanges } from './lifecycle.js';
import type { Resolution } from './pending.js';
import type { LiveState } from './refresh.js';
import { planRenames } from './rename.js';
import { referenceDiagnostics } from './plan-checks.js';

/** Input of {@link buildPlan}. */
export interface BuildPlanRequest {
  endpoint: string;
  desired: DesiredState;
  live: LiveState;
  state: StateDocument;
  /** Addresses the config (or `fluxbase import`) adopts although the state does not record them. */
  imports?: ReadonlySet<string>;
  /**
   * Report drift only: every difference, as changes that apply never executes. Problems that
   * would only stop an apply (a delete prevented by `prevent_destroy`, a write the
   * credentials cannot make) are not errors here; handler warnings are kept.
   */
  refreshOnly?: boolean;
  /** What the credentials can act as (default: both). */
  identities?: { user: boolean; serviceRole: boolean };
  /** Probe results by kind (see ResourceHandler.probe). */
  capabilities?: Partial<Record<ResourceKind, Record<string, boolean>>>;
  /**
   * The config-level `lifecycle.prevent_destroy`: it also protects managed resources that were
   * removed from the configuration (so production can forbid every destroy from its environment).
   */
  preventDestroyDefault?: boolean;
  /**
   * `fluxbase destroy` / `plan --destroy`: every managed resource is deleted as if the
   * configuration declared nothing (built-in objects excepted); `prevent_destroy` still applies.
   */
  destroy?: boolean;
  /** `--target`: narrow the plan to these addresses and what they need (engine/lifecycle.ts). */
  targets?: readonly string[];
  /** `--replace`: addresses to delete and create again. */
  replace?: readonly string[];
  /** `removed:` of the configuration: managed addresses to drop from the state, left live. */
  removed?: readonly string[];
  /** Moves applied to `state` before planning (to → from), marked on their changes. */
  moved?: ReadonlyMap<string, string>;
  /** What resolving the state's pending operations found (engine/pending.ts). */
  resolution?: Pick<Resolution, 'resumed' | 'unrevealed'>;
  /** `migrations.lock_timeout` of the configuration (default 3s). */
  lockTimeout?: string;
}

/** Kinds whose deletion takes these child kinds with it (no API call of their own). */
const CASCADES: Partial<Record<ResourceKind, ReadonlySet<ResourceKind> | 'all'>> = {
  tenant: 'all',
  table: new Set<ResourceKind>(['policy']),
};

/** Builds the plan from refreshed live state. Pure: makes no API call. */
export function buildPlan(req: BuildPlanRequest): Plan {
  const { desired } = req;
  // A refresh that failed leaves the live state incomplete: any change or problem derived from it
  // would be wrong ("built-in tenant does not exist" after a 401). Report the failure alone.
  if (hasErrors(req.live.diagnostics)) {
    return {
      formatVersion: PLAN_FORMAT_VERSION,
      endpoint: req.endpoint,
      desiredFingerprint: fingerprintDesired(desired),
      liveFingerprint: fingerprint([]),
      ...(req.refreshOnly ? { refreshOnly: true } : {}),
      changes: [],
      unmanaged: [],
      diagnostics: [...req.live.diagnostics],
      summary: summarize([]),
    };
  }
  const renames = planRenames({ desired, live: req.live, state: req.state });
  const { live, state } = renames;
  const diagnostics: Diagnostic[] = [...live.diagnostics, ...renames.diagnostics];
  const changes: ResourceChange[] = [];
  const unmanaged: UnmanagedResource[] = [];
  const addresses = new Set<string>([...desired.keys(), ...live.resources.keys(), ...Object.keys(state.resources)]);
  const forgotten = removedAddresses(req.removed ?? [], state, live);

  for (const address of [...addresses].sort()) {
    const d = req.destroy ? undefined : desired.get(address);
    const l = live.resources.get(address);
    const s = state.resources[address];
    const kind = (d?.kind ?? l?.kind ?? s?.kind)!;
    if (l?.ambiguous && (d || s)) {
      diagnostics.push(
        error('api.ambiguous', `${l.ambiguous.length} live ${kind.replace(/_/g, ' ')}s have this name (ids ${l.ambiguous.join(', ')})`, {
          address,
          location: d?.source,
          detail: 'The server does not enforce unique names here, so the tool cannot tell which one this configuration manages. Delete or rename the extra ones (e.g. in the dashboard), then plan again.',
        }),
      );
      continue;
    }
    if (d && l) {
      const managed = !!s || !!d.builtin || !!l.builtin || req.imports?.has(address) || !!d.external;
      if (!managed) {
        diagnostics.push(
          error('plan.unmanaged-conflict', `${kind} already exists on the server but is not managed by this configuration`, {
            address,
            location: d.source,
            detail: `It was created outside this configuration (in the dashboard, by a script or by another team's config). To manage it from now on, run \`fluxbase import ${address}\` or add \`- ${address}\` to \`import:\` in the config; otherwise rename it here.`,
          }),
        );
        continue;
      }
      const change = changeFor(d, l, state, req.refreshOnly ?? false, renames.attributes.get(address));
      const rename = renames.renamed.get(address);
      if (rename) {
        change.renamedFrom = rename.from;
        if (rename.children.length > 0) change.renamedChildren = rename.children;
        // Renamed on the server by an interrupted apply: only the state has to catch up.
        if (change.action === 'no-op') change.importing = true;
        change.reason = `renamed from ${rename.from}`;
      }
      if (!s && !d.builtin && !l.builtin && !d.external) {
        change.importing = true;
        change.reason = 'imported';
      }
      changes.push(change);
    } else if (d) {
      if (d.builtin) {
        // Built-in objects of a tenant created by this plan come with the tenant.
        if (d.tenant && !live.tenants.has(d.tenant)) continue;
        diagnostics.push(error('plan.not-supported', `built-in ${kind} does not exist on the server`, { address, location: d.source }));
        continue;
      }
      const gone = req.refreshOnly ? 'deleted outside fluxbase' : 'deleted outside fluxbase; it will be created again';
      changes.push(createChange(d, writeOnlyChanges(d, state, true), s ? gone : undefined));
    } else if (l) {
      if (s) {
        if (l.builtin) {
          if (!req.destroy) diagnostics.push(warning('plan.not-supported', `built-in ${kind} is no longer declared; it is never deleted and is dropped from state`, { address }));
          continue;
        }
        if (forgotten.has(address) && !req.destroy) changes.push(forgetChange(l));
        else changes.push(deleteChange(l));
      } else if (!l.builtin && !l.hidden) {
        unmanaged.push({ address, kind: l.kind, id: l.id });
      }
    }
  }

  markCascades(changes, live);
  const resolution = req.resolution ?? { resumed: new Map(), unrevealed: new Set<string>() };
  const replacing = new Set([...(req.replace ?? []), ...resolution.unrevealed]);
  diagnostics.push(
    ...forceReplace({
      changes,
      addresses: replacing,
      reason: (a) => (resolution.unrevealed.has(a) ? 'created by an interrupted apply that never received its value' : 'replacement requested with --replace'),
      desired,
      live,
      state,
    }),
  );
  for (const [to, from] of req.moved ?? []) {
    const change = changes.find((c) => c.address === to);
    if (change) change.movedFrom = from;
  }
  const byAddress = new Map(changes.map((c) => [c.address, c]));
  const creating = new Set(changes.filter((c) => c.action === 'create').map((c) => c.address));
  const context = {
    creating,
    identities: req.identities ?? { user: true, serviceRole: true },
    capabilities: req.capabilities ?? {},
    lockTimeout: req.lockTimeout,
  };
  const handlerDiagnostics: Diagnostic[] = [];
  for (const change of changes) {
    if (change.action === 'no-op' || change.deletedWith) continue;
    finishChange(change, desired.get(change.address), live.resources.get(change.address), context, handlerDiagnostics);
  }
  diagnostics.push(...(req.refreshOnly ? handlerDiagnostics.filter((d) => d.severity !== 'error') : handlerDiagnostics));
  if (!req.refreshOnly) diagnostics.push(...referenceDiagnostics({ desired, live, changes }));
  gateResumed(changes, resolution);
  for (const change of changes) {
    if (exposesTable(change)) change.runsFirst = true;
  }
  for (const change of changes) {
    if (req.refreshOnly) break;
    if (change.action !== 'delete' && change.action !== 'replace') continue;
    const d = desired.get(change.address);
    const protectedByState = state.resources[change.address]?.preventDestroy ?? false;
    const isProtected = d ? d.preventDestroy : protectedByState || (req.preventDestroyDefault ?? false);
    if (isProtected && !change.deletedWith) {
      diagnostics.push(
        error('plan.prevent-destroy', `${change.action === 'delete' ? 'deletion' : 'replacement'} is prevented by lifecycle.prevent_destroy`, {
          address: change.address,
          location: d?.source,
          detail: 'Remove `prevent_destroy` (on the resource, or the config-level `lifecycle.prevent_destroy` default) if you really mean to destroy it.',
        }),
      );
    }
  }
  orderDependencies(changes, byAddress, desired, live);
  if (!req.refreshOnly) diagnostics.push(...referencedDrops(changes, byAddress, desired, live));
  let ordered = orderChanges(changes);
  if (req.targets && req.targets.length > 0) {
    const targeted = targetChanges({ changes: ordered, targets: req.targets, desired, live, state });
    ordered = targeted.changes;
    diagnostics.push(...targeted.diagnostics);
  }
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    ...(req.destroy ? { destroy: true as const } : {}),
    ...(req.targets && req.targets.length > 0 ? { targets: [...req.targets] } : {}),
    endpoint: req.endpoint,
    desiredFingerprint: fingerprintDesired(desired),
    liveFingerprint: fingerprint(ordered.map((c) => [c.address, c.liveFingerprint ?? null])),
    ...(req.refreshOnly ? { refreshOnly: true } : {}),
    changes: ordered,
    unmanaged: unmanaged.sort((a, b) => (a.address < b.address ? -1 : 1)),
    diagnostics,
    summary: summarize(ordered),
  };
}

function writeOnlyChanges(d: DesiredResource, state: StateDocument, creating: boolean, present?: Record<string, boolean>): AttributeChange[] {
  const out: AttributeChange[] = [];
  const entry = state.resources[d.address];
  for (const [attr, value] of Object.entries(d.writeOnly)) {
    const declared = value !== null && value !== undefined;
    if (creating) {
      if (declared) out.push({ path: [attr], after: { sensitive: true }, sensitive: true });
      continue;
    }
    const recorded = entry?.writeOnly?.[attr];
    const missingLive = declared && present?.[attr] === false;
    // Adopted by `export --adopt`: the live value is unknown, so it is not sent on its own
    // (see changeFor for when it is sent along).
    if (recorded === UNKNOWN_WRITE_ONLY && !missingLive) continue;
    const wanted = declared ? secretFingerprint(state.salt, `${d.address}#${attr}`, value) : null;
    if (missingLive || (recorded === undefined ? declared : recorded !== wanted)) {
      out.push({
        path: [attr],
        ...(recorded ? { before: { sensitive: true } } : {}),
        ...(declared ? { after: { sensitive: true } } : {}),
        sensitive: true,
      });
    }
  }
  return out;
}

/**
 * The change from live `l` to desired `d`. A declared write-only value recorded as
 * UNKNOWN_WRITE_ONLY is sent along when the resource is changed anyway (several APIs replace the
 * whole object, and apply then records its fingerprint), shown as a sensitive change; never in a
 * refresh-only plan, which sends nothing.
 */
function changeFor(d: DesiredResource, l: LiveResource, state: StateDocument, refreshOnly: boolean, renames: readonly AttributeChange[] = []): ResourceChange {
  const change = updateChange(d, l, writeOnlyChanges(d, state, false, l.writeOnlyPresent), state.resources[d.address]?.observed);
  if (renames.length > 0) {
    change.attributes = [...renames, ...change.attributes];
    if (change.action === 'no-op') change.action = 'update';
  }
  if (change.action === 'no-op' || refreshOnly) return change;
  const recorded = state.resources[d.address]?.writeOnly ?? {};
  for (const [attr, value] of Object.entries(d.writeOnly)) {
    if (recorded[attr] !== UNKNOWN_WRITE_ONLY || value === null || value === undefined) continue;
    if (change.attributes.some((a) => a.path.length === 1 && a.path[0] === attr)) continue;
    change.attributes.push({ path: [attr], before: { sensitive: true }, after: { sensitive: true }, sensitive: true });
  }
  return change;
}

/** The change of `l` that drops it from the state and leaves it live (`removed:`). */
function forgetChange(l: LiveResource): ResourceChange {
  return { ...deleteChange(l), action: 'no-op', forget: true, reason: 'removed from the configuration with `removed:`; left in place' };
}

/**
 * True for a change that turns on the RLS a table declares: the table is reachable without it
 * until the change runs (e.g. an interrupted apply created it and stopped), so apply runs it first.
 */
function exposesTable(change: ResourceChange): boolean {
  return change.kind === 'table' && change.attributes.some((a) => a.path.length === 1 && a.path[0] === 'rls_enabled' && a.before === false && a.after === true);
}

/** Marks deletes that happen implicitly with an ancestor's delete (a tenant's contents, a table's policies). */
function markCascades(changes: ResourceChange[], live: LiveState): void {
  const deleting = new Map(changes.filter((c) => c.action === 'delete').map((c) => [c.address, c]));
  for (const change of deleting.values()) {
    let parent = live.resources.get(change.address)?.parent;
    while (parent) {
      const ancestor = deleting.get(parent);
      const cascade = ancestor ? CASCADES[ancestor.kind] : undefined;
      if (ancestor && (cascade === 'all' || cascade?.has(change.kind))) {
        change.deletedWith = ancestor.address;
        change.reason = `deleted with ${ancestor.address}`;
      }
      parent = live.resources.get(parent)?.parent;
    }
  }
}

/**
 * Fills `dependsOn`: a create/update waits for the changes of the resources it depends on; a
 * delete waits for the deletes of resources inside it or referencing it.
 */
function orderDependencies(changes: ResourceChange[], byAddress: Map<string, ResourceChange>, desired: DesiredState, live: LiveState): void {
  for (const change of changes) {
    if (change.action === 'no-op') continue;
    if (change.action === 'delete') continue;
    const deps = desired.get(change.address)?.dependsOn ?? [];
    change.dependsOn = deps.filter((a) => {
      const c = byAddress.get(a);
      return c !== undefined && c.action !== 'no-op' && c.action !== 'delete';
    });
  }
  for (const change of changes) {
    if (change.action !== 'delete' || change.deletedWith) continue;
    const waits: string[] = [];
    for (const other of changes) {
      if (other === change || other.action !== 'delete' || other.deletedWith) continue;
      const l = live.resources.get(other.address);
      if (l?.parent === change.address || references(l, change.address)) waits.push(other.address);
    }
    change.dependsOn = waits.sort();
  }
}

/**
 * F11: the server drops tables without CASCADE (internal/api/ddl_handler.go:262), so a table that
 * another table's foreign key still references after this plan cannot be dropped: refused here,
 * before any call, rather than failing half-way. A referencing table that this plan drops too, or
 * whose foreign key this plan removes (updates run before deletes), is fine.
 */
function referencedDrops(changes: ResourceChange[], byAddress: Map<string, ResourceChange>, desired: DesiredState, live: LiveState): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const change of changes) {
    if (change.kind !== 'table' || change.action !== 'delete' || change.deletedWith) continue;
    const target = change.address.split('.').slice(2).join('.');
    const tenant = change.address.split('.')[1];
    const holders: string[] = [];
    for (const l of live.resources.values()) {
      if (l.kind !== 'table' || l.address === change.address || l.tenant !== tenant || !references(l, change.address)) continue;
      const other = byAddress.get(l.address);
      if (other?.action === 'delete' || other?.action === 'replace') continue;
      const d = desired.get(l.address);
      const stillReferences = d ? references({ ...l, attrs: d.attrs }, change.address) : true;
      if (stillReferences) holders.push(`${l.address}${d ? '' : ' (not managed by this configuration)'}`);
    }
    if (holders.length === 0) continue;
    out.push(
      error('plan.server-limit', `table ${target} cannot be dropped while other tables reference it`, {
        address: change.address,
        detail: `The server drops tables without CASCADE, so the drop would fail on the foreign key of ${holders.join(', ')}. Remove those \`references\` (or those tables) in the same plan, or keep ${target}.`,
      }),
    );
  }
  return out;
}

function references(l: LiveResource | undefined, tableAddress: string): boolean {
  if (!l || l.kind !== 'table') return false;
  const target = tableAddress.split('.').slice(2).join('.');
  const columns = (l.attrs.columns ?? {}) as Record<string, { references?: { table?: string } | null }>;
  return Object.values(columns).some((c) => c.references?.table === target) && l.address !== tableAddress;
}

/**
 * Creates/updates/replaces in dependency order, then deletes in reverse dependency order. Within
 * one dependency level: by kind, then address. O(V + E) plus a sort.
 */
function orderChanges(changes: ResourceChange[]): ResourceChange[] {
  const kindRank = (k: ResourceKind) => RESOURCE_KINDS.indexOf(k);
  const level = new Map<string, number>();
  const byAddress = new Map(changes.map((c) => [c.address, c]));
  const visiting = new Set<string>();
  const depth = (c: ResourceChange): number => {
    const known = level.get(c.address);
    if (known !== undefined) return known;
    if (visiting.has(c.address)) return 0; // a cycle cannot be ordered; keep going deterministically
    visiting.add(c.address);
    let d = 0;
    for (const dep of c.dependsOn) {
      const other = byAddress.get(dep);
      if (other) d = Math.max(d, depth(other) + 1);
    }
    visiting.delete(c.address);
    level.set(c.address, d);
    return d;
  };
  const sortKey = (list: ResourceChange[], sign: number) =>
    list.sort(
      (a, b) => depth(a) - depth(b) || sign * (kindRank(a.kind) - kindRank(b.kind)) || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0),
    );
  return [...sortKey(changes.filter((c) => c.action !== 'delete'), 1), ...sortKey(changes.filter((c) => c.action === 'delete'), -1)];
}

/** Fingerprint of the whole desired state, secrets included but not recoverable. */
export function fingerprintDesired(desired: DesiredState): string {
  const nonSecret: unknown[] = [];
  const secrets: string[] = [];
  for (const [address, r] of [...desired.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    nonSecret.push([address, r.attrs, r.preventDestroy, Object.keys(r.writeOnly).sort()]);
    for (const k of Object.keys(r.writeOnly).sort()) secrets.push(`${address}#${k}=${r.writeOnly[k] ?? ''}`);
  }
  return desiredFingerprint(nonSecret, secrets);
}

/**
 * A resumed change of an unchanged declaration (engine/pending.ts) is gated only on the hazard
 * types approved for it in the interrupted run's plan, so a retry with the same
 * `--allow-hazards` passes. Called when the plan is built and again after anything adds hazards
 * to it (the access delta, access/delta.ts).
 */
export function gateResumed(changes: ResourceChange[], resolution: Pick<Resolution, 'resumed'> | undefined): void {
  if (!resolution) return;
  for (const change of changes) {
    const resumed = resolution.resumed.get(change.address);
    if (resumed) change.hazards = change.hazards.filter((h) => resumed.hazards.includes(h.type));
  }
}

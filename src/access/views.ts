/**
 * The three sets of resources the access model is computed from: the configuration alone, the
 * live instance, and the live instance as a plan will leave it.
 */
import type { Plan } from '../model/plan.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import type { DesiredState } from '../engine/graph.js';
import type { LiveState } from '../engine/refresh.js';
import type { ResourceView } from './model.js';

function fromDesired(d: DesiredResource): ResourceView {
  return {
    address: d.address,
    kind: d.kind,
    ...(d.tenant ? { tenant: d.tenant } : {}),
    attrs: d.attrs,
    ...(d.meta ? { meta: d.meta } : {}),
    ...(d.external ? { external: true } : {}),
    ...(d.source ? { source: d.source } : {}),
    ...(d.kind === 'table' ? { predicted: true } : {}),
  };
}

function fromLive(l: LiveResource): ResourceView {
  return { address: l.address, kind: l.kind, ...(l.tenant ? { tenant: l.tenant } : {}), attrs: l.attrs, ...(l.meta ? { meta: l.meta } : {}) };
}

/** Declared attributes over live ones, one level deep (settings sections are merged, as apply does). */
function overlay(live: Record<string, unknown>, declared: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...live };
  for (const [k, v] of Object.entries(declared)) {
    const l = live[k];
    const objects = [v, l].every((x) => x !== null && typeof x === 'object' && !Array.isArray(x));
    out[k] = objects ? { ...(l as object), ...(v as object) } : v;
  }
  return out;
}

/**
 * The configuration alone: every declared resource, tables with the privileges the server gives
 * new tables plus the declared grants (model.ts creationGrants).
 */
export function desiredViews(desired: DesiredState): ResourceView[] {
  return [...desired.values()].map(fromDesired);
}

/** The live instance as refreshed. */
export function liveViews(live: LiveState): ResourceView[] {
  return [...live.resources.values()].map(fromLive);
}

/**
 * The live instance after the plan: deleted resources gone; created and replaced ones as
 * declared (tables with creation privileges); updated tables as live with their declared
 * attributes over it (declared grants replace a role's privileges); everything else as live.
 */
export function afterViews(plan: Pick<Plan, 'changes'>, desired: DesiredState, live: LiveState): ResourceView[] {
  const changes = new Map(plan.changes.map((c) => [c.address, c]));
  const out: ResourceView[] = [];
  const seen = new Set<string>();
  for (const l of live.resources.values()) {
    seen.add(l.address);
    const change = changes.get(l.address);
    const d = desired.get(l.address);
    if (!change || change.action === 'no-op' || !d) {
      if (change?.action !== 'delete') out.push(fromLive(l));
      continue;
    }
    if (change.action === 'delete') continue;
    if (change.action === 'replace' || l.kind !== 'table') {
      out.push(change.action === 'replace' ? fromDesired(d) : { ...fromLive(l), attrs: overlay(l.attrs, d.attrs) });
      continue;
    }
    const grants = { ...((l.attrs.grants as Record<string, string[]> | undefined) ?? {}), ...((d.attrs.grants as Record<string, string[]> | undefined) ?? {}) };
    out.push({ ...fromLive(l), attrs: { ...l.attrs, ...d.attrs, grants }, ...(d.source ? { source: d.source } : {}) });
  }
  for (const c of plan.changes) {
    if (seen.has(c.address) || c.action !== 'create') continue;
    const d = desired.get(c.address);
    if (d) out.push(fromDesired(d));
  }
  return out;
}

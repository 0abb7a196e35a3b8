/**
 * Building and finishing one resource's change — the part of stage 6 (plan.ts) that looks at a
 * single resource. `buildPlan` uses it for every address of a configuration; the Terraform
 * provider (src/terraform-provider) uses it for the one resource Terraform asks about, so both
 * decide actions, replacements, hazards, steps and SQL with the same code.
 *
 * Write-only attributes are decided by the caller (the engine from fingerprints in its state,
 * Terraform from a `*_wo_version` attribute) and passed in as ready-made attribute changes.
 */
import type { Diagnostic } from '../diag/index.js';
import type { AttributeChange, ResourceChange } from '../model/plan.js';
import { liveFingerprint } from '../model/canonical.js';
import type { DesiredResource, LiveResource, ResourceKind } from '../model/resource.js';
import { handlerFor } from '../resources/index.js';
import { diffAttributes } from './diff.js';

/** What finishing a change needs to know about the rest of the plan and the server. */
export interface FinishContext {
  /** Addresses created by the same plan (see PlanRequest.creating). */
  creating: ReadonlySet<string>;
  identities: { user: boolean; serviceRole: boolean };
  /** Probe results by kind (see ResourceHandler.probe). */
  capabilities: Partial<Record<ResourceKind, Record<string, boolean>>>;
  /** `migrations.lock_timeout` (see PlanRequest.lockTimeout). */
  lockTimeout?: string;
}

/** Masked after-values: write-only attributes declared with a value appear as `{ sensitive: true }`. */
export function afterOf(d: DesiredResource): Record<string, unknown> {
  const out: Record<string, unknown> = { ...d.attrs };
  for (const [k, v] of Object.entries(d.writeOnly)) if (v !== null && v !== undefined) out[k] = { sensitive: true };
  return out;
}

/**
 * The change that turns live resource `l` into desired `d`: the handler's comparison rules over
 * the declared attributes (`observed`: PostgreSQL renderings recorded after the last apply) plus
 * the caller's write-only changes. Action `no-op`, `update`, or `replace` when a changed attribute
 * has a `replace` rule. Not finished yet (see {@link finishChange}).
 */
export function updateChange(
  d: DesiredResource,
  l: LiveResource,
  writeOnly: readonly AttributeChange[],
  observed?: Record<string, { desired: string; live: string }>,
): ResourceChange {
  const handler = handlerFor(d.kind);
  const attributes = [...diffAttributes({ desired: d.attrs, live: l.attrs, rules: handler.rules, observed }), ...writeOnly];
  const replace = attributes.some((a) => a.forcesReplacement);
  return {
    address: d.address,
    kind: d.kind,
    action: attributes.length === 0 ? 'no-op' : replace ? 'replace' : 'update',
    before: l.attrs,
    after: afterOf(d),
    attributes,
    hazards: [],
    dependsOn: [],
    ...(l.id ? { id: l.id } : {}),
    liveFingerprint: liveFingerprint(l),
  };
}

/** The change that creates `d` (write-only values it declares are in `writeOnly`). */
export function createChange(d: DesiredResource, writeOnly: readonly AttributeChange[], reason?: string): ResourceChange {
  return {
    address: d.address,
    kind: d.kind,
    action: 'create',
    ...(reason ? { reason } : {}),
    before: null,
    after: afterOf(d),
    attributes: [...writeOnly],
    hazards: [],
    dependsOn: [],
  };
}

/** The change that deletes live resource `l`. */
export function deleteChange(l: LiveResource): ResourceChange {
  return {
    address: l.address,
    kind: l.kind,
    action: 'delete',
    before: l.attrs,
    after: null,
    attributes: [],
    hazards: [],
    dependsOn: [],
    ...(l.id ? { id: l.id } : {}),
    liveFingerprint: liveFingerprint(l),
  };
}

/**
 * Asks the handler for hazards, SQL and steps (ResourceHandler.plan); drops changes the server
 * cannot make (`drop`, possibly leaving a no-op) and turns updates that cannot be done in place
 * into replaces (`requiresReplace`, marking those attributes `forcesReplacement`). Diagnostics
 * are appended to `diagnostics` with the change's address. Modifies `change`.
 */
export function finishChange(
  change: ResourceChange,
  d: DesiredResource | undefined,
  l: LiveResource | undefined,
  context: FinishContext,
  diagnostics: Diagnostic[],
): void {
  const handler = handlerFor(change.kind);
  if (change.action === 'update' && !handler.update) change.action = 'replace';
  const request = () => ({
    change,
    desired: d,
    live: l,
    creating: context.creating,
    identities: context.identities,
    capabilities: context.capabilities[change.kind],
    lockTimeout: context.lockTimeout,
  });
  let result = handler.plan?.(request()) ?? {};
  if (result.drop && result.drop.length > 0) {
    const dropped = new Set(result.drop.map((p) => p.join('\u0000')));
    change.attributes = change.attributes.filter((a) => !dropped.has(a.path.join('\u0000')));
    if (change.attributes.length === 0 && change.action === 'update') change.action = 'no-op';
    for (const diag of result.diagnostics ?? []) diagnostics.push({ ...diag, address: diag.address ?? change.address });
    if (change.action === 'no-op') return;
    result = handler.plan?.(request()) ?? {};
  }
  if (result.requiresReplace && result.requiresReplace.length > 0 && change.action === 'update') {
    change.action = 'replace';
    const keys = new Set(result.requiresReplace.map((p) => p.join('\u0000')));
    for (const a of change.attributes) if (keys.has(a.path.join('\u0000'))) a.forcesReplacement = true;
    for (const diag of result.diagnostics ?? []) diagnostics.push({ ...diag, address: diag.address ?? change.address });
    result = handler.plan?.(request()) ?? {};
  }
  change.hazards = result.hazards ?? [];
  if (result.sql) change.sql = result.sql;
  if (result.steps) change.steps = result.steps;
  for (const diag of result.diagnostics ?? []) diagnostics.push({ ...diag, address: diag.address ?? change.address });
}

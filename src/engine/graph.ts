/**
 * Stage 3 — graph: the desired resources a valid config declares, keyed by address, with their
 * dependencies (tenant → schema → table → policies; a table after the tables it references;
 * a webhook after the tables it watches).
 */
import type { DesiredResource } from '../model/resource.js';
import { allHandlers } from '../resources/index.js';
import type { ValidConfig } from './validate.js';

/** Desired resources by address, in declaration order within each kind. */
export type DesiredState = Map<string, DesiredResource>;

/** Builds the desired state of a validated config. */
export function buildDesired(valid: ValidConfig): DesiredState {
  const preventDestroyDefault = valid.config.lifecycle?.prevent_destroy ?? false;
  const out: DesiredState = new Map();
  for (const handler of allHandlers()) {
    for (const r of handler.desired({ config: valid.config, sources: valid.sources, preventDestroyDefault })) {
      r.dependsOn = r.dependsOn.filter((d) => d !== r.address);
      out.set(r.address, r);
    }
  }
  // Keep only dependencies on declared resources (a reference to auth.users is not one).
  for (const r of out.values()) r.dependsOn = r.dependsOn.filter((d) => out.has(d));
  return out;
}

/** Slugs of the tenants a desired state declares. */
export function desiredTenants(desired: DesiredState): Set<string> {
  const slugs = new Set<string>();
  for (const r of desired.values()) {
    if (r.kind === 'tenant') slugs.add(r.path[1]!);
    else if (r.tenant) slugs.add(r.tenant);
  }
  return slugs;
}

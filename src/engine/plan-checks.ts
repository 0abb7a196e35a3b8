/**
 * Checks across resources, made on the plan before any call (docs/hazards.md "Checked before
 * any call"): every reference a declared resource makes — a foreign key's table and column, a
 * webhook's tables, a policy's columns on an external table — must point at something that exists
 * once the plan is applied (declared, or live and not deleted by this plan). A plan that fails
 * these is refused whole rather than failing half-way through. (A table the plan drops while a
 * foreign key that stays references it is refused in plan.ts, referencedDrops.)
 */
import type { Diagnostic } from '../diag/index.js';
import type { ResourceChange } from '../model/plan.js';
import { handlerFor } from '../resources/index.js';
import type { DesiredState } from './graph.js';
import type { LiveState } from './refresh.js';

/** See module doc. `live` is the live state as planning sees it (renames applied). */
export function referenceDiagnostics(req: { desired: DesiredState; live: LiveState; changes: readonly ResourceChange[] }): Diagnostic[] {
  const deleting = new Set(req.changes.filter((c) => c.action === 'delete').map((c) => c.address));
  const after = (address: string) => {
    const declared = req.desired.get(address);
    const live = deleting.has(address) ? undefined : req.live.resources.get(address);
    return declared || live ? { declared, live } : undefined;
  };
  const out: Diagnostic[] = [];
  for (const d of req.desired.values()) {
    const handler = handlerFor(d.kind);
    if (handler.references) out.push(...handler.references({ desired: d, after }).map((x) => ({ ...x, address: x.address ?? d.address })));
  }
  return out;
}

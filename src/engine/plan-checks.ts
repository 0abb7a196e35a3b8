/**
 * Checks across resources, made on the plan before any call (docs/hazards.md "Checked before
 * any call"): every reference a declared resource makes — a foreign key's table and column, a
 * webhook's tables, a policy's columns on an external table — must point at something that exists
 * once the plan is applied (declared, or live and not deleted by this plan); and a table the plan
 * drops must not be referenced by a foreign key that stays (the server's DROP TABLE has no
 * CASCADE, shared/fluxbase-api real-server-behaviour F11). A plan that fails these is refused
 * whole rather than failing half-way through.
 */
import { error, type Diagnostic } from '../diag/index.js';
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
  for (const address of deleting) {
    const target = req.live.resources.get(address);
    if (target?.kind !== 'table') continue;
    const name = address.split('.').slice(2).join('.');
    for (const other of req.live.resources.values()) {
      if (other.kind !== 'table' || other.tenant !== target.tenant || other.address === address || deleting.has(other.address)) continue;
      const stays = req.desired.get(other.address);
      const columns = ((stays && !stays.external ? stays : other).attrs.columns ?? {}) as Record<string, { references?: { table?: string } | null }>;
      const referrer = Object.entries(columns).find(([, c]) => c.references?.table === name);
      if (!referrer) continue;
      out.push(
        error('plan.reference', `the plan drops table ${name}, but ${other.address.split('.').slice(2).join('.')}.${referrer[0]} references it and stays`, {
          address,
          location: stays?.source,
          detail: 'The server drops tables without CASCADE, so the drop would fail after the changes before it. Remove the foreign key (or drop the referencing table) in the same plan, or keep the table.',
        }),
      );
    }
  }
  return out;
}

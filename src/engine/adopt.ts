/**
 * Adopting live resources into the state: what `fluxbase import ADDRESS…` and `fluxbase export
 * --adopt` share. An adopted resource is managed from then on (diffed, changed, and deleted when
 * removed from the configuration). Write-only values cannot be read back, so adoption records
 * nothing for them (`import`: the next plan sends the declared value) or records them as
 * {@link UNKNOWN_WRITE_ONLY} (`export --adopt`: the live value is left alone; docs/state.md).
 */
import { error, type Diagnostic } from '../diag/index.js';
import { setEntry, UNKNOWN_WRITE_ONLY, type StateDocument } from '../state/document.js';
import type { DesiredState } from './graph.js';
import type { LiveState } from './refresh.js';

/**
 * Why each address cannot be adopted: not declared, not live, several live objects with its
 * name, or already managed. Empty when all can be.
 */
export function adoptionProblems(req: { addresses: readonly string[]; desired: DesiredState; live: LiveState; state: StateDocument }): Diagnostic[] {
  const problems: Diagnostic[] = [];
  for (const address of req.addresses) {
    const d = req.desired.get(address);
    const l = req.live.resources.get(address);
    if (!d) {
      problems.push(error('config.reference', 'cannot import a resource the configuration does not declare', { address, detail: 'Declare it in the configuration first, then import it.' }));
    } else if (!l) {
      problems.push(error('plan.not-supported', 'cannot import: no such resource exists on the server', { address }));
    } else if (l.ambiguous) {
      problems.push(error('api.ambiguous', `cannot import: ${l.ambiguous.length} live resources have this name (ids ${l.ambiguous.join(', ')})`, { address }));
    } else if (req.state.resources[address]) {
      problems.push(error('plan.not-supported', 'already managed by this configuration', { address }));
    }
  }
  return problems;
}

/**
 * Records each address as managed, with its live id. `writeOnly: 'unknown'` also records every
 * write-only value the configuration declares for it as {@link UNKNOWN_WRITE_ONLY}. Call after
 * {@link adoptionProblems}.
 */
export function recordAdopted(req: {
  addresses: readonly string[];
  desired: DesiredState;
  live: LiveState;
  state: StateDocument;
  writeOnly?: 'unknown';
}): void {
  for (const address of req.addresses) {
    const l = req.live.resources.get(address)!;
    const d = req.desired.get(address);
    const unknown = req.writeOnly === 'unknown' ? Object.entries(d?.writeOnly ?? {}).filter(([, v]) => v !== null && v !== undefined).map(([k]) => k) : [];
    setEntry(req.state, address, {
      kind: l.kind,
      ...(l.id ? { id: l.id } : {}),
      ...(unknown.length > 0 ? { writeOnly: Object.fromEntries(unknown.sort().map((k) => [k, UNKNOWN_WRITE_ONLY])) } : {}),
    });
  }
}

/**
 * Resolving pending operations (docs/state.md, "Pending operations") — the first thing every plan
 * does after refreshing, before planning anything. Apply records the approved plan's changes in
 * the state before its first API call, marks each started before its first call and removes it
 * with the write that records its result, so a record still there means a run stopped
 * (interrupted, killed, or a call whose outcome it never learned).
 *
 * Every record whose resource is still declared as it was then tells the plan which hazards the
 * user approved for it: the resumed change is gated on those only (a policy created with its new
 * table needed no AUTHZ_CHANGE; once the table exists it would). A record that was started is
 * also settled against live state:
 *
 * | pending | live object at the address | resolution |
 * | --- | --- | --- |
 * | create | exists | adopted as managed (it is what the run was creating) |
 * | create | absent | dropped: the plan creates it |
 * | replace | a new object (other id) | adopted as managed, with the new id |
 * | replace | the old object | kept as managed: the plan replaces it if it still needs to |
 * | replace | absent | dropped from the state: the plan creates it |
 * | update | — | dropped: the plan compares live with the configuration |
 * | delete | absent | done: dropped from the state |
 * | delete | exists | kept as managed: the plan deletes it if it is still undeclared |
 *
 * A key adopted this way whose value never reached the user (no `revealed` mark) is replaced by the
 * plan, so that its new value is shown. Resolution makes no API call and only changes the state
 * document given; `plan` discards the result, apply persists it under the lock. {@link pruneGone}
 * then drops managed entries that are neither declared nor live any more.
 */
import { hasErrors } from '../diag/index.js';
import { fingerprint } from '../model/canonical.js';
import { parseAddress } from '../model/address.js';
import type { HazardType } from '../model/plan.js';
import { handlerFor } from '../resources/index.js';
import { dropPending, removeEntry, setEntry, type PendingOperation, type StateDocument } from '../state/document.js';
import type { DesiredState } from './graph.js';
import type { LiveState } from './refresh.js';

/** Kinds whose value the server shows only once, in the create response. */
export const REVEALING_KINDS: ReadonlySet<string> = new Set(['client_key', 'service_key']);

/** What resolving the pending operations found. */
export interface Resolution {
  /** One line per resolved operation or dropped entry (and one for those never started), for the user. */
  notes: { address?: string; message: string }[];
  /**
   * Operations of the interrupted run, by address, whose resource the configuration still
   * declares as it did then: the plan limits the resumed change's hazards to those the original
   * change carried (a resumed apply never asks for a hazard the original plan did not have).
   */
  resumed: Map<string, { hazards: readonly HazardType[] }>;
  /** Keys the interrupted run created whose value never reached the user: the plan replaces them. */
  unrevealed: Set<string>;
  /** True when the state document was changed. */
  changed: boolean;
}

/** Fingerprint of the declared attributes a pending operation records. */
export function desiredAttrsFingerprint(attrs: Record<string, unknown>): string {
  return fingerprint(attrs);
}

/**
 * Resolves `state.pending` against `live` (see module doc), changing `state` in place. Does
 * nothing when the refresh reported errors: what is live is then not known.
 */
export function resolvePending(req: { state: StateDocument; live: LiveState; desired: DesiredState }): Resolution {
  const { state, live, desired } = req;
  const out: Resolution = { notes: [], resumed: new Map(), unrevealed: new Set(), changed: false };
  if (hasErrors(live.diagnostics)) return out;
  const note = (address: string | undefined, message: string) => out.notes.push({ ...(address ? { address } : {}), message });
  let notStarted = 0;
  for (const op of state.pending ?? []) {
    const d = desired.get(op.address);
    if (d && op.desired && desiredAttrsFingerprint(d.attrs) === op.desired) out.resumed.set(op.address, { hazards: op.hazards ?? [] });
    if (!op.started) {
      notStarted++;
      continue;
    }
    const l = exists(op.address, live) ? live.resources.get(op.address) : undefined;
    if (l?.ambiguous) continue; // the plan reports it; nothing can be resolved by guessing
    const progress = op.steps ? ` after ${op.steps.done} of ${op.steps.of} step(s)` : '';
    const adopt = (message: string) => {
      setEntry(state, op.address, {
        ...state.resources[op.address],
        kind: op.kind,
        ...(l?.id ? { id: l.id } : {}),
        ...(op.writeOnly ? { writeOnly: op.writeOnly } : {}),
        ...(op.preventDestroy ? { preventDestroy: true } : {}),
      });
      if (REVEALING_KINDS.has(op.kind) && !op.revealed) {
        out.unrevealed.add(op.address);
        message += '; its value never reached you, so it is replaced and the new value shown';
      }
      note(op.address, message);
    };
    if (op.action === 'create') {
      if (l) adopt(`the interrupted ${op.action}${progress} had made it: now managed`);
      else note(op.address, `the interrupted ${op.action}${progress} did not happen: planned again`);
    } else if (op.action === 'replace') {
      if (l && op.id && l.id && l.id !== op.id) adopt(`the interrupted replace${progress} had created the new object: now managed`);
      else if (l) note(op.address, `the interrupted replace${progress} may not have finished: the plan compares it with the configuration`);
      else {
        removeEntry(state, op.address);
        note(op.address, `the interrupted replace${progress} deleted it before creating it again: planned again`);
      }
    } else if (op.action === 'update') {
      note(op.address, `the interrupted update${progress} may or may not have happened: the plan compares it with the configuration`);
    } else if (l) {
      note(op.address, 'the interrupted delete did not happen: it is still managed');
    } else {
      removeEntry(state, op.address);
      note(op.address, 'the interrupted delete had happened: removed from the state');
    }
  }
  if (notStarted > 0) {
    note(undefined, `${notStarted} change(s) the interrupted apply had not started are planned again, gated on the hazards approved for them then`);
  }
  if (state.pending) {
    dropPending(state);
    out.changed = true;
  }
  return out;
}

/**
 * Drops managed entries that are neither declared nor live any more (deleted outside the tool, or
 * by a run that never recorded it), when refresh read their scope; returns a note per entry.
 * Call after `moved:` entries are applied (a moved entry's old address is neither).
 */
export function pruneGone(req: { state: StateDocument; live: LiveState; desired: DesiredState }): { address: string; message: string }[] {
  const { state, live, desired } = req;
  if (hasErrors(live.diagnostics)) return [];
  const notes: { address: string; message: string }[] = [];
  for (const [address, entry] of Object.entries(state.resources)) {
    if (desired.has(address) || exists(address, live) || !scanned(address, entry.kind, live)) continue;
    removeEntry(state, address);
    notes.push({ address, message: 'no longer exists and is no longer declared: removed from the state' });
  }
  return notes;
}

/** True when the address is live (a resource of a tenant that is gone is gone). */
function exists(address: string, live: LiveState): boolean {
  return live.resources.has(address);
}

/** True when refresh read the scope the address lives in, so its absence means it is gone. */
function scanned(address: string, kind: PendingOperation['kind'], live: LiveState): boolean {
  let scope: 'instance' | 'tenant';
  try {
    scope = handlerFor(kind).scope;
  } catch {
    return false;
  }
  if (scope === 'instance' || kind === 'tenant') return true;
  const slug = parseAddress(address)?.segments[0];
  return slug !== undefined && (live.scanned.has(slug) || !live.tenants.has(slug));
}

/**
 * Checks that a saved plan can still be applied exactly as reviewed: the configuration (write-only
 * values included, by fingerprint) is the one it was computed from, the state has not moved on,
 * and every resource it touches is as it was (per-resource live fingerprints, Terraform's stale
 * plan rule made per resource so unrelated edits do not block). Nothing is applied when any
 * check fails.
 */
import { error, warning, type Diagnostic } from '../diag/index.js';
import { emptyState, type StateDocument } from '../state/document.js';
import { planRenames } from './rename.js';
import { liveFingerprint } from '../model/canonical.js';
import type { DesiredState } from './graph.js';
import { fingerprintDesired } from './plan.js';
import type { PlanDocument } from './plan-document.js';
import type { LiveState } from './refresh.js';

/** Every reason the saved plan cannot be applied now (errors), plus warnings. */
export function checkSavedPlan(req: {
  doc: PlanDocument;
  file: string;
  desired: DesiredState;
  state: StateDocument | undefined;
  live: LiveState;
  endpoint: string;
}): Diagnostic[] {
  const { doc, file } = req;
  const out: Diagnostic[] = [];
  if (fingerprintDesired(req.desired) !== doc.desiredFingerprint) {
    out.push(
      error('plan.config-changed', `the configuration changed since ${file} was planned`, {
        detail: 'A saved plan only applies with the configuration (and write-only values such as secrets) it was computed from. Run `fluxbase plan --out` again and review the new plan.',
      }),
    );
  }
  const current = req.state && req.state.serial > 0 ? { lineage: req.state.lineage, serial: req.state.serial } : null;
  const planned = doc.state;
  if (planned && current && planned.lineage !== current.lineage) {
    out.push(error('plan.stale', `${file} was planned against a different state (lineage ${planned.lineage})`, { detail: 'Plan again with this state.' }));
  } else if ((planned?.serial ?? 0) !== (current?.serial ?? 0)) {
    out.push(
      error('plan.stale', `the state changed since ${file} was planned (serial ${planned?.serial ?? 0} → ${current?.serial ?? 0})`, {
        detail: 'Another apply ran in between. Run `fluxbase plan --out` again and review the new plan.',
      }),
    );
  }
  if (doc.endpoint !== req.endpoint) {
    out.push(warning('plan.stale', `${file} was planned against ${doc.endpoint}; applying to ${req.endpoint}`));
  }
  // Renamed resources (and what is inside them) are still live under their old addresses.
  const view = planRenames({ desired: req.desired, live: req.live, state: req.state ?? emptyState() }).live.resources;
  for (const change of doc.changes) {
    if (change.action === 'no-op') continue;
    const live = view.get(change.address);
    const now = live && liveFingerprint(live);
    if (change.action === 'create' ? live !== undefined : now !== change.liveFingerprint) {
      out.push(
        error('plan.stale', `${change.kind} changed on the server since the plan was made`, {
          address: change.address,
          detail: change.action === 'create' ? 'It now exists; the plan would create it.' : live ? 'Its live attributes differ from those the plan was computed from.' : 'It no longer exists.',
        }),
      );
    }
  }
  return out;
}

/**
 * The plan as a document: what `plan --json` prints and `plan --out FILE` saves, and what
 * `apply FILE` reads back (schemas/output/plan.schema.json, docs/plan-format.md). It is the plan
 * object plus the state it was computed against (lineage and serial, for stale-plan checks), a
 * hazard summary, and the API calls made. It never holds a plaintext secret.
 */
import { HAZARD_TYPES, PLAN_FORMAT_VERSION, type HazardType, type Plan } from '../model/plan.js';
import { canonicalJson } from '../model/canonical.js';
import type { StateDocument } from '../state/document.js';
import type { Reconciled } from './session.js';
import { VERSION } from '../version.js';

/** API calls made by one command, by `METHOD route`. */
export interface ApiCalls {
  total: number;
  retries: number;
  byRoute: Record<string, number>;
}

/** The saved / printed plan document. */
export interface PlanDocument extends Plan {
  format: 'fluxbase-iac-plan';
  tool: { name: 'fluxbase-iac'; version: string };
  /** The state the plan was computed against; apply refuses if it moved on. */
  state: { lineage: string; serial: number } | null;
  /** Hazard types present, with the addresses that carry them. */
  hazards: { type: HazardType; addresses: string[] }[];
  /** What the plan resolved in the state first: pending operations of an interrupted apply, moves. */
  resolved?: { address?: string; message: string }[];
  apiCalls?: ApiCalls;
}

/** Builds the document. `apiCalls` is left out of saved plans so they are byte-identical for equal input. */
export function planDocument(plan: Plan, state: StateDocument | undefined, apiCalls?: ApiCalls, reconciled?: Reconciled): PlanDocument {
  const resolved = [
    ...(reconciled?.resolution.notes ?? []),
    ...[...(reconciled?.moved ?? [])].map(([to, from]) => ({ address: to, message: `moved from ${from} (moved:)` })),
  ];
  const hazards = HAZARD_TYPES.map((type) => ({
    type,
    addresses: plan.changes.filter((c) => c.hazards.some((h) => h.type === type)).map((c) => c.address),
  })).filter((h) => h.addresses.length > 0);
  return {
    format: 'fluxbase-iac-plan',
    formatVersion: PLAN_FORMAT_VERSION,
    tool: { name: 'fluxbase-iac', version: VERSION },
    state: state && state.serial > 0 ? { lineage: state.lineage, serial: state.serial } : null,
    ...(plan.destroy ? { destroy: true as const } : {}),
    ...(plan.targets ? { targets: plan.targets } : {}),
    endpoint: plan.endpoint,
    desiredFingerprint: plan.desiredFingerprint,
    liveFingerprint: plan.liveFingerprint,
    ...(plan.refreshOnly ? { refreshOnly: true } : {}),
    summary: plan.summary,
    hazards,
    changes: plan.changes,
    unmanaged: plan.unmanaged,
    diagnostics: plan.diagnostics,
    ...(resolved.length > 0 ? { resolved } : {}),
    ...(plan.access ? { access: plan.access } : {}),
    ...(apiCalls ? { apiCalls } : {}),
  };
}

/** Serialises deterministically (sorted keys, 2-space indent, trailing newline). */
export function serialisePlan(doc: PlanDocument): string {
  return `${canonicalJson(doc, 2)}\n`;
}

/**
 * Parses a saved plan, or returns the reason it cannot be used. Drift reports (refresh-only) are
 * refused unless `allowRefreshOnly` (for rendering them with `fluxbase show`).
 */
export function parsePlanDocument(text: string, options: { allowRefreshOnly?: boolean } = {}): { doc?: PlanDocument; problem?: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { problem: `not JSON: ${(e as Error).message}` };
  }
  const d = doc as Partial<PlanDocument>;
  if (d?.format !== 'fluxbase-iac-plan') return { problem: 'not a fluxbase-iac plan (missing "format": "fluxbase-iac-plan")' };
  if (d.formatVersion !== PLAN_FORMAT_VERSION) return { problem: `plan format version ${String(d.formatVersion)} is not supported by this version (${PLAN_FORMAT_VERSION})` };
  if (d.refreshOnly && !options.allowRefreshOnly) return { problem: 'this is a refresh-only (drift) report, which cannot be applied' };
  if (!Array.isArray(d.changes) || typeof d.desiredFingerprint !== 'string') return { problem: 'the plan is incomplete (changes or desiredFingerprint missing)' };
  return { doc: d as PlanDocument };
}

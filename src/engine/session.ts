/**
 * The stages wired together for the CLI and the library API: load + validate a config, refresh
 * and plan against a server, apply. Each function reports problems as diagnostics.
 */
import type { FluxbaseClient } from '../client/http.js';
import { hasErrors, type Diagnostic } from '../diag/index.js';
import { applyMoves } from './lifecycle.js';
import { pruneGone, resolvePending, type Resolution } from './pending.js';
import type { Plan } from '../model/plan.js';
import { emptyState, type StateDocument } from '../state/document.js';
import { buildDesired, type DesiredState } from './graph.js';
import { loadConfigFile, type LoadOptions } from './load.js';
import { buildPlan } from './plan.js';
import { refresh, type LiveState } from './refresh.js';
import { validateDocument, type ValidConfig } from './validate.js';
import type { ResourceKind } from '../model/resource.js';
import { handlerFor } from '../resources/index.js';

/** Loads and validates a config file (no API call). `valid` is set only when there are no errors. */
export async function loadConfig(file: string, options: LoadOptions = {}): Promise<{ valid?: ValidConfig; diagnostics: Diagnostic[] }> {
  const doc = await loadConfigFile(file, options);
  const { config, diagnostics } = await validateDocument(doc);
  return hasErrors(diagnostics) ? { diagnostics } : { valid: config!, diagnostics };
}

/** Everything a plan was computed from, kept for apply. */
export interface PlanResult {
  plan: Plan;
  desired: DesiredState;
  live: LiveState;
  /**
   * The state the plan was computed against: the document read, with its pending operations
   * resolved and `moved:` entries applied (apply persists it before the first change).
   */
  state: StateDocument;
  /** What resolving pending operations and applying moves changed in `state` (lines for the user). */
  reconciled: Reconciled;
}

/** What {@link reconcileState} changed in the state document. */
export interface Reconciled {
  resolution: Resolution;
  moved: Map<string, string>;
  diagnostics: Diagnostic[];
  /** True when the state document differs from the one read. */
  changed: boolean;
}

/** Options of a plan beyond the configuration (the CLI's flags). */
export interface PlanOptions {
  imports?: ReadonlySet<string>;
  refreshOnly?: boolean;
  /** `fluxbase destroy` / `plan --destroy`. */
  destroy?: boolean;
  targets?: readonly string[];
  replace?: readonly string[];
}

/**
 * Brings a state document up to date with what is live before anything is planned: resolves the
 * pending operations an interrupted run left (engine/pending.ts), applies the configuration's
 * `moved:` entries, and drops entries that are neither declared nor live. Changes `state` in
 * place; makes no API call.
 */
export function reconcileState(req: { state: StateDocument; live: LiveState; desired: DesiredState; valid: ValidConfig }): Reconciled {
  const before = JSON.stringify(req.state);
  const resolution = resolvePending({ state: req.state, live: req.live, desired: req.desired });
  const moves = hasErrors(req.live.diagnostics) ? { moved: new Map<string, string>(), diagnostics: [] } : applyMoves({ state: req.state, moves: req.valid.config.moved ?? [], desired: req.desired, live: req.live });
  resolution.notes.push(...pruneGone({ state: req.state, live: req.live, desired: req.desired }));
  return { resolution, moved: moves.moved, diagnostics: moves.diagnostics, changed: JSON.stringify(req.state) !== before };
}

/** Refreshes the live state and plans the changes from it to the desired state. */
export async function planConfig(req: { client: FluxbaseClient; valid: ValidConfig; state: StateDocument | undefined } & PlanOptions): Promise<PlanResult> {
  const desired = buildDesired(req.valid);
  const state = req.state ?? emptyState();
  const live = await refresh({ client: req.client, desired, state });
  const reconciled = reconcileState({ state, live, desired, valid: req.valid });
  const build = (capabilities?: Partial<Record<ResourceKind, Record<string, boolean>>>) => {
    const plan = buildPlan({
      endpoint: req.client.url,
      desired,
      live,
      state,
      imports: req.imports,
      refreshOnly: req.refreshOnly,
      identities: req.client.identities(),
      capabilities,
      preventDestroyDefault: req.valid.config.lifecycle?.prevent_destroy ?? false,
      destroy: req.destroy,
      targets: req.targets,
      replace: req.replace,
      removed: req.valid.config.removed,
      moved: reconciled.moved,
      resolution: reconciled.resolution,
    });
    plan.diagnostics.push(...reconciled.diagnostics);
    return plan;
  };
  let plan = build();
  // Some updates depend on what this server can do (e.g. a working PUT /service-keys/{id}): ask
  // once per kind, only when such an update is planned, and plan again with the answer.
  // A refresh-only plan makes no call beyond reading: it is never applied.
  const probing = req.refreshOnly ? [] : [...new Set(plan.changes.filter((c) => c.action === 'update' && handlerFor(c.kind).probe).map((c) => c.kind))];
  if (probing.length > 0) {
    const capabilities: Partial<Record<ResourceKind, Record<string, boolean>>> = {};
    for (const kind of probing) capabilities[kind] = await handlerFor(kind).probe!({ client: req.client });
    plan = build(capabilities);
  }
  return { plan, desired, live, state, reconciled };
}

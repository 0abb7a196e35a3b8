/**
 * The stages wired together for the CLI and the library API: load + validate a config, refresh
 * and plan against a server, apply. Each function reports problems as diagnostics.
 */
import { IdentityError, type FluxbaseClient } from '../client/http.js';
import { apiDiagnostic } from '../client/errors.js';
import { hasErrors, type Diagnostic } from '../diag/index.js';
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
  state: StateDocument;
}

/** Refreshes the live state and plans the changes from it to the desired state. */
export async function planConfig(req: {
  client: FluxbaseClient;
  valid: ValidConfig;
  state: StateDocument | undefined;
  imports?: ReadonlySet<string>;
  refreshOnly?: boolean;
}): Promise<PlanResult> {
  const desired = buildDesired(req.valid);
  const state = req.state ?? emptyState();
  const live = await refresh({ client: req.client, desired, state });
  const build = (capabilities?: Partial<Record<ResourceKind, Record<string, boolean>>>) =>
    buildPlan({
      endpoint: req.client.url,
      desired,
      live,
      state,
      imports: req.imports,
      refreshOnly: req.refreshOnly,
      identities: req.client.identities(),
      capabilities,
      preventDestroyDefault: req.valid.config.lifecycle?.prevent_destroy ?? false,
    });
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
  if (!req.refreshOnly && !hasErrors(plan.diagnostics)) plan.diagnostics.push(...(await verifyIdentities(req.client, plan)));
  return { plan, desired, live, state };
}

/**
 * Logs in now when apply will need a login (handlers' `writesAs`), so a refused password fails
 * the plan instead of an apply half-way. One diagnostic, on the first change that needs it.
 */
async function verifyIdentities(client: FluxbaseClient, plan: Plan): Promise<Diagnostic[]> {
  const needing = plan.changes.find((c) => c.action !== 'no-op' && c.action !== 'delete' && handlerFor(c.kind).writesAs === 'user');
  if (!needing) return [];
  try {
    await client.verifyIdentity('user');
    return [];
  } catch (e) {
    if (e instanceof IdentityError) return []; // already reported by the handler's plan()
    const d = apiDiagnostic(e, { address: needing.address });
    return [{ ...d, summary: `the dashboard login that apply needs failed: ${d.summary}`, detail: 'Check FLUXBASE_ADMIN_EMAIL and FLUXBASE_ADMIN_PASSWORD (custom-setting writes need a dashboard admin login).' }];
  }
}

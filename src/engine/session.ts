/**
 * The stages wired together for the CLI and the library API: load + validate a config, refresh
 * and plan against a server, apply. Each function reports problems as diagnostics.
 */
import type { FluxbaseClient } from '../client/http.js';
import { hasErrors, type Diagnostic } from '../diag/index.js';
import type { Plan, ResourceChange } from '../model/plan.js';
import { apiDiagnostic } from '../client/errors.js';
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
      lockTimeout: req.valid.config.migrations?.lock_timeout,
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
  if (!req.refreshOnly) await preflight(req.client, plan, desired, live);
  return { plan, desired, live, state };
}

/**
 * Runs each handler's preflight (ResourceHandler.preflight) for the tenants where the plan
 * creates, updates or replaces resources of its kind, and adds what they find to the plan's
 * diagnostics (an error refuses the plan before any change). A failed read is reported too.
 */
async function preflight(client: FluxbaseClient, plan: Plan, desired: DesiredState, live: LiveState): Promise<void> {
  const jobs: Promise<Diagnostic[]>[] = [];
  const groups = new Map<string, ResourceChange[]>();
  for (const change of plan.changes) {
    const d = desired.get(change.address);
    if (!d?.tenant || !handlerFor(change.kind).preflight || !['create', 'update', 'replace'].includes(change.action)) continue;
    const key = `${change.kind}\u0000${d.tenant}`;
    groups.set(key, [...(groups.get(key) ?? []), change]);
  }
  for (const [key, changes] of groups) {
    const [kind, slug] = key.split('\u0000') as [ResourceKind, string];
    // A tenant this plan creates gets its database from the server's bootstrap, like the default tenant's.
    const tenant = live.tenants.get(slug) ?? [...live.tenants.values()].find((t) => t.isDefault);
    if (!tenant) continue;
    jobs.push(handlerFor(kind).preflight!({ client, tenant, changes, desired }).catch((e: unknown) => [apiDiagnostic(e, { address: `tenant.${slug}` })]));
  }
  for (const found of await Promise.all(jobs)) plan.diagnostics.push(...found);
}

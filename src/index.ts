/**
 * The library API of fluxbase-iac: load a configuration, plan it against a Fluxbase server,
 * render the plan, apply it. The CLI (src/cli.ts) is a thin layer over these.
 *
 *     const { valid, diagnostics } = await loadConfig('fluxbase.config.yaml');
 *     const client = new FluxbaseClient({ url, credentials: { token } });
 *     const state = await new LocalStateBackend('fluxbase.state.json').read();
 *     const { plan, desired, live } = await planConfig({ client, valid: valid!, state });
 *     console.log(renderPlan(plan));
 */
export { loadConfig, planConfig, reconcileState, type PlanOptions, type PlanResult, type Reconciled } from './engine/session.js';
export { loadConfigFile, loadConfigText, type LoadedDocument, type LoadOptions } from './engine/load.js';
export { validateDocument, type ValidConfig } from './engine/validate.js';
export { buildDesired, type DesiredState } from './engine/graph.js';
export { refresh, type LiveState } from './engine/refresh.js';
export { buildPlan, fingerprintDesired } from './engine/plan.js';
export { applyPlan, gateHazards, type ApplyEvent, type ApplyReport } from './engine/apply.js';
export { renderPlan } from './engine/render.js';
export { renderMarkdown } from './engine/render-markdown.js';
export { planDocument, parsePlanDocument, serialisePlan, type PlanDocument } from './engine/plan-document.js';
export { checkSavedPlan } from './engine/saved-plan.js';
export { FluxbaseClient, IdentityError, type ClientOptions, type Credentials } from './client/http.js';
export { ApiError, NetworkError } from './client/errors.js';
export { LocalStateBackend, MemoryStateBackend } from './state/local.js';
export { InstanceStateBackend } from './state/instance.js';
export { emptyState, type PendingOperation, type StateDocument, type StateEntry } from './state/document.js';
export { StateDamagedError, StateLockedError, type StateBackend, type LockInfo, type LockRequest } from './state/backend.js';
export * from './diag/index.js';
export * from './model/plan.js';
export type { DesiredResource, LiveResource, ResourceKind, TenantRef } from './model/resource.js';
export type * as config from './model/config.generated.js';
export { formatAddress, parseAddress } from './model/address.js';
export { VERSION } from './version.js';

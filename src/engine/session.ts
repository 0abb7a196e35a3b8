/**
 * The stages wired together for the CLI and the library API: load + validate a config, refresh
 * and plan against a server, apply. Each function reports problems as diagnostics.
 */
import type { FluxbaseClient } from '../client/http.js';
import { ApiError, apiDiagnostic, IdentityError, NetworkError } from '../client/errors.js';
import { MIGRATION_NAMESPACE } from '../resources/migrations.js';
import { hasErrors, type Diagnostic } from '../diag/index.js';
import { applyMoves, type Move } from './lifecycle.js';
import { pruneGone, resolvePending, type Resolution } from './pending.js';
import type { Plan } from '../model/plan.js';
import { emptyState, type StateDocument } from '../state/document.js';
import { buildDesired, type DesiredState } from './graph.js';
import { loadConfigFile, type LoadedDocument, type LoadOptions } from './load.js';
import { buildPlan, gateResumed } from './plan.js';
import { refresh, relevantKinds, type LiveState } from './refresh.js';
import { error } from '../diag/index.js';
import { currentProfile } from '../server/profile.js';
import { validateDocument, type ValidConfig } from './validate.js';
import type { ResourceKind } from '../model/resource.js';
import { handlerFor } from '../resources/index.js';
import { annotatePlan, planAccessDelta } from '../access/delta.js';

/** Loads and validates a config file (no API call). `valid` is set only when there are no errors. */
export async function loadConfig(file: string, options: LoadOptions = {}): Promise<{ valid?: ValidConfig; diagnostics: Diagnostic[] }> {
  return validateLoaded(await loadConfigFile(file, options));
}

/** Validates a loaded document (no API call). `valid` is set only when there are no errors. */
export async function validateLoaded(doc: LoadedDocument): Promise<{ valid?: ValidConfig; diagnostics: Diagnostic[] }> {
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
 * `moved:` entries (`moves`), and drops entries that are neither declared nor live. Changes `state` in
 * place; makes no API call.
 */
export function reconcileState(req: { state: StateDocument; live: LiveState; desired: DesiredState; moves?: readonly Move[] }): Reconciled {
  const before = JSON.stringify(req.state);
  const resolution = resolvePending({ state: req.state, live: req.live, desired: req.desired });
  const moves = hasErrors(req.live.diagnostics) ? { moved: new Map<string, string>(), diagnostics: [] } : applyMoves({ state: req.state, moves: req.moves ?? [], desired: req.desired, live: req.live });
  resolution.notes.push(...pruneGone({ state: req.state, live: req.live, desired: req.desired }));
  return { resolution, moved: moves.moved, diagnostics: moves.diagnostics, changed: JSON.stringify(req.state) !== before };
}

/** Refreshes the live state and plans the changes from it to the desired state. */
export async function planConfig(req: { client: FluxbaseClient; valid: ValidConfig; state: StateDocument | undefined } & PlanOptions): Promise<PlanResult> {
  return planDesired({
    ...req,
    desired: buildDesired(req.valid),
    lifecycle: req.valid.config,
    preventDestroyDefault: req.valid.config.lifecycle?.prevent_destroy ?? false,
    lockTimeout: req.valid.config.migrations?.lock_timeout,
  });
}

/**
 * {@link planConfig} for a desired state that is already built (e.g. only some kinds of a
 * configuration, for the local emulator of `fluxbase test` and `plan --prove`). `lifecycle`: the
 * configuration's `moved:` and `removed:` entries (none when absent).
 */
export async function planDesired(
  req: {
    client: FluxbaseClient;
    desired: DesiredState;
    state: StateDocument | undefined;
    lifecycle?: Pick<ValidConfig['config'], 'moved' | 'removed'>;
    preventDestroyDefault?: boolean;
    /** `migrations.lock_timeout` of the configuration (a PostgreSQL interval such as `3s`). */
    lockTimeout?: string;
  } & PlanOptions,
): Promise<PlanResult> {
  const { desired } = req;
  const state = req.state ?? emptyState();
  const before = tokenDiagnostics(req.client, relevantKinds(desired, state));
  if (hasErrors(before)) {
    const live: LiveState = { resources: new Map(), tenants: new Map(), scanned: new Set(), diagnostics: before };
    const reconciled: Reconciled = { resolution: { notes: [], resumed: new Map(), unrevealed: new Set(), changed: false }, moved: new Map(), diagnostics: [], changed: false };
    return { plan: buildPlan({ endpoint: req.client.url, desired: new Map(), live, state: emptyState() }), desired, live, state, reconciled };
  }
  const live = await refresh({ client: req.client, desired, state });
  const reconciled = reconcileState({ state, live, desired, moves: req.lifecycle?.moved });
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
      preventDestroyDefault: req.preventDestroyDefault ?? false,
      lockTimeout: req.lockTimeout,
      destroy: req.destroy,
      targets: req.targets,
      replace: req.replace,
      removed: req.lifecycle?.removed,
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
  // Who gains or loses access to which rows; AUTHZ_CHANGE names exactly what widens.
  if (!req.refreshOnly) {
    annotatePlan(plan, planAccessDelta({ plan, desired, live }));
    // What the delta adds to a change an interrupted apply left is gated as the original was.
    gateResumed(plan.changes, reconciled.resolution);
  }
  if (!req.refreshOnly && !hasErrors(plan.diagnostics)) {
    const checks = [...(await preflight(req.client, plan, desired, live)), ...(await verifyIdentities(req.client, plan))];
    if (checks.length > 0) plan = { ...plan, diagnostics: [...plan.diagnostics, ...checks] };
  }
  return { plan, desired, live, state, reconciled };
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

/**
 * Read-only checks before an apply may start (never changes anything): each kind's
 * `preflight` (handlers), and whether this caller may use the migrations API at all (F6: the
 * server admits migration calls only from its allowlisted networks, before authentication), when
 * the plan runs SQL. A failing check is reported on the changes it blocks; a check the server
 * cannot answer is left to apply.
 */
async function preflight(client: FluxbaseClient, plan: Plan, desired: DesiredState, live: LiveState): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const active = plan.changes.filter((c) => c.action !== 'no-op' && !c.deletedWith);
  for (const kind of [...new Set(active.map((c) => c.kind))]) {
    const check = handlerFor(kind).preflight;
    if (!check) continue;
    try {
      out.push(...(await check({ client, changes: active.filter((c) => c.kind === kind), desired, tenants: live.tenants })));
    } catch (e) {
      if (!(e instanceof ApiError || e instanceof NetworkError)) throw e;
    }
  }
  const migrating = active.filter((c) => (c.steps ?? []).some((s) => s.op === 'migration') || (c.sql?.length ?? 0) > 0);
  if (migrating.length > 0) {
    try {
      await client.request({ method: 'GET', route: '/api/v1/admin/migrations', query: { namespace: MIGRATION_NAMESPACE }, identity: client.identities().serviceRole ? 'service_role' : undefined });
    } catch (e) {
      if (e instanceof ApiError && isAllowlistRefusal(e)) {
        out.push(
          error('api.migrations-allowlist', `the server's migrations API does not admit calls from this machine, and ${migrating.length} change(s) need it`, {
            detail:
              `${migrating.map((c) => c.address).join(', ')} run SQL through /api/v1/admin/migrations, which answered 403 "${e.serverMessage}". ` +
              `Fluxbase admits migration calls only from the networks in migrations.allowed_ip_ranges (default ${currentProfile().migrationsAllowlist.join(', ')}, IPv4 only; internal/middleware/migrations_security.go:112-125). ` +
              'Run the tool from inside one of them (e.g. a CI runner in the same network), or add this machine\'s address to FLUXBASE_MIGRATIONS_ALLOWED_IP_RANGES on the server. Nothing was changed.',
          }),
        );
      } else if (!(e instanceof ApiError || e instanceof NetworkError || e instanceof IdentityError)) throw e;
    }
  }
  return out;
}

/** The migrations API's IP allowlist refusal (F6). */
export function isAllowlistRefusal(e: ApiError): boolean {
  return e.status === 403 && /IP not allowlisted for migrations/i.test(e.serverMessage);
}

/**
 * F5: the server's webhook and client-key routes dereference the token's `iat` for every JWT but
 * an instance_admin's (internal/middleware/clientkey_auth.go:429) and answer 500 when it is
 * missing; tokens minted by `deploy/generate-keys.sh` have none. Reported before any call when
 * the plan will read or write those kinds with such a token.
 */
export function tokenDiagnostics(client: FluxbaseClient, kinds: ReadonlySet<ResourceKind>): Diagnostic[] {
  const claims = client.defaultTokenClaims();
  if (!claims || !currentProfile().iatRequiredOnKeyRoutes || claims.iat !== undefined || claims.role === 'instance_admin') return [];
  const affected = (['webhook', 'client_key'] as const).filter((k) => kinds.has(k));
  if (affected.length === 0) return [];
  return [
    error('api.token-without-iat', `FLUXBASE_TOKEN has no \`iat\` claim, and the server's ${affected.map((k) => (k === 'webhook' ? 'webhook' : 'client-key')).join(' and ')} routes fail on such tokens`, {
      detail:
        'Fluxbase answers 500 on /api/v1/webhooks and /api/v1/client-keys for a JWT without `iat` (internal/middleware/clientkey_auth.go:429); ' +
        'keys minted by deploy/generate-keys.sh have none. Use a token that has one: the service-role key the server prints at its first start, ' +
        'one you sign yourself with an `"iat": <unix seconds>` claim and FLUXBASE_AUTH_JWT_SECRET, the token `fluxbase local start` prints, ' +
        'or a dashboard login (FLUXBASE_ADMIN_EMAIL/FLUXBASE_ADMIN_PASSWORD) for these routes. Nothing was sent.',
    }),
  ];
}

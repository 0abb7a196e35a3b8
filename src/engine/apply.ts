/**
 * Stage 8 — apply: execute a plan. Before any API call it refuses a plan with errors or with
 * hazards that were not allowed. Then it walks the changes in dependency order (creates and
 * updates first, deletes after, in reverse dependency order), several at a time within the
 * client's bound, one handler call per change, recording each success in state as it goes.
 * After the first failure it starts nothing new, lets the in-flight changes finish, and reports
 * what was applied, what failed (with the API's error) and what was not attempted. Running apply
 * again converges without repeating completed work.
 */
import { ApiError, NetworkError, apiDiagnostic } from '../client/errors.js';
import { IdentityError, type FluxbaseClient } from '../client/http.js';
import { error, hasErrors, type Diagnostic } from '../diag/index.js';
import { HAZARD_TYPES, type HazardType, type Plan, type ResourceChange } from '../model/plan.js';
import type { ResourceKind, TenantRef } from '../model/resource.js';
import { handlerFor } from '../resources/index.js';
import type { ApplyResult } from '../resources/types.js';
import { MigrationRoutingError } from '../resources/migrations.js';
import { secretFingerprint, type StateDocument } from '../state/document.js';
import { observedRenderings } from './diff.js';
import type { DesiredState } from './graph.js';
import { refresh } from './refresh.js';
import { applyRenameToState } from './rename.js';

/** Progress events for the CLI's step-by-step output. */
export type ApplyEvent =
  | { type: 'start'; change: ResourceChange }
  | { type: 'done'; change: ResourceChange; ms: number }
  | { type: 'fail'; change: ResourceChange; diagnostic: Diagnostic }
  | { type: 'skip'; change: ResourceChange; reason: string };

/** Input of {@link applyPlan}. */
export interface ApplyPlanRequest {
  client: FluxbaseClient;
  plan: Plan;
  desired: DesiredState;
  /** Live tenants by slug (from the refresh the plan came from); tenants created here are added. */
  tenants: Map<string, TenantRef>;
  /** The state document; updated in place as changes succeed. */
  state: StateDocument;
  /** Persists the state (called after every completed change, serialised). */
  persist: (state: StateDocument) => Promise<void>;
  allowHazards: ReadonlySet<HazardType>;
  /** Changes run at once (default 4). */
  parallelism?: number;
  now?: () => Date;
  onEvent?: (e: ApplyEvent) => void;
}

/** What happened. */
export interface ApplyReport {
  applied: { address: string; action: ResourceChange['action'] }[];
  failed: { address: string; action: ResourceChange['action']; diagnostic: Diagnostic }[];
  notAttempted: string[];
  /** Values to show the user exactly once (new key values); never logged or stored. */
  revealed: { address: string; name: string; value: string }[];
  diagnostics: Diagnostic[];
  /** True when apply refused before making any call. */
  refused: boolean;
}

/** Diagnostics for every hazard whose type is not allowed (empty when the plan may be applied). */
export function gateHazards(plan: Plan, allow: ReadonlySet<HazardType>): Diagnostic[] {
  const offending = plan.changes.filter((c) => c.hazards.some((h) => !allow.has(h.type)));
  if (offending.length === 0) return [];
  const types = HAZARD_TYPES.filter((t) => offending.some((c) => c.hazards.some((h) => h.type === t)));
  const needed = HAZARD_TYPES.filter((t) => types.includes(t) || allow.has(t));
  const list = offending.flatMap((c) => c.hazards.filter((h) => !allow.has(h.type)).map((h) => `${c.address}: ${h.type} — ${h.message}`));
  return [
    error('plan.hazard-not-allowed', `the plan has hazards that were not allowed: ${types.join(', ')}`, {
      detail: `${list.join('\n')}\nNothing was applied. Review these changes, then run apply again with --allow-hazards=${needed.join(',')}.`,
    }),
  ];
}

/** Applies a plan (see module doc). Never throws for API errors: they are reported. */
export async function applyPlan(req: ApplyPlanRequest): Promise<ApplyReport> {
  const report: ApplyReport = { applied: [], failed: [], notAttempted: [], revealed: [], diagnostics: [], refused: false };
  if (hasErrors(req.plan.diagnostics)) {
    report.refused = true;
    report.diagnostics.push(error('apply.refused', 'the plan has errors; nothing was applied'));
    return report;
  }
  const gate = gateHazards(req.plan, req.allowHazards);
  if (gate.length > 0) {
    report.refused = true;
    report.diagnostics.push(...gate);
    return report;
  }
  const now = req.now ?? (() => new Date());
  const persist = serialise(req.persist);
  const pending = req.plan.changes.filter((c) => (c.action !== 'no-op' || c.importing) && !c.deletedWith);
  const cascaded = req.plan.changes.filter((c) => c.deletedWith);
  const status = new Map<string, 'ok' | 'failed' | 'skipped'>();
  let stop = false;

  // State writes in flight. A change frees its slot as soon as its API call is done: the state
  // write that records it is shared with the changes completing meanwhile (see serialise), and
  // the change is reported done once that write is on disk. A failed write stops the apply.
  const recording: Promise<void>[] = [];
  let recordFailure: { error: unknown } | undefined;
  const runOne = async (change: ResourceChange): Promise<void> => {
    req.onEvent?.({ type: 'start', change });
    const started = Date.now();
    try {
      await execute(change, req, now, report);
      status.set(change.address, 'ok');
      report.applied.push({ address: change.address, action: change.action });
      if (change.action === 'delete') {
        for (const child of cascaded.filter((c) => c.deletedWith === change.address)) {
          delete req.state.resources[child.address];
          status.set(child.address, 'ok');
          report.applied.push({ address: child.address, action: 'delete' });
        }
      }
      recording.push(
        persist(req.state).then(
          () => req.onEvent?.({ type: 'done', change, ms: Date.now() - started }),
          (error: unknown) => {
            recordFailure ??= { error };
            stop = true;
          },
        ),
      );
    } catch (e) {
      if (!(e instanceof ApiError || e instanceof NetworkError || e instanceof MigrationRoutingError || e instanceof IdentityError)) throw e;
      stop = true;
      status.set(change.address, 'failed');
      const diagnostic =
        e instanceof MigrationRoutingError || e instanceof IdentityError
          ? error('apply.failed', e.message, { address: change.address })
          : apiDiagnostic(e, { address: change.address, code: 'apply.failed' });
      report.failed.push({ address: change.address, action: change.action, diagnostic });
      req.onEvent?.({ type: 'fail', change, diagnostic });
    }
  };

  for (const phase of [pending.filter((c) => c.action !== 'delete'), pending.filter((c) => c.action === 'delete')]) {
    const waiting = new Map(phase.map((c) => [c.address, c]));
    const running = new Map<string, Promise<void>>();
    const limit = Math.max(1, req.parallelism ?? 4);
    while (waiting.size > 0 || running.size > 0) {
      if (!stop) {
        for (const change of [...waiting.values()]) {
          if (running.size >= limit) break;
          const deps = change.dependsOn.filter((d) => waiting.has(d) || running.has(d) || status.get(d) !== undefined);
          if (deps.some((d) => status.get(d) === 'failed' || status.get(d) === 'skipped')) {
            waiting.delete(change.address);
            status.set(change.address, 'skipped');
            continue;
          }
          if (deps.some((d) => status.get(d) !== 'ok')) continue;
          waiting.delete(change.address);
          const p = runOne(change).finally(() => running.delete(change.address));
          running.set(change.address, p);
        }
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    for (const c of waiting.values()) status.set(c.address, 'skipped');
  }
  await Promise.all(recording);
  if (recordFailure) throw recordFailure.error;
  for (const change of [...pending, ...cascaded]) {
    if (!status.has(change.address) || status.get(change.address) === 'skipped') {
      report.notAttempted.push(change.address);
      req.onEvent?.({ type: 'skip', change, reason: 'not attempted after an earlier failure' });
    }
  }
  await recordObserved(req, report);
  await persist(req.state);
  for (const f of report.failed) report.diagnostics.push(f.diagnostic);
  if (report.notAttempted.length > 0) {
    report.diagnostics.push(
      error('apply.not-attempted', `${report.notAttempted.length} change(s) were not attempted after the failure`, {
        detail: `${report.notAttempted.join('\n')}\nFix the failure and run apply again: completed changes are not repeated.`,
      }),
    );
  }
  return report;
}

async function execute(change: ResourceChange, req: ApplyPlanRequest, now: () => Date, report: ApplyReport): Promise<void> {
  const handler = handlerFor(change.kind);
  const desired = req.desired.get(change.address);
  const slug = desired?.tenant ?? tenantOf(change);
  const tenant = slug ? req.tenants.get(slug) : undefined;
  if (slug && change.kind !== 'tenant' && !tenant) throw new Error(`tenant ${slug} is not known for ${change.address}`);
  const base = { client: req.client, change, desired, tenant, now };
  if (change.action === 'delete') {
    await handler.delete(base);
    delete req.state.resources[change.address];
    return;
  }
  let result: ApplyResult = {};
  if (change.action === 'no-op') {
    // An import with nothing to change: only the state is written.
  } else if (change.action === 'create') result = await handler.create(base);
  else if (change.action === 'update') result = await handler.update!(base);
  else {
    await handler.delete(base);
    result = await handler.create({ ...base, change: { ...change, action: 'create' } });
  }
  const id = result.id ?? change.id;
  for (const r of result.revealed ?? []) report.revealed.push({ address: change.address, ...r });
  for (const w of result.warnings ?? []) report.diagnostics.push({ ...w, address: w.address ?? change.address });
  if (change.kind === 'tenant' && id && desired) {
    const s = desired.path[1]!;
    req.tenants.set(s, { slug: s, id, isDefault: desired.builtin ?? false });
  }
  if (change.renamedFrom) applyRenameToState(req.state, change.renamedFrom, change.address, change.renamedChildren ?? []);
  const previous = req.state.resources[change.address];
  const writeOnly: Record<string, string | null> = {};
  for (const [attr, value] of Object.entries(desired?.writeOnly ?? {})) {
    writeOnly[attr] = value === null || value === undefined ? null : secretFingerprint(req.state.salt, `${change.address}#${attr}`, value);
  }
  req.state.resources[change.address] = {
    kind: change.kind as ResourceKind,
    ...(id ? { id } : {}),
    ...(Object.keys(writeOnly).length > 0 ? { writeOnly } : {}),
    ...(previous?.observed ? { observed: previous.observed } : {}),
    ...(desired?.preventDestroy ? { preventDestroy: true } : {}),
  };
}

function tenantOf(change: ResourceChange): string | undefined {
  if (change.kind === 'tenant') return undefined;
  const handler = handlerFor(change.kind);
  return handler.scope === 'tenant' ? change.address.split(/[.[]/)[1] : undefined;
}

/**
 * Re-reads the kinds compared as SQL for the tenants that changed, and records in state how
 * PostgreSQL rendered each applied expression when it differs from the declared text (so the
 * next plan is clean even where syntax-tree comparison cannot prove equality).
 */
async function recordObserved(req: ApplyPlanRequest, report: ApplyReport): Promise<void> {
  const kinds = new Set<ResourceKind>();
  const tenants = new Set<string>();
  const changes = new Map(req.plan.changes.map((c) => [c.address, c]));
  for (const a of report.applied) {
    const change = changes.get(a.address);
    if (!change || change.action === 'delete') continue;
    if (!handlerFor(change.kind).rules.some((r) => r.compare === 'sql')) continue;
    kinds.add(change.kind);
    const slug = req.desired.get(change.address)?.tenant;
    if (slug) tenants.add(slug);
  }
  if (kinds.size === 0) return;
  const live = await refresh({ client: req.client, desired: req.desired, state: req.state, kinds, tenants });
  if (live.diagnostics.length > 0) return;
  for (const a of report.applied) {
    const d = req.desired.get(a.address);
    const l = live.resources.get(a.address);
    const entry = req.state.resources[a.address];
    if (!d || !l || !entry || !kinds.has(d.kind)) continue;
    const observed = observedRenderings(d.attrs, l.attrs, handlerFor(d.kind).rules);
    if (Object.keys(observed).length > 0) entry.observed = observed;
    else delete entry.observed;
  }
}

/**
 * Wraps an async writer so calls never overlap and the last state always wins. Calls made while
 * a write is in progress or pausing share the next write (a snapshot taken when it starts, so it
 * holds everything recorded until then); each call resolves once a write that includes its state
 * is done. After each write it pauses twice as long as the write took, so writing the state
 * (whose cost grows with its size) takes at most a third of the time however many changes
 * complete: a thousand changes cost a few hundred writes, not a thousand.
 */
function serialise(write: (s: StateDocument) => Promise<void>): (s: StateDocument) => Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  let next: Promise<void> | undefined;
  let latest: StateDocument;
  return (s) => {
    latest = s;
    if (!next) {
      const written = chain.then(async () => {
        next = undefined;
        const snapshot = structuredClone(latest) as StateDocument;
        snapshot.serial = latest.serial + 1;
        latest.serial = snapshot.serial;
        const started = performance.now();
        await write(snapshot);
        return performance.now() - started;
      });
      chain = written.then((ms) => new Promise((resolve) => setTimeout(resolve, 2 * ms)));
      next = written.then(() => undefined);
    }
    return next;
  };
}

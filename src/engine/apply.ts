/**
 * Stage 8 — apply: execute a plan. Before any API call it refuses a plan with errors or with
 * hazards that were not allowed. Then it walks the changes in three phases — changes that close
 * an exposure (`runsFirst`: a table without its declared RLS), then creates, updates and replaces
 * in dependency order, then deletes in reverse dependency order — several at a time within the
 * client's bound. Each change is recorded in the state before its first call and its result
 * after (engine/apply-change.ts), so any interruption is resolved by the next run.
 *
 * It starts nothing new after the first failure or once `signal` is aborted (the first Ctrl-C),
 * lets the changes in flight finish, writes the state and reports what was applied, what failed
 * (with the API's error) and what was not attempted. Running apply again converges without
 * repeating completed work.
 */
import { ApiError, NetworkError, apiDiagnostic } from '../client/errors.js';
import { IdentityError, type FluxbaseClient } from '../client/http.js';
import { error, hasErrors, type Diagnostic } from '../diag/index.js';
import { HAZARD_TYPES, type HazardType, type Plan, type ResourceChange } from '../model/plan.js';
import type { ResourceKind, TenantRef } from '../model/resource.js';
import { handlerFor } from '../resources/index.js';
import { MigrationRoutingError } from '../resources/migrations.js';
import { addPending, removeEntry, setEntry, type StateDocument } from '../state/document.js';
import { applyChange, pendingOperation, type ChangeContext, type RevealedValue } from './apply-change.js';
import { observedRenderings } from './diff.js';
import type { DesiredState } from './graph.js';
import { refresh } from './refresh.js';
import { StateWriteError, stateWriter } from './state-writer.js';

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
  /** Persists the state (calls never overlap; see engine/state-writer.ts). */
  persist: (state: StateDocument) => Promise<void>;
  allowHazards: ReadonlySet<HazardType>;
  /** Changes run at once (default 4). */
  parallelism?: number;
  now?: () => Date;
  onEvent?: (e: ApplyEvent) => void;
  /**
   * Aborted on the first interrupt (SIGINT/SIGTERM): no new change starts; the ones in flight
   * finish and are recorded.
   */
  signal?: AbortSignal;
  /**
   * Shows a new key value to the user (terminal, --secrets-out) the moment the server returned
   * it; awaited before the handler makes its next call. Also collected in the report.
   */
  onReveal?: (value: RevealedValue) => Promise<void>;
}

/** What happened. */
export interface ApplyReport {
  applied: { address: string; action: ResourceChange['action'] }[];
  failed: { address: string; action: ResourceChange['action']; diagnostic: Diagnostic }[];
  notAttempted: string[];
  /** Values to show the user exactly once (new key values); never logged or stored. */
  revealed: RevealedValue[];
  diagnostics: Diagnostic[];
  /** True when apply refused before making any call. */
  refused: boolean;
  /** True when an interrupt stopped the apply before every change was attempted. */
  interrupted: boolean;
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

/** Errors the API and the handlers report for one change (anything else is a bug and is thrown). */
function isChangeFailure(e: unknown): e is ApiError | NetworkError | MigrationRoutingError | IdentityError {
  return e instanceof ApiError || e instanceof NetworkError || e instanceof MigrationRoutingError || e instanceof IdentityError;
}

/** Applies a plan (see module doc). Never throws for API errors: they are reported. */
export async function applyPlan(req: ApplyPlanRequest): Promise<ApplyReport> {
  const report: ApplyReport = { applied: [], failed: [], notAttempted: [], revealed: [], diagnostics: [], refused: false, interrupted: false };
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
  const write = stateWriter(req.persist);
  // A write nobody waited for (a change's result) that failed: nothing starts after it.
  let unawaitedFailure: StateWriteError | undefined;
  const ctx: ChangeContext = {
    client: req.client,
    desired: req.desired,
    tenants: req.tenants,
    state: req.state,
    persist: () => write(req.state),
    persistSoon: () => {
      // (the writer rejects with StateWriteError only)
      write(req.state).catch((e: StateWriteError) => {
        unawaitedFailure ??= e;
      });
    },
    now: req.now ?? (() => new Date()),
    reveal: async (r) => {
      report.revealed.push(r);
      await req.onReveal?.(r);
    },
    warn: (d) => report.diagnostics.push(d),
  };
  const pending = req.plan.changes.filter((c) => (c.action !== 'no-op' || c.importing || c.forget || c.movedFrom) && !c.deletedWith);
  const cascaded = req.plan.changes.filter((c) => c.deletedWith);
  const status = new Map<string, 'ok' | 'failed' | 'skipped'>();
  let stop = false;
  // The approved plan, recorded before the first call: if this run stops, the next one gates each
  // change it resumes on the hazards approved here (engine/pending.ts).
  addPending(req.state, ...pending.flatMap((change) => pendingOperation(change, ctx) ?? []));
  const interrupted = () => {
    if (req.signal?.aborted && !stop) {
      stop = true;
      report.interrupted = true;
    }
    if (unawaitedFailure) stop = true;
    return stop;
  };

  const runOne = async (change: ResourceChange): Promise<void> => {
    req.onEvent?.({ type: 'start', change });
    const started = Date.now();
    try {
      await applyChange(ctx, change);
      status.set(change.address, 'ok');
      report.applied.push({ address: change.address, action: change.action });
      if (change.action === 'delete') {
        for (const child of cascaded.filter((c) => c.deletedWith === change.address)) {
          removeEntry(req.state, child.address);
          status.set(child.address, 'ok');
          report.applied.push({ address: child.address, action: 'delete' });
        }
        if (cascaded.some((c) => c.deletedWith === change.address)) await ctx.persist();
      }
      req.onEvent?.({ type: 'done', change, ms: Date.now() - started });
    } catch (e) {
      if (!isChangeFailure(e) && !(e instanceof StateWriteError)) throw e;
      const diagnostic =
        e instanceof StateWriteError
          ? error('state.write', e.message, { address: change.address, detail: 'Nothing more was started. Fix the cause and run apply again: the next run resolves this change.' })
          : e instanceof MigrationRoutingError || e instanceof IdentityError
            ? error('apply.failed', e.message, { address: change.address })
            : apiDiagnostic(e, { address: change.address, code: 'apply.failed' });
      stop = true;
      status.set(change.address, 'failed');
      report.failed.push({ address: change.address, action: change.action, diagnostic });
      req.onEvent?.({ type: 'fail', change, diagnostic });
    }
  };

  const phases = [
    pending.filter((c) => c.runsFirst),
    pending.filter((c) => !c.runsFirst && c.action !== 'delete'),
    pending.filter((c) => !c.runsFirst && c.action === 'delete'),
  ];
  const limit = Math.max(1, req.parallelism ?? 4);
  // Tables a running change takes locks on (see tableKeys): changes sharing one run one at a time.
  const busyTables = new Set<string>();
  for (const phase of phases) {
    const waiting = new Map(phase.map((c) => [c.address, c]));
    const running = new Map<string, Promise<void>>();
    while (waiting.size > 0 || running.size > 0) {
      if (!interrupted()) {
        for (const change of [...waiting.values()]) {
          if (running.size >= limit) break;
          const deps = change.dependsOn.filter((d) => waiting.has(d) || running.has(d) || status.get(d) !== undefined);
          if (deps.some((d) => status.get(d) === 'failed' || status.get(d) === 'skipped')) {
            waiting.delete(change.address);
            status.set(change.address, 'skipped');
            continue;
          }
          if (deps.some((d) => status.get(d) !== 'ok')) continue;
          const tables = tableKeys(change);
          if (tables.some((t) => busyTables.has(t))) continue;
          waiting.delete(change.address);
          for (const t of tables) busyTables.add(t);
          const p = runOne(change).finally(() => {
            running.delete(change.address);
            for (const t of tables) busyTables.delete(t);
          });
          running.set(change.address, p);
        }
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    for (const c of waiting.values()) status.set(c.address, 'skipped');
  }
  const why = report.interrupted ? 'not attempted: apply was interrupted' : 'not attempted after an earlier failure';
  for (const change of [...pending, ...cascaded]) {
    if (!status.has(change.address) || status.get(change.address) === 'skipped') {
      report.notAttempted.push(change.address);
      req.onEvent?.({ type: 'skip', change, reason: why });
    }
  }
  if (!report.interrupted) await recordObserved(req, report).catch(() => undefined);
  if (unawaitedFailure) {
    report.diagnostics.push(error('state.write', unawaitedFailure.message, { detail: 'Nothing more was started after it. Fix the cause and run apply again: the next run resolves what was not recorded.' }));
  }
  await ctx.persist().catch((e: Error) => report.diagnostics.push(error('state.write', e.message)));
  for (const f of report.failed) report.diagnostics.push(f.diagnostic);
  if (report.notAttempted.length > 0) {
    report.diagnostics.push(
      report.interrupted
        ? error('apply.interrupted', `apply was interrupted: ${report.notAttempted.length} change(s) were not attempted`, {
            detail: `${report.notAttempted.join('\n')}\nThe changes in flight were finished and recorded; run apply again to make the rest.`,
          })
        : error('apply.not-attempted', `${report.notAttempted.length} change(s) were not attempted after the failure`, {
            detail: `${report.notAttempted.join('\n')}\nFix the failure and run apply again: completed changes are not repeated.`,
          }),
    );
  }
  return report;
}

/**
 * Re-reads the kinds compared as SQL for the tenants that changed, and records in state how
 * PostgreSQL rendered each applied expression when it differs from the declared text (so the
 * next plan is clean even where syntax-tree comparison cannot prove equality).
 */
async function recordObserved(req: ApplyPlanRequest, report: ApplyReport): Promise<void> {
  const kinds = new Set<ResourceKind>();
  const tenants = new Set<string>();
  const changes = new Map<string, ResourceChange>();
  for (const c of req.plan.changes) if (!changes.has(c.address)) changes.set(c.address, c);
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
    // A new entry, not a changed one: the state file keeps each entry's text by identity (state/text.ts).
    const { observed: _previous, ...rest } = entry;
    setEntry(req.state, a.address, Object.keys(observed).length > 0 ? { ...rest, observed } : rest);
  }
}

/**
 * The tables whose locks a change takes, as `tenant.schema.table`: a table change its own table and
 * the tables its foreign keys reference (before and after), a policy change its table. Two such
 * changes at once can deadlock in PostgreSQL (DROP TABLE of a referencing table against DROP
 * POLICY on the referenced one: SQLSTATE 40P01, which the server answers as a 400 — e.g.
 * internal/api/policy_handler.go:420-423 answers every error with 400), so apply runs changes that share a
 * table one after another; the rest still run in parallel.
 */
export function tableKeys(change: ResourceChange): string[] {
  if (change.kind !== 'table' && change.kind !== 'policy') return [];
  const [, tenant, schema, table] = change.address.split('.');
  if (!tenant || !schema || !table) return [];
  const keys = new Set([`${tenant}.${schema}.${table}`]);
  if (change.kind === 'table') {
    for (const side of [change.before, change.after]) {
      const columns = (side?.columns ?? {}) as Record<string, { references?: { table?: string } | null } | undefined>;
      for (const c of Object.values(columns)) {
        const ref = c?.references?.table;
        if (ref) keys.add(`${tenant}.${ref.includes('.') ? ref : `${schema}.${ref}`}`);
      }
    }
  }
  return [...keys];
}

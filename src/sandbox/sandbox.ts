/**
 * A throwaway local Fluxbase — the emulator (src/emulator) with the real server's behaviour,
 * started in this process on embedded PostgreSQL (PGlite, in memory) or on a PostgreSQL server
 * (`--database-url`, one fresh set of databases, dropped at close) — and the tool's own engine
 * pointed at it. `fluxbase test` applies a configuration's schema there; `plan --prove` copies a
 * live schema there and applies a plan. Nothing here ever talks to a user's instance.
 */
import { FluxbaseClient } from '../client/http.js';
import { hasErrors, type Diagnostic } from '../diag/index.js';
import { applyPlan, type ApplyReport } from '../engine/apply.js';
import type { DesiredState } from '../engine/graph.js';
import { planDesired, type PlanResult } from '../engine/session.js';
import { HAZARD_TYPES, hasChanges } from '../model/plan.js';
import type { ResourceKind } from '../model/resource.js';
import type { RunningEmulator } from '../emulator/index.js';
import { emptyState, type StateDocument } from '../state/document.js';

/** The kinds a sandbox holds: the schema and its access rules (no keys, webhooks or settings). */
export const SCHEMA_KINDS: ReadonlySet<ResourceKind> = new Set(['tenant', 'schema', 'table', 'policy']);

/** Options of {@link startSandbox}. */
export interface SandboxOptions {
  /** A PostgreSQL server (superuser URL) instead of the embedded one. */
  databaseUrl?: string;
}

/** A running sandbox. */
export interface Sandbox {
  emulator: RunningEmulator;
  client: FluxbaseClient;
  /** Where its databases live, for messages. */
  description: string;
  close(): Promise<void>;
}

/** Starts a sandbox. The emulator module is loaded only now (commands that never need it stay fast). */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const { startEmulator } = await import('../emulator/index.js');
  const emulator = await startEmulator({ storage: options.databaseUrl ? { kind: 'postgres', databaseUrl: options.databaseUrl } : { kind: 'pglite' } });
  const client = new FluxbaseClient({ url: emulator.url, credentials: { token: emulator.serviceRoleToken } });
  const where = options.databaseUrl ? new URL(options.databaseUrl) : undefined;
  return {
    emulator,
    client,
    description: where ? `PostgreSQL at ${where.host}` : 'embedded PostgreSQL, in memory',
    close: async () => {
      await client.close();
      await emulator.close();
    },
  };
}

/** Only the resources of `kinds` (and of `tenants`, when given). */
export function selectDesired(desired: DesiredState, kinds: ReadonlySet<ResourceKind>, tenants?: ReadonlySet<string>): DesiredState {
  const out: DesiredState = new Map();
  for (const [address, r] of desired) {
    const slug = r.kind === 'tenant' ? r.path[1] : r.tenant;
    if (kinds.has(r.kind) && (!tenants || slug === undefined || tenants.has(slug))) out.set(address, { ...r, dependsOn: r.dependsOn.filter((d) => desired.has(d)) });
  }
  for (const r of out.values()) r.dependsOn = r.dependsOn.filter((d) => out.has(d));
  return out;
}

/** What {@link applyInSandbox} did. */
export interface SandboxApply {
  planned: PlanResult;
  report: ApplyReport;
  /** The state after the apply. */
  state: StateDocument;
  diagnostics: Diagnostic[];
}

/**
 * Plans `desired` against the sandbox (from `state`, default empty) and applies the plan with
 * every hazard allowed. Diagnostics hold the plan's and the apply's errors.
 */
export async function applyInSandbox(sandbox: Sandbox, req: { desired: DesiredState; state?: StateDocument; imports?: ReadonlySet<string> }): Promise<SandboxApply> {
  let state = req.state ?? emptyState();
  const planned = await planDesired({ client: sandbox.client, desired: req.desired, state, imports: req.imports });
  const empty: ApplyReport = { applied: [], failed: [], notAttempted: [], revealed: [], diagnostics: [], refused: false, interrupted: false };
  if (hasErrors(planned.plan.diagnostics)) return { planned, report: empty, state, diagnostics: planned.plan.diagnostics.filter((d) => d.severity === 'error') };
  if (!hasChanges(planned.plan)) return { planned, report: empty, state, diagnostics: [] };
  const report = await applyPlan({
    client: sandbox.client,
    plan: planned.plan,
    desired: req.desired,
    tenants: planned.live.tenants,
    state: planned.state,
    persist: async (s) => {
      state = s;
    },
    allowHazards: new Set(HAZARD_TYPES),
  });
  return { planned, report, state: planned.state, diagnostics: report.diagnostics.filter((d) => d.severity === 'error') };
}

/** Tenant UUIDs of the sandbox by slug. */
export async function sandboxTenants(sandbox: Sandbox): Promise<Map<string, string>> {
  const res = await sandbox.client.request<{ id: string; slug: string }[] | null>({ method: 'GET', route: '/api/v1/admin/tenants' });
  return new Map((res.body ?? []).map((t) => [t.slug, t.id]));
}

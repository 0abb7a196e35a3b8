/**
 * `fluxbase plan --prove`: does the plan do what it says? The live schema — tenants, schemas,
 * tables (columns, keys, checks, indexes, grants), RLS flags and policies; no rows — is copied
 * into a throwaway local emulator with the real server's behaviour (through the tool's own
 * export and apply, so the copy is made by the same API routes as the original), with the
 * state's record of what is managed. The configuration is planned there (the same changes as
 * the real plan, or the difference is reported), applied, and planned again: the plan converges
 * when the second plan has no changes. The configuration's tests then run on the result. Like
 * pg-delta's `prove`, plus access. Changes of other kinds (keys, webhooks, settings) are not
 * proven and are counted as such.
 */
import { formatDiagnostic, hasErrors, type Diagnostic } from '../diag/index.js';
import type { FluxbaseClient } from '../client/http.js';
import type { DesiredState } from '../engine/graph.js';
import { refresh } from '../engine/refresh.js';
import { planDesired, type PlanResult } from '../engine/session.js';
import { exportLive, withContainers } from '../export/export.js';
import type { ResourceChange } from '../model/plan.js';
import { emptyState, type StateDocument } from '../state/document.js';
import { applyInSandbox, SCHEMA_KINDS, selectDesired, type Sandbox } from './sandbox.js';

/** What a proof found (printed by `plan --prove`, and in `--json` as `proof`). */
export interface ProofReport {
  /** Where the copy ran. */
  emulator: string;
  copied: { tenants: number; tables: number; policies: number };
  /** Live objects the copy could not reproduce (the proof does not cover them). */
  notCopied: string[];
  /** `<action> <address>` of the schema changes planned on the copy. */
  planned: string[];
  /** How the plan on the copy differs from the real plan (empty: the same changes). */
  differences: string[];
  /** Errors applying the plan on the copy. */
  applyErrors: string[];
  /** `<action> <address>: <attributes>` still planned after the apply. */
  remaining: string[];
  /** True when the apply succeeded and the second plan has no changes. */
  converged: boolean;
  /** Changes of kinds the proof does not cover. */
  notProven: number;
  /** Test results on the copy after the apply (absent without tests). */
  tests?: { passed: number; failed: number; failures: string[] };
}

function schemaChanges(changes: readonly ResourceChange[]): ResourceChange[] {
  return changes.filter((c) => SCHEMA_KINDS.has(c.kind) && (c.action !== 'no-op' || c.importing));
}

function describe(c: ResourceChange): string {
  return `${c.importing && c.action === 'no-op' ? 'import' : c.action} ${c.address}`;
}

/** Input of {@link provePlan}. */
export interface ProveRequest {
  /** The real plan and what it was computed from. */
  real: PlanResult;
  /** The configuration's desired state (every kind; the schema kinds are used). */
  desired: DesiredState;
  imports: ReadonlySet<string>;
  sandbox: Sandbox;
  /** The real instance's client (reading calls only). */
  client: FluxbaseClient;
  /** Runs the tests on the sandbox after the apply; resolves to results (optional). */
  runTests?: (sandbox: Sandbox) => Promise<ProofReport['tests']>;
}

/** Runs the proof (module doc). Throws only for bugs and emulator failures. */
export async function provePlan(req: ProveRequest): Promise<ProofReport> {
  const { real, sandbox } = req;
  const tenants = [...real.live.scanned].sort();
  const report: ProofReport = {
    emulator: sandbox.description,
    copied: { tenants: 0, tables: 0, policies: 0 },
    notCopied: [],
    planned: [],
    differences: [],
    applyErrors: [],
    remaining: [],
    converged: false,
    notProven: real.plan.changes.filter((c) => !SCHEMA_KINDS.has(c.kind) && (c.action !== 'no-op' || c.importing)).length,
  };
  // 1. Copy the live schema (no rows) through the tool's own export and apply.
  // The plan's refresh read only the kinds the configuration and state use: read the whole schema.
  const live = await refresh({ client: req.client, desired: real.desired, state: real.state, kinds: SCHEMA_KINDS, tenants: new Set(tenants) });
  if (hasErrors(live.diagnostics)) {
    report.applyErrors.push(...errorsOf(live.diagnostics).map((e) => `reading the live schema: ${e}`));
    return report;
  }
  const exported = await exportLive({ live, tenants, kinds: withContainers([...SCHEMA_KINDS]), schemaRef: '' });
  report.notCopied.push(...exported.diagnostics.filter((d) => d.code === 'export.not-exported').map((d) => `${d.address ?? ''}: ${d.summary.replace(/^not exported: /, '')}`));
  if (hasErrors(exported.diagnostics)) {
    report.applyErrors.push(...errorsOf(exported.diagnostics).map((e) => `copying the live schema: ${e}`));
    return report;
  }
  const copy = await applyInSandbox(sandbox, { desired: exported.desired });
  if (copy.diagnostics.length > 0) {
    report.applyErrors.push(...errorsOf(copy.diagnostics).map((e) => `copying the live schema: ${e}`));
    return report;
  }
  for (const r of exported.desired.values()) {
    if (r.kind === 'tenant') report.copied.tenants++;
    else if (r.kind === 'table') report.copied.tables++;
    else if (r.kind === 'policy') report.copied.policies++;
  }
  // 2. The state as the real one records it: the same resources are managed.
  const state: StateDocument = { ...emptyState(), resources: Object.fromEntries(Object.entries(real.state.resources).filter(([, entry]) => SCHEMA_KINDS.has(entry.kind))) };
  // 3. Plan on the copy, compare with the real plan, apply.
  const desired = selectDesired(req.desired, SCHEMA_KINDS);
  const first = await applyInSandbox(sandbox, { desired, state, imports: req.imports });
  const planned = schemaChanges(first.planned.plan.changes);
  report.planned = planned.map(describe);
  const expected = new Set(schemaChanges(real.plan.changes).map(describe));
  const got = new Set(report.planned);
  for (const x of expected) if (!got.has(x)) report.differences.push(`the real plan has "${x}", the copy's plan does not`);
  for (const x of got) if (!expected.has(x)) report.differences.push(`the copy's plan has "${x}", the real plan does not`);
  report.applyErrors.push(...errorsOf(first.diagnostics));
  if (report.applyErrors.length > 0) return report;
  // 4. Plan again: nothing may remain.
  const second = await planDesired({ client: sandbox.client, desired, state: first.state, imports: req.imports });
  const left = schemaChanges(second.plan.changes);
  report.remaining = left.map((c) => `${describe(c)}${c.attributes.length > 0 ? `: ${c.attributes.map((a) => a.path.join('.')).join(', ')}` : ''}`);
  report.applyErrors.push(...errorsOf(second.plan.diagnostics));
  report.converged = left.length === 0 && report.applyErrors.length === 0;
  // 5. The tests, on what the plan leaves.
  if (req.runTests && report.converged) report.tests = await req.runTests(sandbox);
  return report;
}

function errorsOf(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d).split('\n')[0]!);
}

/** True when the proof holds: the plan converges and no test failed. */
export function proofHolds(r: ProofReport): boolean {
  return r.converged && (r.tests?.failed ?? 0) === 0;
}

/** The proof as text lines. */
export function renderProof(r: ProofReport): string[] {
  const lines = [`Proof on a local copy of the live schema (${r.emulator}; tables, grants, RLS flags and policies, no rows):`];
  lines.push(`  copied ${r.copied.tenants} tenant(s), ${r.copied.tables} table(s), ${r.copied.policies} polic${r.copied.policies === 1 ? 'y' : 'ies'}`);
  for (const n of r.notCopied) lines.push(`  not copied (not covered by the proof): ${n}`);
  if (r.planned.length > 0 || r.differences.length === 0) {
    lines.push(r.differences.length === 0 ? `  planned there: the same ${r.planned.length} schema change(s) as this plan` : `  planned there: ${r.planned.length} schema change(s)`);
  }
  for (const d of r.differences) lines.push(`  ! ${d}`);
  for (const e of r.applyErrors) lines.push(`  ! apply failed on the copy: ${e}`);
  if (r.applyErrors.length === 0) {
    if (r.remaining.length === 0) lines.push('  planned again after applying: no changes — the plan converges.');
    else {
      lines.push(`  planned again after applying: ${r.remaining.length} change(s) remain — the plan does NOT converge:`);
      for (const x of r.remaining) lines.push(`    ${x}`);
    }
  }
  if (r.tests) {
    lines.push(`  tests on the result: ${r.tests.passed} passed, ${r.tests.failed} failed`);
    for (const f of r.tests.failures) lines.push(`    ✗ ${f}`);
  }
  if (r.notProven > 0) lines.push(`  not proven: ${r.notProven} change(s) of keys, webhooks, OAuth providers or settings`);
  lines.push(proofHolds(r) ? 'Proof: the plan converges' + (r.tests ? ' and the tests pass.' : '.') : 'Proof FAILED: ' + (r.applyErrors.length > 0 ? 'the plan cannot be applied as planned.' : !r.converged ? 'the plan does not converge.' : 'tests fail on the result.'));
  return lines;
}

/**
 * `fluxbase apply [PLAN]`: without PLAN, plan, show, confirm (unless --auto-approve; a
 * non-interactive run refuses without it), then apply. With a saved PLAN (from `plan --out`),
 * apply exactly that plan after checking it is not stale (no prompt, like Terraform). Always under
 * the state lock. New key values are shown once: on a terminal or with --show-secrets, otherwise
 * written to --secrets-out (mode 0600); without either, apply refuses before any change.
 */
import { readFile } from 'node:fs/promises';
import { applyPlan, gateHazards, type ApplyEvent, type ApplyReport } from '../engine/apply.js';
import { renderPlan, styler } from '../engine/render.js';
import { checkSavedPlan } from '../engine/saved-plan.js';
import { parsePlanDocument, planDocument, type PlanDocument } from '../engine/plan-document.js';
import { buildDesired } from '../engine/graph.js';
import { refresh, relevantKinds } from '../engine/refresh.js';
import { canonicalJson } from '../model/canonical.js';
import { error, hasErrors, type Diagnostic } from '../diag/index.js';
import { HAZARD_TYPES, hasChanges, PLAN_FORMAT_VERSION, type HazardType, type Plan } from '../model/plan.js';
import { emptyState } from '../state/document.js';
import { StateLockedError } from '../state/backend.js';
import { makePlan, prepare, reportErrors, type ConfigOptions, type Prepared } from './common.js';
import { printDiagnostics, type CommandIO } from './io.js';
import { apiCalls, applyCompleteLine, applyEventLine, revealsSecrets, writeSecretsFile } from './output.js';
import { VERSION } from '../version.js';
import type { PlanResult } from '../engine/session.js';

/** Options of `fluxbase apply`. */
export interface ApplyOptions extends ConfigOptions {
  planFile?: string;
  autoApprove?: boolean;
  allowHazards?: string;
  /** How long to wait for the state lock, in ms (default 0: fail at once). */
  lockTimeoutMs?: number;
  json?: boolean;
  showSecrets?: boolean;
  secretsOut?: string;
  detailedExitcode?: boolean;
}

/** Parses --allow-hazards=A,B; unknown names are an error. */
export function parseHazards(value: string | undefined): { allowed: Set<HazardType>; unknown: string[] } {
  const allowed = new Set<HazardType>();
  const unknown: string[] = [];
  for (const raw of (value ?? '').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean)) {
    if ((HAZARD_TYPES as readonly string[]).includes(raw)) allowed.add(raw as HazardType);
    else unknown.push(raw);
  }
  return { allowed, unknown };
}

/** Runs `fluxbase apply`; returns the exit code (0 applied or nothing to do, 1 error, 2 applied with --detailed-exitcode). */
export async function applyCommand(io: CommandIO, options: ApplyOptions): Promise<number> {
  const hazards = parseHazards(options.allowHazards);
  if (hazards.unknown.length > 0) {
    printDiagnostics(io, [error('cli.usage', `unknown hazard type(s): ${hazards.unknown.join(', ')}`, { detail: `Known hazards: ${HAZARD_TYPES.join(', ')}.` })]);
    return 1;
  }
  let saved: PlanDocument | undefined;
  if (options.planFile) {
    const text = await readFile(options.planFile, 'utf8').catch((e: Error) => e);
    const parsed = typeof text === 'string' ? parsePlanDocument(text) : { problem: text.message };
    if (!parsed.doc) {
      printDiagnostics(io, [error('plan.format', `cannot use ${options.planFile}: ${parsed.problem}`)]);
      return 1;
    }
    saved = parsed.doc;
  }
  const prepared = await prepare(io, options);
  if (!prepared) return 1;
  const c = styler(io.color && !options.json);
  const text = (line: string) => {
    if (!options.json) io.out(line);
  };
  let release: (() => Promise<void>) | undefined;
  let planned: PlanResult | undefined;
  const finish = (status: string, report: ApplyReport | undefined, diagnostics: Diagnostic[], code: number) => {
    if (options.json) {
      io.out(
        canonicalJson(
          {
            format: 'fluxbase-iac-apply',
            formatVersion: PLAN_FORMAT_VERSION,
            tool: { name: 'fluxbase-iac', version: VERSION },
            status,
            plan: planned ? planDocument(planned.plan, planned.state) : null,
            applied: report?.applied ?? [],
            failed: (report?.failed ?? []).map((f) => ({ address: f.address, action: f.action, error: f.diagnostic.summary })),
            notAttempted: report?.notAttempted ?? [],
            diagnostics,
            apiCalls: apiCalls(prepared.client),
            ...(options.showSecrets && report && report.revealed.length > 0 ? { revealed: report.revealed } : {}),
          },
          2,
        ),
      );
    }
    return code;
  };
  try {
    try {
      release = await prepared.backend.lock({ operation: 'fluxbase apply', waitMs: options.lockTimeoutMs ?? 0, ttlMs: 30 * 60_000 });
    } catch (e) {
      if (e instanceof StateLockedError) {
        const d = [error('state.locked', e.message)];
        printDiagnostics(io, d);
        return finish('locked', undefined, d, 1);
      }
      throw e;
    }
    planned = saved ? await loadSaved(io, prepared, saved, options.planFile!) : await makePlan(io, prepared);
    if (!planned) return finish('error', undefined, [], 1);
    const { plan, desired, live, state } = planned;
    if (reportErrors(io, plan.diagnostics)) return finish('error', undefined, plan.diagnostics, 1);
    text(renderPlan(plan, { color: io.color }));
    if (!hasChanges(plan)) return finish('no-changes', undefined, plan.diagnostics, 0);
    if (revealsSecrets(plan) && !io.isTTY && !options.showSecrets && !options.secretsOut) {
      const d = [
        error('apply.refused', 'this apply creates keys whose values the server shows only once, and there is nowhere to show them', {
          detail: 'stdout is not a terminal. Pass --secrets-out FILE (written with mode 0600) or --show-secrets, or the new key values would be lost. Nothing was applied.',
        }),
      ];
      printDiagnostics(io, d);
      return finish('refused', undefined, d, 1);
    }
    // Hazards not allowed are refused before asking for "yes": the answer could not change that.
    const notAllowed = gateHazards(plan, hazards.allowed);
    if (notAllowed.length > 0) {
      printDiagnostics(io, notAllowed);
      return finish('refused', undefined, notAllowed, 1);
    }
    if (!saved && !options.autoApprove) {
      if (!io.prompt || options.json) {
        const d = [
          error('cli.interactive', 'apply needs confirmation, but this is not an interactive terminal', {
            detail: 'Review the plan and run `fluxbase apply --auto-approve`, or save it with `fluxbase plan --out plan.json` and run `fluxbase apply plan.json`.',
          }),
        ];
        printDiagnostics(io, d);
        return finish('refused', undefined, d, 1);
      }
      io.out("\nDo you want to perform these actions? Only 'yes' will be accepted to approve.");
      const answer = (await io.prompt('  Enter a value: ')).trim();
      if (answer !== 'yes') {
        io.out('Apply cancelled.');
        return finish('cancelled', undefined, [], 1);
      }
    }
    text('');
    const report = await applyPlan({
      client: prepared.client,
      plan,
      desired,
      tenants: live.tenants,
      state: state ?? emptyState(),
      persist: (s) => prepared.backend.write(s),
      allowHazards: hazards.allowed,
      parallelism: options.parallelism,
      onEvent: (e: ApplyEvent) => {
        const line = applyEventLine(e, c);
        if (line) text(line);
      },
    });
    await reveal(io, options, report);
    const failed = reportErrors(io, report.diagnostics);
    if (report.refused) return finish('refused', report, report.diagnostics, 1);
    if (failed) {
      text(c.red(`\nApply failed: ${report.applied.length} applied, ${report.failed.length} failed, ${report.notAttempted.length} not attempted.`));
      for (const a of report.applied) text(`  applied:       ${a.address} (${a.action})`);
      for (const f of report.failed) text(`  failed:        ${f.address} (${f.action}): ${f.diagnostic.summary}`);
      for (const n of report.notAttempted) text(`  not attempted: ${n}`);
      return finish('failed', report, report.diagnostics, 1);
    }
    text(c.bold(c.green(`\n${applyCompleteLine(plan)}`)));
    return finish('applied', report, report.diagnostics, options.detailedExitcode ? 2 : 0);
  } finally {
    await release?.();
    await prepared.client.close();
  }
}

/** Re-reads the live state for a saved plan and checks it is still exactly applicable. */
async function loadSaved(io: CommandIO, prepared: Prepared, doc: PlanDocument, file: string): Promise<PlanResult | undefined> {
  const state = await prepared.backend.read();
  const desired = buildDesired(prepared.valid);
  // only what the configuration declares or manages: a saved plan is checked, not reported anew
  const live = await refresh({ client: prepared.client, desired, state: state ?? emptyState(), kinds: relevantKinds(desired, state ?? emptyState()) });
  const problems = [...live.diagnostics, ...checkSavedPlan({ doc, file, desired, state, live, endpoint: prepared.client.url })];
  if (hasErrors(problems)) {
    printDiagnostics(io, [...problems, error('apply.refused', `${file} is not applied: nothing was changed`)]);
    return undefined;
  }
  printDiagnostics(io, problems);
  const plan: Plan = {
    formatVersion: doc.formatVersion,
    endpoint: doc.endpoint,
    desiredFingerprint: doc.desiredFingerprint,
    liveFingerprint: doc.liveFingerprint,
    changes: doc.changes,
    unmanaged: doc.unmanaged,
    diagnostics: doc.diagnostics,
    summary: doc.summary,
    ...(doc.access ? { access: doc.access } : {}),
  };
  return { plan, desired, live, state: state ?? emptyState() };
}

/** Shows new key values once (terminal or --show-secrets) and/or writes them to --secrets-out. */
async function reveal(io: CommandIO, options: ApplyOptions, report: ApplyReport): Promise<void> {
  if (report.revealed.length === 0) return;
  // Changes run concurrently: order by address so the file does not depend on timing.
  report.revealed.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  if (options.secretsOut) {
    await writeSecretsFile(options.secretsOut, report.revealed);
    if (!options.json) io.out(`\nWrote ${report.revealed.length} new key value(s) to ${options.secretsOut} (mode 0600). They are not shown again.`);
  }
  if ((io.isTTY || options.showSecrets) && !options.json) {
    io.out('\nNew key values (shown once; store them now):');
    for (const r of report.revealed) io.out(`  ${r.name}=${r.value}`);
  }
}

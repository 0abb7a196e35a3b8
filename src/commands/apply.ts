/**
 * `fluxbase apply [PLAN]` and `fluxbase destroy`: without PLAN, plan, show, confirm (unless
 * --auto-approve; a non-interactive run refuses without it), then apply. With a saved PLAN (from
 * `plan --out`), apply exactly that plan after checking it is not stale (no prompt, like
 * Terraform). `destroy` plans the deletion of everything the state manages. Always under the state
 * lock; the state's pending operations are resolved and saved before the first change.
 *
 * New key values are handed over the moment the server returns them: printed on a terminal or
 * with --show-secrets, appended to --secrets-out (mode 0600); without either, apply refuses
 * before any change. The first interrupt (SIGINT/SIGTERM) stops starting changes, finishes those
 * in flight, saves the state, releases the lock and reports; the CLI handles a second one.
 */
import { readFile } from 'node:fs/promises';
import { applyPlan, gateHazards, type ApplyEvent, type ApplyReport } from '../engine/apply.js';
import type { RevealedValue } from '../engine/apply-change.js';
import { renderPlan, styler } from '../engine/render.js';
import { checkSavedPlan } from '../engine/saved-plan.js';
import { parsePlanDocument, planDocument, type PlanDocument } from '../engine/plan-document.js';
import { buildDesired } from '../engine/graph.js';
import { refresh, relevantKinds } from '../engine/refresh.js';
import { reconcileState, type PlanResult } from '../engine/session.js';
import { canonicalJson } from '../model/canonical.js';
import { error, hasErrors, warning, type Diagnostic } from '../diag/index.js';
import { HAZARD_TYPES, hasChanges, PLAN_FORMAT_VERSION, type HazardType, type Plan } from '../model/plan.js';
import { emptyState } from '../state/document.js';
import { lockState, makePlan, prepare, readState, reconciledLines, reportErrors, type ConfigOptions, type Prepared } from './common.js';
import { printDiagnostics, type CommandIO } from './io.js';
import { apiCalls, applyCompleteLine, applyEventLine, revealsSecrets, writeSecretsFile } from './output.js';
import { VERSION } from '../version.js';

/** Options of `fluxbase apply` and `fluxbase destroy`. */
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
  /** `fluxbase destroy`: delete everything the state manages. */
  destroy?: boolean;
  /** `--target ADDRESS…` */
  target?: string[];
  /** `--replace ADDRESS…` */
  replace?: string[];
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

/** Runs `fluxbase apply` / `fluxbase destroy`; returns the exit code (0 applied or nothing to do, 1 error or interrupted, 2 applied with --detailed-exitcode). */
export async function applyCommand(io: CommandIO, options: ApplyOptions): Promise<number> {
  const hazards = parseHazards(options.allowHazards);
  if (hazards.unknown.length > 0) {
    printDiagnostics(io, [error('cli.usage', `unknown hazard type(s): ${hazards.unknown.join(', ')}`, { detail: `Known hazards: ${HAZARD_TYPES.join(', ')}.` })]);
    return 1;
  }
  if (options.planFile && ((options.target?.length ?? 0) > 0 || (options.replace?.length ?? 0) > 0)) {
    printDiagnostics(io, [error('cli.usage', '--target and --replace cannot be used with a saved plan', { detail: 'Pass them to `fluxbase plan --out` instead: the saved plan already holds exactly the changes to apply.' })]);
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
  const interrupted = () => io.interrupt?.aborted === true;
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
            plan: planned ? planDocument(planned.plan, planned.state, undefined, planned.reconciled) : null,
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
  const stopped = () => {
    text(c.red('\nInterrupted: nothing was applied.'));
    return finish('interrupted', undefined, [], 1);
  };
  try {
    release = await lockState(io, prepared.backend, { operation: options.destroy ? 'fluxbase destroy' : 'fluxbase apply', waitMs: options.lockTimeoutMs, ttlMs: 30 * 60_000 });
    if (!release) return interrupted() ? stopped() : finish('locked', undefined, [], 1);
    planned = saved
      ? await loadSaved(io, prepared, saved, options.planFile!)
      : await makePlan(io, prepared, { destroy: options.destroy, targets: options.target, replace: options.replace });
    if (!planned) return finish('error', undefined, [], 1);
    const { plan, desired, live, state, reconciled } = planned;
    for (const line of reconciledLines(reconciled)) text(line);
    // What resolving the pending operations found is the truth, whatever happens next: keep it.
    if (reconciled.changed) {
      state.serial += 1;
      await prepared.backend.write(state);
    }
    if (reportErrors(io, plan.diagnostics)) return finish('error', undefined, plan.diagnostics, 1);
    if (interrupted()) return stopped();
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
          error('cli.interactive', `${options.destroy ? 'destroy' : 'apply'} needs confirmation, but this is not an interactive terminal`, {
            detail: `Review the plan and run \`fluxbase ${options.destroy ? 'destroy' : 'apply'} --auto-approve\`, or save it with \`fluxbase plan${options.destroy ? ' --destroy' : ''} --out plan.json\` and run \`fluxbase apply plan.json\`.`,
          }),
        ];
        printDiagnostics(io, d);
        return finish('refused', undefined, d, 1);
      }
      io.out(
        options.destroy
          ? "\nDo you really want to destroy every resource this configuration manages? There is no undo. Only 'yes' will be accepted to confirm."
          : "\nDo you want to perform these actions? Only 'yes' will be accepted to approve.",
      );
      const answer = (await io.prompt('  Enter a value: ').catch(() => '')).trim();
      if (interrupted()) return stopped();
      if (answer !== 'yes') {
        io.out(options.destroy ? 'Destroy cancelled.' : 'Apply cancelled.');
        return finish('cancelled', undefined, [], 1);
      }
    }
    text('');
    const backend = prepared.backend;
    const report = await applyPlan({
      client: prepared.client,
      plan,
      desired,
      tenants: live.tenants,
      state: state ?? emptyState(),
      // After the first, apply's writes are appended to the local backend's journal: one line per
      // write with what changed (state/journal.ts), instead of the whole document each time.
      persist: backend.append ? (s) => backend.append!(s) : (s) => backend.write(s),
      allowHazards: hazards.allowed,
      parallelism: options.parallelism,
      signal: io.interrupt,
      onReveal: revealer(io, options),
      onEvent: (e: ApplyEvent) => {
        const line = applyEventLine(e, c);
        if (line) text(line);
      },
    });
    // Fold the journal into the state file. Should that fail, the journal still holds every write
    // and the next command reads it: a warning, not a failed apply.
    if (backend.compact) {
      await backend.compact().catch((e: Error) =>
        report.diagnostics.push(warning('state.write', `the state's journal could not be folded into the state file: ${e.message}`, { detail: 'Nothing is lost: the next command reads the journal with the file, and its first write folds it in.' })),
      );
    }
    if (report.revealed.length > 0 && options.secretsOut) {
      text(`\nWrote ${report.revealed.length} new key value(s) to ${options.secretsOut} (mode 0600) as they were created. They are not shown again.`);
    }
    const failed = reportErrors(io, report.diagnostics);
    if (report.refused) return finish('refused', report, report.diagnostics, 1);
    if (failed) {
      const what = report.interrupted ? 'Apply interrupted' : 'Apply failed';
      text(c.red(`\n${what}: ${report.applied.length} applied, ${report.failed.length} failed, ${report.notAttempted.length} not attempted.`));
      for (const a of report.applied) text(`  applied:       ${a.address} (${a.action})`);
      for (const f of report.failed) text(`  failed:        ${f.address} (${f.action}): ${f.diagnostic.summary}`);
      for (const n of report.notAttempted) text(`  not attempted: ${n}`);
      if (report.interrupted) text('The state was saved and the lock released. Run apply again to make the rest; nothing needs cleaning up.');
      return finish(report.interrupted ? 'interrupted' : 'failed', report, report.diagnostics, 1);
    }
    text(c.bold(c.green(`\n${applyCompleteLine(plan)}`)));
    return finish('applied', report, report.diagnostics, options.detailedExitcode ? 2 : 0);
  } finally {
    await release?.();
    await prepared.client.close();
  }
}

/** Hands each new key value to the user at once: --secrets-out, and the terminal or --show-secrets. */
function revealer(io: CommandIO, options: ApplyOptions): (r: RevealedValue) => Promise<void> {
  let first = true;
  return async (r) => {
    if (options.secretsOut) await writeSecretsFile(options.secretsOut, [r]);
    if ((io.isTTY || options.showSecrets) && !options.json) {
      if (first) io.out('New key value (shown once; store it now):');
      first = false;
      io.out(`  ${r.name}=${r.value}`);
    }
  };
}

/**
 * Re-reads the live state for a saved plan, checks it is still exactly applicable, then resolves
 * the state's pending operations (as the plan did).
 */
async function loadSaved(io: CommandIO, prepared: Prepared, doc: PlanDocument, file: string): Promise<PlanResult | undefined> {
  const read = await readState(io, prepared.backend);
  if (read === false) return undefined;
  const state = read ?? emptyState();
  const desired = buildDesired(prepared.valid);
  // only what the configuration declares or manages: a saved plan is checked, not reported anew
  const live = await refresh({ client: prepared.client, desired, state, kinds: relevantKinds(desired, state) });
  const problems = [...live.diagnostics, ...checkSavedPlan({ doc, file, desired, state: read, live, endpoint: prepared.client.url })];
  if (hasErrors(problems)) {
    printDiagnostics(io, [...problems, error('apply.refused', `${file} is not applied: nothing was changed`)]);
    return undefined;
  }
  printDiagnostics(io, problems);
  const reconciled = reconcileState({ state, live, desired, moves: prepared.valid.config.moved });
  const plan: Plan = {
    formatVersion: doc.formatVersion,
    ...(doc.destroy ? { destroy: true as const } : {}),
    ...(doc.targets ? { targets: doc.targets } : {}),
    endpoint: doc.endpoint,
    desiredFingerprint: doc.desiredFingerprint,
    liveFingerprint: doc.liveFingerprint,
    changes: doc.changes,
    unmanaged: doc.unmanaged,
    diagnostics: [...doc.diagnostics, ...reconciled.diagnostics],
    summary: doc.summary,
    ...(doc.access ? { access: doc.access } : {}),
  };
  return { plan, desired, live, state, reconciled };
}

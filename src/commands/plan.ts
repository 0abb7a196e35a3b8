/**
 * `fluxbase plan`: show what apply would change. Exit codes: 0 success (with
 * --detailed-exitcode: no changes), 1 error, 2 changes present (with --detailed-exitcode).
 * `--out FILE` saves the plan for `fluxbase apply FILE`; `--json` prints the plan document;
 * `--format markdown` prints a pull-request comment (parts separated by a split marker).
 * `--refresh-only` (and `fluxbase drift`) reports every difference between the live instance and
 * the configuration as drift, with the same exit codes, making only reading calls; apply refuses
 * a saved refresh-only document. `--destroy` plans the deletion of everything the state manages;
 * `--target` and `--replace` narrow and force changes as on apply. The plan reads the state under
 * its lock (waiting up to --lock-timeout) so it never sees an apply's half-written work; `--no-lock`
 * reads without it, and says so.
 */
import { writeFile } from 'node:fs/promises';
import { hasChanges, type Plan } from '../model/plan.js';
import { renderPlan } from '../engine/render.js';
import { renderMarkdown } from '../engine/render-markdown.js';
import { planDocument, serialisePlan } from '../engine/plan-document.js';
import { hasErrors } from '../diag/index.js';
import { error, warning } from '../diag/index.js';
import { lockState, makePlan, prepare, reconciledLines, reportErrors, type ConfigOptions } from './common.js';
import { printDiagnostics, type CommandIO } from './io.js';
import { apiCalls, hazardTypesOf } from './output.js';

/** Options of `fluxbase plan`. */
export interface PlanOptions extends ConfigOptions {
  detailedExitcode?: boolean;
  out?: string;
  json?: boolean;
  format?: 'text' | 'markdown' | 'json';
  refreshOnly?: boolean;
  destroy?: boolean;
  target?: string[];
  replace?: string[];
  /** false (`--no-lock`): read the state without taking its lock. */
  lock?: boolean;
  /** How long to wait for the state lock, in ms (default 0: fail at once). */
  lockTimeoutMs?: number;
}

/** `fluxbase apply FILE`, with the `--allow-hazards` the plan needs. */
function applyCommandFor(plan: Plan, file: string): string {
  const hazards = hazardTypesOf(plan);
  return `fluxbase apply${hazards.length > 0 ? ` --allow-hazards=${hazards.join(',')}` : ''} ${file}`;
}

/** Marker between Markdown parts (each fits one pull-request comment). */
export const MARKDOWN_SPLIT = '<!-- fluxbase-iac: split -->';

/** Runs `fluxbase plan`; returns the exit code. */
export async function planCommand(io: CommandIO, options: PlanOptions): Promise<number> {
  const format = options.json ? 'json' : (options.format ?? 'text');
  if (options.destroy && options.refreshOnly) {
    printDiagnostics(io, [error('cli.usage', '--destroy and --refresh-only cannot be combined', { detail: 'A drift report compares the live instance with the configuration; a destroy plan ignores the configuration.' })]);
    return 1;
  }
  const prepared = await prepare(io, options);
  if (!prepared) return 1;
  let release: (() => Promise<void>) | undefined;
  try {
    if (options.lock === false) {
      printDiagnostics(io, [warning('state.locked', 'reading the state without its lock (--no-lock): an apply running now may change it while this plan is made')]);
    } else {
      release = await lockState(io, prepared.backend, { operation: options.refreshOnly ? 'fluxbase drift' : 'fluxbase plan', waitMs: options.lockTimeoutMs, ttlMs: 10 * 60_000 });
      if (!release) return 1;
    }
    const result = await makePlan(io, prepared, { refreshOnly: options.refreshOnly, destroy: options.destroy, targets: options.target, replace: options.replace });
    await release?.();
    release = undefined;
    if (!result) return 1;
    const { plan, state, reconciled } = result;
    const failed = reportErrors(io, plan.diagnostics);
    if (format === 'json') io.out(serialisePlan(planDocument(plan, state, apiCalls(prepared.client), reconciled)).trimEnd());
    if (failed) return 1;
    if (format === 'markdown') io.out(renderMarkdown(plan).join(`\n\n${MARKDOWN_SPLIT}\n\n`));
    else if (format === 'text') io.out([...reconciledLines(reconciled), renderPlan(plan, { color: io.color })].join('\n'));
    if (options.out) {
      await writeFile(options.out, serialisePlan(planDocument(plan, state, undefined, reconciled)), { mode: 0o600 });
      if (format === 'text') {
        io.out(
          options.refreshOnly
            ? `\nSaved the drift report to ${options.out} (a refresh-only report: apply refuses it).`
            : `\nSaved the plan to ${options.out}. Apply exactly this plan with: ${applyCommandFor(plan, options.out)}`,
        );
      }
    }
    return options.detailedExitcode && hasChanges(plan) && !hasErrors(plan.diagnostics) ? 2 : 0;
  } finally {
    await release?.();
    await prepared.client.close();
  }
}

/**
 * `fluxbase plan`: show what apply would change. Exit codes: 0 success (with
 * --detailed-exitcode: no changes), 1 error, 2 changes present (with --detailed-exitcode).
 * `--out FILE` saves the plan for `fluxbase apply FILE`; `--json` prints the plan document;
 * `--format markdown` prints a pull-request comment (parts separated by a split marker).
 * `--refresh-only` (and `fluxbase drift`) reports every difference between the live instance and
 * the configuration as drift, with the same exit codes, making only reading calls; apply refuses
 * a saved refresh-only document.
 */
import { writeFile } from 'node:fs/promises';
import { hasChanges, type Plan } from '../model/plan.js';
import { renderPlan } from '../engine/render.js';
import { renderMarkdown } from '../engine/render-markdown.js';
import { planDocument, serialisePlan } from '../engine/plan-document.js';
import { hasErrors } from '../diag/index.js';
import { makePlan, prepare, reportErrors, type ConfigOptions } from './common.js';
import type { CommandIO } from './io.js';
import { apiCalls, hazardTypesOf } from './output.js';

/** Options of `fluxbase plan`. */
export interface PlanOptions extends ConfigOptions {
  detailedExitcode?: boolean;
  out?: string;
  json?: boolean;
  format?: 'text' | 'markdown' | 'json';
  refreshOnly?: boolean;
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
  const prepared = await prepare(io, options);
  if (!prepared) return 1;
  try {
    const result = await makePlan(io, prepared, { refreshOnly: options.refreshOnly });
    if (!result) return 1;
    const { plan, state } = result;
    const failed = reportErrors(io, plan.diagnostics);
    if (format === 'json') io.out(serialisePlan(planDocument(plan, state, apiCalls(prepared.client))).trimEnd());
    if (failed) return 1;
    if (format === 'markdown') io.out(renderMarkdown(plan).join(`\n\n${MARKDOWN_SPLIT}\n\n`));
    else if (format === 'text') io.out(renderPlan(plan, { color: io.color }));
    if (options.out) {
      await writeFile(options.out, serialisePlan(planDocument(plan, state)), { mode: 0o600 });
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
    await prepared.client.close();
  }
}

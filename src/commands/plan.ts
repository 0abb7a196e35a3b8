/**
 * `fluxbase plan`: show what apply would change. Exit codes: 0 success (with
 * --detailed-exitcode: no changes), 1 error, 2 changes present (with --detailed-exitcode).
 */
import { hasChanges } from '../model/plan.js';
import { renderPlan } from '../engine/render.js';
import { makePlan, prepare, reportErrors, type ConfigOptions } from './common.js';
import type { CommandIO } from './io.js';

/** Options of `fluxbase plan`. */
export interface PlanOptions extends ConfigOptions {
  detailedExitcode?: boolean;
}

/** Runs `fluxbase plan`; returns the exit code. */
export async function planCommand(io: CommandIO, options: PlanOptions): Promise<number> {
  const prepared = await prepare(io, options);
  if (!prepared) return 1;
  try {
    const result = await makePlan(io, prepared);
    if (!result) return 1;
    const { plan } = result;
    if (reportErrors(io, plan.diagnostics)) return 1;
    io.out(renderPlan(plan, { color: io.color }));
    return options.detailedExitcode && hasChanges(plan) ? 2 : 0;
  } finally {
    await prepared.client.close();
  }
}

/**
 * `fluxbase apply`: plan, show, confirm (unless --auto-approve; a non-interactive run refuses
 * without it), then apply step by step under the state lock.
 */
import { applyPlan, type ApplyEvent } from '../engine/apply.js';
import { renderPlan, styler } from '../engine/render.js';
import { error } from '../diag/index.js';
import { HAZARD_TYPES, hasChanges, type HazardType } from '../model/plan.js';
import { emptyState } from '../state/document.js';
import { StateLockedError } from '../state/backend.js';
import { makePlan, prepare, reportErrors, type ConfigOptions } from './common.js';
import { printDiagnostics, type CommandIO } from './io.js';

/** Options of `fluxbase apply`. */
export interface ApplyOptions extends ConfigOptions {
  autoApprove?: boolean;
  allowHazards?: string;
  /** How long to wait for the state lock, in ms (default 0: fail at once). */
  lockTimeoutMs?: number;
}

const VERBS: Record<string, [string, string]> = {
  create: ['Creating...', 'Creation complete'],
  update: ['Modifying...', 'Modifications complete'],
  delete: ['Destroying...', 'Destruction complete'],
  replace: ['Replacing...', 'Replacement complete'],
};

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

/** Runs `fluxbase apply`; returns the exit code (0 applied or nothing to do, 1 error). */
export async function applyCommand(io: CommandIO, options: ApplyOptions): Promise<number> {
  const hazards = parseHazards(options.allowHazards);
  if (hazards.unknown.length > 0) {
    printDiagnostics(io, [error('cli.usage', `unknown hazard type(s): ${hazards.unknown.join(', ')}`, { detail: `Known hazards: ${HAZARD_TYPES.join(', ')}.` })]);
    return 1;
  }
  const prepared = await prepare(io, options);
  if (!prepared) return 1;
  let release: (() => Promise<void>) | undefined;
  try {
    try {
      release = await prepared.backend.lock({ operation: 'fluxbase apply', waitMs: options.lockTimeoutMs ?? 0, ttlMs: 30 * 60_000 });
    } catch (e) {
      if (e instanceof StateLockedError) {
        printDiagnostics(io, [error('state.locked', e.message)]);
        return 1;
      }
      throw e;
    }
    const result = await makePlan(io, prepared);
    if (!result) return 1;
    const { plan, desired, live, state } = result;
    if (reportErrors(io, plan.diagnostics)) return 1;
    io.out(renderPlan(plan, { color: io.color }));
    if (!hasChanges(plan)) return 0;
    if (!options.autoApprove) {
      if (!io.prompt) {
        printDiagnostics(io, [
          error('cli.interactive', 'apply needs confirmation, but this is not an interactive terminal', {
            detail: 'Review the plan above and run `fluxbase apply --auto-approve` to apply it without a prompt.',
          }),
        ]);
        return 1;
      }
      io.out('\nDo you want to perform these actions? Only \'yes\' will be accepted to approve.');
      const answer = (await io.prompt('  Enter a value: ')).trim();
      if (answer !== 'yes') {
        io.out('Apply cancelled.');
        return 1;
      }
    }
    io.out('');
    const c = styler(io.color);
    const report = await applyPlan({
      client: prepared.client,
      plan,
      desired,
      tenants: live.tenants,
      state: state ?? emptyState(),
      persist: (s) => prepared.backend.write(s),
      allowHazards: hazards.allowed,
      onEvent: (e: ApplyEvent) => {
        if (e.type === 'start') io.out(`${e.change.address}: ${VERBS[e.change.action]![0]}`);
        else if (e.type === 'done') io.out(`${e.change.address}: ${VERBS[e.change.action]![1]} after ${(e.ms / 1000).toFixed(1)}s`);
        else if (e.type === 'fail') io.out(c.red(`${e.change.address}: failed: ${e.diagnostic.summary}`));
      },
    });
    for (const r of report.revealed) {
      io.out(`${r.address}: ${r.name} = ${r.value}`);
    }
    if (reportErrors(io, report.diagnostics) || report.refused) {
      if (!report.refused) io.out(c.red(`\nApply failed: ${report.applied.length} applied, ${report.failed.length} failed, ${report.notAttempted.length} not attempted.`));
      return 1;
    }
    const s = plan.summary;
    io.out(c.bold(c.green(`\nApply complete! Resources: ${s.add} added, ${s.change} changed, ${s.destroy} destroyed.`)));
    return 0;
  } finally {
    await release?.();
    await prepared.client.close();
  }
}

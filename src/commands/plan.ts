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
import { securityLints } from '../access/lints.js';
import { lockState, makePlan, prepare, reconciledLines, reportErrors, type ConfigOptions, type Prepared } from './common.js';
import { printDiagnostics, type CommandIO } from './io.js';
import { apiCalls, hazardTypesOf } from './output.js';
import { buildDesired } from '../engine/graph.js';
import type { PlanResult } from '../engine/session.js';
// The sandbox, the proof and the access tests run only with --prove and --test: imported then, so
// that a plain plan does not load them (nor `yaml`, which export brings in: ~40 ms).
import type { ProofReport } from '../sandbox/prove.js';

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
  /** Run the configuration's tests on a local emulator first; no plan when they fail. */
  test?: boolean;
  /** Prove the plan on a local copy of the live schema (src/sandbox/prove.ts). */
  prove?: boolean;
  /** PostgreSQL server for the local emulator of --test and --prove (default: embedded). */
  databaseUrl?: string;
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
    if (options.test && !options.refreshOnly) {
      // The tests' report goes to stderr when stdout carries the JSON document.
      const { runTests } = await import('./test.js');
      const code = await runTests(format === 'json' ? { ...io, out: io.err } : io, prepared.valid, { databaseUrl: options.databaseUrl });
      if (code !== 0) {
        io.err(code === 1 ? 'The tests fail: no plan is shown. Fix the configuration (or the tests) and plan again.' : 'The tests could not run: no plan is shown.');
        return 1;
      }
    }
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
    // Lints describe the configuration, not the plan: printed (and in --json), never saved with --out.
    const lints = options.refreshOnly || options.destroy ? [] : securityLints(prepared.valid);
    const failed = reportErrors(io, [...plan.diagnostics, ...lints]);
    const printed = () => ({ ...planDocument(plan, state, apiCalls(prepared.client), reconciled), diagnostics: [...plan.diagnostics, ...lints] });
    if (failed) {
      if (format === 'json') io.out(serialisePlan(printed()).trimEnd());
      return 1;
    }
    if (format === 'markdown') io.out(renderMarkdown(plan).join(`\n\n${MARKDOWN_SPLIT}\n\n`));
    else if (format === 'text') io.out([...reconciledLines(reconciled), renderPlan(plan, { color: io.color })].join('\n'));
    const proof = options.prove && !options.refreshOnly && !options.destroy ? await prove(io, prepared, result, options, format) : undefined;
    if (format === 'json') io.out(serialisePlan({ ...printed(), ...(proof ? { proof } : {}) }).trimEnd());
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
    if (proof && !(await import('../sandbox/prove.js')).proofHolds(proof)) return 1;
    return options.detailedExitcode && hasChanges(plan) && !hasErrors(plan.diagnostics) ? 2 : 0;
  } finally {
    await release?.();
    await prepared.client.close();
  }
}

/**
 * `--prove`: the plan reproduced on a local copy of the live schema (src/sandbox/prove.ts), the
 * report printed after the plan (text, Markdown) or returned for the JSON document.
 */
async function prove(io: CommandIO, prepared: Prepared, result: PlanResult, options: PlanOptions, format: string): Promise<ProofReport> {
  const [{ testSuite }, { startSandbox }, { provePlan, renderProof }, { runSuiteOn }] = await Promise.all([
    import('../access/test-spec.js'),
    import('../sandbox/sandbox.js'),
    import('../sandbox/prove.js'),
    import('./test.js'),
  ]);
  const valid = prepared.valid;
  const { suite } = testSuite(valid);
  const sandbox = await startSandbox({ databaseUrl: options.databaseUrl });
  try {
    const report = await provePlan({
      real: result,
      desired: buildDesired(valid),
      imports: new Set(valid.config.import ?? []),
      sandbox,
      client: prepared.client,
      ...(suite.cases.length > 0
        ? {
            runTests: async (box) => {
              const run = await runSuiteOn(box, suite);
              const failed = run.results.filter((r) => !r.passed);
              return {
                passed: run.results.length - failed.length,
                failed: failed.length + run.errors.length,
                failures: [...run.errors, ...failed.map((r) => `${r.case.name}: ${r.problems.join('; ')}`)],
              };
            },
          }
        : {}),
    });
    const lines = renderProof(report);
    if (format === 'markdown') io.out(['', '#### Proof', '', '```', ...lines, '```'].join('\n'));
    else if (format === 'text') io.out(['', ...lines].join('\n'));
    return report;
  } finally {
    await sandbox.close();
  }
}

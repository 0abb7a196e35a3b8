/**
 * `fluxbase test`: run the configuration's `tests:` on a fresh local emulator — never on the
 * instance FLUXBASE_URL names. The tenants, tables, grants and policies are applied there with
 * the real server's behaviour, the fixtures loaded, and each case run under the role and JWT
 * claims Fluxbase would set for the request (src/access/test-run.ts). `--junit FILE` writes a
 * JUnit XML report. Exit codes: 0 every case passed (or there are none), 1 a case failed,
 * 2 the tests could not run (invalid configuration, the emulator or the apply failed).
 * `fluxbase plan --test` runs the same before planning.
 */
import { writeFile } from 'node:fs/promises';
import { formatDiagnostic, hasErrors } from '../diag/index.js';
import { buildDesired } from '../engine/graph.js';
import { styler } from '../engine/render.js';
import type { ValidConfig } from '../engine/validate.js';
import { DEFAULT_TENANT_SLUG } from '../resources/tenant.js';
import { loadFixtures, runSuite, type CaseResult } from '../access/test-run.js';
import { junitReport, renderResults } from '../access/test-report.js';
import { testSuite, type TestSuite } from '../access/test-spec.js';
import { applyInSandbox, SCHEMA_KINDS, sandboxTenants, selectDesired, startSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { loadWithPlaceholders, type ConfigOptions } from './common.js';
import { printDiagnostics, type CommandIO } from './io.js';

/** Options of `fluxbase test` (and the test part of `plan --test`). */
export interface TestOptions {
  /** A PostgreSQL server for the emulator instead of the embedded one. */
  databaseUrl?: string;
  /** Write a JUnit XML report here. */
  junit?: string;
}

/** Exit code when the tests could not run. */
export const TESTS_NOT_RUN = 2;

/** Runs `fluxbase test`; returns the exit code. */
export async function testCommand(io: CommandIO, options: ConfigOptions & TestOptions): Promise<number> {
  const prepared = await loadWithPlaceholders(io, options);
  if (!prepared) return TESTS_NOT_RUN;
  printDiagnostics(io, prepared.loaded.diagnostics);
  if (!prepared.loaded.valid) return TESTS_NOT_RUN;
  return runTests(io, prepared.loaded.valid, options);
}

/**
 * Runs the tests of a valid config on a new sandbox and prints the results; the exit code as
 * {@link testCommand}.
 */
export async function runTests(io: CommandIO, valid: ValidConfig, options: TestOptions): Promise<number> {
  const c = styler(io.color);
  const { suite } = testSuite(valid);
  if (suite.cases.length === 0) {
    io.out(`No tests: ${valid.file} declares no tests.cases.`);
    if (options.junit) await writeFile(options.junit, junitReport([]));
    return 0;
  }
  const started = Date.now();
  io.out(c.bold(`Running ${suite.cases.length} test case(s) on a fresh local emulator (${options.databaseUrl ? 'PostgreSQL server' : 'embedded PostgreSQL, in memory'})...`));
  let box: Sandbox | undefined;
  let run: SuiteRun;
  try {
    box = await startSandbox({ databaseUrl: options.databaseUrl });
    const errors = await applySchema(box, valid, suite);
    run = errors.length > 0 ? { results: [], errors } : await runSuiteOn(box, suite);
  } catch (e) {
    run = { results: [], errors: [`the local emulator failed: ${(e as Error).message}`] };
  } finally {
    await box?.close();
  }
  if (options.junit) await writeFile(options.junit, junitReport(run.results, run.errors));
  if (run.errors.length > 0) {
    for (const e of run.errors) io.err(c.red(`error[test.error]: ${e}`));
    io.err('The tests could not run. Nothing was changed anywhere but in the throwaway emulator.');
    return TESTS_NOT_RUN;
  }
  io.out(renderResults(run.results, { color: io.color }));
  io.out(c.dim(`(${((Date.now() - started) / 1000).toFixed(1)}s${options.junit ? `; JUnit report: ${options.junit}` : ''})`));
  return run.results.every((r) => r.passed) ? 0 : 1;
}

/** Results of a suite, or why it could not run. */
export interface SuiteRun {
  results: CaseResult[];
  errors: string[];
}

/** Loads the fixtures into a sandbox that holds the schema, and runs the cases. */
export async function runSuiteOn(box: Sandbox, suite: TestSuite): Promise<SuiteRun> {
  const tenants = await sandboxTenants(box);
  const errors = await loadFixtures(box.emulator, suite.fixtures, tenants);
  return errors.length > 0 ? { results: [], errors } : { results: await runSuite(box.emulator, suite, tenants), errors: [] };
}

/** Applies the tenants the tests use (and the default tenant) with their tables, grants and policies. */
async function applySchema(box: Sandbox, valid: ValidConfig, suite: TestSuite): Promise<string[]> {
  const tenants = new Set([DEFAULT_TENANT_SLUG, ...suite.cases.map((x) => x.tenant), ...suite.fixtures.map((f) => f.tenant)]);
  const applied = await applyInSandbox(box, { desired: selectDesired(buildDesired(valid), SCHEMA_KINDS, tenants) });
  if (!hasErrors(applied.diagnostics)) return [];
  return applied.diagnostics.map((d) => `applying the configuration to the emulator failed: ${formatDiagnostic(d)}`);
}

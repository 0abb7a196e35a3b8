/**
 * Chaos: interrupted applies always converge (issue 12). Each lane runs its own emulator process
 * on the test PostgreSQL server (`fluxbase local start --database-url … --database-prefix …`, so
 * its data survives being killed) behind a proxy that sees every request. A trial moves the lane
 * to the next seeded multi-tenant configuration and runs `fluxbase apply` (dist/cli.js), and when
 * the k-th write request of that apply reaches the proxy it strikes, after a random delay:
 *
 * - SIGINT, SIGTERM, SIGINT twice, or SIGKILL to the CLI;
 * - SIGKILL to the emulator, started again a moment later on the same databases;
 * - every connection reset, and new ones refused for a moment.
 *
 * Then a plain `fluxbase apply` — with the hazards the original plan had, no more — must converge
 * with no manual step; the next plan (made in this process with the CLI's engine, which saves a
 * process start per trial) must be clean: no change, no diagnostic, nothing unmanaged; no webhook,
 * tenant or key may exist twice; every live key's value must be in the --secrets-out file; no
 * temporary or lock file may remain; and an observer polling the databases must never have seen a
 * table without row-level security (every chaos table declares it).
 *
 * CHAOS_TRIALS (default 52) and CHAOS_LANES (default 4) size it; CHAOS_SEED changes the seeds.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FluxbaseClient } from '../../src/client/http.js';
import { loadConfig, planConfig } from '../../src/engine/session.js';
import { LocalStateBackend } from '../../src/state/local.js';
import { chaosBaseConfig, chaosConfig, CHAOS_TENANTS, rng, RlsObserver } from '../support/chaos.js';
import { EmulatorProcess } from '../support/emulator-process.js';
import { ChaosProxy } from '../support/proxy.js';
import { ROOT } from './harness.js';

const TRIALS = Number(process.env.CHAOS_TRIALS ?? 52);
const LANES = Math.max(1, Math.min(TRIALS, Number(process.env.CHAOS_LANES ?? 4)));
const SEED = Number(process.env.CHAOS_SEED ?? 20_260_312);
const CLI = path.join(ROOT, 'dist/cli.js');

const FAULTS = ['sigint', 'sigterm', 'sigint-twice', 'sigkill', 'emulator-kill', 'connection-reset'] as const;
type Fault = (typeof FAULTS)[number];

/** What one trial saw. */
interface TrialResult {
  trial: number;
  fault: Fault;
  /** The fault struck at the k-th write request of the apply (undefined: the apply finished first). */
  struckAt?: number;
  firstExit: number;
  resolved: number;
  converged: boolean;
  problems: string[];
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
function cli(dir: string, env: Record<string, string>, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/**
 * Plans the workspace's configuration against its state, in this process, with the same engine
 * the CLI runs (saves a process start per trial on a loaded CI machine).
 */
async function planHere(dir: string, emu: EmulatorProcess) {
  const { valid, diagnostics } = await loadConfig(path.join(dir, 'fluxbase.config.yaml'));
  if (!valid) throw new Error(`chaos config invalid: ${JSON.stringify(diagnostics)}`);
  const client = new FluxbaseClient({ url: emu.url, credentials: { token: emu.token } });
  try {
    const state = await new LocalStateBackend(path.join(dir, 'fluxbase.state.json')).read();
    return (await planConfig({ client, valid, state })).plan;
  } finally {
    await client.close();
  }
}

/** The hazard types of the plan the next apply will make (the original plan's). */
async function hazardsOf(dir: string, emu: EmulatorProcess): Promise<string[]> {
  const plan = await planHere(dir, emu);
  const errors = plan.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`pre-plan failed: ${JSON.stringify(errors)}`);
  return [...new Set(plan.changes.flatMap((c) => c.hazards.map((h) => h.type)))].sort();
}

/** Duplicates of what the server does not keep unique, and keys whose value the user never got. */
async function serverProblems(emu: EmulatorProcess, databaseUrl: string, secretsFile: string): Promise<string[]> {
  const url = new URL(databaseUrl);
  url.pathname = `/${emu.database()}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  const problems: string[] = [];
  try {
    const dupHooks = await db.query('SELECT tenant_id, name, count(*)::int AS n FROM auth.webhooks GROUP BY 1, 2 HAVING count(*) > 1');
    for (const r of dupHooks.rows) problems.push(`webhook ${r.name} exists ${r.n} times`);
    const dupTenants = await db.query('SELECT slug, count(*)::int AS n FROM platform.tenants WHERE deleted_at IS NULL GROUP BY 1 HAVING count(*) > 1');
    for (const r of dupTenants.rows) problems.push(`tenant ${r.slug} exists ${r.n} times`);
    const keys = await db.query<{ name: string; key_prefix: string; slug: string | null }>(
      'SELECT k.name, k.key_prefix, t.slug FROM auth.service_keys k LEFT JOIN platform.tenants t ON t.id = k.tenant_id WHERE k.revoked_at IS NULL',
    );
    const secrets = await readFile(secretsFile, 'utf8').catch(() => '');
    const latest = new Map<string, string>();
    for (const line of secrets.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) latest.set(line.slice(0, eq), line.slice(eq + 1));
    }
    for (const k of keys.rows) {
      const name = `SERVICE_KEY_${(k.slug ?? 'default').toUpperCase()}_${k.name.toUpperCase()}`;
      const value = latest.get(name);
      if (!value?.startsWith(k.key_prefix)) problems.push(`the value of ${name} (live prefix ${k.key_prefix}) is not in the secrets file`);
    }
  } finally {
    await db.end();
  }
  return problems;
}

/** Runs one lane's trials in order; returns what each saw. */
async function runLane(lane: number, trials: number[], databaseUrl: string, log: string[]): Promise<TrialResult[]> {
  const laneStarted = Date.now();
  const emu = await EmulatorProcess.start(databaseUrl, `fbchaos_${lane}_${randomBytes(3).toString('hex')}_`);
  const proxy = await ChaosProxy.start(emu.port);
  const dir = await mkdtemp(path.join(tmpdir(), `fluxbase-chaos-${lane}-`));
  const secretsFile = path.join(dir, 'keys.env');
  const env = { FLUXBASE_URL: proxy.url, FLUXBASE_TOKEN: emu.token, FLUXBASE_VERIFY_JOURNAL: '1' };
  const observer = new RlsObserver(databaseUrl, [emu.database(), ...CHAOS_TENANTS.map((t) => emu.database(t))]);
  const results: TrialResult[] = [];
  try {
    await writeFile(path.join(dir, 'fluxbase.config.yaml'), chaosBaseConfig());
    const setup = await cli(dir, env, ['apply', '--auto-approve']);
    if (setup.code !== 0) throw new Error(`lane ${lane} setup failed:\n${setup.stdout}\n${setup.stderr}`);
    log.push(`lane ${lane}: emulator and tenants ready after ${((Date.now() - laneStarted) / 1000).toFixed(1)} s`);
    observer.start();
    for (const trial of trials) {
      const trialStarted = Date.now();
      const r = rng(SEED + trial * 7919);
      const fault = r.pick(FAULTS);
      const k = 1 + r.int(8);
      const delayMs = r.int(40);
      observer.during = `trial ${trial}`;
      await writeFile(path.join(dir, 'fluxbase.config.yaml'), chaosConfig(SEED + trial));
      const hazards = await hazardsOf(dir, emu);
      const allow = hazards.length > 0 ? [`--allow-hazards=${hazards.join(',')}`] : [];
      const result: TrialResult = { trial, fault, firstExit: 0, resolved: 0, converged: false, problems: [] };

      const child = spawn(process.execPath, [CLI, 'apply', '--auto-approve', '--secrets-out', secretsFile, ...allow], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', HOME: dir, NO_COLOR: '1', ...env },
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 128))));
      let writes = 0;
      let restarted: Promise<void> | undefined;
      const strike = () => {
        if (fault === 'sigint' || fault === 'sigterm') child.kill(fault === 'sigint' ? 'SIGINT' : 'SIGTERM');
        else if (fault === 'sigint-twice') {
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGINT'), r.int(30));
        } else if (fault === 'sigkill') child.kill('SIGKILL');
        else if (fault === 'connection-reset') proxy.resetAll(50 + r.int(350));
        else {
          proxy.setTarget(undefined);
          restarted = emu.kill().then(async () => {
            await new Promise((res) => setTimeout(res, r.int(300)));
            await emu.restart();
            proxy.setTarget(emu.port);
          });
        }
      };
      proxy.onRequest = (req) => {
        // writes only: reads (GET, and the catalog query POST /sql/execute) do not count
        if (req.method === 'GET' || req.path.startsWith('/api/v1/admin/sql/execute') || result.struckAt !== undefined) return;
        writes++;
        if (writes === k) {
          result.struckAt = k;
          setTimeout(strike, delayMs);
        }
      };
      result.firstExit = await exited;
      proxy.onRequest = undefined;
      if (result.struckAt === undefined && (fault === 'emulator-kill' || fault === 'connection-reset')) strike();
      await restarted;
      await observer.check(); // what the interruption left, before anything repairs it
      if ((fault === 'sigint' || fault === 'sigterm') && result.struckAt !== undefined && result.firstExit !== 0) {
        if (result.firstExit !== 1) result.problems.push(`graceful interrupt exited ${result.firstExit}`);
        if (!/Apply interrupted|Interrupted: nothing was applied|Apply failed/.test(out)) result.problems.push('graceful interrupt printed no report');
        if ((await readdir(dir)).includes('fluxbase.state.json.lock')) result.problems.push('graceful interrupt left the lock');
      }

      const converge = await cli(dir, env, ['apply', '--auto-approve', '--secrets-out', secretsFile, ...allow]);
      result.resolved = (converge.stdout.match(/^ {2}\S.*: the interrupted /gm) ?? []).length;
      if (converge.code !== 0) result.problems.push(`converging apply exited ${converge.code}:\n${converge.stdout.slice(-1500)}\n${converge.stderr.slice(-1500)}`);
      const after = await planHere(dir, emu);
      const left = after.changes.filter((c) => c.action !== 'no-op' || c.importing || c.forget || c.movedFrom);
      if (left.length > 0) result.problems.push(`the plan after it is not clean: ${left.map((c) => `${c.address} ${c.action}`).join(', ')}`);
      if (after.diagnostics.length > 0) result.problems.push(`the plan after it reports: ${after.diagnostics.map((d) => d.summary).join('; ')}`);
      if (after.unmanaged.length > 0) result.problems.push(`left unmanaged: ${after.unmanaged.map((u) => u.address).join(', ')}`);
      result.problems.push(...(await serverProblems(emu, databaseUrl, secretsFile)));
      const leftovers = (await readdir(dir)).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'));
      if (leftovers.length > 0) result.problems.push(`files left behind: ${leftovers.join(', ')}`);
      result.converged = result.problems.length === 0;
      results.push(result);
      log.push(
        `trial ${String(trial).padStart(2)} lane ${lane}: ${fault.padEnd(16)} ${result.struckAt ? `at write ${result.struckAt}` : 'after the apply'}` +
          ` → first exit ${result.firstExit}, ${result.resolved} pending resolved, ${result.converged ? 'converged' : `PROBLEMS: ${result.problems.join(' | ')}`}` +
          ` (${((Date.now() - trialStarted) / 1000).toFixed(1)} s)`,
      );
    }
    observer.during = 'end';
    await observer.check();
  } finally {
    await observer.stop();
    await proxy.close();
    await emu.dispose();
    await rm(dir, { recursive: true, force: true });
  }
  for (const e of observer.exposures) {
    const trial = results.find((t) => `trial ${t.trial}` === e.during);
    const problem = `table ${e.table} seen without row-level security in ${e.database} (${e.during})`;
    if (trial) {
      trial.problems.push(problem);
      trial.converged = false;
    } else log.push(`lane ${lane}: ${problem}`);
  }
  log.push(`lane ${lane}: the observer checked the databases ${observer.polls} times`);
  return results;
}

describe('chaos: interrupted applies converge', () => {
  const log: string[] = [];
  afterAll(() => {
    console.log(log.join('\n'));
  });

  it(`converges after ${TRIALS} seeded interruptions of a multi-tenant apply`, { timeout: 900_000 }, async () => {
    const databaseUrl = inject('databaseUrl');
    const lanes = Array.from({ length: LANES }, (_, lane) => Array.from({ length: TRIALS }, (_, i) => i + 1).filter((t) => t % LANES === lane));
    const started = Date.now();
    const results = (await Promise.all(lanes.map((trials, lane) => runLane(lane + 1, trials, databaseUrl, log)))).flat().sort((a, b) => a.trial - b.trial);
    const byFault = FAULTS.map((f) => `${f} ${results.filter((r) => r.fault === f).length}`).join(', ');
    const struck = results.filter((r) => r.struckAt !== undefined).length;
    const resolved = results.reduce((n, r) => n + r.resolved, 0);
    log.push(
      `chaos: ${results.length} trials in ${((Date.now() - started) / 1000).toFixed(0)} s on ${LANES} lanes (${byFault}); ` +
        `${struck} struck mid-apply, ${results.length - struck} after it finished; ${resolved} pending operations resolved; ` +
        `${results.filter((r) => r.converged).length} converged with no manual step.`,
    );
    expect(results).toHaveLength(TRIALS);
    expect(results.filter((r) => !r.converged).map((r) => `trial ${r.trial} (${r.fault}): ${r.problems.join(' | ')}`)).toEqual([]);
  });
});

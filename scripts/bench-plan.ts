/**
 * Benchmark of the targets in docs/performance.md: for the root config and generated configs of
 * about 1,000 and 10,000 resources, the wall time, API calls and peak RSS of a no-change
 * `fluxbase plan` and the wall time of `fluxbase apply` from empty (at 1,000 also with the state
 * kept in the instance, and its state writes); a plan with 1,000 changes among the 10,000; and the
 * start-up of `--version`, `--help` and `validate`. The emulator runs as its own process
 * (`fluxbase local start`) on a throwaway PostgreSQL server (or
 * FLUXBASE_TEST_DATABASE_URL), so the CLI pays real HTTP. Every CLI run is a new process, start
 * included. Needs `npm run build`. Prints figures and whether each meets its target; asserts
 * nothing (the machine may be shared: see the load average printed with the figures).
 *
 *     npx tsx scripts/bench-plan.ts [--runs 5] [--sizes root,1000,10000] [--parallelism 10]
 *     BENCH_CPU_PROF=/tmp/prof npx tsx scripts/bench-plan.ts --sizes 1000   # plus a CPU profile of each run
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestPostgres } from '../test/support/postgres.js';
import { RESOURCE_KINDS } from '../src/model/resource.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli.js');
const option = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const RUNS = Number(option('runs', '5'));
const SIZES = option('sizes', 'root,1000,10000').split(',');
const PARALLELISM = option('parallelism', '10');
const SECRETS = ['SIGNUP_WEBHOOK_SECRET', 'POSTS_WEBHOOK_SECRET', 'ACME_TASKS_WEBHOOK_SECRET', 'GITHUB_CLIENT_SECRET', 'CORP_SSO_CLIENT_SECRET', 'NEWSLETTER_SMTP_PASSWORD'];
const TIME = existsSync('/usr/bin/time');

/** Targets (issue 14, docs/performance.md). */
const TARGET = {
  plan: { root: 1000, 1000: 1000, 10000: 5000 } as Record<string, number>,
  rss: { root: 150, 1000: 150, 10000: 300 } as Record<string, number>,
  changes: 6000,
  start: 150,
  validate: 400,
};

interface Run {
  code: number;
  stdout: string;
  /** stderr without the line /usr/bin/time appends. */
  stderr: string;
  ms: number;
  rssMiB: number;
  /** CPU time of the process (user + system), which waiting for the server or for a busy machine does not inflate. */
  cpuMs: number;
}

function run(dir: string, args: string[], env: Record<string, string>): Promise<Run> {
  const t0 = performance.now();
  // BENCH_CPU_PROF=DIR: every CLI run writes a V8 CPU profile there (open it in Chrome DevTools).
  const node = [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), CLI, ...args];
  const [cmd, argv] = TIME ? ['/usr/bin/time', ['-f', '%M %U %S', process.execPath, ...node]] : [process.execPath, node];
  return new Promise((resolve) => {
    execFile(cmd, argv as string[], { cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      const lines = stderr.trim().split('\n');
      const [rss, user, sys] = ((TIME ? lines.pop() : undefined) ?? '').split(' ').map(Number);
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr: lines.join('\n'), ms: performance.now() - t0, rssMiB: (rss ?? NaN) / 1024, cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000 });
    });
  });
}

async function must(label: string, p: Promise<Run>, ok = [0]): Promise<Run> {
  const r = await p;
  if (!ok.includes(r.code)) throw new Error(`${label} exited ${r.code}:\n${r.stdout.slice(0, 4000)}\n${r.stderr.slice(0, 4000)}`);
  return r;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(', ');
const ms = (x: number) => `${Math.round(x).toLocaleString('en')} ms`;
const mark = (ok: boolean) => (ok ? 'yes' : 'NO');

/**
 * A config with `tenants` × `tables` tables, 2 policies per table and 2 webhooks per tenant. The
 * tables are in each tenant's `public` with grants for `authenticated`, as a configuration for the
 * real server declares them (docs/tenants.md: a tenant's other schemas are DDL-only, and public
 * tables are closed to API roles without grants), so the plans print no lint about them; the
 * webhooks keep their F7 warning (a tenant database's row changes never reach a webhook).
 * `changed` tables (in declaration order) get one more column and a different read policy:
 * 2 × `changed` changes against the config as applied.
 */
function generated(tenants: number, tables: number, changed = 0): string {
  const lines = ['version: 1', 'tenants:'];
  let n = 0;
  for (let t = 0; t < tenants; t++) {
    lines.push(`  t${t}:`, `    name: Tenant ${t}`, '    schemas:', '      public:', '        tables:');
    for (let k = 0; k < tables; k++) {
      const change = n++ < changed;
      lines.push(
        `          items_${k}:`,
        '            columns:',
        '              id:         { type: uuid, primary_key: true, default: gen_random_uuid() }',
        '              owner_id:   { type: uuid, nullable: false }',
        '              name:       { type: text, nullable: false, default: "\'unnamed\'" }',
        '              price:      { type: numeric, default: 0 }',
        '              created_at: { type: timestamptz, nullable: false, default: now() }',
        ...(change ? ['              note:       { type: text }'] : []),
        '            grants: { authenticated: [SELECT, INSERT, UPDATE, DELETE] }',
        '            rls:',
        '              enabled: true',
        '              policies:',
        `                items_${k}_read: { command: SELECT, roles: [authenticated], using: "owner_id = auth.uid() OR price > ${change ? 1 : 0}" }`,
        `                items_${k}_write: { command: ALL, roles: [authenticated], using: owner_id = auth.uid(), with_check: owner_id = auth.uid() }`,
      );
    }
    lines.push('    webhooks:');
    for (let w = 0; w < 2; w++) lines.push(`      hook-${w}:`, `        url: https://hooks.example.com/t${t}/${w}`, `        events: [{ table: public.items_${w}, operations: [INSERT] }]`);
  }
  return `${lines.join('\n')}\n`;
}

/** The emulator's dashboard admin (state in the instance and custom settings need a login). */
const ADMIN = { FLUXBASE_ADMIN_EMAIL: 'bench@example.com', FLUXBASE_ADMIN_PASSWORD: 'bench-password-123' };

/**
 * Runs `fluxbase local start` as its own process (like a real server), on the given PostgreSQL;
 * `env` is what a CLI run needs to reach it (URL, service-role token, admin login).
 */
async function localStart(databaseUrl: string): Promise<{ env: Record<string, string>; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'local', 'start', '--port', '0', '--debug', '--database-url', databaseUrl], {
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...ADMIN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  while (!/FLUXBASE_TOKEN=\S+/.test(out)) {
    if (child.exitCode !== null) throw new Error(`local start failed:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    env: { FLUXBASE_URL: /listening on (\S+)/.exec(out)![1]!, FLUXBASE_TOKEN: /FLUXBASE_TOKEN=(\S+)/.exec(out)![1]!, ...ADMIN },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

interface PlanDoc {
  summary: { add: number; change: number; destroy: number; unchanged: number };
  changes: { kind: string; action: string }[];
  apiCalls: { total: number; byRoute: Record<string, number> };
}

interface Row {
  label: string;
  resources: number;
  planMs: number;
  planCpuMs: number;
  planTarget: number;
  calls: number;
  callLimit: number;
  rssMiB: number;
  rssTarget: number;
  applyMs: number;
  changes: number;
  writes: number;
}

/** No-change plans of a config, after applying it from empty. */
async function bench(size: string, config: string, env: Record<string, string>, databaseUrl: string, rows: Row[], extra?: (dir: string, all: Record<string, string>) => Promise<void>): Promise<void> {
  const emulator = await localStart(databaseUrl);
  const dir = await mkdtemp(path.join(tmpdir(), 'fluxbase-bench-'));
  try {
    const all = { ...emulator.env, ...env };
    await writeFile(path.join(dir, 'fluxbase.config.yaml'), config);
    const apply = await must(`${size}: apply`, run(dir, ['apply', '--auto-approve', '--allow-hazards=WEAKENS_SECURITY', '--json', '--secrets-out', 'keys.env', '--parallelism', PARALLELISM], all));
    const applied = JSON.parse(apply.stdout) as { status: string; applied: unknown[]; apiCalls: { byRoute: Record<string, number> } };
    const writes = Object.entries(applied.apiCalls.byRoute).filter(([route]) => !route.startsWith('GET ') && route !== 'POST /api/v1/admin/sql/execute').reduce((n, [, v]) => n + v, 0);
    const planned = JSON.parse((await must(`${size}: plan --json`, run(dir, ['plan', '--json'], all))).stdout) as PlanDoc;
    const times: number[] = [];
    const rss: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await must(`${size}: plan`, run(dir, ['plan', '--detailed-exitcode'], all));
      times.push(r.ms);
      rss.push(r.rssMiB);
      cpu.push(r.cpuMs);
    }
    const kinds = new Set(planned.changes.map((c) => c.kind)).size;
    const tenants = planned.changes.filter((c) => c.kind === 'tenant').length;
    const label = size === 'root' ? 'root fluxbase.config.yaml' : `generated ${size}`;
    console.log(`\n## ${label}`);
    console.log(`resources managed:            ${planned.summary.unchanged} (${kinds} kinds, ${tenants} tenants)`);
    console.log(`apply from empty:             ${ms(apply.ms)}, ${applied.status}, ${applied.applied.length} changes, ${writes} write calls, --parallelism ${PARALLELISM}`);
    console.log(`  apply calls by route:       ${Object.entries(applied.apiCalls.byRoute).map(([k, v]) => `${k} ×${v}`).join(', ')}`);
    // Refresh reads every kind, declared or not, so "not managed" lists them all (issue 13): the
    // bound is over every kind; the declared kinds alone give the lower figure.
    console.log(
      `no-change plan API calls:     ${planned.apiCalls.total} (limit every kind × tenants + 1 = ${RESOURCE_KINDS.length * tenants + 1}; declared kinds × tenants + 1 = ${kinds * tenants + 1})`,
    );
    console.log(`  by route:                   ${Object.entries(planned.apiCalls.byRoute).map(([k, v]) => `${k} ×${v}`).join(', ')}`);
    console.log(`no-change plan wall time:     median ${ms(median(times))} over ${RUNS} runs (min ${ms(Math.min(...times))}, max ${ms(Math.max(...times))}), process start included; CPU time median ${ms(median(cpu))}`);
    if (TIME) console.log(`peak RSS of the plan process: median ${median(rss).toFixed(0)} MiB (min ${Math.min(...rss).toFixed(0)}, max ${Math.max(...rss).toFixed(0)})`);
    console.log(`load average:                 ${load()}`);
    rows.push({
      label,
      resources: planned.summary.unchanged,
      planMs: median(times),
      planCpuMs: median(cpu),
      planTarget: TARGET.plan[size]!,
      calls: planned.apiCalls.total,
      callLimit: RESOURCE_KINDS.length * tenants + 1,
      rssMiB: median(rss),
      rssTarget: TARGET.rss[size]!,
      applyMs: apply.ms,
      changes: applied.applied.length,
      writes,
    });
    await extra?.(dir, all);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await emulator.stop();
  }
}

/** Median wall time of a CLI command that needs no server. */
async function startTimes(args: string[], env: Record<string, string>, runs: number): Promise<{ ms: number; rss: number; cpu: number }> {
  const times: number[] = [];
  const rss: number[] = [];
  const cpu: number[] = [];
  await run(ROOT, args, env); // warm the file cache
  for (let i = 0; i < runs; i++) {
    const r = await must(`fluxbase ${args.join(' ')}`, run(ROOT, args, env));
    times.push(r.ms);
    rss.push(r.rssMiB);
    cpu.push(r.cpuMs);
  }
  return { ms: median(times), rss: median(rss), cpu: median(cpu) };
}

if (!existsSync(CLI)) throw new Error('run `npm run build` first');
const secrets = Object.fromEntries(SECRETS.map((s) => [s, `bench-${s.toLowerCase()}`]));
const started = performance.now();
console.log(`fluxbase-iac benchmark — node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), emulator on PostgreSQL, localhost`);
console.log(`load average at start: ${load()} (${execFileSync('uptime').toString().trim()})`);

console.log('\n## start-up (no server)');
const version = await startTimes(['--version'], {}, 2 * RUNS + 1);
const help = await startTimes(['--help'], {}, 2 * RUNS + 1);
const validate = await startTimes(['validate'], secrets, 2 * RUNS + 1);
console.log(`fluxbase --version:           median ${ms(version.ms)} over ${2 * RUNS + 1} runs (CPU ${ms(version.cpu)}), ${version.rss.toFixed(0)} MiB`);
console.log(`fluxbase --help:              median ${ms(help.ms)} (CPU ${ms(help.cpu)}), ${help.rss.toFixed(0)} MiB`);
console.log(`fluxbase validate (root):     median ${ms(validate.ms)} (CPU ${ms(validate.cpu)}), ${validate.rss.toFixed(0)} MiB`);
const floor: number[] = [];
for (let i = 0; i < 2 * RUNS + 1; i++) {
  const t0 = performance.now();
  execFileSync(process.execPath, ['-e', '0']);
  floor.push(performance.now() - t0);
}
console.log(`node -e 0 (floor):            median ${ms(median(floor))}`);

const rows: Row[] = [];
let changesRun: { ms: number; cpu: number; rss: number; changes: number; resources: number } | undefined;
let instanceRun: { ms: number; changes: number; writes: number } | undefined;
const pg = await startTestPostgres();
try {
  for (const size of SIZES) {
    if (size === 'root') await bench(size, await readFile(path.join(ROOT, 'fluxbase.config.yaml'), 'utf8'), secrets, pg.url, rows);
    else if (size === '1000') {
      await bench(size, generated(10, 32), {}, pg.url, rows, async () => {
        // The same apply with the state kept in the instance (state: backend: instance), on an empty server.
        const emulator = await localStart(pg.url);
        const dir = await mkdtemp(path.join(tmpdir(), 'fluxbase-bench-'));
        try {
          await writeFile(path.join(dir, 'fluxbase.config.yaml'), generated(10, 32).replace('version: 1\n', 'version: 1\nstate:\n  backend: instance\n'));
          const apply = await must('1000 (instance state): apply', run(dir, ['apply', '--auto-approve', '--json', '--parallelism', PARALLELISM], emulator.env));
          const applied = JSON.parse(apply.stdout) as { applied: unknown[]; apiCalls: { byRoute: Record<string, number> } };
          const writes = applied.apiCalls.byRoute['PUT /api/v1/admin/settings/custom/*'] ?? 0;
          instanceRun = { ms: apply.ms, changes: applied.applied.length, writes };
          console.log(`apply from empty, state in the instance: ${ms(apply.ms)}, ${applied.applied.length} changes, ${writes} state writes (PUT …/settings/custom/*)`);
        } finally {
          await rm(dir, { recursive: true, force: true });
          await emulator.stop();
        }
      });
    } else if (size === '10000') {
      await bench(size, generated(40, 83), {}, pg.url, rows, async (dir, all) => {
        // 1,000 changes among the 10,000: 500 tables get a column, their 500 read policies a new expression.
        await writeFile(path.join(dir, 'fluxbase.config.yaml'), generated(40, 83, 500));
        const planned = JSON.parse((await must('changes: plan --json', run(dir, ['plan', '--json'], all))).stdout) as PlanDoc;
        const times: number[] = [];
        const rss: number[] = [];
        const cpu: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const r = await must('changes: plan', run(dir, ['plan', '--detailed-exitcode'], all), [2]);
          times.push(r.ms);
          rss.push(r.rssMiB);
          cpu.push(r.cpuMs);
        }
        const s = planned.summary;
        changesRun = { ms: median(times), cpu: median(cpu), rss: median(rss), changes: s.add + s.change + s.destroy, resources: s.add + s.change + s.destroy + s.unchanged };
        console.log(`\n## generated 10000 with 1,000 changes (500 tables get a column, their read policies a new expression)`);
        console.log(`plan summary:                 ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy, ${s.unchanged} unchanged; ${planned.apiCalls.total} API calls`);
        console.log(`plan wall time (text output): median ${ms(median(times))} over ${RUNS} runs (min ${ms(Math.min(...times))}, max ${ms(Math.max(...times))}); CPU time median ${ms(median(cpu))}`);
        if (TIME) console.log(`peak RSS of the plan process: median ${median(rss).toFixed(0)} MiB`);
        console.log(`load average:                 ${load()}`);
      });
    } else throw new Error(`unknown size ${size} (root, 1000 or 10000)`);
  }
} finally {
  await pg.stop();
}

console.log(`\n## Summary (medians; targets from docs/performance.md; load average now ${load()}; ${((performance.now() - started) / 60000).toFixed(1)} min in all)\n`);
console.log('| resources | no-op plan | ≤ target | (CPU) | API calls | ≤ kinds read × tenants + 1 | peak RSS | ≤ target | apply from empty (changes, write calls) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.resources.toLocaleString('en')} (${r.label}) | ${ms(r.planMs)} | ${mark(r.planMs <= r.planTarget)} (${ms(r.planTarget)}) | ${ms(r.planCpuMs)} | ${r.calls} | ${mark(r.calls <= r.callLimit)} (${r.callLimit}) | ${r.rssMiB.toFixed(0)} MiB | ${mark(r.rssMiB <= r.rssTarget)} (${r.rssTarget} MiB) | ${(r.applyMs / 1000).toFixed(1)} s (${r.changes}, ${r.writes}) |`,
  );
}
if (changesRun) {
  console.log(`| ${changesRun.changes.toLocaleString('en')} changes among ${changesRun.resources.toLocaleString('en')} | ${ms(changesRun.ms)} | ${mark(changesRun.ms <= TARGET.changes)} (${ms(TARGET.changes)}) | ${ms(changesRun.cpu)} | | | ${changesRun.rss.toFixed(0)} MiB | ${mark(changesRun.rss <= TARGET.rss[10000]!)} (${TARGET.rss[10000]} MiB) | |`);
}
if (instanceRun) console.log(`| 1,000 with \`state: backend: instance\` | | | | | | | | ${(instanceRun.ms / 1000).toFixed(1)} s (${instanceRun.changes}, ${instanceRun.writes} state writes) |`);
console.log('\n| command | wall | ≤ target | (CPU) |\n|---|---|---|---|');
console.log(`| fluxbase --version | ${ms(version.ms)} | ${mark(version.ms <= TARGET.start)} (${TARGET.start} ms) | ${ms(version.cpu)} |`);
console.log(`| fluxbase --help | ${ms(help.ms)} | ${mark(help.ms <= TARGET.start)} (${TARGET.start} ms) | ${ms(help.cpu)} |`);
console.log(`| fluxbase validate (root config) | ${ms(validate.ms)} | ${mark(validate.ms <= TARGET.validate)} (${TARGET.validate} ms) | ${ms(validate.cpu)} |`);
console.log(`| node -e 0 (the floor of any Node process) | ${ms(median(floor))} | | |`);

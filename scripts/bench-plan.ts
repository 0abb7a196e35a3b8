/**
 * Benchmark: how many API calls and how long a no-change `fluxbase plan` takes, for the root
 * config and for a generated config with thousands of resources, against the emulator on a
 * throwaway PostgreSQL server (or FLUXBASE_TEST_DATABASE_URL), the emulator running as its own
 * process (`fluxbase local start`). Needs `npm run build`. Prints figures; asserts nothing.
 *
 *     npx tsx scripts/bench-plan.ts [--tenants 40] [--tables 25] [--runs 5]
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestPostgres } from '../test/support/postgres.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli.js');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const TENANTS = arg('tenants', 40);
const TABLES = arg('tables', 25);
const RUNS = arg('runs', 5);
const SECRETS = ['SIGNUP_WEBHOOK_SECRET', 'POSTS_WEBHOOK_SECRET', 'GITHUB_CLIENT_SECRET', 'CORP_SSO_CLIENT_SECRET', 'NEWSLETTER_SMTP_PASSWORD'];

const TIME = existsSync('/usr/bin/time');

function run(dir: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; ms: number; rssKb: number }> {
  const t0 = performance.now();
  const [cmd, argv] = TIME ? ['/usr/bin/time', ['-f', '%M', process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
  return new Promise((resolve) => {
    execFile(cmd, argv as string[], { cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const rss = Number(stderr.trim().split('\n').pop());
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, ms: performance.now() - t0, rssKb: rss });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** A config with `tenants` × `tables` tables, 2 policies per table and 2 webhooks per tenant. */
function generated(tenants: number, tables: number): string {
  const lines = ['version: 1', 'tenants:'];
  for (let t = 0; t < tenants; t++) {
    lines.push(`  t${t}:`, `    name: Tenant ${t}`, '    schemas:', '      shop:', '        tables:');
    for (let k = 0; k < tables; k++) {
      lines.push(
        `          items_${k}:`,
        '            columns:',
        '              id:         { type: uuid, primary_key: true, default: gen_random_uuid() }',
        '              owner_id:   { type: uuid, nullable: false }',
        '              name:       { type: text, nullable: false, default: unnamed }',
        '              price:      { type: numeric, default: 0 }',
        '              created_at: { type: timestamptz, nullable: false, default: now() }',
        '            rls:',
        '              enabled: true',
        '              policies:',
        `                items_${k}_read: { command: SELECT, roles: [authenticated], using: "owner_id = auth.uid() OR price > 0" }`,
        `                items_${k}_write: { command: ALL, roles: [authenticated], using: owner_id = auth.uid(), with_check: owner_id = auth.uid() }`,
      );
    }
    lines.push('    webhooks:');
    for (let w = 0; w < 2; w++) lines.push(`      hook-${w}:`, `        url: https://hooks.example.com/t${t}/${w}`, `        events: [{ table: shop.items_${w}, operations: [INSERT] }]`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs `fluxbase local start` as its own process (like a real server), on the given PostgreSQL. */
async function localStart(databaseUrl: string): Promise<{ url: string; token: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'local', 'start', '--port', '0', '--database-url', databaseUrl, '--debug'], {
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', FLUXBASE_ADMIN_EMAIL: 'bench@example.com', FLUXBASE_ADMIN_PASSWORD: 'bench-password-123' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  while (!/FLUXBASE_TOKEN=\S+/.test(out)) {
    if (child.exitCode !== null) throw new Error(`local start failed:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: /listening on (\S+)/.exec(out)![1]!,
    token: /FLUXBASE_TOKEN=(\S+)/.exec(out)![1]!,
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    }),
  };
}

async function bench(label: string, config: string, env: Record<string, string>, databaseUrl: string): Promise<void> {
  const emulator = await localStart(databaseUrl);
  const dir = await mkdtemp(path.join(tmpdir(), 'fluxbase-bench-'));
  try {
    const all = { FLUXBASE_URL: emulator.url, FLUXBASE_TOKEN: emulator.token, FLUXBASE_ADMIN_EMAIL: 'bench@example.com', FLUXBASE_ADMIN_PASSWORD: 'bench-password-123', ...env };
    await writeFile(path.join(dir, 'fluxbase.config.yaml'), config);
    const apply = await run(dir, ['apply', '--auto-approve', '--json', '--secrets-out', 'keys.env', '--parallelism', '8'], all);
    const applied = JSON.parse(apply.stdout) as { status: string; applied: unknown[] };
    const planned = JSON.parse((await run(dir, ['plan', '--json'], all)).stdout) as { summary: { unchanged: number }; apiCalls: { total: number; byRoute: Record<string, number> } };
    const times: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await run(dir, ['plan', '--detailed-exitcode'], all);
      if (r.code !== 0) throw new Error(`${label}: plan exited ${r.code}:\n${r.stdout}`);
      times.push(r.ms);
      rss.push(r.rssKb);
    }
    console.log(`\n## ${label}`);
    console.log(`resources managed:            ${planned.summary.unchanged} (apply: ${applied.status}, ${applied.applied.length} changes in ${(apply.ms / 1000).toFixed(1)} s)`);
    console.log(`no-change plan API calls:     ${planned.apiCalls.total}`);
    console.log(`  by route:                   ${Object.entries(planned.apiCalls.byRoute).map(([k, v]) => `${k} ×${v}`).join(', ')}`);
    console.log(`no-change plan wall time:     median ${median(times).toFixed(0)} ms over ${RUNS} runs (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}), CLI process start included`);
    if (TIME) console.log(`peak RSS of the plan process: median ${(median(rss) / 1024).toFixed(0)} MiB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await emulator.stop();
  }
}

const pg = await startTestPostgres();
try {
  const secrets = Object.fromEntries(SECRETS.map((s) => [s, `bench-${s.toLowerCase()}`]));
  console.log(`fluxbase-iac plan benchmark — node ${process.version}, emulator on PostgreSQL (postgres backend), localhost`);
  await bench('root fluxbase.config.yaml', await readFile(path.join(ROOT, 'fluxbase.config.yaml'), 'utf8'), secrets, pg.url);
  await bench(`generated: ${TENANTS} tenants × ${TABLES} tables × 2 policies + 2 webhooks per tenant`, generated(TENANTS, TABLES), {}, pg.url);
} finally {
  await pg.stop();
}

#!/usr/bin/env node
// Benchmark of the fluxbase Terraform provider (needs `npm run build` and terraform on PATH):
//
//   1. start-to-handshake of dist/terraform-provider-fluxbase, spawned as Terraform spawns it
//      (scripts/bench-provider-startup.mjs: magic cookie, AutoMTLS);
//   2. wall time of a no-op `terraform plan` (full plugin protocol: Terraform starts the provider
//      several times) with 1 and with 200 resources, and in debug (reattach) mode with one warm
//      provider process;
//   3. a no-op `fluxbase plan` (node dist/cli.js plan) on the same resources, adopted with
//      `fluxbase import`.
//
// The emulator runs as its own process (`fluxbase local start`) on a throwaway PostgreSQL
// server (test/support/postgres.ts), so both tools pay real HTTP. Prints figures; asserts nothing.
//
//   node scripts/bench-terraform.mjs [--runs 7] [--startup-runs 31]
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const { startTestPostgres } = await import('../test/support/postgres.ts');

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli.js');
const EXE = path.join(ROOT, 'dist/terraform-provider-fluxbase');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg('runs', 7);
const STARTUP_RUNS = arg('startup-runs', 31);
const VERSION = '0.1.0';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}, ${xs.length} runs)`;

function run(cmd, args, { cwd, env }) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

async function must(label, p) {
  const r = await p;
  if (r.code !== 0) throw new Error(`${label} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** `fluxbase local start` as its own process. */
async function localStart(databaseUrl) {
  const child = spawn(process.execPath, [CLI, 'local', 'start', '--port', '0', '--database-url', databaseUrl, '--debug'], { env: { PATH: process.env.PATH, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d.toString()));
  while (!/FLUXBASE_TOKEN=\S+/.test(out)) {
    if (child.exitCode !== null) throw new Error(`local start failed:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: /listening on (\S+)/.exec(out)[1],
    token: /FLUXBASE_TOKEN=(\S+)/.exec(out)[1],
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    }),
  };
}

/** A Terraform working directory with the provider in a filesystem mirror. */
function terraformDir(root) {
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch] ?? process.arch;
  const pkg = path.join(root, 'mirror', 'registry.terraform.io', 'fluxbase', 'fluxbase', VERSION, `${process.platform}_${arch}`);
  mkdirSync(pkg, { recursive: true });
  copyFileSync(EXE, path.join(pkg, `terraform-provider-fluxbase_v${VERSION}`));
  chmodSync(path.join(pkg, `terraform-provider-fluxbase_v${VERSION}`), 0o755);
  writeFileSync(
    path.join(root, 'cli.tfrc'),
    `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(path.join(root, 'mirror'))}\n    include = ["registry.terraform.io/fluxbase/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/fluxbase/*"]\n  }\n}\n`,
  );
  for (const d of ['tf', 'cli', 'home']) mkdirSync(path.join(root, d), { recursive: true });
  return {
    tf: path.join(root, 'tf'),
    cli: path.join(root, 'cli'),
    env: { PATH: process.env.PATH, HOME: path.join(root, 'home'), TF_CLI_CONFIG_FILE: path.join(root, 'cli.tfrc'), TF_DATA_DIR: path.join(root, 'data'), TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' },
  };
}

/** HCL, YAML and engine addresses of `tables` tables (+ one policy and one webhook each) in tenant `slug`; tables = 0 ⇒ the tenant alone. */
function configs(slug, tables) {
  const hcl = [`terraform {\n  required_providers {\n    fluxbase = { source = "fluxbase/fluxbase", version = "${VERSION}" }\n  }\n}\n`, `resource "fluxbase_tenant" "t" {\n  slug = "${slug}"\n  name = "Bench ${slug}"\n}\n`];
  const yaml = ['version: 1', 'tenants:', `  ${slug}:`, `    name: Bench ${slug}`];
  const addresses = [`tenant.${slug}`];
  if (tables > 0) {
    hcl.push(`resource "fluxbase_schema" "s" {\n  tenant = fluxbase_tenant.t.slug\n  name   = "shop"\n}\n`);
    yaml.push('    schemas:', '      shop:', '        tables:');
    addresses.push(`schema.${slug}.shop`);
    const hooks = ['    webhooks:'];
    for (let i = 0; i < tables; i++) {
      hcl.push(
        `resource "fluxbase_table" "t${i}" {\n  tenant = fluxbase_tenant.t.slug\n  schema = fluxbase_schema.s.name\n  name   = "items_${i}"\n  columns = [\n    { name = "id", type = "uuid", primary_key = true, default = "gen_random_uuid()" },\n    { name = "owner_id", type = "uuid", nullable = false },\n    { name = "created_at", type = "timestamptz", nullable = false, default = "now()" },\n  ]\n  rls = { enabled = true }\n}\n`,
        `resource "fluxbase_rls_policy" "p${i}" {\n  tenant  = fluxbase_tenant.t.slug\n  schema  = fluxbase_schema.s.name\n  table   = fluxbase_table.t${i}.name\n  name    = "items_${i}_read"\n  command = "SELECT"\n  roles   = ["authenticated"]\n  using   = "owner_id = auth.uid()"\n}\n`,
        `resource "fluxbase_webhook" "w${i}" {\n  tenant = fluxbase_tenant.t.slug\n  name   = "hook-${i}"\n  url    = "https://hooks.example.com/${slug}/${i}"\n  events = [{ table = "shop.items_${i}", operations = ["INSERT"] }]\n}\n`,
      );
      yaml.push(
        `          items_${i}:`,
        '            columns:',
        '              id:         { type: uuid, primary_key: true, default: gen_random_uuid() }',
        '              owner_id:   { type: uuid, nullable: false }',
        '              created_at: { type: timestamptz, nullable: false, default: now() }',
        '            rls:',
        '              enabled: true',
        '              policies:',
        `                items_${i}_read: { command: SELECT, roles: [authenticated], using: owner_id = auth.uid() }`,
      );
      hooks.push(`      hook-${i}:`, `        url: https://hooks.example.com/${slug}/${i}`, `        events: [{ table: shop.items_${i}, operations: [INSERT] }]`);
      addresses.push(`table.${slug}.shop.items_${i}`, `policy.${slug}.shop.items_${i}.items_${i}_read`, `webhook.${slug}.hook-${i}`);
    }
    yaml.push(...hooks);
  }
  return { hcl: hcl.join('\n'), yaml: `${yaml.join('\n')}\n`, addresses };
}

async function debugProvider(env) {
  const child = spawn(EXE, [], { env: { PATH: process.env.PATH, FLUXBASE_TF_DEBUG: '1', ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout });
  const reattach = await new Promise((resolve, reject) => {
    lines.on('line', (l) => {
      const m = /^export TF_REATTACH_PROVIDERS='(.*)'$/.exec(l);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`provider exited ${code}`)));
  });
  return { reattach, stop: () => child.kill('SIGTERM') };
}

async function benchPlans(label, slug, tables, emulator) {
  const root = mkdtempSync(path.join(tmpdir(), 'fluxbase-bench-tf-'));
  try {
    const dir = terraformDir(root);
    const { hcl, yaml, addresses } = configs(slug, tables);
    const conn = { FLUXBASE_URL: emulator.url, FLUXBASE_TOKEN: emulator.token };
    writeFileSync(path.join(dir.tf, 'main.tf'), hcl);
    const env = { ...dir.env, ...conn };
    await must('terraform init', run('terraform', ['init', '-no-color'], { cwd: dir.tf, env }));
    const apply = await must('terraform apply', run('terraform', ['apply', '-auto-approve', '-no-color', '-parallelism=10'], { cwd: dir.tf, env }));
    const tfTimes = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await must('terraform plan', run('terraform', ['plan', '-detailed-exitcode', '-no-color'], { cwd: dir.tf, env }));
      tfTimes.push(r.ms);
    }
    const dbg = await debugProvider(conn);
    const dbgTimes = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        const r = await must('terraform plan (debug)', run('terraform', ['plan', '-detailed-exitcode', '-no-color'], { cwd: dir.tf, env: { ...env, TF_REATTACH_PROVIDERS: dbg.reattach } }));
        dbgTimes.push(r.ms);
      }
    } finally {
      dbg.stop();
    }
    const cliEnv = { PATH: process.env.PATH, HOME: dir.cli, NO_COLOR: '1', ...conn };
    writeFileSync(path.join(dir.cli, 'fluxbase.config.yaml'), yaml);
    await must('fluxbase import', run(process.execPath, [CLI, 'import', ...addresses], { cwd: dir.cli, env: cliEnv }));
    const cliTimes = [];
    let calls = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = await must('fluxbase plan', run(process.execPath, [CLI, 'plan', '--detailed-exitcode', '--json'], { cwd: dir.cli, env: cliEnv }));
      cliTimes.push(r.ms);
      calls = JSON.parse(r.stdout).apiCalls?.total ?? calls;
    }
    console.log(`\n## ${label} (${addresses.length} in state and config)`);
    console.log(`terraform apply (create):                 ${(apply.ms / 1000).toFixed(1)} s`);
    console.log(`terraform plan, no-op (full protocol):    ${fmt(tfTimes)}`);
    console.log(`terraform plan, no-op (debug/reattach):   ${fmt(dbgTimes)}`);
    console.log(`fluxbase plan, no-op (same resources):    ${fmt(cliTimes)}, ${calls} API calls`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (!existsSync(EXE) || !existsSync(CLI)) throw new Error('run `npm run build` first');
console.log(`fluxbase Terraform provider benchmark — node ${process.version}, ${(await run('terraform', ['version'], {})).stdout.split('\n')[0]}`);
console.log('\n## start to handshake (dist/terraform-provider-fluxbase)');
const startup = await must('bench-provider-startup', run(process.execPath, [path.join(ROOT, 'scripts/bench-provider-startup.mjs'), '--runs', String(STARTUP_RUNS), '--exe', EXE], { cwd: ROOT, env: process.env }));
console.log(startup.stdout.trim());
const pg = await startTestPostgres();
const emulator = await localStart(pg.url);
try {
  await benchPlans('1 resource', 'solo', 0, emulator);
  await benchPlans('200 resources (1 tenant, 1 schema, 66 tables, 66 policies, 66 webhooks)', 'bulk', 66, emulator);
} finally {
  await emulator.stop();
  await pg.stop();
}

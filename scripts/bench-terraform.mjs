#!/usr/bin/env node
// Benchmark of the fluxbase Terraform provider (needs `npm run build` and terraform on PATH):
//
//   1. start-to-handshake of dist/terraform-provider-fluxbase, spawned as Terraform spawns it
//      (scripts/bench-provider-startup.mjs: magic cookie, AutoMTLS);
//   2. wall time of a no-op `terraform plan` (full plugin protocol: Terraform starts the provider
//      several times) with 1, 200 and 1,001 resources, and in debug (reattach) mode with one warm
//      provider process;
//   3. Terraform's own floor for the same number of resources: the same graph of built-in
//      `terraform_data` resources (no provider process, no API), planned the same way;
//   4. a no-op `fluxbase plan` (node dist/cli.js plan) on the same resources, adopted with
//      `fluxbase import`, and `fluxbase apply` creating the same resources next to
//      `terraform apply` creating them through the provider, each on an empty server.
//
// This machine's speed drifts by up to 2× within an hour, so the figures that are compared are
// taken close together: the applies in --apply-runs rounds, each tool once per round, alternating
// which goes first; the no-op plans interleaved (provider, floor, reattach). Each ratio is
// printed as the ratio of the medians and as the median of the paired ratios. Every apply runs
// against an emulator of its own (a new instance on the same PostgreSQL server): the provider
// reads a kind's whole list again after writes, so an apply on a server that already holds
// an earlier round's objects is slower (35.5, 40.3 and 47.3 s for the same 1,001 creates on a
// server holding 0, 1,001 and 2,002 objects), which would not compare like with like.
//
// The emulator runs as its own process (`fluxbase local start`) on a throwaway PostgreSQL
// server (test/support/postgres.ts), so both tools pay real HTTP. Prints figures; asserts nothing.
//
//   node scripts/bench-terraform.mjs [--runs 7] [--apply-runs 3] [--startup-runs 31] [--sizes 0,66,333]
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
const APPLY_RUNS = arg('apply-runs', 3);
const STARTUP_RUNS = arg('startup-runs', 31);
const SIZES = (process.argv.includes('--sizes') ? process.argv[process.argv.indexOf('--sizes') + 1] : '0,66,333').split(',').map(Number);
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
  const child = spawn(process.execPath, [CLI, 'local', 'start', '--port', '0', '--debug', '--database-url', databaseUrl], { env: { PATH: process.env.PATH, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
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

/**
 * HCL, YAML and engine addresses of tenant `slug` and, in the default tenant, schema
 * `shop_<slug>` with `tables` tables (+ one policy and one webhook each); tables = 0 ⇒ the tenant
 * alone. The tables and webhooks are in the default tenant because webhooks there deliver events
 * (the server installs no webhook triggers in a tenant's own database, F7, which the tool warns
 * about per webhook).
 */
function configs(slug, tables) {
  const hcl = [`terraform {\n  required_providers {\n    fluxbase = { source = "fluxbase/fluxbase", version = "${VERSION}" }\n  }\n}\n`, `resource "fluxbase_tenant" "t" {\n  slug = "${slug}"\n  name = "Bench ${slug}"\n}\n`];
  const yaml = ['version: 1', 'tenants:', `  ${slug}:`, `    name: Bench ${slug}`];
  const addresses = [`tenant.${slug}`];
  if (tables > 0) {
    const schema = `shop_${slug}`;
    hcl.push(`resource "fluxbase_schema" "s" {\n  tenant = "default"\n  name   = "${schema}"\n}\n`);
    yaml.push('  default:', '    schemas:', `      ${schema}:`, '        tables:');
    addresses.push(`schema.default.${schema}`);
    const hooks = ['    webhooks:'];
    for (let i = 0; i < tables; i++) {
      hcl.push(
        `resource "fluxbase_table" "t${i}" {\n  tenant = "default"\n  schema = fluxbase_schema.s.name\n  name   = "items_${i}"\n  columns = {\n    id         = { type = "uuid", primary_key = true, default = "gen_random_uuid()" }\n    owner_id   = { type = "uuid", nullable = false }\n    created_at = { type = "timestamptz", nullable = false, default = "now()" }\n  }\n  rls = { enabled = true }\n}\n`,
        `resource "fluxbase_rls_policy" "p${i}" {\n  tenant  = "default"\n  schema  = fluxbase_schema.s.name\n  table   = fluxbase_table.t${i}.name\n  name    = "items_${i}_read"\n  command = "SELECT"\n  roles   = ["authenticated"]\n  using   = "owner_id = auth.uid()"\n}\n`,
        `resource "fluxbase_webhook" "w${i}" {\n  tenant = "default"\n  name   = "${slug}-hook-${i}"\n  url    = "https://hooks.example.com/${slug}/${i}"\n  events = [{ table = "${schema}.\${fluxbase_table.t${i}.name}", operations = ["INSERT"] }]\n}\n`,
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
      hooks.push(`      ${slug}-hook-${i}:`, `        url: https://hooks.example.com/${slug}/${i}`, `        events: [{ table: ${schema}.items_${i}, operations: [INSERT] }]`);
      addresses.push(`table.default.${schema}.items_${i}`, `policy.default.${schema}.items_${i}.items_${i}_read`, `webhook.default.${slug}-hook-${i}`);
    }
    yaml.push(...hooks);
  }
  return { hcl: hcl.join('\n'), yaml: `${yaml.join('\n')}\n`, addresses };
}

/**
 * The same resource graph as {@link configs} with Terraform's built-in `terraform_data` (each
 * `input` holds what the fluxbase resource declares, references included): Terraform's own cost
 * per resource with no provider process and no API, the floor a provider can approach.
 */
function floorConfig(slug, tables) {
  const hcl = [`resource "terraform_data" "t" {\n  input = { slug = "${slug}", name = "Bench ${slug}" }\n}\n`];
  if (tables > 0) {
    hcl.push(`resource "terraform_data" "s" {\n  input = { tenant = "default", name = "shop_${slug}" }\n}\n`);
    for (let i = 0; i < tables; i++) {
      hcl.push(
        `resource "terraform_data" "t${i}" {\n  input = {\n    tenant = "default"\n    schema = terraform_data.s.output.name\n    name   = "items_${i}"\n    columns = {\n      id         = { type = "uuid", primary_key = true, default = "gen_random_uuid()" }\n      owner_id   = { type = "uuid", nullable = false }\n      created_at = { type = "timestamptz", nullable = false, default = "now()" }\n    }\n    rls = { enabled = true }\n  }\n}\n`,
        `resource "terraform_data" "p${i}" {\n  input = {\n    tenant  = "default"\n    schema  = terraform_data.s.output.name\n    table   = terraform_data.t${i}.output.name\n    name    = "items_${i}_read"\n    command = "SELECT"\n    roles   = ["authenticated"]\n    using   = "owner_id = auth.uid()"\n  }\n}\n`,
        `resource "terraform_data" "w${i}" {\n  input = {\n    tenant = "default"\n    name   = "${slug}-hook-${i}"\n    url    = "https://hooks.example.com/${slug}/${i}"\n    events = [{ table = "shop_${slug}.\${terraform_data.t${i}.output.name}", operations = ["INSERT"] }]\n  }\n}\n`,
      );
    }
  }
  return hcl.join('\n');
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

/** `terraform init` and `terraform apply` of the provider config for `slug` in a new working directory under `root`. */
async function terraformApply(root, slug, tables, conn) {
  const dir = terraformDir(root);
  writeFileSync(path.join(dir.tf, 'main.tf'), configs(slug, tables).hcl);
  const env = { ...dir.env, ...conn };
  await must('terraform init', run('terraform', ['init', '-no-color'], { cwd: dir.tf, env }));
  const apply = await must('terraform apply', run('terraform', ['apply', '-auto-approve', '-no-color', '-parallelism=10'], { cwd: dir.tf, env }));
  return { dir, env, ms: apply.ms };
}

/** `fluxbase apply` creating the same resources for `slug` in a new directory under `root`. */
async function fluxbaseApply(root, slug, tables, conn) {
  const dir = path.join(root, 'cli-apply');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'fluxbase.config.yaml'), configs(slug, tables).yaml);
  const r = await must('fluxbase apply', run(process.execPath, [CLI, 'apply', '--auto-approve', '--json', '--parallelism', '10'], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1', ...conn } }));
  return { ms: r.ms, result: JSON.parse(r.stdout) };
}

async function benchPlans(label, slug, tables, databaseUrl) {
  // The server of the first round's terraform apply, and of the plans (its workspace is kept).
  const emulator = await localStart(databaseUrl);
  const root = mkdtempSync(path.join(tmpdir(), 'fluxbase-bench-tf-'));
  try {
    const conn = { FLUXBASE_URL: emulator.url, FLUXBASE_TOKEN: emulator.token };
    // Applies: both tools create the same resources, each on an empty server, alternating which
    // goes first, so a change of the machine's speed between rounds weighs on both alike.
    const tfApplies = [];
    const cliApplies = [];
    let tf;
    let cliApply;
    const onEmptyServer = async (fn) => {
      const fresh = await localStart(databaseUrl);
      try {
        return await fn({ FLUXBASE_URL: fresh.url, FLUXBASE_TOKEN: fresh.token });
      } finally {
        await fresh.stop();
      }
    };
    for (let r = 0; r < APPLY_RUNS; r++) {
      const roundRoot = path.join(root, `round${r}`);
      const both = [
        async () => {
          const t = r === 0 ? await terraformApply(path.join(roundRoot, 'tf'), slug, tables, conn) : await onEmptyServer((c) => terraformApply(path.join(roundRoot, 'tf'), slug, tables, c));
          tf ??= t;
          tfApplies.push(t.ms);
        },
        async () => {
          cliApply = await onEmptyServer((c) => fluxbaseApply(roundRoot, slug, tables, c));
          cliApplies.push(cliApply.ms);
        },
      ];
      if (r % 2 === 1) both.reverse();
      for (const step of both) await step();
    }
    const { dir, env } = tf;
    const { addresses, yaml } = configs(slug, tables);
    // Terraform's floor: the same graph with terraform_data, no provider process.
    const floorDir = path.join(root, 'floor');
    mkdirSync(floorDir);
    writeFileSync(path.join(floorDir, 'main.tf'), floorConfig(slug, tables));
    await must('terraform init (floor)', run('terraform', ['init', '-no-color'], { cwd: floorDir, env: dir.env }));
    const floorApply = await must('terraform apply (floor)', run('terraform', ['apply', '-auto-approve', '-no-color', '-parallelism=10'], { cwd: floorDir, env: dir.env }));
    // No-op plans, interleaved (provider, debug/reattach, floor) for the same reason.
    const dbg = await debugProvider(conn);
    const tfTimes = [];
    const dbgTimes = [];
    const floorTimes = [];
    try {
      const plan = async (label, cwd, planEnv) => (await must(label, run('terraform', ['plan', '-detailed-exitcode', '-no-color'], { cwd, env: planEnv }))).ms;
      for (let i = 0; i < RUNS; i++) {
        tfTimes.push(await plan('terraform plan', dir.tf, env));
        floorTimes.push(await plan('terraform plan (floor)', floorDir, dir.env));
        dbgTimes.push(await plan('terraform plan (debug)', dir.tf, { ...env, TF_REATTACH_PROVIDERS: dbg.reattach }));
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
    const applied = cliApply.result;
    const n = addresses.length;
    const secs = (xs) => xs.map((x) => (x / 1000).toFixed(1)).join(', ');
    const paired = (a, b) => median(a.map((x, i) => x / b[i]));
    console.log(`\n## ${label} (${n} in state and config)`);
    console.log(`terraform apply (create):                 median ${(median(tfApplies) / 1000).toFixed(1)} s (${secs(tfApplies)})`);
    console.log(`fluxbase apply (create, --parallelism 10): median ${(median(cliApplies) / 1000).toFixed(1)} s (${secs(cliApplies)}), ${applied.applied?.length ?? '?'} changes, ${applied.apiCalls?.total ?? '?'} API calls`);
    console.log(`  fluxbase apply faster than terraform apply: ${(median(tfApplies) / median(cliApplies)).toFixed(1)}× (medians), ${paired(tfApplies, cliApplies).toFixed(1)}× (median of the ${APPLY_RUNS} rounds' ratios)`);
    console.log(`terraform apply, terraform_data (floor):  ${(floorApply.ms / 1000).toFixed(1)} s`);
    console.log(`terraform plan, no-op (full protocol):    ${fmt(tfTimes)}`);
    console.log(`terraform plan, no-op (debug/reattach):   ${fmt(dbgTimes)}`);
    console.log(`terraform plan, no-op, terraform_data:    ${fmt(floorTimes)} — Terraform's floor for ${n} resources`);
    console.log(`  provider / floor:                       ${(median(tfTimes) / median(floorTimes)).toFixed(2)}× (full protocol), ${(median(dbgTimes) / median(floorTimes)).toFixed(2)}× (debug/reattach); median of the runs' ratios ${paired(tfTimes, floorTimes).toFixed(2)}×, ${paired(dbgTimes, floorTimes).toFixed(2)}×`);
    console.log(`fluxbase plan, no-op (same resources):    ${fmt(cliTimes)}, ${calls} API calls`);
  } finally {
    rmSync(root, { recursive: true, force: true });
    await emulator.stop();
  }
}

if (!existsSync(EXE) || !existsSync(CLI)) throw new Error('run `npm run build` first');
console.log(`fluxbase Terraform provider benchmark — node ${process.version}, ${(await run('terraform', ['version'], {})).stdout.split('\n')[0]}`);
console.log('\n## start to handshake (dist/terraform-provider-fluxbase)');
const startup = await must('bench-provider-startup', run(process.execPath, [path.join(ROOT, 'scripts/bench-provider-startup.mjs'), '--runs', String(STARTUP_RUNS), '--exe', EXE], { cwd: ROOT, env: process.env }));
console.log(startup.stdout.trim());
const pg = await startTestPostgres();
try {
  for (const tables of SIZES) {
    const n = tables === 0 ? 1 : 2 + 3 * tables;
    await benchPlans(tables === 0 ? '1 resource' : `${n} resources (1 tenant; in the default tenant 1 schema, ${tables} tables, ${tables} policies, ${tables} webhooks)`, `bench${tables}`, tables, pg.url);
  }
} finally {
  await pg.stop();
}

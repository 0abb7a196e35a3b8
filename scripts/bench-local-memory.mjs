#!/usr/bin/env node
/**
 * Memory of `fluxbase local start` as tenants grow: starts the built CLI (dist/cli.js) as a user
 * would (PGlite in memory unless --data-dir/--database-url are passed through), creates tenants
 * one by one through POST /api/v1/admin/tenants, and prints the server process's resident set
 * size (VmRSS from /proc, Linux) after start-up and after 1, 2, 5 and 10 tenants.
 *
 *   node scripts/bench-local-memory.mjs [--tenants 10] [extra local start flags…]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let total = 10;
const i = args.indexOf('--tenants');
if (i >= 0) {
  total = Number(args[i + 1]);
  args.splice(i, 2);
}
const rssMb = (pid) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);

const child = spawn(process.execPath, [path.join(root, 'dist/cli.js'), 'local', 'start', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
let out = '';
child.stdout.on('data', (d) => (out += d));
const t0 = Date.now();
while (!/FLUXBASE_TOKEN=(\S+)/.test(out)) {
  if (child.exitCode !== null) throw new Error(`local start exited:\n${out}`);
  await new Promise((r) => setTimeout(r, 50));
}
const url = /listening on (\S+)/.exec(out)[1];
const token = /FLUXBASE_TOKEN=(\S+)/.exec(out)[1];
console.log(`started in ${Date.now() - t0} ms; RSS ${rssMb(child.pid)} MB with the default tenant`);
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
for (let n = 1; n <= total; n++) {
  const t = Date.now();
  const res = await fetch(`${url}/api/v1/admin/tenants`, { method: 'POST', headers, body: JSON.stringify({ slug: `bench${n}`, name: `Bench ${n}` }) });
  if (res.status !== 201) throw new Error(`tenant ${n}: ${res.status} ${await res.text()}`);
  // One query in the tenant's own database, as a plan's refresh makes.
  const id = (await res.json()).id;
  await fetch(`${url}/api/v1/admin/ddl/schemas`, { headers: { ...headers, 'x-fb-tenant': id } });
  if ([1, 2, 5, 10, 20, 50].includes(n) || n === total) console.log(`${n} tenant(s): RSS ${rssMb(child.pid)} MB (tenant created in ${Date.now() - t} ms)`);
}
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));

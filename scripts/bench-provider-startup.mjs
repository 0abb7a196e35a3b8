#!/usr/bin/env node
// Measures how long a bundled provider takes from process spawn to its
// handshake line on stdout, started the way Terraform starts it (magic
// cookie, PLUGIN_PROTOCOL_VERSIONS, PLUGIN_CLIENT_CERT so AutoMTLS is on).
// Terraform starts a provider 3-5 times per command, so this is paid often.
//
//   node scripts/bench-provider-startup.mjs [--runs N] [--exe <bundle>] [--entry <entry.ts>]
//
// Without --exe it bundles --entry (default: the test provider,
// test/terraform/fixtures/main.ts) with scripts/build-provider.mjs into a
// temp dir. Prints medians (and p10/p90) in milliseconds for:
//   node-baseline  `node -e` printing one line (the floor for any Node provider)
//   plugin-tls     the provider with mTLS, as Terraform runs it
//   plugin-plain   the provider without PLUGIN_CLIENT_CERT (no certificate made)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildProvider } from './build-provider.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
};
const runs = Number(arg('--runs', '21'));
const COOKIE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';

/** A client certificate like Terraform's, made with the project's own generator. */
async function clientCertPem() {
  const out = await build({ entryPoints: [join(root, 'src/terraform/tls/cert.ts')], bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'error' });
  const mod = await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));
  return mod.generateServerCertificate().certPem;
}

/** Spawns `cmd`, resolves with ms until the first stdout line, then kills it. */
function timeToFirstLine(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) {
        const ms = performance.now() - t0;
        child.kill('SIGKILL');
        if (!/^1\|6\|tcp\|/.test(buf) && cmd !== process.execPath) reject(new Error(`unexpected first line: ${buf}`));
        else child.once('exit', () => resolve(ms));
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!buf.includes('\n')) reject(new Error(`exited with ${code} before the handshake`));
    });
  });
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p10: q(0.1), p90: q(0.9), min: s[0] };
};

async function main() {
  let exe = arg('--exe');
  let tempDir;
  if (!exe) {
    const entry = arg('--entry', join(root, 'test/terraform/fixtures/main.ts'));
    tempDir = mkdtempSync(join(tmpdir(), 'tf-bench-'));
    const res = await buildProvider(entry, join(tempDir, 'terraform-provider-bench'));
    exe = res.outfile;
    console.log(`bundle: ${exe} (${(res.bytes / 1024).toFixed(0)} KiB, built in ${res.ms} ms)`);
  }
  const cert = await clientCertPem();
  const base = { PATH: process.env.PATH };
  const cases = {
    'node-baseline': () => timeToFirstLine(process.execPath, ['-e', 'process.stdout.write("x\\n")'], base),
    'plugin-tls': () => timeToFirstLine(exe, [], { ...base, TF_PLUGIN_MAGIC_COOKIE: COOKIE, PLUGIN_PROTOCOL_VERSIONS: '5,6', PLUGIN_CLIENT_CERT: cert }),
    'plugin-plain': () => timeToFirstLine(exe, [], { ...base, TF_PLUGIN_MAGIC_COOKIE: COOKIE, PLUGIN_PROTOCOL_VERSIONS: '5,6' }),
  };
  const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  await cases['plugin-tls'](); // warm the file cache
  // Interleave the cases so machine noise hits them alike.
  for (let i = 0; i < runs; i++) for (const [k, f] of Object.entries(cases)) results[k].push(await f());
  console.log(`node ${process.version}, ${runs} runs each, ms (spawn → first stdout line):`);
  for (const [k, xs] of Object.entries(results)) {
    const s = stats(xs);
    console.log(`  ${k.padEnd(14)} median ${s.median.toFixed(1).padStart(6)}   p10 ${s.p10.toFixed(1).padStart(6)}   p90 ${s.p90.toFixed(1).padStart(6)}   min ${s.min.toFixed(1).padStart(6)}`);
  }
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
}

await main();

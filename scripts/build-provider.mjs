#!/usr/bin/env node
// Bundles a provider entry point (a module that calls serve() from
// src/terraform) into ONE executable file that Terraform can start directly:
// `#!/usr/bin/env node`, mode 0755, no node_modules needed at run time.
//
//   node scripts/build-provider.mjs <entry.ts> <outfile> [--no-minify]
//   npm run build:provider -- <entry.ts> <outfile>
//
// The bundle is CommonJS with a one-line `require` shim, so the
// extension-less file runs whether Node treats it as CommonJS (no
// package.json around it) or as an ES module (Terraform copies providers
// into .terraform/providers/ inside the user's project, whose package.json
// may say "type": "module").
import { build } from 'esbuild';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const BANNER = [
  '#!/usr/bin/env node',
  '"use strict";',
  'var require = typeof require === "function" ? require : process.getBuiltinModule("node:module").createRequire(process.argv[1]);',
  'var __filename = typeof __filename === "string" ? __filename : process.argv[1];',
  'var __dirname = typeof __dirname === "string" ? __dirname : require("node:path").dirname(__filename);',
].join('\n');

/**
 * Builds `entry` into `outfile`. Returns { outfile, bytes, ms }.
 * Throws (esbuild's error) if the entry does not compile. `plugins`, `loader`,
 * `define` and `banner` (extra lines after the standard banner) are passed to
 * esbuild for providers that need them (scripts/build-fluxbase-provider.mjs).
 */
export async function buildProvider(entry, outfile, { minify = true, plugins = [], loader = {}, define = {}, banner = [] } = {}) {
  const started = performance.now();
  const out = resolve(outfile);
  mkdirSync(dirname(out), { recursive: true });
  await build({
    entryPoints: [resolve(entry)],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify,
    legalComments: 'none',
    banner: { js: [BANNER, ...banner].join('\n') },
    logLevel: 'warning',
    plugins,
    loader,
    define,
  });
  chmodSync(out, 0o755);
  return { outfile: out, bytes: statSync(out).size, ms: Math.round(performance.now() - started) };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const [entry, outfile] = args;
  if (!entry || !outfile) {
    console.error('usage: node scripts/build-provider.mjs <entry.ts> <outfile> [--no-minify]');
    process.exit(2);
  }
  const res = await buildProvider(entry, outfile, { minify: !process.argv.includes('--no-minify') });
  console.error(`built ${res.outfile} (${(res.bytes / 1024).toFixed(0)} KiB) in ${res.ms} ms`);
}

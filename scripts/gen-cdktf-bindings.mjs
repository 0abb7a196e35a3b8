#!/usr/bin/env node
// Generates the CDKTF and CDK Terrain bindings of the fluxbase provider from its schema:
//
//   1. bundles the provider (scripts/build-fluxbase-provider.mjs) into a temp dir,
//   2. installs it through a filesystem mirror and runs `terraform providers schema -json`,
//   3. runs @cdktf/provider-generator (CDKTF, `cdktf`) and @cdktn/provider-generator
//      (CDK Terrain, the maintained fork, `cdktn`) on that schema,
//   4. writes the TypeScript into bindings/cdktf/ and bindings/cdktn/ (compiled by
//      bindings/tsconfig.json into dist/cdktf and dist/cdktn: `fluxbase-iac/cdktf`,
//      `fluxbase-iac/cdktn`).
//
// The generators write CommonJS-style relative imports (`./webhook`); they are rewritten to
// `./webhook/index.js` for the package's ES modules. Class names drop the provider prefix
// (`Webhook`, `ServiceKey`, `FluxbaseProvider`).
//
//   node scripts/gen-cdktf-bindings.mjs           write bindings/
//   node scripts/gen-cdktf-bindings.mjs --check   exit 1 if bindings/ differs from a fresh run
import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFluxbaseProvider } from './build-fluxbase-provider.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const VERSION = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

/** The flavours: generator package, runtime package, output directory. */
export const FLAVOURS = [
  { name: 'CDKTF', generator: '@cdktf/provider-generator', runtime: 'cdktf', dir: join(root, 'bindings', 'cdktf') },
  { name: 'CDK Terrain', generator: '@cdktn/provider-generator', runtime: 'cdktn', dir: join(root, 'bindings', 'cdktn') },
];

function terraformArch() {
  const arch = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' }[process.arch] ?? process.arch;
  return `${process.platform}_${arch}`;
}

/** `terraform providers schema -json` for the provider built from this checkout. */
export async function providerSchema() {
  const tmp = mkdtempSync(join(tmpdir(), 'fluxbase-schema-'));
  try {
    const pkg = join(tmp, 'mirror', 'registry.terraform.io', 'fluxbase', 'fluxbase', VERSION, terraformArch());
    mkdirSync(pkg, { recursive: true });
    const { outfile } = await buildFluxbaseProvider(join(tmp, 'build', 'terraform-provider-fluxbase'));
    const exe = join(pkg, `terraform-provider-fluxbase_v${VERSION}`);
    copyFileSync(outfile, exe);
    chmodSync(exe, 0o755);
    writeFileSync(
      join(tmp, 'cli.tfrc'),
      `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(join(tmp, 'mirror'))}\n    include = ["registry.terraform.io/fluxbase/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/fluxbase/*"]\n  }\n}\n`,
    );
    const work = join(tmp, 'work');
    mkdirSync(work);
    writeFileSync(join(work, 'main.tf'), `terraform {\n  required_providers {\n    fluxbase = { source = "fluxbase/fluxbase", version = "${VERSION}" }\n  }\n}\n`);
    const env = { PATH: process.env.PATH, HOME: tmp, TF_CLI_CONFIG_FILE: join(tmp, 'cli.tfrc'), TF_DATA_DIR: join(tmp, 'data'), TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' };
    execFileSync('terraform', ['init', '-no-color', '-input=false'], { cwd: work, env, stdio: ['ignore', 'ignore', 'inherit'] });
    return JSON.parse(execFileSync('terraform', ['providers', 'schema', '-json'], { cwd: work, env, maxBuffer: 64 * 1024 * 1024 }).toString('utf8'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function listFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

/** Generated files of one flavour: relative path → text. */
export async function generate(flavour, schema) {
  const tmp = mkdtempSync(join(tmpdir(), 'fluxbase-bindings-'));
  try {
    const { generateProviderBindingsFromSchema } = require(flavour.generator);
    // The generator logs a CLI-config warning through log4js; keep it quiet.
    const log = console.log;
    console.log = () => {};
    try {
      await generateProviderBindingsFromSchema(tmp, schema);
    } finally {
      console.log = log;
    }
    const base = join(tmp, 'providers', 'fluxbase');
    const generatorVersion = JSON.parse(readFileSync(require.resolve(`${flavour.generator}/package.json`), 'utf8')).version;
    const out = new Map();
    for (const file of listFiles(base).sort()) {
      const rel = relative(base, file);
      if (rel === 'lazy-index.ts' || !rel.endsWith('.ts')) continue; // CommonJS-only lazy loader; docs live in docs/
      const text = readFileSync(file, 'utf8')
        .replace(/(from\s+|export \* as \w+ from\s+)'(\.{1,2}\/[^']+)'/g, (_, pre, spec) => `${pre}'${spec.endsWith('/index') ? `${spec}.js` : `${spec}/index.js`}'`)
        .replace(/^\/\/ generated by cdkt[fn] get\n/, '');
      out.set(
        rel,
        `// Generated by scripts/gen-cdktf-bindings.mjs from \`terraform providers schema -json\` of terraform-provider-fluxbase ${VERSION}\n` +
          `// with ${flavour.generator} ${generatorVersion} (${flavour.name}). Do not edit: run \`npm run gen:cdktf\`.\n` +
          text,
      );
    }
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const check = process.argv.includes('--check');
  const schema = await providerSchema();
  let stale = [];
  for (const flavour of FLAVOURS) {
    const files = await generate(flavour, schema);
    if (check) {
      const existing = existsSync(flavour.dir) ? listFiles(flavour.dir).filter((f) => f.endsWith('.ts')).map((f) => relative(flavour.dir, f)) : [];
      for (const rel of new Set([...existing, ...files.keys()])) {
        const want = files.get(rel);
        const have = existsSync(join(flavour.dir, rel)) ? readFileSync(join(flavour.dir, rel), 'utf8') : undefined;
        if (want !== have) stale.push(relative(root, join(flavour.dir, rel)));
      }
      continue;
    }
    for (const f of existsSync(flavour.dir) ? listFiles(flavour.dir).filter((f) => f.endsWith('.ts')) : []) rmSync(f);
    for (const [rel, text] of files) {
      mkdirSync(dirname(join(flavour.dir, rel)), { recursive: true });
      writeFileSync(join(flavour.dir, rel), text);
    }
    console.error(`${flavour.name}: ${files.size} files in ${relative(root, flavour.dir)}`);
  }
  if (check && stale.length > 0) {
    console.error(`stale bindings (run npm run gen:cdktf):\n  ${stale.join('\n  ')}`);
    process.exit(1);
  }
}

#!/usr/bin/env node
// Builds the `terraform-provider-fluxbase` executable (src/terraform-provider/main.ts) into
// dist/terraform-provider-fluxbase with scripts/build-provider.mjs: one file, no files beside it.
//
//   node scripts/build-fluxbase-provider.mjs [outfile] [--no-minify]
//
// Two things the plain bundle would otherwise look for on disk are put inside it:
// - the config's JSON Schemas (schemas/*.schema.json), from which the provider derives its
//   Terraform schemas: src/terraform-provider/schemas.ts is replaced by a module holding them;
// - libpg-query's WebAssembly (the PostgreSQL parser used to compare SQL expressions): its
//   loader is given the bytes instead of reading libpg-query.wasm beside the script. They are
//   stored brotli-compressed (1.7 MB → ~0.45 MB of base64): every provider start parses the
//   bundle, and the raw bytes cost ~30-40 ms per start, while decompressing costs ~10 ms only
//   when the provider first plans or applies something.
// `import.meta.url` (used by modules the bundle includes but the provider never calls into for
// files) is defined as the executable's own URL.
import { readFileSync, readdirSync } from 'node:fs';
import { brotliCompressSync, constants } from "node:zlib";
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProvider } from './build-provider.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** esbuild plugin: the schemas module with every schema file inlined. */
const inlineSchemas = {
  name: 'fluxbase-inline-schemas',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]terraform-provider[\\/]schemas\.ts$/ }, () => {
      const dir = join(root, 'schemas');
      const entries = readdirSync(dir)
        .filter((f) => f.endsWith('.schema.json'))
        .sort()
        .map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8'))]);
      return {
        loader: 'js',
        contents: `const schemas = new Map(${JSON.stringify(entries)});\nexport function configSchemas() { return schemas; }\n`,
      };
    });
  },
};

/** esbuild plugin: libpg-query's emscripten loader gets the .wasm bytes from the bundle. */
const inlineWasm = {
  name: 'fluxbase-inline-pg-wasm',
  setup(build) {
    build.onLoad({ filter: /[\\/]libpg-query[\\/]wasm[\\/]libpg-query\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const marker = 'var wasmBinary;';
      const reader = 'function getBinarySync(file){';
      for (const m of [marker, reader]) if (!text.includes(m)) throw new Error(`libpg-query changed: ${m} not found in ${args.path}`);
      const packed = brotliCompressSync(readFileSync(join(dirname(args.path), "libpg-query.wasm")), { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }).toString("base64");
      const load = `var wasmBinary=new Uint8Array(require("node:zlib").brotliDecompressSync(Buffer.from(${JSON.stringify(packed)},"base64")));`;
      // The loader reads the file even when it has the bytes (getBinarySync ignores wasmBinary).
      return { loader: 'js', contents: text.replace(marker, load).replace(reader, `${reader}if(wasmBinary)return wasmBinary;`), resolveDir: dirname(args.path) };
    });
  },
};

/** Builds the provider; returns { outfile, bytes, ms }. */
export async function buildFluxbaseProvider(outfile = join(root, 'dist', 'terraform-provider-fluxbase'), { minify = true } = {}) {
  return buildProvider(join(root, 'src', 'terraform-provider', 'main.ts'), outfile, {
    minify,
    plugins: [inlineSchemas, inlineWasm],
    define: { 'import.meta.url': '__fluxbaseImportMetaUrl' },
    banner: ['var __fluxbaseImportMetaUrl = require("node:url").pathToFileURL(__filename).href;'],
  });
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const out = process.argv.slice(2).find((a) => !a.startsWith('--'));
  const res = await buildFluxbaseProvider(out ? resolve(out) : undefined, { minify: !process.argv.includes('--no-minify') });
  console.error(`built ${res.outfile} (${(res.bytes / 1024).toFixed(0)} KiB) in ${res.ms} ms`);
}

/**
 * The config's JSON Schema (schemas/*.json, the single source of the config format) compiled
 * with ajv, once per process. Other modules (constructs, the Terraform provider, docs) read the
 * raw schema objects from here too, so nothing keeps a second copy of the format.
 *
 * Compiling the schemas takes ajv about 150 ms, so `npm run build` also writes the compiled
 * validator as code (ajv's standalone mode, scripts/build-validator.mjs) beside this module in
 * dist/. It is used when it was generated from the schema files as they are now (their
 * fingerprint is in the file); otherwise the schemas are compiled at run time, as from src/.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Ajv, ValidateFunction } from 'ajv';

/** Absolute path of the shipped schemas/ directory. */
export const SCHEMAS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas');

/** The root schema's file name (also its $id). */
export const ROOT_SCHEMA_ID = 'fluxbase.config.schema.json';

/** File name of the validator that scripts/build-validator.mjs generates beside this module. */
export const PREBUILT_VALIDATOR = 'config-validator.generated.cjs';

let schemaCache: Map<string, Record<string, unknown>> | undefined;
let cache: { ajv: Ajv; validate: ValidateFunction } | undefined;
let prebuiltCache: ValidateFunction | null | undefined;

/** Every schema file by $id (file name). */
export function loadSchemas(): Map<string, Record<string, unknown>> {
  if (schemaCache) return schemaCache;
  const schemas = new Map<string, Record<string, unknown>>();
  for (const name of readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith('.schema.json')).sort()) {
    schemas.set(name, JSON.parse(readFileSync(path.join(SCHEMAS_DIR, name), 'utf8')) as Record<string, unknown>);
  }
  schemaCache = schemas;
  return schemas;
}

/** The compiled validator for a whole config document (ajv, all errors, verbose). */
export function configValidator(): ValidateFunction {
  return prebuilt() ?? compiled().validate;
}

/** sha256 of the schema files (names and contents): what a prebuilt validator was generated from. */
export function schemasFingerprint(): string {
  const hash = createHash('sha256');
  for (const [name, schema] of loadSchemas()) hash.update(`${name}\0${JSON.stringify(schema)}\0`);
  return hash.digest('hex');
}

/**
 * The compiled validator as standalone CommonJS source (ajv's standalone mode), exporting
 * `schemasFingerprint` too. Used by scripts/build-validator.mjs.
 */
export async function standaloneValidatorSource(): Promise<string> {
  // A CommonJS module whose export is the function (as for ajv-formats above).
  const standaloneCode = (await import('ajv/dist/standalone/index.js')).default as unknown as (ajv: Ajv, validate: ValidateFunction) => string;
  const ajv = createAjv({ source: true });
  for (const [name, schema] of loadSchemas()) ajv.addSchema(schema, name);
  const validate = ajv.getSchema(ROOT_SCHEMA_ID)!;
  return `${standaloneCode(ajv, validate)}\nmodule.exports.schemasFingerprint = ${JSON.stringify(schemasFingerprint())};\n`;
}

/**
 * Creates an ajv instance that knows the project's annotation keywords (`x-pattern-message`: the
 * friendly text for a failed pattern; `x-fluxbase-route`: documentation only). `source` keeps
 * the generated code for ajv's standalone mode.
 */
export function createAjv(options: { source?: boolean } = {}): Ajv {
  // Loaded here, not at the top: with the prebuilt validator a command never needs ajv itself.
  const require = createRequire(import.meta.url);
  const { Ajv } = require('ajv') as typeof import('ajv');
  const addFormatsModule = require('ajv-formats') as typeof import('ajv-formats');
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true, ...(options.source ? { code: { source: true } } : {}) });
  (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
  ajv.addKeyword({ keyword: 'x-pattern-message', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-fluxbase-route', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-sensitive', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'tsType', schemaType: 'string' });
  return ajv;
}

/** The prebuilt validator, when there is one generated from the current schema files. */
function prebuilt(): ValidateFunction | undefined {
  if (prebuiltCache === undefined) {
    prebuiltCache = null;
    try {
      const mod = createRequire(import.meta.url)(`./${PREBUILT_VALIDATOR}`) as { default: ValidateFunction; schemasFingerprint: string };
      if (mod.schemasFingerprint === schemasFingerprint()) prebuiltCache = mod.default;
    } catch {
      // Not built (running from src/, or a bundle): compile at run time.
    }
  }
  return prebuiltCache ?? undefined;
}

function compiled() {
  if (cache) return cache;
  const ajv = createAjv();
  for (const [name, schema] of loadSchemas()) ajv.addSchema(schema, name);
  const validate = ajv.getSchema(ROOT_SCHEMA_ID);
  if (!validate) throw new Error(`schema ${ROOT_SCHEMA_ID} missing from ${SCHEMAS_DIR}`);
  cache = { ajv, validate };
  return cache;
}

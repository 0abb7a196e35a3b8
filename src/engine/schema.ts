/**
 * The config's JSON Schema (schemas/*.json, the single source of the config format) compiled
 * with ajv, once per process. Other modules (constructs, the Terraform provider, docs) read the
 * raw schema objects from here too, so nothing keeps a second copy of the format.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/** Absolute path of the shipped schemas/ directory. */
export const SCHEMAS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas');

/** The root schema's file name (also its $id). */
export const ROOT_SCHEMA_ID = 'fluxbase.config.schema.json';

let cache: { ajv: Ajv; validate: ValidateFunction; schemas: Map<string, Record<string, unknown>> } | undefined;

/** Every schema file by $id (file name). */
export function loadSchemas(): Map<string, Record<string, unknown>> {
  return compiled().schemas;
}

/** The compiled validator for a whole config document (ajv, all errors, verbose). */
export function configValidator(): ValidateFunction {
  return compiled().validate;
}

/**
 * Creates an ajv instance that knows the project's annotation keywords (`x-pattern-message`: the
 * friendly text for a failed pattern; `x-fluxbase-route`: documentation only).
 */
export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
  (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
  ajv.addKeyword({ keyword: 'x-pattern-message', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-fluxbase-route', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-sensitive', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'tsType', schemaType: 'string' });
  return ajv;
}

function compiled() {
  if (cache) return cache;
  const ajv = createAjv();
  const schemas = new Map<string, Record<string, unknown>>();
  for (const name of readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith('.schema.json')).sort()) {
    const schema = JSON.parse(readFileSync(path.join(SCHEMAS_DIR, name), 'utf8')) as Record<string, unknown>;
    schemas.set(name, schema);
    ajv.addSchema(schema, name);
  }
  const validate = ajv.getSchema(ROOT_SCHEMA_ID);
  if (!validate) throw new Error(`schema ${ROOT_SCHEMA_ID} missing from ${SCHEMAS_DIR}`);
  cache = { ajv, validate, schemas };
  return cache;
}

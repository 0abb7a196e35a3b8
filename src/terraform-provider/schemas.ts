/**
 * The config format's JSON Schemas (schemas/*.schema.json) by file name, for deriving the
 * provider's Terraform schemas. Read from the package's schemas/ directory when run from source
 * or dist; the provider bundle (scripts/build-fluxbase-provider.mjs) replaces this module with
 * one that holds the same files inlined at build time, so the executable needs no files beside it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { SCHEMAS_DIR } from '../engine/schema.js';

let cache: ReadonlyMap<string, Record<string, unknown>> | undefined;

/** Every `*.schema.json` by file name (which is also its `$id`). */
export function configSchemas(): ReadonlyMap<string, Record<string, unknown>> {
  cache ??= new Map(
    readdirSync(SCHEMAS_DIR)
      .filter((f) => f.endsWith('.schema.json'))
      .sort()
      .map((f) => [f, JSON.parse(readFileSync(path.join(SCHEMAS_DIR, f), 'utf8')) as Record<string, unknown>]),
  );
  return cache;
}

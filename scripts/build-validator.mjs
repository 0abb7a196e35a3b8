#!/usr/bin/env node
// Writes the config validator as code (ajv's standalone mode) beside dist/engine/schema.js, so
// that a command does not compile the JSON Schemas (about 150 ms) each time it starts. The file
// records the fingerprint of the schema files it was generated from; dist/engine/schema.js uses
// it only while they are unchanged, and compiles them otherwise. Run by `npm run build` after tsc.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { PREBUILT_VALIDATOR, standaloneValidatorSource } = await import(join(root, 'dist/engine/schema.js'));
writeFileSync(join(root, 'dist/engine', PREBUILT_VALIDATOR), await standaloneValidatorSource());

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMAS_DIR } from '../../src/engine/schema.js';

type Schema = Record<string, unknown>;

/** Every property of every object in a schema file, with its JSON path. */
function properties(node: unknown, at: string, out: [string, Schema][]): void {
  if (!node || typeof node !== 'object') return;
  const schema = node as Schema;
  for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    out.push([`${at}.properties.${name}`, prop]);
    properties(prop, `${at}.properties.${name}`, out);
  }
  for (const key of ['definitions', 'additionalProperties', 'items']) {
    const child = schema[key];
    if (key === 'definitions' && child) for (const [n, d] of Object.entries(child as Record<string, Schema>)) properties(d, `${at}.definitions.${n}`, out);
    else if (child && typeof child === 'object') properties(child, `${at}.${key}`, out);
  }
}

describe('the config JSON Schema documents every field', () => {
  const files = readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith('.schema.json'));

  it.each(files)('%s: every property has a description (or is a documented $ref)', (file) => {
    const schema = JSON.parse(readFileSync(path.join(SCHEMAS_DIR, file), 'utf8')) as Schema;
    const missing: string[] = [];
    const all: [string, Schema][] = [];
    properties(schema, file, all);
    for (const [where, prop] of all) if (!prop.description && !prop.$ref && !('const' in prop)) missing.push(where);
    expect(missing).toEqual([]);
  });

  it.each(files.filter((f) => !['common.schema.json', 'fluxbase.config.schema.json', 'settings.schema.json'].includes(f)))(
    '%s: names the Fluxbase route it maps to',
    (file) => {
      const schema = JSON.parse(readFileSync(path.join(SCHEMAS_DIR, file), 'utf8')) as Schema;
      expect(String(schema.description)).toMatch(/\/api\/v1\//);
    },
  );
});

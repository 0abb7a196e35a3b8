import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/engine/load.js';
import { configValidator, schemasFingerprint, standaloneValidatorSource } from '../../src/engine/schema.js';
import { schemaDiagnostics } from '../../src/engine/validate.js';

const ROOT = readFileSync(new URL('../../fluxbase.config.yaml', import.meta.url), 'utf8');

/** Documents that break the schema in every way the translation to diagnostics distinguishes. */
const DOCUMENTS = [
  ROOT,
  'version: 2\n',
  'tenants: {}\n',
  'version: 1\nextra: 1\nstate: { backend: cloud, key: "bad key" }\n',
  'version: 1\ntenants:\n  Acme:\n    name: 12\n    schemas:\n      app:\n        tables:\n          users:\n            colums: {}\n            columns:\n              id: { type: uuid, nullable: maybe, primary_key: "yes" }\n',
  'version: 1\ntenants:\n  acme:\n    webhooks:\n      hook:\n        url: not a url\n        events: [{ table: x, operations: [UPSERT] }]\n        timeout_seconds: -1\n',
  'version: 1\nsettings:\n  app: { authentication: { enable_signup: maybe } }\n  system: { x: 1 }\nimport: [1, 2]\nlifecycle: { prevent_destroy: 1 }\n',
  'version: 1\noauth_providers:\n  github: { client_id: 1, scopes: github }\nclient_keys:\n  "bad name": {}\n',
];

function raw(errors: readonly ErrorObject[] | null | undefined) {
  return (errors ?? []).map(({ instancePath, schemaPath, keyword, params, message, data, schema, parentSchema }) => ({ instancePath, schemaPath, keyword, params, message, data, schema, parentSchema }));
}

describe('the validator generated at build time', () => {
  it('reports exactly what the validator compiled at run time reports', async () => {
    // Loaded as Node would load dist/engine/config-validator.generated.cjs, resolving its requires from here.
    const module = { exports: {} as { default: ValidateFunction; schemasFingerprint: string } };
    new Function('module', 'exports', 'require', await standaloneValidatorSource())(module, module.exports, createRequire(import.meta.url));
    const prebuilt = module.exports;
    expect(prebuilt.schemasFingerprint).toBe(schemasFingerprint());
    const compiled = configValidator();
    expect(compiled).not.toBe(prebuilt.default);
    for (const text of DOCUMENTS) {
      const doc = loadConfigText(text, 'f.yaml', { env: {} });
      const a = compiled(doc.data);
      const errorsA = raw(compiled.errors);
      const b = prebuilt.default(doc.data);
      const errorsB = raw(prebuilt.default.errors);
      expect(b).toBe(a);
      expect(errorsB).toEqual(errorsA);
      expect(schemaDiagnostics(prebuilt.default.errors ?? [], doc.sources)).toEqual(schemaDiagnostics(compiled.errors ?? [], doc.sources));
      if (text !== ROOT) expect(errorsA.length).toBeGreaterThan(0);
    }
  });
});

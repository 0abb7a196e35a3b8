/**
 * Which config values are write-only secrets. At run time the answer comes from the JSON Schema
 * itself (`"writeOnly": true`), so a secret added to the schema is protected by synth at once;
 * the prop types use {@link SECRET_PROPS}, and a test keeps the two equal.
 */
import { loadSchemas, ROOT_SCHEMA_ID } from '../engine/schema.js';

/**
 * Write-only props by construct kind, as dotted paths inside the construct's props. The prop
 * types replace exactly these with `Secret` (see WithSecrets).
 */
export const SECRET_PROPS = {
  webhook: ['secret'],
  oauth_provider: ['client_secret'],
  custom_setting: ['secret'],
  app_settings: [
    'email.smtp.password',
    'email.sendgrid.api_key',
    'email.mailgun.api_key',
    'email.ses.access_key_id',
    'email.ses.secret_access_key',
  ],
} as const;

/** A config path pattern: `*` matches any map key or array index. */
export type PathPattern = readonly string[];

let cache: PathPattern[] | undefined;

/**
 * Every write-only value's path in a config document, from the schemas, e.g.
 * `['tenants', '*', 'webhooks', '*', 'secret']`. Sorted, computed once per process.
 */
export function writeOnlyPatterns(): PathPattern[] {
  if (cache) return cache;
  const schemas = loadSchemas();
  const out: string[][] = [];
  const resolve = (ref: string, file: string): { node: Record<string, unknown>; file: string } => {
    const [target, pointer = ''] = ref.split('#');
    const targetFile = target ? target : file;
    let node: unknown = schemas.get(targetFile);
    for (const seg of pointer.split('/').filter(Boolean)) node = (node as Record<string, unknown> | undefined)?.[seg];
    if (!node || typeof node !== 'object') throw new Error(`unresolvable $ref ${ref} in ${file}`);
    return { node: node as Record<string, unknown>, file: targetFile };
  };
  const walk = (node: Record<string, unknown>, file: string, path: string[]): void => {
    if (path.length > 24) return;
    if (typeof node.$ref === 'string') {
      const next = resolve(node.$ref, file);
      walk(next.node, next.file, path);
      return;
    }
    if (node.writeOnly === true) out.push(path);
    for (const [key, child] of Object.entries((node.properties as Record<string, Record<string, unknown>> | undefined) ?? {})) {
      walk(child, file, [...path, key]);
    }
    for (const key of ['additionalProperties', 'items'] as const) {
      const child = node[key];
      if (child && typeof child === 'object') walk(child as Record<string, unknown>, file, [...path, '*']);
    }
  };
  walk(resolve('#', ROOT_SCHEMA_ID).node, ROOT_SCHEMA_ID, []);
  cache = out.sort((a, b) => (a.join('/') < b.join('/') ? -1 : 1));
  return cache;
}

/** True when `path` (a concrete config path) matches one of `patterns`. */
export function matchesPattern(path: readonly (string | number)[], patterns: readonly PathPattern[]): boolean {
  return patterns.some((p) => p.length === path.length && p.every((seg, i) => seg === '*' || seg === String(path[i])));
}

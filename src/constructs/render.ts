/**
 * Tree → config document. Walks the app's tree in declaration order, checks the structure (scope
 * of each construct, duplicate names, keys that must be child constructs), renders each
 * construct's props at its place in the document (Secrets as `${env:NAME}`, a literal `${` in any
 * other string as `$${` so the loader gives it back unchanged) and sorts keys. Reports problems as
 * ConstructDiagnostics; never throws for the user's mistakes.
 */
import type { Construct } from 'constructs';
import { error, type DiagnosticCode } from '../diag/index.js';
import { toPointer } from '../engine/source-index.js';
import { isPlainObject } from '../model/canonical.js';
import {
  APP_CHILD_KEYS,
  FluxbaseConstruct,
  PLACEMENTS,
  displayPath,
  internalsOf,
  isFluxbaseApp,
  ownerOf,
  scopeKindOf,
} from './base.js';
import type { ConstructDiagnostic } from './diagnostics.js';
import { Secret } from './secret.js';
import { matchesPattern, writeOnlyPatterns, type PathPattern } from './write-only.js';

/**
 * Maps whose key order is meaningful and kept: columns are created in declaration order, test
 * cases run and are reported in it, fixture tables are loaded in it.
 */
const ORDERED_MAPS: readonly PathPattern[] = [['tenants', '*', 'schemas', '*', 'tables', '*', 'columns'], ['tests', 'cases'], ['tests', 'fixtures', '*']];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The rendered document and what synth needs to map diagnostics back to constructs. */
export interface RenderedTree {
  /** The config document: sorted keys (columns excepted), secrets as `${env:NAME}`. */
  document: Record<string, unknown>;
  /** JSON pointer of each construct's place in the document (`''` is the app) → the construct. */
  declared: Map<string, Construct>;
  /** Declaration (pre-order) index of every construct, for ordering diagnostics. */
  order: Map<Construct, number>;
  /** Environment variables referenced by Secrets. */
  secretNames: Set<string>;
  diagnostics: ConstructDiagnostic[];
}

/** Builds a diagnostic about construct `c` (its creation site as location). */
export function constructDiagnostic(
  c: Construct,
  code: DiagnosticCode,
  summary: string,
  extra: { propPath?: (string | number)[]; path?: (string | number)[]; detail?: string; severity?: 'error' | 'warning' } = {},
): ConstructDiagnostic {
  const site = internalsOf(c)?.site;
  return {
    ...error(code, summary),
    severity: extra.severity ?? 'error',
    ...(extra.detail ? { detail: extra.detail } : {}),
    ...(extra.path ? { path: extra.path } : {}),
    ...(site ? { location: site } : {}),
    constructPath: displayPath(c),
    propPath: extra.propPath ?? [],
  };
}

/** Renders the tree under `app`. `env` is only asked whether secret variables are set. */
export function renderTree(app: Construct, env: Record<string, string | undefined>): RenderedTree {
  const out: RenderedTree = { document: {}, declared: new Map(), order: new Map(), secretNames: new Set(), diagnostics: [] };
  const report = (d: ConstructDiagnostic) => out.diagnostics.push(d);
  const paths = new Map<Construct, string[] | undefined>();
  const patterns = writeOnlyPatterns();

  app.node.findAll().forEach((c, i) => out.order.set(c, i));
  for (const c of app.node.findAll()) {
    const internals = internalsOf(c);
    if (!internals) continue;
    let configPath: string[] | undefined;
    if (c === app) configPath = [];
    else if (FluxbaseConstruct.isFluxbaseConstruct(c)) configPath = placeConstruct(c, paths, report);
    paths.set(c, configPath);
    if (!configPath) continue;
    const childKeys = c === app ? APP_CHILD_KEYS : (internals.placement?.childKeys ?? []);
    const props = { ...internals.props };
    for (const key of childKeys) {
      if (props[key] === undefined) continue;
      delete props[key];
      if (c === app && key === 'version') continue;
      report(
        constructDiagnostic(c, 'config.schema', `'${key}' cannot be given as a prop: declare its entries as child constructs`, {
          propPath: [key],
          path: [...configPath, key],
          detail: `Create each entry with its construct in this scope (e.g. new Schema(tenant, 'app') for a tenant's schemas).`,
        }),
      );
    }
    const rendered = renderValue(props, {
      construct: c,
      configPath,
      propPath: [],
      patterns,
      env,
      secretNames: out.secretNames,
      report,
    }) as Record<string, unknown> | undefined;
    const fragment = c === app ? { version: 1, ...rendered } : (rendered ?? {});
    setIn(out.document, configPath, fragment);
    out.declared.set(toPointer(configPath), c);
  }
  out.document = sortKeys(out.document, []) as Record<string, unknown>;
  return out;
}

/** The document path of a resource construct, or undefined (reported) when it is misplaced or a duplicate. */
function placeConstruct(
  c: FluxbaseConstruct,
  paths: Map<Construct, string[] | undefined>,
  report: (d: ConstructDiagnostic) => void,
): string[] | undefined {
  const internals = internalsOf(c)!;
  const placement = internals.placement!;
  if (internals.duplicateOf) {
    const first = internalsOf(internals.duplicateOf)?.site;
    report(
      constructDiagnostic(c, 'config.duplicate-key', `a ${placement.label} named '${c.name}' is already declared in this scope`, {
        detail: `Names are the keys of the config document, so each must be unique in its scope${
          first ? ` (the first is declared at ${first.file}:${first.line}:${first.column})` : ''
        }. Remove or rename one of them.`,
      }),
    );
    return undefined;
  }
  const owner = ownerOf(c);
  const ownerKind = scopeKindOf(owner);
  if (ownerKind !== placement.scope) {
    const expected = placement.scope === 'app' ? 'FluxbaseApp' : PLACEMENTS[placement.scope].label;
    const actual = ownerKind === undefined ? 'a plain Construct' : ownerKind === 'app' ? 'the FluxbaseApp' : `a ${PLACEMENTS[ownerKind].label}`;
    report(
      constructDiagnostic(c, 'config.schema', `a ${placement.label} must be created in a ${expected}, but its scope ${owner?.node.path || '(root)'} is ${actual}`, {
        detail: `Pass a ${expected} as the first argument: ${placementHint(placement.label, placement.scope)}.`,
      }),
    );
    return undefined;
  }
  const ownerPath = isFluxbaseApp(owner) ? [] : paths.get(owner!);
  if (!ownerPath) return undefined; // the owner is misplaced or a duplicate, and reported
  return [...ownerPath, ...placement.collection, c.name];
}

function placementHint(label: string, scope: string): string {
  const chain: Record<string, string> = {
    app: 'new FluxbaseApp()',
    tenant: "new Tenant(app, 'slug')",
    schema: "new Schema(tenant, 'app')",
    table: "new Table(schema, 'posts', …)",
  };
  return `${chain[scope] ?? scope} is the scope of a ${label}`;
}

interface RenderContext {
  construct: Construct;
  configPath: (string | number)[];
  propPath: (string | number)[];
  patterns: readonly PathPattern[];
  env: Record<string, string | undefined>;
  secretNames: Set<string>;
  report: (d: ConstructDiagnostic) => void;
}

/** Renders one prop value as JSON data, or returns undefined after reporting why it cannot be. */
function renderValue(value: unknown, ctx: RenderContext): unknown {
  const here = { propPath: ctx.propPath, path: ctx.configPath };
  const writeOnly = ctx.propPath.length > 0 && matchesPattern(ctx.configPath, ctx.patterns);
  if (Secret.isSecret(value)) {
    if (!writeOnly) {
      ctx.report(
        constructDiagnostic(ctx.construct, 'config.schema', `${value.toString()} is given to '${ctx.propPath.join('.')}', which is not a write-only prop`, {
          ...here,
          detail: 'Only write-only props (webhook secret, OAuth client_secret, custom-setting secret, app email credentials) take a Secret. Read other values with process.env.',
        }),
      );
      return undefined;
    }
    return renderSecret(value, ctx);
  }
  if (writeOnly && value !== undefined) {
    ctx.report(
      constructDiagnostic(ctx.construct, 'config.schema', `'${ctx.propPath.join('.')}' is write-only: give it Secret.fromEnv('NAME'), not a ${describe(value)}`, {
        ...here,
        detail: 'A literal would be written in plaintext to the synthesised file. Put the value in an environment variable and pass Secret.fromEnv with its name; the file then holds ${env:NAME}, which `fluxbase plan` reads from the environment.',
      }),
    );
    return undefined;
  }
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.replace(/\$\{/g, () => '$${');
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    ctx.report(constructDiagnostic(ctx.construct, 'config.schema', `${String(value)} is not a JSON number`, here));
    return undefined;
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => {
      const child = { ...ctx, configPath: [...ctx.configPath, i], propPath: [...ctx.propPath, i] };
      if (item === undefined) {
        ctx.report(constructDiagnostic(ctx.construct, 'config.schema', 'undefined is not JSON data', { propPath: child.propPath, path: child.configPath }));
        return null;
      }
      return renderValue(item, child);
    });
  }
  if (isPlainObject(value)) {
    const obj: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const r = renderValue(v, { ...ctx, configPath: [...ctx.configPath, key], propPath: [...ctx.propPath, key] });
      if (r !== undefined) put(obj, key, r);
    }
    return obj;
  }
  if (value === undefined) return undefined;
  ctx.report(
    constructDiagnostic(ctx.construct, 'config.schema', `${describe(value)} is not JSON data`, {
      ...here,
      detail: 'Props hold plain JSON data: strings, numbers, booleans, null, arrays and plain objects (write dates as ISO 8601 strings).',
    }),
  );
  return undefined;
}

/** `${env:NAME}` for a Secret, after checking that NAME is a valid, set variable. */
function renderSecret(secret: Secret, ctx: RenderContext): string | undefined {
  const here = { propPath: ctx.propPath, path: ctx.configPath };
  if (!ENV_NAME.test(secret.envName)) {
    ctx.report(
      constructDiagnostic(ctx.construct, 'config.schema', `${secret.toString()}: '${secret.envName}' is not an environment variable name`, {
        ...here,
        detail: 'Use letters, digits and underscores, not starting with a digit.',
      }),
    );
    return undefined;
  }
  const value = ctx.env[secret.envName];
  if (value === undefined || value === '') {
    ctx.report(
      constructDiagnostic(ctx.construct, 'config.env-unset', `environment variable ${secret.envName} is not set`, {
        ...here,
        detail: `${secret.toString()} (${ctx.propPath.join('.')}) needs ${secret.envName} when the app is synthesised and again when the plan reads the file. Set it in the environment.`,
      }),
    );
  }
  ctx.secretNames.add(secret.envName);
  return secret.reference;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ? `${(v as object).constructor.name} object` : 'object';
  return typeof v;
}

/** Sets `value` at `path`, creating intermediate objects. */
function setIn(root: Record<string, unknown>, path: readonly string[], value: Record<string, unknown>): void {
  if (path.length === 0) {
    Object.assign(root, value);
    return;
  }
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (!Object.hasOwn(node, key) || !isPlainObject(node[key])) put(node, key, {});
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  const existing = Object.hasOwn(node, last) ? node[last] : undefined;
  put(node, last, isPlainObject(existing) ? { ...value, ...existing } : value);
}

/** Defines an own, enumerable property (safe for keys such as `__proto__`). */
function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Copy with object keys sorted at every level, except maps whose order is meaningful. */
function sortKeys(value: unknown, path: string[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => sortKeys(v, [...path, String(i)]));
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  if (!matchesPattern(path, ORDERED_MAPS)) keys.sort();
  return Object.fromEntries(keys.map((k) => [k, sortKeys(value[k], [...path, k])]));
}

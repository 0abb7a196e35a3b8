/**
 * The field model: what one resource's configuration looks like, derived from the config's JSON
 * Schema (schemas/*.schema.json) by {@link deriveFields}. The provider turns it into the
 * Terraform schema (tf-schema.ts) and uses it to convert values between Terraform's shape and
 * the config document's shape (codec.ts), so the JSON Schema stays the one definition of every
 * attribute, type, requirement, description and value check.
 *
 * JSON Schema → field:
 * - `string`, `integer`/`number`, `boolean` → scalar (a union of scalar types → string, which
 *   Terraform converts numbers and bools to);
 * - no type (`"tsType": "unknown"`) or a free-form object (`additionalProperties: true`) → `json`,
 *   a string holding JSON (`jsonencode(…)` in HCL);
 * - array of scalars → `set` when `uniqueItems`, else `list`; array of objects → object list;
 * - object with `properties` → nested object; with a schema as `additionalProperties` → `map`
 *   of scalars/lists, or an object map when the values are objects (table `columns` too: keyed
 *   by name, so Terraform's diff names the column added, removed or changed);
 * - `writeOnly: true` values are taken out of the tree and listed in `writeOnly` (Terraform
 *   allows write-only attributes at the top level only);
 * - `lifecycle` is left out everywhere (Terraform has its own `lifecycle` block).
 */

/** Value checks from JSON Schema keywords (enum, pattern, bounds, formats). */
export interface Checks {
  enum?: readonly unknown[];
  pattern?: string;
  /** `x-pattern-message`: the friendly text for a failed pattern. */
  patternMessage?: string;
  minimum?: number;
  maximum?: number;
  integer?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  /** Of a map: the fewest entries. */
  minProperties?: number;
  format?: string;
}

/** One value's shape. */
export type Field =
  | { type: 'string' | 'number' | 'bool'; checks: Checks }
  | { type: 'json' }
  | { type: 'list' | 'set'; element: Field; checks: Checks }
  | { type: 'map'; element: Field }
  | { type: 'object'; attrs: Attrs }
  | { type: 'object_list'; attrs: Attrs; checks: Checks }
  | { type: 'object_map'; attrs: Attrs; keyChecks: Checks; checks: Checks };

/** One attribute of an object. */
export interface Attr {
  field: Field;
  required: boolean;
  description?: string;
  /** The JSON Schema `default`: what the handlers use when the attribute is absent. */
  default?: unknown;
  /**
   * Absent means "not managed" (the handlers leave the server's value alone), so Terraform
   * plans it as optional + computed: unset, it shows the server's value. False for required
   * attributes, attributes with a default, and those listed in `absentIsDefault`.
   */
  unmanagedWhenAbsent: boolean;
}

/** Attributes by name, in schema order. */
export type Attrs = Record<string, Attr>;

/** A write-only value found in the tree: its config path inside the body. */
export interface WriteOnlyField {
  path: string[];
  required: boolean;
  description?: string;
  checks: Checks;
}

/** Result of {@link deriveFields}. */
export interface DerivedFields {
  attrs: Attrs;
  writeOnly: WriteOnlyField[];
  /** The body's `dependencies`: attribute → attributes that must be set with it. */
  dependencies: Record<string, string[]>;
}

/** Options of {@link deriveFields}. */
export interface DeriveOptions {
  /** Dotted body paths to leave out (child resources, e.g. `schemas`, `rls.policies`). */
  exclude?: readonly string[];
  /** Dotted body paths that are required by the schema but optional here. */
  optional?: readonly string[];
  /**
   * Dotted body paths (`*` for a map key or list element) of optional attributes without a
   * schema `default` that the handlers still always manage when absent (as null, `[]` or a value
   * derived from other attributes). Every other such attribute is "not managed when absent".
   * test/terraform-provider/model.test.ts checks this list against the handlers' desired().
   */
  absentIsDefault?: readonly string[];
}

type Node = Record<string, unknown>;

/** Resolves `$ref`s across the schema files. */
export class SchemaResolver {
  constructor(private readonly files: ReadonlyMap<string, Node>) {}

  /** The node a `$ref` points at, and the file it lives in. Throws for an unresolvable ref. */
  resolve(ref: string, file: string): { node: Node; file: string } {
    const [target, pointer = ''] = ref.split('#');
    const targetFile = target ? target : file;
    let node: unknown = this.files.get(targetFile);
    for (const seg of pointer.split('/').filter(Boolean)) node = (node as Node | undefined)?.[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (!node || typeof node !== 'object') throw new Error(`unresolvable $ref ${ref} in ${file}`);
    return { node: node as Node, file: targetFile };
  }

  /** Follows `$ref` until a node without one. */
  deref(node: Node, file: string): { node: Node; file: string } {
    let cur = { node, file };
    for (let i = 0; i < 16 && typeof cur.node.$ref === 'string'; i++) cur = this.resolve(cur.node.$ref as string, cur.file);
    return cur;
  }

  /**
   * Walks from the root schema along a document path pattern (`*` = a map key), e.g.
   * `['tenants', '*', 'webhooks', '*']`: returns the node of the resource body and, for each
   * `*`, the `propertyNames` schema that constrains that key.
   */
  walk(rootFile: string, pattern: readonly string[]): { node: Node; file: string; keys: { node: Node; file: string }[] } {
    let cur = this.deref(this.resolve('#', rootFile).node, rootFile);
    const keys: { node: Node; file: string }[] = [];
    for (const seg of pattern) {
      if (seg === '*') {
        const names = (cur.node.propertyNames as Node | undefined) ?? {};
        keys.push(this.deref(names, cur.file));
        cur = this.deref(cur.node.additionalProperties as Node, cur.file);
      } else {
        const next = (cur.node.properties as Record<string, Node> | undefined)?.[seg];
        if (!next) throw new Error(`schema has no property ${seg} on the path ${pattern.join('.')}`);
        cur = this.deref(next, cur.file);
      }
    }
    return { ...cur, keys };
  }
}

/** The value checks a schema node declares. */
export function checksOf(node: Node): Checks {
  const c: Checks = {};
  if (Array.isArray(node.enum)) c.enum = node.enum;
  if (typeof node.pattern === 'string') c.pattern = node.pattern;
  if (typeof node['x-pattern-message'] === 'string') c.patternMessage = node['x-pattern-message'];
  for (const k of ['minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties'] as const) {
    if (typeof node[k] === 'number') c[k] = node[k];
  }
  if (node.type === 'integer') c.integer = true;
  if (typeof node.format === 'string') c.format = node.format;
  return c;
}

/** Derives the fields of a resource body (see module doc). */
export function deriveFields(resolver: SchemaResolver, body: Node, file: string, options: DeriveOptions = {}): DerivedFields {
  const writeOnly: WriteOnlyField[] = [];
  const exclude = new Set(options.exclude ?? []);
  const optional = new Set(options.optional ?? []);
  const absentIsDefault = new Set(options.absentIsDefault ?? []);

  const objectAttrs = (node: Node, nodeFile: string, path: string[]): Attrs => {
    const attrs: Attrs = {};
    const required = new Set((node.required as string[] | undefined) ?? []);
    for (const [name, raw] of Object.entries((node.properties as Record<string, Node> | undefined) ?? {})) {
      const sub = [...path, name];
      const dotted = sub.join('.');
      if (name === 'lifecycle' || exclude.has(dotted)) continue;
      const { node: child, file: childFile } = resolver.deref(raw, nodeFile);
      const isRequired = required.has(name) && !optional.has(dotted);
      const description = (raw.description ?? child.description) as string | undefined;
      if (child.writeOnly === true) {
        writeOnly.push({ path: sub, required: isRequired && path.length === 0, checks: checksOf(child), ...(description ? { description } : {}) });
        continue;
      }
      const field = fieldOf(child, childFile, sub);
      if (field.type === 'object' && Object.keys(field.attrs).length === 0) continue;
      attrs[name] = {
        field,
        required: isRequired,
        ...(description ? { description } : {}),
        ...(child.default !== undefined ? { default: child.default } : {}),
        unmanagedWhenAbsent: !isRequired && child.default === undefined && !absentIsDefault.has(dotted),
      };
    }
    return attrs;
  };

  const fieldOf = (node: Node, nodeFile: string, path: string[]): Field => {
    const types = (Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type]).filter((t) => t !== 'null') as string[];
    if (types.length > 1) return { type: 'string', checks: {} };
    const type = types[0];
    switch (type) {
      case 'string':
        return { type: 'string', checks: checksOf(node) };
      case 'integer':
      case 'number':
        return { type: 'number', checks: checksOf(node) };
      case 'boolean':
        return { type: 'bool', checks: {} };
      case 'array': {
        const items = resolver.deref((node.items as Node | undefined) ?? {}, nodeFile);
        const element = fieldOf(items.node, items.file, [...path, '*']);
        if (element.type === 'object') return { type: 'object_list', attrs: element.attrs, checks: checksOf(node) };
        return { type: node.uniqueItems === true ? 'set' : 'list', element, checks: checksOf(node) };
      }
      case 'object':
      case undefined: {
        if (node.properties) return { type: 'object', attrs: objectAttrs(node, nodeFile, path) };
        const ap = node.additionalProperties;
        if (ap && typeof ap === 'object') {
          const value = resolver.deref(ap as Node, nodeFile);
          const keyChecks = checksOf(resolver.deref((node.propertyNames as Node | undefined) ?? {}, nodeFile).node);
          const element = fieldOf(value.node, value.file, [...path, '*']);
          if (element.type === 'object') return { type: 'object_map', attrs: element.attrs, keyChecks, checks: checksOf(node) };
          return { type: 'map', element };
        }
        return { type: 'json' };
      }
      default:
        throw new Error(`unsupported JSON Schema type ${String(type)} at ${path.join('.')}`);
    }
  };

  const dependencies = Object.fromEntries(
    Object.entries((body.dependencies as Record<string, unknown> | undefined) ?? {}).filter((e): e is [string, string[]] => Array.isArray(e[1])),
  );
  return { attrs: objectAttrs(body, file, []), writeOnly, dependencies };
}

/** Messages for a value that breaks `checks` (empty when it is fine). `label` names the value. */
export function checkValue(checks: Checks, value: unknown): string[] {
  const out: string[] = [];
  if (checks.enum && !checks.enum.includes(value)) out.push(`must be one of ${checks.enum.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`);
  if (typeof value === 'string') {
    if (checks.pattern && !new RegExp(checks.pattern, 'u').test(value)) out.push(`${JSON.stringify(value)} ${checks.patternMessage ?? `must match ${checks.pattern}`}`);
    if (checks.minLength !== undefined && [...value].length < checks.minLength) out.push(checks.minLength === 1 ? 'must not be empty' : `must be at least ${checks.minLength} characters long`);
    if (checks.maxLength !== undefined && [...value].length > checks.maxLength) out.push(`must be at most ${checks.maxLength} characters long`);
    const formatProblem = checks.format ? formatError(checks.format, value) : undefined;
    if (formatProblem) out.push(formatProblem);
  }
  if (typeof value === 'number') {
    if (checks.integer && !Number.isInteger(value)) out.push(`must be a whole number, got ${value}`);
    if (checks.minimum !== undefined && value < checks.minimum) out.push(`must be at least ${checks.minimum}, got ${value}`);
    if (checks.maximum !== undefined && value > checks.maximum) out.push(`must be at most ${checks.maximum}, got ${value}`);
  }
  if (Array.isArray(value)) {
    if (checks.minItems !== undefined && value.length < checks.minItems) out.push(`must have at least ${checks.minItems} element${checks.minItems === 1 ? '' : 's'}`);
    if (checks.maxItems !== undefined && value.length > checks.maxItems) out.push(`must have at most ${checks.maxItems} elements`);
  } else if (value !== null && typeof value === 'object' && checks.minProperties !== undefined && Object.keys(value).length < checks.minProperties) {
    out.push(`must have at least ${checks.minProperties} entr${checks.minProperties === 1 ? 'y' : 'ies'}`);
  }
  return out;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function formatError(format: string, value: string): string | undefined {
  switch (format) {
    case 'uri':
      try {
        const u = new URL(value);
        return u.protocol ? undefined : 'must be an absolute URL';
      } catch {
        return `${JSON.stringify(value)} is not an absolute URL`;
      }
    case 'date-time':
      return DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : `${JSON.stringify(value)} is not an RFC 3339 date-time (e.g. 2030-01-01T00:00:00Z)`;
    case 'email':
      return EMAIL.test(value) ? undefined : `${JSON.stringify(value)} is not an email address`;
    default:
      return undefined;
  }
}

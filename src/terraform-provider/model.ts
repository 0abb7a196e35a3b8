/**
 * One resource type's model: its fields derived from the JSON Schema, its Terraform schema, and
 * the conversions between a Terraform object and the config document (one resource in a
 * FluxbaseConfig), which is what the resource handlers' `desired()` reads.
 *
 * Terraform attributes of every resource:
 * - the identity (`slug`; `tenant` + `name`; `tenant` + `schema` + `name`; …): required, changing
 *   one replaces the resource; checked with the schema's `propertyNames`;
 * - `id`: the import id, the identity joined with `/` (`acme/app/users`);
 * - the body's fields (fields.ts); optional attributes left null are not managed (the server's
 *   value is left alone), exactly like an undeclared key in fluxbase.config.yaml;
 * - per write-only value `<path>_wo` (write-only) and `<path>_wo_version` (bump to re-send);
 * - `server_id` (UUID) and the sensitive `key` where the kind has them.
 */
import type { AttributeSpec, ResourceSchemaSpec } from '../terraform/index.js';
import { t, type CtyType } from '../terraform/index.js';
import { checkValue, deriveFields, SchemaResolver, type Attr, type Attrs, type Checks, type DerivedFields, type Field } from './fields.js';
import { KINDS, type KindInfo } from './kinds.js';
import { configSchemas } from './schemas.js';

type Obj = Record<string, unknown>;

/** A write-only value as Terraform sees it. */
export interface WriteOnlyAttr {
  /** `<path joined by _>_wo` */
  name: string;
  /** `<name>_version` */
  versionName: string;
  /** Config path inside the body. */
  path: readonly string[];
  /** The value is JSON text (parsed into the config). */
  json: boolean;
}

/** Everything the provider knows about one resource type. */
export interface ResourceModel {
  info: KindInfo;
  fields: DerivedFields;
  writeOnly: WriteOnlyAttr[];
  schema: ResourceSchemaSpec;
}

const ROOT = 'fluxbase.config.schema.json';
let cache: Map<string, ResourceModel> | undefined;

/** Models of every resource type, by Terraform type name (derived once per process). */
export function resourceModels(): Map<string, ResourceModel> {
  if (cache) return cache;
  const resolver = new SchemaResolver(configSchemas());
  cache = new Map(KINDS.map((info) => [info.typeName, buildModel(resolver, info)]));
  return cache;
}

/** The model of a Terraform type name; throws for an unknown one. */
export function modelOf(typeName: string): ResourceModel {
  const m = resourceModels().get(typeName);
  if (!m) throw new Error(`unknown resource type ${typeName}`);
  return m;
}

function buildModel(resolver: SchemaResolver, info: KindInfo): ResourceModel {
  const walked = resolver.walk(ROOT, info.pattern);
  const fields = deriveFields(resolver, walked.node, walked.file, info.derive);
  const writeOnly: WriteOnlyAttr[] = [
    ...fields.writeOnly.map((w) => ({ name: `${w.path.join('_')}_wo`, versionName: `${w.path.join('_')}_wo_version`, path: w.path, json: false })),
    ...(info.extraWriteOnly ?? []).map((w) => ({ name: `${w.path.join('_')}_wo`, versionName: `${w.path.join('_')}_wo_version`, path: w.path, json: true })),
  ];
  const attributes: Record<string, AttributeSpec> = {
    id: { type: t.string, computed: true, description: `Import id: ${info.identity.length > 0 ? info.identity.map((n) => `<${n}>`).join('/') : info.kind}.` },
  };
  info.identity.forEach((name, i) => {
    const keyChecks = walked.keys[i] ? checksFromNode(walked.keys[i]!.node) : {};
    attributes[name] = {
      type: t.string,
      required: true,
      forceNew: true,
      description: info.identityDescriptions[i] ?? '',
      validate: (v: unknown) => checkValue({ ...keyChecks, minLength: keyChecks.minLength ?? 1 }, v),
    };
  });
  for (const [name, attr] of Object.entries(fields.attrs)) {
    attributes[name] = attrSpec(info.createOrder?.map === name ? { ...attr, description: info.createOrder.description } : attr);
  }
  for (const w of fields.writeOnly) {
    const wo = writeOnly.find((x) => x.path === w.path)!;
    attributes[wo.name] = {
      type: t.string,
      ...(w.required ? { required: true } : { optional: true }),
      writeOnly: true,
      description: `${w.description ? `${w.description} ` : ''}Write-only (Terraform ≥ 1.11): sent to the server, never stored in plan or state. Change ${wo.versionName} to send a new value.`,
      validate: (v: unknown) => checkValue(w.checks, v),
    };
    attributes[wo.versionName] = versionSpec(wo.name);
  }
  for (const w of info.extraWriteOnly ?? []) {
    const wo = writeOnly.find((x) => x.path === w.path)!;
    attributes[wo.name] = { type: t.string, optional: true, writeOnly: true, description: w.description, validate: jsonProblem };
    attributes[wo.versionName] = versionSpec(wo.name);
  }
  if (info.serverId) attributes.server_id = { type: t.string, computed: true, description: 'The id the server gave it (UUID).' };
  if (info.key) {
    attributes.key = {
      type: t.string,
      computed: true,
      sensitive: true,
      description: 'The key value, returned once by the create call and kept in state (null for an imported key). A replacement issues a new value.',
    };
  }
  return { info, fields, writeOnly, schema: { version: info.state?.version ?? 0, description: info.description, attributes } };
}

function versionSpec(wo: string): AttributeSpec {
  return {
    type: t.number,
    optional: true,
    description: `Version of ${wo}: ${wo} is sent on create and whenever this changes (Terraform cannot see write-only values change).`,
  };
}

function checksFromNode(node: Obj): Checks {
  const c: Checks = {};
  if (typeof node.pattern === 'string') c.pattern = node.pattern;
  if (typeof node['x-pattern-message'] === 'string') c.patternMessage = node['x-pattern-message'];
  if (typeof node.minLength === 'number') c.minLength = node.minLength;
  if (typeof node.maxLength === 'number') c.maxLength = node.maxLength;
  return c;
}

function jsonProblem(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    JSON.parse(v);
    return undefined;
  } catch (e) {
    return `must be JSON text (use jsonencode(…)): ${(e as Error).message}`;
  }
}

/** The cty type of a field that is a plain attribute type (not nested attributes). */
function ctyOf(f: Field): CtyType {
  switch (f.type) {
    case 'string':
    case 'json':
      return t.string;
    case 'number':
      return t.number;
    case 'bool':
      return t.bool;
    case 'list':
      return t.list(ctyOf(f.element));
    case 'set':
      return t.set(ctyOf(f.element));
    case 'map':
      return t.map(ctyOf(f.element));
    default:
      throw new Error(`${f.type} cannot be an element type`);
  }
}

/** Problems of one value of field `f` (recursing into collections). */
function fieldProblems(f: Field, v: unknown): string[] {
  if (v === null || v === undefined) return [];
  switch (f.type) {
    case 'string':
    case 'number':
      return checkValue(f.checks, v);
    case 'json': {
      const p = jsonProblem(v);
      return p ? [p] : [];
    }
    case 'list':
    case 'set':
      return [...checkValue(f.checks, v), ...(v as unknown[]).flatMap((e) => fieldProblems(f.element, e))];
    case 'map':
      return Object.entries(v as Obj).flatMap(([k, e]) => fieldProblems(f.element, e).map((m) => `[${JSON.stringify(k)}]: ${m}`));
    default:
      return [];
  }
}

/** Fields whose default Terraform can plan (plain attribute types). */
function isPlain(f: Field): boolean {
  return !['object', 'object_list', 'object_map'].includes(f.type);
}

function describe(attr: Attr): string {
  const parts = [attr.description ?? ''];
  if (attr.field.type === 'json') parts.push('JSON text: write jsonencode(…).');
  if (attr.default !== undefined) parts.push(`Default: ${JSON.stringify(attr.default)}.`);
  else if (attr.unmanagedWhenAbsent) parts.push('When unset, the server\'s value is left alone (and shown).');
  return parts.filter(Boolean).join(' ');
}

function nestedAttributes(attrs: Attrs): Record<string, AttributeSpec> {
  const out: Record<string, AttributeSpec> = {};
  for (const [name, attr] of Object.entries(attrs)) out[name] = attrSpec(attr);
  return out;
}

/** The Terraform attribute for one derived attribute. */
function attrSpec(attr: Attr): AttributeSpec {
  const presence: AttributeSpec = attr.required
    ? { required: true }
    : attr.default !== undefined && isPlain(attr.field)
      ? { default: attr.default }
      : attr.unmanagedWhenAbsent
        ? { optional: true, computed: true }
        : { optional: true };
  const base: AttributeSpec = { ...presence, description: describe(attr) };
  const f = attr.field;
  switch (f.type) {
    case 'object':
      return { ...base, nested: { nesting: 'single', attributes: nestedAttributes(f.attrs) } };
    case 'object_list':
      return { ...base, nested: { nesting: 'list', attributes: nestedAttributes(f.attrs) }, validate: (v: unknown) => checkValue(f.checks, v) };
    case 'object_map':
      return {
        ...base,
        nested: { nesting: 'map', attributes: nestedAttributes(f.attrs) },
        validate: (v: unknown) => [...checkValue(f.checks, v), ...Object.keys(v as Obj).flatMap((k) => checkValue(f.keyChecks, k).map((m) => `key ${m}`))],
      };
    default:
      return { ...base, type: ctyOf(f), validate: (v: unknown) => fieldProblems(f, v) };
  }
}

/**
 * Schema declarations (what a provider author writes) and their compiled
 * form (what the server uses): implied cty types, flags, and the protocol's
 * `tfplugin6.Schema` message.
 *
 * Every attribute is exactly one of: `required`; `optional`;
 * `optional + computed`; `computed` (provider-set only). Declaring
 * `default` makes it `optional + computed` on the wire (Terraform only lets
 * a provider plan a value that differs from a null config for computed
 * attributes). Mistakes throw `SchemaError` when the provider is defined.
 */
import { conform } from './cty/values.js';
import { encodeCtyType, type CtyType } from './cty/types.js';

/** Per-attribute validator: return a message (or several) to reject the value. Called only for known, non-null values. */
export type AttributeValidator = (value: any) => string | readonly string[] | undefined | void;

/** One attribute. `type` (a cty type) or `nested` (protocol 6 nested attributes) is required. */
export interface AttributeSpec {
  type?: CtyType;
  nested?: NestedAttributesSpec;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  /** Hidden in plan output and `terraform show`; still stored in state. */
  sensitive?: boolean;
  /**
   * Terraform ≥ 1.11 write-only argument: accepted in config, handed to
   * create/update, never stored in plan or state (always null there).
   * Top-level attributes only; cannot be computed or have a default.
   */
  writeOnly?: boolean;
  /** Changing the value replaces the resource (top-level attributes and blocks). */
  forceNew?: boolean;
  /** Planned when config is null (on create and update). Implies optional + computed. */
  default?: unknown;
  /**
   * For computed attributes: plan them unknown whenever the resource gets an
   * in-place update (e.g. `updated_at`, `etag`). Without it a computed
   * attribute keeps its prior value on update. Top-level attributes only.
   */
  unknownOnUpdate?: boolean;
  description?: string;
  deprecated?: boolean;
  validate?: AttributeValidator;
}

export type NestedAttributesNesting = 'single' | 'list' | 'set' | 'map';
export type BlockNesting = 'single' | 'group' | 'list' | 'set' | 'map';

/** Protocol 6 nested attributes (`attr = { … }` / `attr = [{ … }]` syntax). */
export interface NestedAttributesSpec {
  nesting: NestedAttributesNesting;
  attributes: Record<string, AttributeSpec>;
}

/** A block's content. */
export interface BlockSpec {
  attributes?: Record<string, AttributeSpec>;
  blocks?: Record<string, NestedBlockSpec>;
  description?: string;
  deprecated?: boolean;
}

/** A nested block type (`name { … }` syntax). */
export interface NestedBlockSpec extends BlockSpec {
  nesting: BlockNesting;
  minItems?: number;
  maxItems?: number;
  /** Any change to the blocks of this type replaces the resource (top-level blocks only). */
  forceNew?: boolean;
}

/** A resource's (or data source's) schema: a block plus the state schema version. */
export interface ResourceSchemaSpec extends BlockSpec {
  /** State schema version (default 0); bump it and implement `upgradeState` when the stored shape changes. */
  version?: number;
}

/** Thrown when a declaration breaks the rules above. */
export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

export interface CompiledAttribute {
  name: string;
  spec: AttributeSpec;
  type: CtyType;
  required: boolean;
  optional: boolean;
  computed: boolean;
  writeOnly: boolean;
  nested?: CompiledNested;
  /** The default value in canonical form, if any. */
  defaultValue?: unknown;
}

export interface CompiledNested {
  nesting: BlockNesting;
  block: CompiledBlock;
}

export interface CompiledNestedBlock extends CompiledNested {
  name: string;
  spec: NestedBlockSpec;
  type: CtyType;
}

export interface CompiledBlock {
  spec: BlockSpec;
  attributes: CompiledAttribute[];
  blocks: CompiledNestedBlock[];
  /** The implied object type of one block value. */
  type: readonly ['object', Record<string, CtyType>];
}

const NAME = /^[a-z_][a-z0-9_]*$/;
/** Names Terraform reserves in resource and data blocks (meta-arguments). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['count', 'depends_on', 'for_each', 'lifecycle', 'provider', 'provisioner', 'connection']);

function wrap(nesting: BlockNesting, obj: CtyType): CtyType {
  switch (nesting) {
    case 'single':
    case 'group':
      return obj;
    case 'list':
      return ['list', obj];
    case 'set':
      return ['set', obj];
    case 'map':
      return ['map', obj];
  }
}

/**
 * Compiles and checks a block declaration. `where` prefixes error messages;
 * `depth` 0 is the top level, where `reserved` names (meta-arguments) are refused.
 */
export function compileBlock(spec: BlockSpec, where: string, depth = 0, inSet = false, reserved?: ReadonlySet<string>): CompiledBlock {
  const attributes: CompiledAttribute[] = [];
  const blocks: CompiledNestedBlock[] = [];
  const objType: Record<string, CtyType> = {};
  for (const [name, a] of Object.entries(spec.attributes ?? {})) {
    const at = `${where}.${name}`;
    if (!NAME.test(name)) throw new SchemaError(`${at}: attribute names must match ${NAME}`);
    if (reserved?.has(name)) throw new SchemaError(`${at}: "${name}" is reserved by Terraform`);
    const attr = compileAttribute(name, a, at, depth, inSet);
    attributes.push(attr);
    objType[name] = attr.type;
  }
  for (const [name, b] of Object.entries(spec.blocks ?? {})) {
    const at = `${where}.${name}`;
    if (!NAME.test(name)) throw new SchemaError(`${at}: block names must match ${NAME}`);
    if (reserved?.has(name)) throw new SchemaError(`${at}: "${name}" is reserved by Terraform`);
    if (name in objType) throw new SchemaError(`${at}: a block and an attribute share the name`);
    if (b.forceNew && depth > 0) throw new SchemaError(`${at}: forceNew is supported on top-level blocks only`);
    const block = compileBlock(b, at, depth + 1, inSet || b.nesting === 'set');
    const type = wrap(b.nesting, block.type);
    blocks.push({ name, spec: b, nesting: b.nesting, block, type });
    objType[name] = type;
  }
  return { spec, attributes, blocks, type: ['object', objType] };
}

function compileAttribute(name: string, a: AttributeSpec, at: string, depth: number, inSet: boolean): CompiledAttribute {
  if ((a.type === undefined) === (a.nested === undefined)) throw new SchemaError(`${at}: declare exactly one of type or nested`);
  const hasDefault = a.default !== undefined;
  const required = !!a.required;
  const optional = !!a.optional || hasDefault;
  const computed = !!a.computed || hasDefault;
  if (required && (optional || computed)) throw new SchemaError(`${at}: required cannot be combined with optional, computed or default`);
  if (!required && !optional && !computed) throw new SchemaError(`${at}: declare required, optional or computed`);
  const writeOnly = !!a.writeOnly;
  if (writeOnly) {
    if (computed) throw new SchemaError(`${at}: writeOnly attributes cannot be computed or have a default`);
    if (depth > 0 || inSet) throw new SchemaError(`${at}: writeOnly is supported on top-level attributes only`);
  }
  if (a.forceNew && depth > 0) throw new SchemaError(`${at}: forceNew is supported on top-level attributes only`);
  if (a.unknownOnUpdate && (!computed || depth > 0)) throw new SchemaError(`${at}: unknownOnUpdate needs a top-level computed attribute`);
  let nested: CompiledNested | undefined;
  let type: CtyType;
  if (a.nested) {
    if (a.nested.nesting === 'set' && Object.values(a.nested.attributes).some((x) => x.writeOnly)) {
      throw new SchemaError(`${at}: set-nested attributes cannot contain writeOnly attributes`);
    }
    const block = compileBlock({ attributes: a.nested.attributes }, at, depth + 1, inSet || a.nested.nesting === 'set');
    nested = { nesting: a.nested.nesting, block };
    type = wrap(a.nested.nesting, block.type);
  } else {
    type = a.type as CtyType;
  }
  const out: CompiledAttribute = { name, spec: a, type, required, optional, computed, writeOnly };
  if (nested) out.nested = nested;
  if (hasDefault) {
    try {
      out.defaultValue = conform(a.default, type, { allowUnknown: false, rejectExtraAttributes: true });
    } catch (e) {
      throw new SchemaError(`${at}: default does not fit the type: ${(e as Error).message}`);
    }
  }
  return out;
}

// ---- protocol form -------------------------------------------------------

/** protobufjs object shape of `tfplugin6.Schema.Attribute`. */
interface ProtoAttribute {
  name: string;
  type: Buffer;
  nested_type?: { attributes: ProtoAttribute[]; nesting: string };
  description: string;
  description_kind: 'PLAIN';
  required: boolean;
  optional: boolean;
  computed: boolean;
  sensitive: boolean;
  deprecated: boolean;
  write_only: boolean;
}

/** protobufjs object shape of `tfplugin6.Schema.Block`. */
export interface ProtoBlock {
  version: number;
  attributes: ProtoAttribute[];
  block_types: { type_name: string; block: ProtoBlock; nesting: string; min_items: number; max_items: number }[];
  description: string;
  description_kind: 'PLAIN';
  deprecated: boolean;
}

function protoAttribute(a: CompiledAttribute): ProtoAttribute {
  const out: ProtoAttribute = {
    name: a.name,
    type: a.nested ? Buffer.alloc(0) : encodeCtyType(a.type),
    description: a.spec.description ?? '',
    description_kind: 'PLAIN',
    required: a.required,
    optional: a.optional,
    computed: a.computed,
    sensitive: !!a.spec.sensitive,
    deprecated: !!a.spec.deprecated,
    write_only: a.writeOnly,
  };
  if (a.nested) {
    out.nested_type = { attributes: a.nested.block.attributes.map(protoAttribute), nesting: a.nested.nesting.toUpperCase() };
  }
  return out;
}

/** `tfplugin6.Schema.Block` for a compiled block (attributes and blocks sorted by name). */
export function toProtoBlock(b: CompiledBlock, version = 0): ProtoBlock {
  const byName = <T extends { name: string }>(x: T, y: T) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);
  return {
    version,
    attributes: [...b.attributes].sort(byName).map(protoAttribute),
    block_types: [...b.blocks].sort(byName).map((nb) => ({
      type_name: nb.name,
      block: toProtoBlock(nb.block),
      nesting: nb.nesting.toUpperCase(),
      min_items: nb.spec.minItems ?? 0,
      max_items: nb.spec.maxItems ?? 0,
    })),
    description: b.spec.description ?? '',
    description_kind: 'PLAIN',
    deprecated: !!b.spec.deprecated,
  };
}

/** `tfplugin6.Schema` (version + top-level block). */
export function toProtoSchema(b: CompiledBlock, version = 0): { version: number; block: ProtoBlock } {
  return { version, block: toProtoBlock(b, version) };
}

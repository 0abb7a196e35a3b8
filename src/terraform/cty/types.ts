/**
 * cty types, represented exactly as their JSON encoding in the protocol
 * (`Schema.Attribute.type` carries `JSON.stringify(type)` as bytes):
 * `"string"`, `"number"`, `"bool"`, `["list", T]`, `["set", T]`, `["map", T]`,
 * `["object", {name: T}]`, `["tuple", [T…]]`.
 *
 * `"dynamic"` is not supported by the framework (no attribute can declare it).
 */
export type CtyPrimitive = 'string' | 'number' | 'bool';
export type CtyType =
  | CtyPrimitive
  | readonly ['list', CtyType]
  | readonly ['set', CtyType]
  | readonly ['map', CtyType]
  | readonly ['object', { readonly [name: string]: CtyType }]
  | readonly ['tuple', readonly CtyType[]];

/** Constructors for cty types, e.g. `t.list(t.string)`. */
export const t = {
  string: 'string',
  number: 'number',
  bool: 'bool',
  list: (element: CtyType) => ['list', element] as const,
  set: (element: CtyType) => ['set', element] as const,
  map: (element: CtyType) => ['map', element] as const,
  object: (attributes: { readonly [name: string]: CtyType }) => ['object', attributes] as const,
  tuple: (elements: readonly CtyType[]) => ['tuple', elements] as const,
} as const satisfies Record<string, CtyType | ((...a: never[]) => CtyType)>;

/** The protocol's byte encoding of a type (compact JSON, UTF-8). */
export function encodeCtyType(type: CtyType): Buffer {
  return Buffer.from(JSON.stringify(type));
}

/**
 * Parses a JSON-encoded cty type (as Terraform shows them). Throws a
 * `TypeError` for anything this framework does not support, including
 * `"dynamic"` and objects with optional-attribute markers.
 */
export function parseCtyType(json: unknown): CtyType {
  if (json === 'string' || json === 'number' || json === 'bool') return json;
  if (Array.isArray(json) && json.length === 2) {
    const [kind, arg] = json as [unknown, unknown];
    switch (kind) {
      case 'list':
      case 'set':
      case 'map':
        return [kind, parseCtyType(arg)] as const;
      case 'object': {
        if (arg === null || typeof arg !== 'object' || Array.isArray(arg)) break;
        const attrs: Record<string, CtyType> = {};
        for (const [k, v] of Object.entries(arg)) attrs[k] = parseCtyType(v);
        return ['object', attrs] as const;
      }
      case 'tuple':
        if (!Array.isArray(arg)) break;
        return ['tuple', arg.map(parseCtyType)] as const;
    }
  }
  throw new TypeError(`unsupported cty type ${JSON.stringify(json)}`);
}

/** Human-readable form of a type for messages: `list(string)`. */
export function formatCtyType(type: CtyType): string {
  if (typeof type === 'string') return type;
  switch (type[0]) {
    case 'list':
    case 'set':
    case 'map':
      return `${type[0]}(${formatCtyType(type[1])})`;
    case 'object':
      return `object({${Object.entries(type[1])
        .map(([k, v]) => `${k}=${formatCtyType(v)}`)
        .join(', ')}})`;
    case 'tuple':
      return `tuple([${type[1].map(formatCtyType).join(', ')}])`;
  }
}

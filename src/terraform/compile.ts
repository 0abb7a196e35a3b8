/**
 * Compiles a `ProviderDefinition`: checks every schema and the resource
 * rules that need the whole definition (type name prefix, update-or-forceNew).
 */
import type { DataSourceDefinition, ProviderDefinition, ResourceDefinition } from './framework.js';
import { compileBlock, RESERVED_NAMES, SchemaError, type CompiledBlock } from './schema.js';

export interface CompiledResource {
  def: ResourceDefinition<any, any>;
  block: CompiledBlock;
  version: number;
}
export interface CompiledDataSource {
  def: DataSourceDefinition<any, any>;
  block: CompiledBlock;
  version: number;
}

/** A provider definition with its schemas compiled and checked. Throws `SchemaError`. */
export interface CompiledProvider {
  def: ProviderDefinition<any>;
  providerBlock: CompiledBlock;
  resources: Map<string, CompiledResource>;
  dataSources: Map<string, CompiledDataSource>;
}

/** Compiles every schema of a provider; throws `SchemaError` on the first bad declaration. */
export function compileProvider(def: ProviderDefinition<any>): CompiledProvider {
  const resources = new Map<string, CompiledResource>();
  for (const r of def.resources) {
    if (resources.has(r.typeName)) throw new SchemaError(`${r.typeName}: declared twice`);
    if (!r.typeName.startsWith(def.name + '_') && r.typeName !== def.name) {
      throw new SchemaError(`${r.typeName}: resource type names must start with "${def.name}_"`);
    }
    const block = compileBlock(r.schema, r.typeName, 0, false, RESERVED_NAMES);
    if (!r.update) {
      const inPlace = block.attributes.filter((a) => (a.required || a.optional) && !a.spec.forceNew && !a.writeOnly).map((a) => a.name);
      inPlace.push(...block.blocks.filter((b) => !b.spec.forceNew).map((b) => b.name));
      if (inPlace.length) throw new SchemaError(`${r.typeName}: no update callback, so ${inPlace.join(', ')} must be forceNew`);
    }
    resources.set(r.typeName, { def: r, block, version: r.schema.version ?? 0 });
  }
  const dataSources = new Map<string, CompiledDataSource>();
  for (const d of def.dataSources ?? []) {
    if (dataSources.has(d.typeName)) throw new SchemaError(`${d.typeName}: declared twice`);
    dataSources.set(d.typeName, { def: d, block: compileBlock(d.schema, d.typeName, 0, false, RESERVED_NAMES), version: d.schema.version ?? 0 });
  }
  return { def, providerBlock: compileBlock(def.schema ?? {}, def.name), resources, dataSources };
}


/**
 * Conversions between a Terraform object of a resource type and the config document: the body
 * of one resource (what fluxbase.config.yaml holds at its path), its identity, its import id and
 * the one-resource FluxbaseConfig that the resource handlers' `desired()` reads.
 */
import { DiagnosticError, type ValuePath } from '../terraform/index.js';
import { canonicalJson } from '../model/canonical.js';
import { formatAddress, parseAddress } from '../model/address.js';
import type { FluxbaseConfig } from '../model/config.generated.js';
import type { Attrs, Field } from './fields.js';
import type { ResourceModel } from './model.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function toConfigValue(f: Field, v: unknown, path: ValuePath): unknown {
  if (v === null || v === undefined) return undefined;
  switch (f.type) {
    case 'json':
      try {
        return JSON.parse(v as string) as unknown;
      } catch (e) {
        throw new DiagnosticError('Invalid JSON', { detail: `${(e as Error).message}. Write the value with jsonencode(…).`, path });
      }
    case 'list':
    case 'set':
      return (v as unknown[]).map((e, i) => toConfigValue(f.element, e, [...path, i]));
    case 'map':
      return Object.fromEntries(Object.entries(v as Obj).map(([k, e]) => [k, toConfigValue(f.element, e, [...path, k])]));
    case 'object':
      return toBody(f.attrs, v as Obj, path);
    case 'object_list':
      return (v as Obj[]).map((e, i) => toBody(f.attrs, e, [...path, i]));
    case 'object_map':
      return Object.fromEntries(Object.entries(v as Record<string, Obj>).map(([k, e]) => [k, toBody(f.attrs, e, [...path, k])]));
    default:
      return v;
  }
}

function toBody(attrs: Attrs, obj: Obj, path: ValuePath): Obj {
  const out: Obj = {};
  for (const [name, attr] of Object.entries(attrs)) {
    const v = toConfigValue(attr.field, obj[name], [...path, name]);
    // A value equal to the schema default means what leaving it out means (Terraform plans the
    // default for an unset attribute); leaving it out keeps config checks such as "a primary
    // key column cannot be nullable" about what the user wrote.
    if (v !== undefined && !(attr.default !== undefined && canonicalJson(v) === canonicalJson(attr.default))) out[name] = v;
  }
  return out;
}

/**
 * The live values for attributes a create/update left unknown: unset attributes that are "not
 * managed when absent" (optional + computed), recursing into nested objects.
 */
export function unsetFromLive(attrs: Attrs, planned: Obj, live: Obj): Obj {
  const out: Obj = {};
  for (const [name, attr] of Object.entries(attrs)) {
    const v = planned[name];
    const l = live[name];
    if (attr.unmanagedWhenAbsent && (v === null || v === undefined)) out[name] = l ?? null;
    else if (attr.field.type === 'object' && isObj(v) && isObj(l)) {
      const sub = unsetFromLive(attr.field.attrs, v, l);
      if (Object.keys(sub).length > 0) out[name] = { ...v, ...sub };
    }
  }
  return out;
}

function setAt(obj: Obj, path: readonly string[], value: unknown): void {
  let cur = obj;
  path.forEach((seg, i) => {
    if (i === path.length - 1) cur[seg] = value;
    else cur = (isObj(cur[seg]) ? cur[seg] : (cur[seg] = {})) as Obj;
  });
}

/**
 * Orders the entries of the body's `order.map` (KindInfo.createOrder): those whose `order.first`
 * is true, then the rest, each group by key (in code-point order, as Terraform sorts map keys).
 */
function orderEntries(body: Obj, order: { map: string; first: string }): void {
  const map = body[order.map];
  if (!isObj(map)) return;
  const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);
  const entries = Object.entries(map).sort(byKey);
  const first = (e: [string, unknown]) => isObj(e[1]) && e[1][order.first] === true;
  body[order.map] = Object.fromEntries([...entries.filter(first), ...entries.filter((e) => !first(e))]);
}

/**
 * The config body of a Terraform object: null attributes are left out (not declared), JSON text
 * is parsed, the kind's `createOrder` map is put in creation order, and write-only values
 * (`*_wo`, taken from `writeOnly`, i.e. the configuration) are put back at their config path.
 * Throws DiagnosticError for bad JSON.
 */
export function bodyFromTerraform(model: ResourceModel, obj: Obj, writeOnly: Obj = {}): Obj {
  const body = toBody(model.fields.attrs, obj, []);
  if (model.info.createOrder) orderEntries(body, model.info.createOrder);
  for (const w of model.writeOnly) {
    const v = writeOnly[w.name];
    if (v === null || v === undefined) continue;
    setAt(body, w.path, w.json ? toConfigValue({ type: 'json' }, v, [w.name]) : v);
  }
  return body;
}

/** The Terraform value of a config value of field `f` (null for undefined). */
export function fromConfigValue(f: Field, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (f.type) {
    case 'json':
      return canonicalJson(v);
    case 'string':
      return typeof v === 'string' ? v : String(v);
    case 'number':
      return typeof v === 'number' ? v : Number(v);
    case 'bool':
      return Boolean(v);
    case 'list':
    case 'set':
      return Array.isArray(v) ? v.map((e) => fromConfigValue(f.element, e)) : null;
    case 'map':
      return isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, e]) => [k, fromConfigValue(f.element, e)])) : null;
    case 'object':
      return isObj(v) ? fromBody(f.attrs, v) : null;
    case 'object_list':
      return Array.isArray(v) ? v.map((e) => fromBody(f.attrs, e as Obj)) : null;
    case 'object_map':
      return isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, e]) => [k, fromBody(f.attrs, e as Obj)])) : null;
  }
}

/** The Terraform object of a config object with attributes `attrs`. */
export function fromBody(attrs: Attrs, body: Obj): Obj {
  return Object.fromEntries(Object.entries(attrs).map(([name, attr]) => [name, fromConfigValue(attr.field, body[name])]));
}

/** The Terraform attributes (body fields only) of a config body. Write-only values are not included. */
export function terraformFromBody(model: ResourceModel, body: Obj): Obj {
  return fromBody(model.fields.attrs, body);
}

/** The identity values of a Terraform object, or undefined while one is null or unknown. */
export function identityOf(model: ResourceModel, obj: Obj): string[] | undefined {
  const out: string[] = [];
  for (const name of model.info.identity) {
    const v = obj[name];
    if (typeof v !== 'string') return undefined;
    out.push(v);
  }
  return out;
}

/** The Terraform identity attributes for identity values. */
export function identityAttrs(model: ResourceModel, identity: readonly string[]): Obj {
  return Object.fromEntries(model.info.identity.map((name, i) => [name, identity[i]]));
}

/** The import id (`id` attribute): identity values joined with `/`, or the kind for singletons. */
export function importId(model: ResourceModel, identity: readonly string[]): string {
  return identity.length > 0 ? identity.join('/') : model.info.kind;
}

/** The engine address (`webhook.acme.user-signups`) of a resource. */
export function addressOf(model: ResourceModel, identity: readonly string[]): string {
  return formatAddress(model.info.kind, identity);
}

/**
 * Parses an import id: `<identity>/<identity>/…` (the last value takes the rest, so a webhook or
 * key name may contain `/`), or an engine address such as `webhook.acme.user-signups`. Throws
 * DiagnosticError for an id of the wrong shape.
 */
export function parseImportId(model: ResourceModel, id: string): string[] {
  const n = model.info.identity.length;
  const expected = n > 0 ? model.info.identity.map((x) => `<${x}>`).join('/') : model.info.kind;
  const parsed = id.startsWith(model.info.kind) ? parseAddress(id) : undefined;
  if (parsed && parsed.kind === model.info.kind && parsed.segments.length === n) return parsed.segments;
  if (n === 0) {
    if (id === model.info.kind || id === model.info.typeName || id === '') return [];
    throw new DiagnosticError('Invalid import id', { detail: `${model.info.typeName} is a singleton: import it with the id "${model.info.kind}".` });
  }
  const parts = id.split('/');
  if (parts.length < n || parts.slice(0, n).some((p) => p === '')) {
    throw new DiagnosticError('Invalid import id', { detail: `Expected ${expected} (or the address ${model.info.kind}.…), got ${JSON.stringify(id)}.` });
  }
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join('/')];
}

/**
 * The one-resource config document: `body` placed at the kind's path with the identity values
 * filled in. A policy's table is declared `external` (it is a fluxbase_table resource of its own).
 */
export function documentFor(model: ResourceModel, identity: readonly string[], body: Obj): FluxbaseConfig {
  const doc: Obj = { version: 1 };
  let cur = doc;
  let next = 0;
  const pattern = model.info.pattern;
  pattern.forEach((seg, i) => {
    const key = seg === '*' ? identity[next++]! : seg;
    if (i === pattern.length - 1) cur[key] = body;
    else cur = (cur[key] ??= {}) as Obj;
    if (model.info.kind === 'policy' && i === 5) cur.external = true;
  });
  return doc as unknown as FluxbaseConfig;
}

/**
 * Where the engine's attribute changes land in a Terraform object. The engine compares
 * canonical attributes (resources/types.ts rules: SQL by syntax tree, types by spelling, sets
 * without order); Terraform compares values as written. These helpers translate one into the
 * other so that Terraform sees exactly the changes `fluxbase plan` sees:
 *
 * - {@link applyDrift} (Read): writes the live value into the state only at the attributes the
 *   engine reports as changed, so `(a = b)` read back for a declared `a = b` is not drift;
 * - {@link keepUnchanged} (Plan): keeps the prior value of every attribute the engine does not
 *   change (Terraform allows a planned value equal to the prior one), so an equivalent rewrite
 *   in the configuration plans no change.
 */
import type { ValuePath } from '../terraform/index.js';
import { canonicallyEqual } from '../model/canonical.js';
import type { LiveResource, ResourceKind } from '../model/resource.js';
import { fromBody, fromConfigValue } from './codec.js';
import type { Attrs, Field } from './fields.js';
import type { ResourceModel } from './model.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A live resource's canonical attributes in the config body's shape. */
export function liveBody(kind: ResourceKind, live: LiveResource): Obj {
  const a: Obj = { ...live.attrs };
  delete a.revoked;
  delete a.is_custom;
  if (kind === 'custom_setting') delete a.secret;
  if (kind === 'table' && 'rls_enabled' in a) {
    a.rls = { enabled: a.rls_enabled };
    delete a.rls_enabled;
  }
  return a;
}

/** The config body path of a canonical attribute path, or undefined when no attribute holds it. */
export function bodyPathOf(kind: ResourceKind, path: readonly string[]): string[] | undefined {
  if (path[0] === 'revoked' || path[0] === 'is_custom') return undefined;
  if (kind === 'custom_setting' && path[0] === 'secret') return undefined;
  if (kind === 'table' && path[0] === 'rls_enabled') return ['rls', 'enabled'];
  return [...path];
}

/**
 * The Terraform attributes a canonical path can show up in (first entry preferred). Write-only
 * values show up in their `*_wo_version`.
 */
export function terraformAttrsOf(model: ResourceModel, path: readonly string[]): string[] {
  const wo = model.writeOnly.find((w) => w.path.join('.') === path.join('.') || w.path.join('.') === path[0]);
  if (wo) return [wo.versionName];
  if (model.info.kind === 'custom_setting' && path[0] === 'secret') return ['value', 'secret_wo_version'];
  const body = bodyPathOf(model.info.kind, path);
  return body && body[0] !== undefined ? [body[0]] : [];
}

function getAt(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const seg of path) cur = isObj(cur) ? cur[seg] : undefined;
  return cur;
}

/**
 * Writes the live value at body path `bodyPath` into Terraform object `target` (modified),
 * at the granularity of a Terraform attribute: a whole leaf attribute (scalar, list, set, map,
 * JSON), or one entry of a nested map (a table column: added when only the server has it,
 * removed when the server lacks it).
 */
export function writeLiveAt(model: ResourceModel, target: Obj, bodyPath: readonly string[], live: Obj): void {
  let attrs: Attrs = model.fields.attrs;
  let holder: Obj = target;
  const prefix: string[] = [];
  for (let i = 0; i < bodyPath.length; i++) {
    const seg = bodyPath[i]!;
    const attr = attrs[seg];
    if (!attr) return;
    prefix.push(seg);
    const f: Field = attr.field;
    const next = bodyPath[i + 1];
    if (f.type === 'object' && next !== undefined && isObj(holder[seg])) {
      holder = holder[seg] as Obj;
      attrs = f.attrs;
      continue;
    }
    if (f.type === 'object_map' && next !== undefined) {
      const value = getAt(live, [...prefix, next]);
      const element = isObj(value) ? fromBody(f.attrs, value) : undefined;
      const map = (isObj(holder[seg]) ? holder[seg] : (holder[seg] = {})) as Obj;
      if (bodyPath.length > i + 2 && isObj(map[next]) && element) {
        holder = map[next] as Obj;
        attrs = f.attrs;
        prefix.push(next);
        i++;
        continue;
      }
      if (element) map[next] = element;
      else delete map[next];
      return;
    }
    holder[seg] = fromConfigValue(f, getAt(live, prefix));
    return;
  }
}

/**
 * Read: the prior state with the live value written at each changed canonical path (see
 * module doc). `changes` are the engine's attribute changes from the prior state's declaration
 * to the live resource.
 */
export function applyDrift(model: ResourceModel, prior: Obj, changes: readonly { path: string[] }[], live: LiveResource): Obj {
  const next = structuredClone(prior);
  const body = liveBody(model.info.kind, live);
  for (const c of changes) {
    const path = bodyPathOf(model.info.kind, c.path);
    if (path) writeLiveAt(model, next, path, body);
  }
  return next;
}

const same = (a: unknown, b: unknown) => canonicallyEqual(a ?? null, b ?? null);

/**
 * Plan: sets every body attribute the engine does not change back to its prior value (inside a
 * nested map such as a table's columns, entry by entry and field by field). `touched` are the
 * body paths of the engine's attribute changes. Returns the adjusted copy of `planned`.
 */
export function keepUnchanged(model: ResourceModel, prior: Obj, planned: Obj, touched: readonly (readonly string[])[]): Obj {
  const out = { ...planned };
  const top = new Set(touched.map((p) => p[0]));
  for (const [name, attr] of Object.entries(model.fields.attrs)) {
    if (same(out[name], prior[name])) continue;
    if (!top.has(name)) {
      out[name] = prior[name] ?? null;
      continue;
    }
    const f = attr.field;
    const p = prior[name];
    const c = out[name];
    if (f.type !== 'object_map' || !isObj(p) || !isObj(c)) continue;
    const hit = (key: string, sub: string) => touched.some((t) => t[0] === name && (t.length === 1 || (t[1] === key && (t.length === 2 || t[2] === sub))));
    out[name] = Object.fromEntries(
      Object.entries(c).map(([key, el]) => {
        const pe = p[key];
        if (!isObj(el) || !isObj(pe)) return [key, el];
        const e = { ...el };
        for (const sub of Object.keys(f.attrs)) if (!hit(key, sub) && !same(e[sub], pe[sub])) e[sub] = pe[sub] ?? null;
        return [key, e];
      }),
    );
  }
  return out;
}

/**
 * The Terraform path to point diagnostics about a config path at: the top-level attribute, or
 * the entry of a nested map (a table column: `['columns', 'id']`). Terraform locates a path in
 * the configuration only down to an attribute or one index into it (internal/tfdiags
 * contextual.go, ElaborateFromConfigBody): a deeper path falls back to the whole resource.
 */
export function diagnosticPath(model: ResourceModel, configPath: readonly (string | number)[]): ValuePath | undefined {
  const depth = model.info.pattern.length;
  const rest = configPath.slice(depth).map(String);
  const top = terraformAttrsOf(model, rest)[0];
  if (!top) return undefined;
  const entry = rest[1];
  return top === rest[0] && entry !== undefined && model.fields.attrs[top]?.field.type === 'object_map' ? [top, entry] : [top];
}

/**
 * The protocol's semantic rules for managed resources, implemented once for
 * every resource (Terraform checks them and reports "Provider produced
 * invalid plan / inconsistent result" when a provider breaks them; we check
 * first and name the attribute):
 *
 * 1. Planned values of non-computed attributes equal the config.
 * 2. A computed attribute that is null in config is planned unknown when its
 *    object is being created, its default if it has one, and otherwise keeps
 *    the prior value (Terraform's proposed new state already holds it),
 *    unless it is `unknownOnUpdate` and the resource is changing.
 * 3. Write-only attributes are null in planned and new state.
 * 4. A `forceNew` attribute or block whose planned value differs from the
 *    prior value is returned in `requires_replace`.
 * 5. Apply results equal every known planned value, and are wholly known
 *    where the plan was unknown.
 *
 * All values here are canonical plain-JS cty values (see cty/values.ts) of
 * the block's implied object type.
 */
import type { CompiledBlock, CompiledNested } from './schema.js';
import type { CtyType } from './cty/types.js';
import { conform, ctyEqual, formatPath, isUnknown, isWhollyKnown, UNKNOWN, unknownsToNull, type ValuePath } from './cty/values.js';
import type { Diagnostic } from './diagnostics.js';

type Obj = Record<string, unknown>;

/**
 * Rules 1–3: the planned new state for `config` given the prior state
 * (null on create) and Terraform's proposed new state. Does not modify its
 * inputs.
 */
export function planObject(block: CompiledBlock, prior: Obj | null, config: Obj, proposed: Obj): Obj {
  const isNew = prior === null;
  const out: Obj = {};
  for (const a of block.attributes) {
    const c = config[a.name] ?? null;
    const p = proposed[a.name] ?? null;
    const pr = prior ? (prior[a.name] ?? null) : null;
    if (a.writeOnly) out[a.name] = null;
    else if (a.nested && c !== null && !isUnknown(c)) out[a.name] = planNested(a.nested, isNew ? null : pr, c, p);
    else if (a.computed && c === null) {
      if (a.defaultValue !== undefined) out[a.name] = a.defaultValue;
      else if (isNew) out[a.name] = UNKNOWN;
      else out[a.name] = p;
    } else out[a.name] = p;
  }
  for (const b of block.blocks) {
    const c = config[b.name] ?? null;
    const p = proposed[b.name] ?? null;
    const pr = prior ? (prior[b.name] ?? null) : null;
    out[b.name] = c === null || isUnknown(c) ? p : planNested(b, isNew ? null : pr, c, p);
  }
  return out;
}

function planNested(n: CompiledNested, prior: unknown, config: unknown, proposed: unknown): unknown {
  const blk = n.block;
  const asObj = (v: unknown): Obj | null => (v && typeof v === 'object' && !isUnknown(v) && !Array.isArray(v) ? (v as Obj) : null);
  switch (n.nesting) {
    case 'single':
    case 'group': {
      const c = asObj(config);
      if (!c) return proposed;
      return planObject(blk, asObj(prior), c, asObj(proposed) ?? c);
    }
    case 'list': {
      if (!Array.isArray(config)) return proposed;
      const pr = Array.isArray(prior) ? prior : [];
      const pp = Array.isArray(proposed) ? proposed : config;
      return config.map((c, i) => {
        const co = asObj(c);
        return co ? planObject(blk, asObj(pr[i]), co, asObj(pp[i]) ?? co) : c;
      });
    }
    case 'map': {
      const c = asObj(config);
      if (!c) return proposed;
      const pr = asObj(prior) ?? {};
      const pp = asObj(proposed) ?? c;
      const out: Obj = {};
      for (const [k, v] of Object.entries(c)) {
        const co = asObj(v);
        out[k] = co ? planObject(blk, asObj(pr[k]), co, asObj(pp[k]) ?? co) : v;
      }
      return out;
    }
    case 'set': {
      // Elements have no identity: match each proposed element to a config
      // element and a prior element by their non-computed attributes.
      if (!Array.isArray(config)) return proposed;
      const pp = Array.isArray(proposed) ? proposed : config;
      const pr = Array.isArray(prior) ? prior : [];
      return pp.map((p) => {
        const po = asObj(p);
        if (!po) return p;
        const co = asObj(config.find((c) => sameConfigured(blk, asObj(c), po))) ?? po;
        const prior1 = asObj(pr.find((x) => sameConfigured(blk, asObj(x), po)));
        return planObject(blk, prior1, co, po);
      });
    }
  }
}

/** True if two block values agree on every attribute a user can set (ignores computed-only ones). */
function sameConfigured(blk: CompiledBlock, a: Obj | null, b: Obj): boolean {
  if (!a) return false;
  for (const at of blk.attributes) {
    if (at.computed && !at.optional) continue;
    if (at.computed && (a[at.name] ?? null) === null) continue;
    if (!ctyEqual(a[at.name] ?? null, b[at.name] ?? null, at.type)) return false;
  }
  for (const nb of blk.blocks) if (!ctyEqual(a[nb.name] ?? null, b[nb.name] ?? null, nb.type)) return false;
  return true;
}

/** Rule 2's exception: on an in-place change, `unknownOnUpdate` attributes null in config become unknown. */
export function markUnknownOnUpdate(block: CompiledBlock, prior: Obj | null, config: Obj, planned: Obj): Obj {
  if (!prior || ctyEqual(planned, prior, block.type)) return planned;
  const out = { ...planned };
  for (const a of block.attributes) if (a.spec.unknownOnUpdate && (config[a.name] ?? null) === null) out[a.name] = UNKNOWN;
  return out;
}

/** Rule 4: paths (single-step) of forceNew attributes/blocks whose planned value differs from prior. */
export function forceNewPaths(block: CompiledBlock, prior: Obj | null, planned: Obj | null): ValuePath[] {
  if (!prior || !planned) return [];
  const out: ValuePath[] = [];
  for (const a of block.attributes) {
    if (a.spec.forceNew && !ctyEqual(prior[a.name] ?? null, planned[a.name] ?? null, a.type)) out.push([a.name]);
  }
  for (const b of block.blocks) {
    if (b.spec.forceNew && !ctyEqual(prior[b.name] ?? null, planned[b.name] ?? null, b.type)) out.push([b.name]);
  }
  return out;
}

/**
 * Checks a (possibly hook-modified) plan against rules 1 and 3, recursing
 * into nested attributes and blocks. Returns error diagnostics naming the
 * attribute.
 */
export function checkPlan(block: CompiledBlock, prior: Obj | null, config: Obj, planned: Obj, path: ValuePath = []): Diagnostic[] {
  const errs: Diagnostic[] = [];
  const bad = (p: ValuePath, why: string) =>
    errs.push({ severity: 'error', summary: 'Provider produced an invalid plan', detail: `${formatPath(p)}: ${why}`, path: p });
  for (const a of block.attributes) {
    const p = [...path, a.name];
    const c = config[a.name] ?? null;
    const v = planned[a.name] ?? null;
    const pr = prior ? (prior[a.name] ?? null) : null;
    if (a.writeOnly) {
      if (v !== null) bad(p, 'a write-only attribute must be planned as null');
      continue;
    }
    if (a.computed && c === null) continue;
    if (isUnknown(c)) {
      if (!isUnknown(v)) bad(p, 'the configured value is unknown, so the plan must be unknown too');
      continue;
    }
    if (a.nested && c !== null && v !== null && !isUnknown(v)) {
      errs.push(...checkNested(a.nested, pr, c, v, p));
      continue;
    }
    if (!ctyEqual(v, c, a.type) && !(pr !== null && ctyEqual(v, pr, a.type))) {
      bad(p, a.spec.sensitive ? 'the planned (sensitive) value differs from the configuration' : `planned ${show(v)} but the configuration says ${show(c)}`);
    }
  }
  for (const b of block.blocks) {
    const c = config[b.name] ?? null;
    const v = planned[b.name] ?? null;
    if (c === null || isUnknown(c)) continue;
    errs.push(...checkNested(b, prior ? (prior[b.name] ?? null) : null, c, v, [...path, b.name]));
  }
  return errs;
}

function checkNested(n: CompiledNested, prior: unknown, config: unknown, planned: unknown, path: ValuePath): Diagnostic[] {
  const o = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) && !isUnknown(v) ? (v as Obj) : null);
  const shapeErr = (why: string): Diagnostic[] => [
    { severity: 'error', summary: 'Provider produced an invalid plan', detail: `${formatPath(path)}: ${why}`, path },
  ];
  if (isUnknown(planned) || planned === null) return shapeErr('nested value planned as unknown or null but configured');
  switch (n.nesting) {
    case 'single':
    case 'group': {
      const c = o(config);
      const p = o(planned);
      return c && p ? checkPlan(n.block, o(prior), c, p, path) : [];
    }
    case 'list': {
      if (!Array.isArray(config) || !Array.isArray(planned)) return [];
      if (config.length !== planned.length) return shapeErr(`planned ${planned.length} elements, configured ${config.length}`);
      const pr = Array.isArray(prior) ? prior : [];
      return config.flatMap((c, i) => {
        const co = o(c);
        const po = o(planned[i]);
        return co && po ? checkPlan(n.block, o(pr[i]), co, po, [...path, i]) : [];
      });
    }
    case 'map': {
      const c = o(config);
      const p = o(planned);
      if (!c || !p) return [];
      const pr = o(prior) ?? {};
      const keys = Object.keys(c);
      if (keys.length !== Object.keys(p).length || keys.some((k) => !(k in p))) return shapeErr('planned keys differ from configured keys');
      return keys.flatMap((k) => {
        const co = o(c[k]);
        const po = o(p[k]);
        return co && po ? checkPlan(n.block, o(pr[k]), co, po, [...path, k]) : [];
      });
    }
    case 'set':
      if (!Array.isArray(config) || !Array.isArray(planned)) return [];
      if (config.length !== planned.length) return shapeErr(`planned ${planned.length} elements, configured ${config.length}`);
      return [];
  }
}

function show(v: unknown): string {
  if (isUnknown(v)) return '(known after apply)';
  const s = JSON.stringify(v);
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

/** Rule 3 for state we return: top-level write-only attributes set to null. */
export function nullWriteOnly(block: CompiledBlock, value: Obj): Obj {
  if (!block.attributes.some((a) => a.writeOnly)) return value;
  const out = { ...value };
  for (const a of block.attributes) if (a.writeOnly) out[a.name] = null;
  return out;
}

/**
 * What create/update callbacks receive: the planned state with every
 * unknown (computed, "known after apply") replaced by null and write-only
 * attributes taken from the config.
 */
export function callbackInput(block: CompiledBlock, planned: Obj, config: Obj | null): Obj {
  const out = unknownsToNull(planned) as Obj;
  for (const a of block.attributes) if (a.writeOnly) out[a.name] = config ? (config[a.name] ?? null) : null;
  return out;
}

/**
 * Merges what a callback returned over `base`: attributes the result leaves
 * `undefined` keep the base value, others are type-checked. Attributes the
 * schema does not declare are an error (they are usually typos). Throws
 * `CtyValueError`.
 */
export function mergeResult(block: CompiledBlock, base: Obj, result: unknown): Obj {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    throw new TypeError(`expected an object of attributes, got ${result === null ? 'null' : typeof result}`);
  }
  const merged: Obj = { ...base };
  for (const [k, v] of Object.entries(result as Obj)) if (v !== undefined) merged[k] = v;
  return conform(merged, block.type, { rejectExtraAttributes: true }) as Obj;
}

/**
 * Rule 5: compares the new state with the plan. Returns one error per
 * attribute that differs from a known planned value or is still unknown.
 */
export function checkApplied(planned: unknown, actual: unknown, type: CtyType, path: ValuePath = []): Diagnostic[] {
  const errs: Diagnostic[] = [];
  const bad = (why: string) =>
    errs.push({ severity: 'error', summary: 'Provider produced an inconsistent result', detail: `${formatPath(path) || 'value'}: ${why}`, path });
  if (isUnknown(planned)) {
    if (!isWhollyKnown(actual)) bad('still unknown after apply (the callback did not return it)');
    return errs;
  }
  if (isWhollyKnown(planned)) {
    if (!ctyEqual(planned, actual, type)) bad(`the plan said ${show(planned)} but the result is ${show(actual)}`);
    return errs;
  }
  // Partially known containers: recurse where the structure allows.
  if (typeof type !== 'string' && type[0] === 'object' && planned && actual && typeof actual === 'object') {
    for (const [k, t] of Object.entries(type[1])) {
      errs.push(...checkApplied((planned as Obj)[k] ?? null, (actual as Obj)[k] ?? null, t, [...path, k]));
    }
    return errs;
  }
  if (typeof type !== 'string' && type[0] === 'list' && Array.isArray(planned) && Array.isArray(actual)) {
    if (planned.length !== actual.length) bad(`planned ${planned.length} elements, got ${actual.length}`);
    else planned.forEach((p, i) => errs.push(...checkApplied(p, actual[i], type[1], [...path, i])));
    return errs;
  }
  if (!isWhollyKnown(actual)) bad('still unknown after apply');
  return errs;
}

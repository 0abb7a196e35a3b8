/**
 * Plain-JS representation of cty values used throughout the framework:
 *
 * | cty                | JS                                                 |
 * |--------------------|----------------------------------------------------|
 * | null (any type)    | `null`                                             |
 * | unknown            | an `Unknown` instance (optionally with refinements)|
 * | string / bool      | `string` / `boolean`                               |
 * | number             | `number` (see the number policy in `number.ts`)    |
 * | list / set / tuple | array (sets: order not significant)                |
 * | map / object       | plain object                                       |
 */
import { ExtData } from '@msgpack/msgpack';
import type { CtyType } from './types.js';
import { formatCtyType } from './types.js';
import { numberFromWire } from './number.js';
import { below, CtyValueError, type Location } from './path.js';

export { CtyValueError, formatPath, type ValuePath } from './path.js';

/**
 * What Terraform may know about an unknown value (msgpack ext 12). All
 * fields optional; an `Unknown` with no refinement is encoded as ext 0.
 * Number bounds are `[value, inclusive]`; length bounds are inclusive.
 */
export interface Refinements {
  /** false: definitely not null (true is never sent: a known null is used instead). */
  notNull?: boolean;
  stringPrefix?: string;
  numberLower?: readonly [number, boolean];
  numberUpper?: readonly [number, boolean];
  lengthLower?: number;
  lengthUpper?: number;
}

/** An unknown value ("known after apply"). */
export class Unknown {
  constructor(readonly refinements: Refinements = {}) {}
  /** True if any refinement is present (then it is sent as ext 12). */
  get refined(): boolean {
    return Object.keys(this.refinements).length > 0;
  }
}

/** A wholly unknown value without refinements (shared instance). */
export const UNKNOWN: Unknown = new Unknown();

/** Returns an unknown value, refined if `refinements` has any field. */
export function unknown(refinements?: Refinements): Unknown {
  return refinements && Object.keys(refinements).length > 0 ? new Unknown(refinements) : UNKNOWN;
}

export function isUnknown(v: unknown): v is Unknown {
  return v instanceof Unknown;
}

/** True if `v` contains no unknown value at any depth. */
export function isWhollyKnown(v: unknown): boolean {
  if (v instanceof Unknown) return false;
  if (Array.isArray(v)) return v.every(isWhollyKnown);
  if (v !== null && typeof v === 'object') return Object.values(v).every(isWhollyKnown);
  return true;
}

/** Options for `conform`. */
export interface ConformOptions {
  /** Reject object attributes that the type does not declare (default false: drop them). */
  rejectExtraAttributes?: boolean;
  /** Allow `Unknown` values (default true). */
  allowUnknown?: boolean;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/**
 * Checks `value` against `type` and returns its canonical JS form: objects
 * get exactly the declared attributes (missing → null), numbers are
 * normalised per the number policy, `undefined` becomes null, and a msgpack
 * `ExtData` (an extension code other than 0/12) becomes an unknown. Throws `CtyValueError` with the path of the first problem.
 */
export function conform(value: unknown, type: CtyType, opts: ConformOptions = {}, path: Location = []): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof ExtData) value = UNKNOWN; // any other extension code also means unknown
  if (value instanceof Unknown) {
    if (opts.allowUnknown === false) throw new CtyValueError('value must be known', path);
    return value;
  }
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        if (typeof value !== 'string') throw mismatch(value, type, path);
        return value;
      case 'bool':
        if (typeof value !== 'boolean') throw mismatch(value, type, path);
        return value;
      case 'number':
        return numberFromWire(value, path);
    }
  }
  const [kind, arg] = type;
  switch (kind) {
    case 'list':
    case 'set': {
      if (!Array.isArray(value)) throw mismatch(value, type, path);
      return value.map((el, i) => conform(el, arg, opts, below(path, i)));
    }
    case 'tuple': {
      if (!Array.isArray(value) || value.length !== arg.length) throw mismatch(value, type, path);
      return arg.map((elType, i) => conform(value[i], elType, opts, below(path, i)));
    }
    case 'map': {
      if (!isPlainObject(value)) throw mismatch(value, type, path);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = conform(v, arg, opts, below(path, k));
      return out;
    }
    case 'object': {
      if (!isPlainObject(value)) throw mismatch(value, type, path);
      if (opts.rejectExtraAttributes) {
        for (const k of Object.keys(value)) {
          if (!(k in arg) && value[k] !== undefined) throw new CtyValueError('unsupported attribute', below(path, k));
        }
      }
      const out: Record<string, unknown> = {};
      for (const [k, attrType] of Object.entries(arg)) out[k] = conform(value[k], attrType, opts, below(path, k));
      return out;
    }
  }
}

function mismatch(value: unknown, type: CtyType, path: Location): CtyValueError {
  const got = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  return new CtyValueError(`expected ${formatCtyType(type)}, got ${got}`, path);
}

/**
 * cty equality of two canonical values of `type`: sets compare without
 * order, an unknown equals nothing (not even another unknown).
 */
export function ctyEqual(a: unknown, b: unknown, type: CtyType): boolean {
  if (a instanceof Unknown || b instanceof Unknown) return false;
  if (a === null || b === null) return a === b;
  if (typeof type === 'string') return a === b;
  const [kind, arg] = type;
  switch (kind) {
    case 'list':
    case 'set':
    case 'tuple': {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      if (kind === 'list') return a.every((x, i) => ctyEqual(x, b[i], arg));
      if (kind === 'tuple') return a.every((x, i) => ctyEqual(x, b[i], arg[i] as CtyType));
      const used = new Array<boolean>(b.length).fill(false);
      return a.every((x) => {
        const j = b.findIndex((y, k) => !used[k] && ctyEqual(x, y, arg));
        if (j < 0) return false;
        used[j] = true;
        return true;
      });
    }
    case 'map': {
      const ao = a as Record<string, unknown>;
      const bo = b as Record<string, unknown>;
      const ak = Object.keys(ao);
      if (ak.length !== Object.keys(bo).length) return false;
      return ak.every((k) => k in bo && ctyEqual(ao[k], bo[k], arg));
    }
    case 'object': {
      const ao = a as Record<string, unknown>;
      const bo = b as Record<string, unknown>;
      return Object.entries(arg).every(([k, t]) => ctyEqual(ao[k] ?? null, bo[k] ?? null, t));
    }
  }
}

/** Replaces every unknown inside `v` by null (deep copy of containers). */
export function unknownsToNull(v: unknown): unknown {
  if (v instanceof Unknown) return null;
  if (Array.isArray(v)) return v.map(unknownsToNull);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = unknownsToNull(x);
    return out;
  }
  return v;
}

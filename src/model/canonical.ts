/**
 * Deterministic JSON (sorted keys) and content fingerprints. Plans, state and fingerprints are
 * built with these so that two runs on the same input give byte-identical output.
 */
import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';
import type { LiveResource } from './resource.js';

const stable = configure({ deterministic: true, bigint: false, circularValue: Error });

/** JSON with object keys sorted at every level. `undefined` properties are dropped. */
export function canonicalJson(value: unknown, indent?: number): string {
  // V8's JSON.stringify with the keys put in order is five times faster than safe-stable-stringify
  // on state and plan documents. It cannot order keys that look like array indexes (JavaScript
  // enumerates those first, by number) and does not know safe-stable-stringify's handling of
  // BigInt, typed arrays and class instances: anything of the kind is left to the library.
  let plain = true;
  const text = JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') {
        plain = false;
        return undefined;
      }
      if (!plain || v === null || typeof v !== 'object') return v;
      if (Array.isArray(v)) return v;
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        plain = false;
        return v;
      }
      const keys = Object.keys(v);
      let sorted = true;
      for (let i = 0; i < keys.length; i++) {
        if (INDEX_LIKE.test(keys[i]!)) {
          plain = false;
          return v;
        }
        if (i > 0 && keys[i - 1]! > keys[i]!) sorted = false;
      }
      if (sorted) return v;
      const out: Record<string, unknown> = {};
      for (const k of keys.sort()) out[k] = (v as Record<string, unknown>)[k];
      return out;
    },
    indent,
  );
  return plain ? (text ?? 'null') : (stable(value, null, indent) ?? 'null');
}

/**
 * True when two values have the same canonical JSON; strings, booleans and finite numbers are
 * compared without serialising them.
 */
export function canonicallyEqual(a: unknown, b: unknown): boolean {
  const t = typeof a;
  if (t === typeof b && (t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(a) && Number.isFinite(b)))) return a === b;
  return canonicalJson(a) === canonicalJson(b);
}

/** Keys JavaScript enumerates before the others (array indexes: 0 … 2³² − 2). */
const INDEX_LIKE = /^(?:0|[1-9][0-9]{0,9})$/;

/** True for an object whose prototype is `Object.prototype` or null (not an array, a class instance, a Map…). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** True for a key JavaScript enumerates before the others (it looks like an array index). */
export function isIndexLike(key: string): boolean {
  return INDEX_LIKE.test(key);
}

/** `sha256:<hex>` of the canonical JSON of `value` (for non-secret data only). */
export function fingerprint(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

/** A live resource's fingerprint: its own, else `fingerprint(attrs)` (`sha256:<hex>`). */
export function liveFingerprint(l: LiveResource): string {
  return l.fingerprint ?? fingerprint(l.attrs);
}

/**
 * cty ⇄ msgpack, per Terraform's object-wire-format: the encoding of
 * `DynamicValue.msgpack`. Unknown values are msgpack extensions: code 0
 * (payload ignored; we write one zero byte, as go-cty does) or code 12
 * (refined unknown: payload is a msgpack map with integer keys,
 * 1 nullness, 2 string prefix, 3/4 number bounds, 5/6 length bounds).
 * Any other extension code decodes as a plain unknown.
 */
import { decode, encode, ExtensionCodec } from '@msgpack/msgpack';
import type { CtyType } from './types.js';
import { conform, CtyValueError, Unknown, UNKNOWN, type Refinements } from './values.js';
import { below, type Location } from './path.js';
import { numberFromWire, numberToWire } from './number.js';

const EXT_UNKNOWN = 0;
const EXT_REFINED = 12;

const R_NULLNESS = 1;
const R_STRING_PREFIX = 2;
const R_NUMBER_LOWER = 3;
const R_NUMBER_UPPER = 4;
const R_LENGTH_LOWER = 5;
const R_LENGTH_UPPER = 6;

/** Decodes an ext 12 payload. Unknown or malformed refinements are dropped (always safe). */
export function decodeRefinements(payload: Uint8Array): Refinements {
  let raw: unknown;
  try {
    raw = decode(payload, { useBigInt64: true });
  } catch {
    return {};
  }
  if (raw === null || typeof raw !== 'object') return {};
  const m = raw as Record<string, unknown>;
  const out: Refinements = {};
  const nullness = m[R_NULLNESS];
  if (typeof nullness === 'boolean') out.notNull = !nullness;
  const prefix = m[R_STRING_PREFIX];
  if (typeof prefix === 'string' && prefix !== '') out.stringPrefix = prefix;
  const bound = (v: unknown): readonly [number, boolean] | undefined => {
    if (!Array.isArray(v) || v.length !== 2 || typeof v[1] !== 'boolean') return undefined;
    try {
      return [numberFromWire(v[0], []), v[1]];
    } catch {
      return undefined;
    }
  };
  const lower = bound(m[R_NUMBER_LOWER]);
  if (lower) out.numberLower = lower;
  const upper = bound(m[R_NUMBER_UPPER]);
  if (upper) out.numberUpper = upper;
  const len = (v: unknown): number | undefined =>
    typeof v === 'number' && Number.isSafeInteger(v) ? v : typeof v === 'bigint' ? Number(v) : undefined;
  const ll = len(m[R_LENGTH_LOWER]);
  if (ll !== undefined) out.lengthLower = ll;
  const lu = len(m[R_LENGTH_UPPER]);
  if (lu !== undefined) out.lengthUpper = lu;
  return out;
}

/** Encodes refinements as an ext 12 payload (map with positive-fixint keys). */
export function encodeRefinements(r: Refinements): Uint8Array {
  const entries: [number, unknown][] = [];
  if (r.notNull !== undefined) entries.push([R_NULLNESS, !r.notNull]);
  if (r.stringPrefix !== undefined) entries.push([R_STRING_PREFIX, r.stringPrefix]);
  if (r.numberLower) entries.push([R_NUMBER_LOWER, [numberToWire(r.numberLower[0], []), r.numberLower[1]]]);
  if (r.numberUpper) entries.push([R_NUMBER_UPPER, [numberToWire(r.numberUpper[0], []), r.numberUpper[1]]]);
  if (r.lengthLower !== undefined) entries.push([R_LENGTH_LOWER, r.lengthLower]);
  if (r.lengthUpper !== undefined) entries.push([R_LENGTH_UPPER, r.lengthUpper]);
  const parts: Uint8Array[] = [Uint8Array.of(0x80 | entries.length)];
  for (const [k, v] of entries) parts.push(Uint8Array.of(k), encode(v));
  return Buffer.concat(parts);
}

const codec = new ExtensionCodec();
codec.register({
  type: EXT_UNKNOWN,
  encode: (v) => (v instanceof Unknown && !v.refined ? Uint8Array.of(0) : null),
  decode: () => UNKNOWN,
});
codec.register({
  type: EXT_REFINED,
  encode: (v) => (v instanceof Unknown && v.refined ? encodeRefinements(v.refinements) : null),
  decode: (data) => {
    const r = decodeRefinements(data);
    return Object.keys(r).length ? new Unknown(r) : UNKNOWN;
  },
});

/**
 * Decodes `DynamicValue.msgpack` bytes as a value of `type` into the plain-JS
 * form (see values.ts). Empty input is null. Throws `CtyValueError` if the
 * value does not fit the type or breaks the number policy.
 */
export function decodeMsgpack(bytes: Uint8Array, type: CtyType): unknown {
  if (bytes.length === 0) return null;
  const raw = decode(bytes, { extensionCodec: codec, useBigInt64: true });
  return conform(raw, type);
}

/**
 * Encodes a plain-JS value of `type` as msgpack. Objects are written with
 * exactly their type's attributes (missing → nil), as the wire format
 * requires. Throws `CtyValueError` for values that do not fit (including
 * attributes the type does not declare).
 */
export function encodeMsgpack(value: unknown, type: CtyType): Buffer {
  const canonical = conform(value, type, { rejectExtraAttributes: true });
  const bytes = encode(toWire(canonical, type, []), { extensionCodec: codec, ignoreUndefined: false });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Rewrites numbers per the number policy; everything else is already canonical. */
function toWire(v: unknown, type: CtyType, path: Location): unknown {
  if (v === null || v instanceof Unknown) return v;
  if (type === 'number') return numberToWire(v as number, path);
  if (typeof type === 'string') return v;
  const [kind, arg] = type;
  switch (kind) {
    case 'list':
    case 'set':
      return (v as unknown[]).map((x, i) => toWire(x, arg, below(path, i)));
    case 'tuple':
      return (v as unknown[]).map((x, i) => toWire(x, arg[i] as CtyType, below(path, i)));
    case 'map':
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        const t = kind === 'map' ? arg : (arg as Record<string, CtyType>)[k];
        if (t === undefined) throw new CtyValueError('unsupported attribute', below(path, k));
        out[k] = toWire(x, t, below(path, k));
      }
      return out;
    }
  }
}

/**
 * cty ⇄ JSON, per Terraform's object-wire-format. Used for
 * `UpgradeResourceState.raw_state.json` (the resource's JSON as stored in
 * terraform.tfstate) and as the fallback decoding of `DynamicValue.json`.
 * JSON cannot carry unknowns.
 *
 * Number caveat: `JSON.parse` reads numbers as doubles, so an integer above
 * 2^53 in a state file is rounded before the number policy can see it; such
 * values only exist if something other than this framework wrote them.
 */
import type { CtyType } from './types.js';
import { conform, CtyValueError } from './values.js';

/**
 * Parses JSON bytes as a value of `type`. With `ignoreUndefinedAttributes`
 * (the default, as state from an older schema may carry removed attributes)
 * object attributes the type does not declare are dropped. Throws
 * `CtyValueError` on malformed JSON or a type mismatch.
 */
export function decodeJson(bytes: Uint8Array | string, type: CtyType, opts: { ignoreUndefinedAttributes?: boolean } = {}): unknown {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  if (text.trim() === '') return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CtyValueError(`invalid JSON: ${(e as Error).message}`, []);
  }
  return conform(raw, type, { allowUnknown: false, rejectExtraAttributes: opts.ignoreUndefinedAttributes === false });
}

/** Serialises a wholly known value of `type` as JSON text. Throws `CtyValueError` on unknowns. */
export function encodeJson(value: unknown, type: CtyType): string {
  return JSON.stringify(conform(value, type, { allowUnknown: false, rejectExtraAttributes: true }));
}

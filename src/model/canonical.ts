/**
 * Deterministic JSON (sorted keys) and content fingerprints. Plans, state and fingerprints are
 * built with these so that two runs on the same input give byte-identical output.
 */
import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';

const stable = configure({ deterministic: true, bigint: false, circularValue: Error });

/** JSON with object keys sorted at every level. `undefined` properties are dropped. */
export function canonicalJson(value: unknown, indent?: number): string {
  return stable(value, null, indent) ?? 'null';
}

/** `sha256:<hex>` of the canonical JSON of `value` (for non-secret data only). */
export function fingerprint(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

/**
 * Static validation of a configuration value: per-attribute `validate`
 * functions (known, non-null values only) and the write-only capability,
 * recursing into nested attributes and blocks. Used by the Validate*Config RPCs.
 */
import { isWhollyKnown, type ValuePath } from './cty/values.js';
import type { Diagnostics } from './diagnostics.js';
import type { CompiledBlock } from './schema.js';

type Obj = Record<string, unknown>;

/**
 * Adds an error diagnostic at the attribute's path for each message a
 * validator returns, and for a non-null write-only value when the client
 * did not announce `write_only_attributes_allowed`.
 */
export function validateAttributes(block: CompiledBlock, value: Obj, diags: Diagnostics, path: ValuePath, writeOnlyAllowed: boolean): void {
  for (const a of block.attributes) {
    const v = value[a.name] ?? null;
    const p = [...path, a.name];
    if (a.writeOnly && v !== null && !writeOnlyAllowed) {
      diags.error('Write-only attribute not supported', `${a.name} is write-only, which needs Terraform 1.11 or later.`, p);
    }
    if (v === null || !isWhollyKnown(v)) continue;
    if (a.spec.validate) {
      const res = a.spec.validate(v);
      const messages: readonly string[] = typeof res === 'string' ? [res] : Array.isArray(res) ? res : [];
      for (const msg of messages) diags.error('Invalid attribute value', msg, p);
    }
    if (a.nested) validateNested(a.nested.block, a.nested.nesting, v, diags, p, writeOnlyAllowed);
  }
  for (const b of block.blocks) {
    const v = value[b.name] ?? null;
    if (v !== null && typeof v === 'object') validateNested(b.block, b.nesting, v, diags, [...path, b.name], writeOnlyAllowed);
  }
}

function validateNested(block: CompiledBlock, nesting: string, v: unknown, diags: Diagnostics, path: ValuePath, wo: boolean): void {
  const isObj = (x: unknown): x is Obj => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (Array.isArray(v)) v.forEach((el, i) => isObj(el) && validateAttributes(block, el, diags, [...path, i], wo));
  else if (nesting === 'map' && isObj(v)) {
    for (const [k, el] of Object.entries(v)) if (isObj(el)) validateAttributes(block, el, diags, [...path, k], wo);
  } else if (isObj(v)) validateAttributes(block, v, diags, path, wo);
}

import { configure } from 'safe-stable-stringify';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/model/canonical.js';
import { random, randomJson as value } from '../support/random-json.js';

const reference = configure({ deterministic: true, bigint: false, circularValue: Error });

describe('canonical JSON', () => {
  it('is byte-identical to safe-stable-stringify on random documents, with and without indentation', () => {
    const next = random(14);
    for (let i = 0; i < 3000; i++) {
      const v = value(next, 0);
      expect(canonicalJson(v)).toBe(reference(v) ?? 'null');
      expect(canonicalJson(v, 2)).toBe(reference(v, null, 2) ?? 'null');
    }
  });

  it('orders keys that look like array indexes as strings, as safe-stable-stringify does', () => {
    const v = { b: 1, 10: 'ten', 9: 'nine', a: { 2: 'x', 1: 'y' } };
    expect(canonicalJson(v)).toBe('{"10":"ten","9":"nine","a":{"1":"y","2":"x"},"b":1}');
  });

  it('leaves class instances, typed arrays and BigInt to safe-stable-stringify', () => {
    for (const v of [{ m: new Map([['a', 1]]) }, { t: new Uint8Array([1, 2]) }, { n: 10n }, { d: new Date(0) }, [new (class X { b = 1; a = 2; })()]]) {
      expect(canonicalJson(v)).toBe(reference(v));
    }
  });

  it('throws on cycles', () => {
    const v: Record<string, unknown> = {};
    v.self = v;
    expect(() => canonicalJson(v)).toThrow(TypeError);
  });
});

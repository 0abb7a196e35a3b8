import { configure } from 'safe-stable-stringify';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/model/canonical.js';

const reference = configure({ deterministic: true, bigint: false, circularValue: Error });

/** A deterministic pseudo-random generator (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['a', 'b', 'B', 'z', 'é', '_x', 'key with space', '10', '9', '0', '01', '-1', '1.5', '4294967295', '', '\u{1f600}', 'ab', 'aa', 'columns', 'id'];
const STRINGS = ['', 'plain', 'quote " and \\ backslash', 'line\nbreak\ttab', '\u0000\u001f', 'lone \ud800 surrogate', 'pair \u{1f600}', 'é ü', 'x'.repeat(6000)];

function value(next: () => number, depth: number): unknown {
  const r = next();
  if (depth > 4 || r < 0.35) {
    const p = next();
    if (p < 0.3) return STRINGS[Math.floor(next() * STRINGS.length)];
    if (p < 0.5) return [0, -0, 1.5, -12, 1e21, 1e-7, NaN, Infinity][Math.floor(next() * 8)];
    if (p < 0.6) return next() < 0.5;
    if (p < 0.7) return null;
    if (p < 0.75) return undefined;
    return Math.floor(next() * 1000);
  }
  if (r < 0.55) return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 6); i > 0; i--) out[KEYS[Math.floor(next() * KEYS.length)]!] = value(next, depth + 1);
  return out;
}

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

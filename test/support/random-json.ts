/** Random JSON-like documents for tests that compare serialisers. */

/** A deterministic pseudo-random generator (mulberry32), so failures reproduce. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keys with the orderings that matter: array-index-like, non-ASCII, empty, prefixes. */
const KEYS = ['a', 'b', 'B', 'z', 'é', '_x', 'key with space', '10', '9', '0', '01', '-1', '1.5', '4294967295', '', '\u{1f600}', 'ab', 'aa', 'columns', 'id'];
const STRINGS = ['', 'plain', 'quote " and \\ backslash', 'line\nbreak\ttab', '\u0000\u001f', 'lone \ud800 surrogate', 'pair \u{1f600}', 'é ü', 'x'.repeat(6000)];

/** A random JSON-like value (undefined, NaN and ±Infinity included) nested up to 5 levels deep. */
export function randomJson(next: () => number, depth: number): unknown {
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
  if (r < 0.55) return Array.from({ length: Math.floor(next() * 4) }, () => randomJson(next, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 6); i > 0; i--) out[KEYS[Math.floor(next() * KEYS.length)]!] = randomJson(next, depth + 1);
  return out;
}

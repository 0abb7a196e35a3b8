/**
 * JSON output that matches Go's `encoding/json` closely enough for byte-level comparisons:
 * `<`, `>`, `&`, U+2028 and U+2029 are escaped inside strings; map-typed values are emitted with
 * sorted keys (use {@link sortKeys}); `undefined` members are omitted (Go `omitempty`).
 * Also the timestamp renderings the server produces.
 */

/** Serialises like Go's json.Marshal (HTML-safe escaping). */
export function goJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return 'null';
  // These characters only occur inside string literals in JSON text, so a global replace is safe.
  return text.replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Deep copy with object keys sorted (Go marshals `map[string]…` with sorted keys). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

const TS_RE = /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?|Z)?$/;

interface ParsedTs {
  epochSeconds: number;
  fraction: string; // digits, possibly empty
}

function parseTs(text: string): ParsedTs | undefined {
  const m = TS_RE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, sign, oh, om, os] = m;
  let epoch = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000;
  if (sign) {
    const off = Number(oh ?? 0) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0);
    epoch -= sign === '+' ? off : -off;
  }
  return { epochSeconds: epoch, fraction: frac ?? '' };
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function utcParts(epochSeconds: number): string[] {
  const d = new Date(epochSeconds * 1000);
  return [
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
  ];
}

/**
 * PostgreSQL timestamp text (`2026-03-07 10:00:00.1234+00`, or without zone = UTC) → Go
 * `time.Time` JSON (RFC 3339 with trimmed nanoseconds, UTC `Z`): `2026-03-07T10:00:00.1234Z`.
 * Values it cannot parse (infinity) are returned unchanged.
 */
export function rfc3339(pgText: string): string {
  const p = parseTs(pgText);
  if (!p) return pgText;
  const [date, time] = utcParts(p.epochSeconds);
  const frac = p.fraction.replace(/0+$/, '');
  return `${date}T${time}${frac ? `.${frac}` : ''}Z`;
}

/** PostgreSQL date text (`2026-03-07`) → Go `time.Time` JSON (`2026-03-07T00:00:00Z`). */
export function rfc3339Date(pgText: string): string {
  return /^\d{4,}-\d{2}-\d{2}$/.test(pgText) ? `${pgText}T00:00:00Z` : pgText;
}

/** Go `time.Time.String()` of a UTC time: `2026-03-07 10:00:00.123456 +0000 UTC`. */
export function goTimeString(pgText: string): string {
  const p = parseTs(pgText);
  if (!p) return pgText;
  const [date, time] = utcParts(p.epochSeconds);
  const frac = p.fraction.replace(/0+$/, '');
  return `${date} ${time}${frac ? `.${frac}` : ''} +0000 UTC`;
}

/** Current time as PostgreSQL-style text with microseconds (for in-memory timestamps). */
export function nowText(): string {
  const d = new Date();
  const [date, time] = utcParts(Math.floor(d.getTime() / 1000));
  return `${date} ${time}.${pad(d.getUTCMilliseconds(), 3)}+00`;
}

/** The current time as Go's `time.Time` JSON (RFC 3339, trimmed fraction, UTC `Z`). */
export function goNowJson(): string {
  return new Date().toISOString().replace(/\.?0+Z$/, 'Z');
}

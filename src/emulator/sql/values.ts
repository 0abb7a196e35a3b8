/**
 * Renders PostgreSQL text values the way the server's `/sql/execute` JSON shows pgx-decoded Go
 * values: integers and floats and numerics as JSON numbers, booleans, json/jsonb embedded (keys
 * sorted), uuid as strings, timestamps as RFC 3339 (UTC `Z`), dates as midnight UTC, bytea as
 * base64 — except a 16-byte non-printable bytea, which pgx-era code renders as a UUID string —
 * one-dimensional arrays as JSON arrays, everything else as its text.
 */
import { rfc3339, rfc3339Date, sortKeys } from '../http/json.js';

const ARRAY_ELEMENT: Record<number, number> = {
  1000: 16, 1001: 17, 1003: 19, 1005: 21, 1007: 23, 1016: 20, 1021: 700, 1022: 701, 1231: 1700, 1009: 25, 1015: 1043,
  1014: 1042, 2951: 2950, 199: 114, 3807: 3802, 1115: 1114, 1185: 1184, 1182: 1082, 1028: 26,
};

function formatUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function renderBytea(text: string): unknown {
  const bytes = text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex') : Buffer.from(text, 'latin1');
  if (bytes.length === 16 && bytes.some((c) => c < 32 || c > 126)) return formatUuid(bytes);
  return bytes.toString('base64');
}

function number(text: string): unknown {
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

/** Parses a one-dimensional PostgreSQL array literal into element texts (null for NULL). */
export function parseArrayLiteral(text: string): Array<string | null> | undefined {
  if (!text.startsWith('{') || !text.endsWith('}')) return undefined;
  const body = text.slice(1, -1);
  if (body === '') return [];
  const out: Array<string | null> = [];
  let i = 0;
  while (i <= body.length) {
    if (body[i] === '{') return undefined; // multi-dimensional: keep as text
    if (body[i] === '"') {
      let s = '';
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === '\\') i++;
        s += body[i] ?? '';
        i++;
      }
      out.push(s);
      i += 2; // closing quote and comma
    } else {
      let j = body.indexOf(',', i);
      if (j < 0) j = body.length;
      const raw = body.slice(i, j);
      out.push(raw === 'NULL' ? null : raw);
      i = j + 1;
    }
  }
  return out;
}

/** Renders one raw text value of type `oid` as a JSON-ready value. */
export function renderValue(text: string | null, oid: number): unknown {
  if (text === null || text === undefined) return null;
  switch (oid) {
    case 16:
      return text === 't' || text === 'true';
    case 20:
    case 21:
    case 23:
    case 26:
    case 700:
    case 701:
    case 1700:
      return number(text);
    case 114:
    case 3802:
      try {
        return sortKeys(JSON.parse(text));
      } catch {
        return text;
      }
    case 17:
      return renderBytea(text);
    case 1114:
    case 1184:
      return rfc3339(text);
    case 1082:
      return rfc3339Date(text);
  }
  const element = ARRAY_ELEMENT[oid];
  if (element !== undefined) {
    const items = parseArrayLiteral(text);
    if (items) return items.map((v) => renderValue(v, element));
  }
  return text;
}

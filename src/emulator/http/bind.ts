/**
 * Request-body binding with Go `encoding/json` semantics (what Fiber's `c.Bind().Body()` does):
 *
 * - the body must be JSON with `Content-Type: application/json` (or `…+json`), non-empty and
 *   well-formed, else the bind fails;
 * - a JSON `null` document binds to the zero value;
 * - keys match field tags exactly, else case-insensitively (`NewName` binds `newName`, but
 *   `primary_key` never binds `primaryKey`); unknown keys are ignored; a repeated key wins last;
 * - a value of the wrong JSON type fails the bind (`"nullable":"yes"`), while `null` leaves the
 *   field at its zero value;
 * - pointer, slice and map fields stay `null` (Go nil) when absent or null, so handlers can tell
 *   "omitted" from "empty".
 */

/** Field kinds, named after the Go types they mirror. */
export type FieldType =
  | 'string' // string: zero ""
  | 'bool' // bool: zero false
  | 'int' // int: zero 0, integers only
  | '*string' // *string: null when absent/null
  | '*bool'
  | '*int'
  | '*time' // *time.Time: an RFC 3339 string (else the bind fails), null when absent/null
  | '[]string' // []string: null when absent/null
  | 'map[string]string' // null when absent/null
  | 'map[string]any' // map[string]interface{}: null when absent/null
  | 'any' // interface{}: raw JSON value, undefined when absent
  | { struct: StructSpec } // nested struct: zero struct when absent/null
  | { slice: StructSpec }; // []Struct: null when absent/null

export type StructSpec = Record<string, FieldType>;

export class BindError extends Error {}

/** What Go's `time.Time` JSON decoding accepts (RFC 3339, optional fraction). */
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function zeroOf(t: FieldType): unknown {
  if (typeof t === 'object') return 'struct' in t ? bindStruct(null, t.struct) : null;
  switch (t) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'int':
      return 0;
    case 'any':
      return undefined;
    default:
      return null;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function convert(value: unknown, t: FieldType, current: unknown): unknown {
  if (t === 'any') return value;
  if (value === null) {
    // null leaves scalars untouched and sets pointers/slices/maps to nil.
    if (t === 'string' || t === 'bool' || t === 'int') return current;
    if (typeof t === 'object' && 'struct' in t) return current;
    return null;
  }
  if (typeof t === 'object') {
    if ('struct' in t) {
      if (!isObject(value)) throw new BindError('type mismatch');
      return bindStruct(value, t.struct);
    }
    if (!Array.isArray(value)) throw new BindError('type mismatch');
    return value.map((item) => {
      if (item === null) return bindStruct(null, t.slice);
      if (!isObject(item)) throw new BindError('type mismatch');
      return bindStruct(item, t.slice);
    });
  }
  switch (t) {
    case 'string':
    case '*string':
      if (typeof value !== 'string') throw new BindError('type mismatch');
      return value;
    case 'bool':
    case '*bool':
      if (typeof value !== 'boolean') throw new BindError('type mismatch');
      return value;
    case 'int':
    case '*int':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new BindError('type mismatch');
      return value;
    case '*time':
      if (typeof value !== 'string' || !RFC3339_RE.test(value)) throw new BindError('bad time');
      return value;
    case '[]string':
      if (!Array.isArray(value)) throw new BindError('type mismatch');
      return value.map((v) => {
        if (v === null) return '';
        if (typeof v !== 'string') throw new BindError('type mismatch');
        return v;
      });
    case 'map[string]string':
      if (!isObject(value)) throw new BindError('type mismatch');
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => {
          if (v === null) return [k, ''];
          if (typeof v !== 'string') throw new BindError('type mismatch');
          return [k, v];
        }),
      );
    case 'map[string]any':
      if (!isObject(value)) throw new BindError('type mismatch');
      return value;
  }
  return value;
}

/** Binds an already-parsed JSON value to a struct spec. Throws {@link BindError}. */
export function bindStruct<T = Record<string, unknown>>(value: unknown, spec: StructSpec): T {
  const out: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(spec)) out[name] = zeroOf(t);
  if (value === null || value === undefined) return out as T;
  if (!isObject(value)) throw new BindError('type mismatch');
  const names = Object.keys(spec);
  for (const [key, v] of Object.entries(value)) {
    const field = names.find((n) => n === key) ?? names.find((n) => n.toLowerCase() === key.toLowerCase());
    if (field === undefined) continue;
    out[field] = convert(v, spec[field] as FieldType, out[field]);
  }
  return out as T;
}

/** Whether a Content-Type header denotes JSON the way Fiber's binder accepts it. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const media = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'));
}

/**
 * Parses and binds a request body. Throws {@link BindError} for a wrong content type, an empty
 * body, malformed JSON or a type mismatch.
 */
export function bindBody<T = Record<string, unknown>>(contentType: string | undefined, raw: Buffer, spec: StructSpec): T {
  if (!isJsonContentType(contentType)) throw new BindError('unsupported content type');
  const text = raw.toString('utf8');
  if (text.trim() === '') throw new BindError('empty body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BindError('malformed JSON');
  }
  return bindStruct<T>(parsed, spec);
}

/** Parses a JSON body into an arbitrary map (Go `map[string]interface{}` target). */
export function bindMap(contentType: string | undefined, raw: Buffer): Record<string, unknown> {
  if (!isJsonContentType(contentType)) throw new BindError('unsupported content type');
  const text = raw.toString('utf8');
  if (text.trim() === '') throw new BindError('empty body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BindError('malformed JSON');
  }
  if (parsed === null) return {};
  if (!isObject(parsed)) throw new BindError('type mismatch');
  return parsed;
}

/**
 * The content of a state file: exactly `${canonicalJson(doc, 2)}\n` (UTF-8), without serialising
 * the whole document on every write.
 *
 * Apply writes the state before and after every change (docs/state.md, "Pending operations"):
 * about 600 writes of a 460 KB document for 1,000 resources, and thousands of 4.6 MB ones for
 * 10,000. Most entries are the same objects from one write to the next, so the text of each
 * managed entry (`resources[address]`) and of each pending record is kept, by object identity,
 * the first time it is written, and a write concatenates the kept texts.
 *
 * A kept text is only right while its object does not change, so the object is frozen (deeply)
 * when its text is kept: a later attempt to change it in place throws a TypeError (modules are
 * strict) instead of leaving a stale text in the state. Code that changes an entry or a record
 * replaces it with a new object (`state.resources[a] = { ...entry, … }`, `addPending`).
 */
import { canonicalJson, isIndexLike } from '../model/canonical.js';
import type { StateDocument } from './document.js';

/**
 * The line of each entry or record as UTF-8, with the separator before it
 * (`,\n    "address": {…}` or `,\n    {…}`, the text of its object at depth 2), kept by the
 * object's identity with the key it was written under.
 */
const lines = new WeakMap<object, { key: string | undefined; line: Buffer }>();
/** Sorted keys of a `resources` object as last seen, and the same keys as a set. */
const orders = new WeakMap<object, { sorted: string[]; present: Set<string> }>();

/**
 * The state file's content: `${canonicalJson(doc, 2)}\n` as UTF-8, byte for byte. Entries of
 * `doc.resources` and records of `doc.pending` that are plain objects are frozen by this call
 * (see the module doc).
 */
export function stateFileBytes(doc: StateDocument): Buffer {
  const d = doc as unknown as Record<string, unknown>;
  const top = Object.keys(d)
    .filter((k) => d[k] !== undefined)
    .sort();
  if (top.length === 0 || top.some(isIndexLike)) return whole(doc);
  // The pieces are concatenated once, as bytes: joining strings and encoding the result cost
  // three times as much for a document of 10,000 resources.
  const out: Buffer[] = [Buffer.from('{\n')];
  for (let t = 0; t < top.length; t++) {
    const k = top[t]!;
    const v = d[k];
    out.push(Buffer.from(`${t === 0 ? '' : ',\n'}  ${JSON.stringify(k)}: `));
    if (k === 'resources' && isPlainObject(v)) {
      const keys = sortedKeys(v);
      if (keys === undefined) return whole(doc);
      members(out, keys, v, '{', '}');
    } else if (k === 'pending' && Array.isArray(v)) {
      members(out, undefined, v as unknown[], '[', ']');
    } else {
      out.push(Buffer.from(canonicalJson(v, 2).replaceAll('\n', '\n  ')));
    }
  }
  out.push(Buffer.from('\n}\n'));
  return Buffer.concat(out);
}

/** The whole document by canonicalJson: for documents with keys that look like array indexes. */
function whole(doc: StateDocument): Buffer {
  return Buffer.from(`${canonicalJson(doc, 2)}\n`);
}

/**
 * Pushes the members `keys` of `obj`, or the elements of an array (`keys` undefined), at depth 1
 * as JSON.stringify with indent 2 writes them: member lines indented by 4, the closing bracket by
 * 2; object members whose value is undefined left out, array elements written as null.
 */
function members(out: Buffer[], keys: readonly string[] | undefined, obj: Record<string, unknown> | unknown[], open: string, close: string): void {
  const n = keys ? keys.length : (obj as unknown[]).length;
  let first = true;
  out.push(Buffer.from(open));
  for (let i = 0; i < n; i++) {
    const key = keys?.[i];
    const value = key === undefined ? (obj as unknown[])[i] : (obj as Record<string, unknown>)[key];
    if (value === undefined && key !== undefined) continue;
    const line = memberLine(key, value);
    // The first line has no comma before its line break.
    out.push(first ? line.subarray(1) : line);
    first = false;
  }
  out.push(Buffer.from(first ? close : `\n  ${close}`));
}

/** `,\n` and the line of one entry or record; kept (and its object frozen) when the value is a plain object. */
function memberLine(key: string | undefined, value: unknown): Buffer {
  const plain = isPlainObject(value);
  if (plain) {
    const kept = lines.get(value);
    if (kept !== undefined && kept.key === key) return kept.line;
  }
  const text = value === undefined ? 'null' : canonicalJson(value, 2).replaceAll('\n', '\n    ');
  const line = Buffer.from(key === undefined ? `,\n    ${text}` : `,\n    ${JSON.stringify(key)}: ${text}`);
  if (plain) {
    deepFreeze(value);
    lines.set(value, { key, line });
  }
  return line;
}

/**
 * The keys of a `resources` object in canonical order (`Array.prototype.sort`), kept between
 * writes so that a write sorts only the addresses added since the last one. Undefined when one
 * looks like an array index (the document is then left to canonicalJson, which handles those).
 */
function sortedKeys(obj: Record<string, unknown>): string[] | undefined {
  const keys = Object.keys(obj);
  const last = orders.get(obj);
  const added = last ? keys.filter((k) => !last.present.has(k)) : keys;
  if (last && added.length === 0 && keys.length === last.sorted.length) return last.sorted;
  if (added.some(isIndexLike)) return undefined;
  added.sort();
  const kept = last ? last.sorted.filter((k) => Object.hasOwn(obj, k)) : [];
  const sorted: string[] = [];
  let i = 0;
  let j = 0;
  while (i < kept.length || j < added.length) {
    if (j >= added.length || (i < kept.length && kept[i]! < added[j]!)) sorted.push(kept[i++]!);
    else sorted.push(added[j++]!);
  }
  orders.set(obj, { sorted, present: new Set(sorted) });
  return sorted;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const child of Object.values(v)) deepFreeze(child);
}

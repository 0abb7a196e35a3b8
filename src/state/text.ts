/**
 * The content of a state file: exactly `${canonicalJson(doc, 2)}\n` (UTF-8), without serialising
 * the whole document on every write.
 *
 * Every command that changes the state writes it whole at least once (an apply appends to its
 * journal between those writes and folds the journal in with a whole write when it grows past the
 * file's size or 1 MiB, docs/state.md "The journal"), and the whole text of 10,000 resources is 4.6 MB.
 * Most entries are the same objects from one write to the next, so each write keeps the bytes it
 * made, with where each managed entry (`resources[address]`) and pending record ends in them, and
 * the next write copies the runs of entries that are still the same objects under the same
 * addresses, making text only for the others.
 *
 * Reused bytes are only right while their object does not change, so an object is frozen (deeply)
 * when its text is made: a later attempt to change it in place throws a TypeError (modules are
 * strict) instead of leaving a stale text in the state. Code changes an entry or a record only by
 * replacing it through `setEntry`, `removeEntry`, `addPending`, `clearPending` or `dropPending`
 * (state/document.ts), which the journal relies on too.
 */
import { canonicalJson, isIndexLike, isPlainObject } from '../model/canonical.js';
import type { StateDocument } from './document.js';

/**
 * The members of `resources` or `pending` as last written: for each, the key it is matched by (its
 * address), its value, and where its line ends in `bytes` (each line is `,\n    "address": {…}`
 * or `,\n    {…}`: the separator first, the text of the value at depth 2).
 */
interface Section {
  keys: readonly string[];
  values: readonly unknown[];
  ends: number[];
  /** 1 where the member's line may be reused for the same value (see {@link reusable}). */
  reusable: Uint8Array;
  bytes: Buffer;
}
const resourceSections = new WeakMap<object, Section>();
const pendingSections = new WeakMap<object, Section>();
/** The keys of a `resources` object as last seen, in insertion order and sorted. */
const orders = new WeakMap<object, { inserted: string[]; sorted: string[] }>();

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
  const out: Buffer[] = [Buffer.from('{\n')];
  for (let t = 0; t < top.length; t++) {
    const k = top[t]!;
    const v = d[k];
    out.push(Buffer.from(`${t === 0 ? '' : ',\n'}  ${JSON.stringify(k)}: `));
    if (k === 'resources' && isPlainObject(v)) {
      const keys = sortedKeys(v);
      if (keys === undefined) return whole(doc);
      enclose(out, section(resourceSections, doc, keys, keys.map((a) => v[a]), true), '{', '}');
    } else if (k === 'pending' && Array.isArray(v)) {
      // A copy: the list itself is changed in place (addPending, clearPending).
      const records = [...(v as unknown[])];
      // The address only matches records with the last write's; reuse also needs the same object.
      const addresses = records.map((r) => {
        const a = (r as { address?: unknown } | null)?.address;
        return typeof a === 'string' ? a : '';
      });
      enclose(out, section(pendingSections, doc, addresses, records, false), '[', ']');
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

/** Pushes a section's lines between its brackets (the first line without its comma), as JSON.stringify with indent 2 at depth 1. */
function enclose(out: Buffer[], lines: Buffer, open: string, close: string): void {
  if (lines.length === 0) out.push(Buffer.from(`${open}${close}`));
  else out.push(Buffer.from(open), lines.subarray(1), Buffer.from(`\n  ${close}`));
}

/**
 * The lines of the members `values` (matched by `keys`, in output order) of doc's `resources`
 * (`object`: lines carry the key; undefined values are left out) or `pending` (array elements;
 * undefined is written as null). A member whose key and value (the same object, frozen since its
 * line was made) are those of the last write reuses its bytes: a write of one changed entry among
 * 10,000 copies the runs of unchanged lines around it instead of assembling 10,000 lines.
 */
function section(cache: WeakMap<object, Section>, doc: object, keys: readonly string[], values: readonly unknown[], object: boolean): Buffer {
  const prev = cache.get(doc);
  const parts: Buffer[] = [];
  const ends: number[] = new Array<number>(keys.length);
  const flags = new Uint8Array(keys.length);
  let size = 0;
  let i = 0;
  // The run of unchanged lines being copied from the previous bytes.
  let from = -1;
  let to = -1;
  for (let j = 0; j < keys.length; j++) {
    const key = keys[j]!;
    const value = values[j];
    // Both lists are in order; most keys are the very strings of the last write.
    if (prev && prev.keys[i] !== key) while (i < prev.keys.length && prev.keys[i]! < key) i++;
    if (prev && i < prev.keys.length && prev.keys[i] === key && prev.values[i] === value && prev.reusable[i] === 1) {
      const start = i === 0 ? 0 : prev.ends[i - 1]!;
      const end = prev.ends[i]!;
      if (from >= 0 && to === start) to = end;
      else {
        if (from >= 0) parts.push(prev.bytes.subarray(from, to));
        from = start;
        to = end;
      }
      size += end - start;
      flags[j] = 1;
      i++;
    } else {
      if (from >= 0) parts.push(prev!.bytes.subarray(from, to));
      from = -1;
      if (!(object && value === undefined)) {
        const line = memberLine(object ? key : undefined, value);
        parts.push(line);
        size += line.length;
      }
      flags[j] = reusable(value) ? 1 : 0;
    }
    ends[j] = size;
  }
  if (from >= 0) parts.push(prev!.bytes.subarray(from, to));
  const bytes = Buffer.concat(parts, size);
  // `keys` and `values` are this write's own arrays, never changed afterwards.
  cache.set(doc, { keys, values, ends, reusable: flags, bytes });
  return bytes;
}

/** Whether a value's line may be reused when the value is the same: primitives, and plain objects (frozen when their line was made). */
function reusable(v: unknown): boolean {
  return v === null || typeof v !== 'object' || isPlainObject(v);
}

/** `,\n` and the line of one entry (`key`) or record; a plain object is frozen (its line may be reused). */
function memberLine(key: string | undefined, value: unknown): Buffer {
  const text = value === undefined ? 'null' : canonicalJson(value, 2).replaceAll('\n', '\n    ');
  if (isPlainObject(value)) deepFreeze(value);
  return Buffer.from(key === undefined ? `,\n    ${text}` : `,\n    ${JSON.stringify(key)}: ${text}`);
}

/**
 * The keys of a `resources` object in canonical order (`Array.prototype.sort`), kept between
 * writes: when the keys of the last write are still the first ones, in the same order (entries
 * replaced or added, none removed), only the added keys are sorted and merged in; otherwise the
 * keys still there keep their order and the others are merged in. Undefined when one looks like an
 * array index (the document is then left to canonicalJson, which handles those).
 */
function sortedKeys(obj: Record<string, unknown>): string[] | undefined {
  const keys = Object.keys(obj);
  const last = orders.get(obj);
  let kept: string[] = [];
  let added: string[] = keys;
  if (last) {
    const n = last.inserted.length;
    let prefix = keys.length >= n;
    for (let i = 0; prefix && i < n; i++) prefix = keys[i] === last.inserted[i];
    if (prefix) {
      if (keys.length === n) return last.sorted;
      kept = last.sorted;
      added = keys.slice(n);
    } else {
      const before = new Set(last.inserted);
      added = keys.filter((k) => !before.has(k));
      kept = last.sorted.filter((k) => Object.hasOwn(obj, k));
    }
  }
  if (added.some(isIndexLike)) return undefined;
  added = added === keys ? [...added].sort() : added.sort();
  const sorted: string[] = [];
  let i = 0;
  let j = 0;
  while (i < kept.length || j < added.length) {
    if (j >= added.length || (i < kept.length && kept[i]! < added[j]!)) sorted.push(kept[i++]!);
    else sorted.push(added[j++]!);
  }
  orders.set(obj, { inserted: keys, sorted });
  return sorted;
}

/** Freezes `v` and everything in it (an object frozen elsewhere may still hold unfrozen ones). */
export function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object') return;
  Object.freeze(v);
  for (const child of Object.values(v)) deepFreeze(child);
}

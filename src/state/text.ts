/**
 * The text of a state file: exactly `${canonicalJson(doc, 2)}\n`, without serialising the whole
 * document on every write.
 *
 * Apply writes the state before and after every change (docs/state.md, "Pending operations"):
 * about 600 writes of a 460 KB document for 1,000 resources, and thousands of 4.6 MB ones for
 * 10,000. Most entries are the same objects from one write to the next, so the text of each
 * managed entry (`resources[address]`) and of each pending record is kept, by object identity,
 * the first time it is written, and a write joins the kept texts.
 *
 * A kept text is only right while its object does not change, so the object is frozen (deeply)
 * when its text is kept: a later attempt to change it in place throws a TypeError (modules are
 * strict) instead of leaving a stale text in the state. Code that changes an entry or a record
 * replaces it with a new object (`state.resources[a] = { ...entry, … }`, `addPending`).
 */
import { canonicalJson, isIndexLike } from '../model/canonical.js';
import type { StateDocument } from './document.js';

/** Text of an entry or record at the depth of the document's members' members (indented by 4). */
const kept = new WeakMap<object, string>();
/** Sorted keys of a `resources` object as last seen, and the same keys as a set. */
const orders = new WeakMap<object, { sorted: string[]; present: Set<string> }>();

/**
 * `${canonicalJson(doc, 2)}\n` (byte for byte). Entries of `doc.resources` and records of
 * `doc.pending` that are plain objects are frozen by this call (see the module doc).
 */
export function stateText(doc: StateDocument): string {
  const d = doc as unknown as Record<string, unknown>;
  const top = Object.keys(d)
    .filter((k) => d[k] !== undefined)
    .sort();
  if (top.some(isIndexLike)) return `${canonicalJson(doc, 2)}\n`;
  const parts: string[] = [];
  for (const k of top) {
    const v = d[k];
    let text: string | undefined;
    if (k === 'resources' && isPlainObject(v)) {
      const keys = sortedKeys(v);
      if (keys === undefined) return `${canonicalJson(doc, 2)}\n`;
      text = membersText(keys.map((a) => [a, v[a]]), '{', '}', true);
    } else if (k === 'pending' && Array.isArray(v)) {
      text = membersText(v.map((r: unknown) => [undefined, r]), '[', ']', false);
    } else {
      text = canonicalJson(v, 2).replaceAll('\n', '\n  ');
    }
    parts.push(`  ${JSON.stringify(k)}: ${text}`);
  }
  return parts.length === 0 ? '{}\n' : `{\n${parts.join(',\n')}\n}\n`;
}

/**
 * An object's or array's members at depth 1 (the member lines indented by 4, the closing bracket
 * by 2), as JSON.stringify with indent 2 writes them: object members whose value is undefined are
 * left out; an array's are written as null.
 */
function membersText(members: Array<[string | undefined, unknown]>, open: string, close: string, object: boolean): string {
  const lines: string[] = [];
  for (const [key, value] of members) {
    if (value === undefined && object) continue;
    const text = value === undefined ? 'null' : memberText(value);
    lines.push(key === undefined ? `    ${text}` : `    ${JSON.stringify(key)}: ${text}`);
  }
  return lines.length === 0 ? `${open}${close}` : `${open}\n${lines.join(',\n')}\n  ${close}`;
}

/** The text of one entry or record at depth 2, kept (and its object frozen) when it is a plain object. */
function memberText(value: unknown): string {
  if (!isPlainObject(value)) return canonicalJson(value, 2).replaceAll('\n', '\n    ');
  let text = kept.get(value);
  if (text === undefined) {
    text = canonicalJson(value, 2).replaceAll('\n', '\n    ');
    deepFreeze(value);
    kept.set(value, text);
  }
  return text;
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

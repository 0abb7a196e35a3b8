/**
 * The state journal: the writes an apply makes between two whole writes of the state file,
 * appended to `<file>.journal` as one line each instead of rewriting the file every time.
 *
 * Apply writes the state before and after every change (docs/state.md, "Pending operations"):
 * ~600 writes for 1,000 resources, thousands for 10,000. A whole write costs what the document
 * weighs (460 KB at 1,000 resources, 4.6 MB at 10,000: text, a temporary file, a backup link and a
 * rename); a journal line costs what changed since the previous write (a few entries and records).
 *
 * The file, UTF-8 JSON Lines:
 *
 *     {"format":"fluxbase-iac-state-journal","version":1,"base":"sha256:<hex of the state file's bytes>"}
 *     {"serial":12,"resources":{"<address>":{…entry…}|null,…},"pending":{"<address>":{…record…}|null,…}|null}
 *     …
 *
 * - The header names the state file it extends by the sha256 of its bytes. A journal whose base is
 *   not the current file (a later whole write replaced the file before the journal was removed, or
 *   the file was replaced by hand) is stale: readers ignore it and the next whole write removes it.
 * - Each line holds the serial of the write and what changed since the previous line (or since the
 *   base): entries set (`null`: removed), pending records set by address (`null`: removed), and
 *   `"pending": null` when the document has no `pending` list. The other members (format, version,
 *   lineage, salt) never change between a whole write and its journal.
 * - A line is written by one `write` call. A process killed in the middle of one leaves a last line
 *   without its newline, which readers ignore: that write had not returned, so no change after it
 *   started. A complete line that does not parse means the file was damaged.
 *
 * What changed is known without looking at the whole document: entries and pending records change
 * only through setEntry, removeEntry, addPending, clearPending and dropPending (state/document.ts;
 * the type makes `resources` and `pending` read-only), which record the addresses they touch
 * (`trackChanges`), and a line compares only those with the snapshot of the previous one, by
 * identity. So a line costs what changed: ~0.15 ms at 10,000 resources where a whole write costs
 * ~5 ms. Entries and records are replaced, never changed in place, and each one whose text a line
 * holds is frozen (a later change in place throws instead of being left out of the journal).
 */
import { createHash } from 'node:crypto';
import { canonicalJson, isPlainObject } from '../model/canonical.js';
import { searchPending, trackChanges, type PendingOperation, type StateDocument } from './document.js';
import { deepFreeze } from './text.js';

/** The first line's format name. */
export const JOURNAL_FORMAT = 'fluxbase-iac-state-journal';

/** `sha256:<hex>` of a state file's bytes: what a journal's header names as its base. */
export function baseDigest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The header line (with its newline) of a journal extending the state file with digest `base`. */
export function journalHeader(base: string): string {
  return `${JSON.stringify({ format: JOURNAL_FORMAT, version: 1, base })}\n`;
}

/**
 * The document as of the last whole write or journal line, by identity: what the next line is
 * computed against. Only documents a journal line can describe have one (see {@link snapshotOf}).
 */
export interface JournalSnapshot {
  /** The document object written (a later line must be of the same object). */
  doc: StateDocument;
  format: unknown;
  version: unknown;
  lineage: unknown;
  salt: unknown;
  /** The entries by address. */
  resources: Map<string, object>;
  /** The pending records by address; undefined when the document had no `pending` list. */
  pending: Map<string, object> | undefined;
}

/**
 * The snapshot of a document just written whole, from which the changes made with the functions of
 * state/document.ts are tracked (`trackChanges`); undefined when a journal line could not describe
 * changes to it: members other than the known ones, an entry that is not a plain object, or a
 * pending list not sorted by unique addresses (a file edited by hand). Linear in the document.
 */
export function snapshotOf(doc: StateDocument): JournalSnapshot | undefined {
  if (!knownMembers(doc)) return undefined;
  const resources = new Map<string, object>();
  for (const [a, e] of Object.entries(doc.resources)) {
    if (!isPlainObject(e)) return undefined;
    resources.set(a, e);
  }
  const pending = doc.pending === undefined ? undefined : pendingRecords(doc.pending);
  if (pending === null) return undefined;
  trackChanges(doc);
  return { doc, format: doc.format, version: doc.version, lineage: doc.lineage, salt: doc.salt, resources, pending };
}

const KNOWN = new Set(['format', 'version', 'lineage', 'serial', 'salt', 'resources', 'pending']);

function knownMembers(doc: StateDocument): boolean {
  for (const k of Object.keys(doc)) if (!KNOWN.has(k)) return false;
  return true;
}

/** A pending list's records by address; null when it is not sorted by unique addresses or holds a non-object. */
function pendingRecords(list: unknown): Map<string, object> | null {
  if (!Array.isArray(list)) return null;
  const out = new Map<string, object>();
  let last: string | undefined;
  for (const r of list as unknown[]) {
    const a = isPlainObject(r) ? r.address : undefined;
    if (typeof a !== 'string' || (last !== undefined && !(last < a))) return null;
    out.set((last = a), r as object);
  }
  return out;
}

/**
 * The journal line (with its newline) taking `snapshot` to `doc`, after which `snapshot` is that of
 * `doc`; or undefined, with `snapshot` unchanged, when `doc` needs a whole write instead (another
 * document object, a changed lineage or salt, or content a line cannot describe: see
 * {@link snapshotOf}). Only the addresses the functions of state/document.ts touched since the
 * previous line are compared (by identity), so a line costs what changed, not what the state
 * holds. Every entry and record the line holds is deep-frozen.
 *
 * With `FLUXBASE_VERIFY_JOURNAL=1` in the environment (the test suite sets it), each line is also
 * checked against the whole document, and a change made some other way throws.
 */
export function journalLine(snapshot: JournalSnapshot, doc: StateDocument): string | undefined {
  if (doc !== snapshot.doc || doc.format !== snapshot.format || doc.version !== snapshot.version || doc.lineage !== snapshot.lineage || doc.salt !== snapshot.salt) return undefined;
  if (!knownMembers(doc)) return undefined;
  const touched = trackChanges(doc);
  if (!touched) return undefined;
  const resources: Changes = [];
  for (const a of touched.resources) {
    const v = Object.hasOwn(doc.resources, a) ? doc.resources[a] : undefined;
    if (v === snapshot.resources.get(a)) continue;
    if (v !== undefined && !isPlainObject(v)) return undefined;
    resources.push([a, v ?? null]);
  }
  let pending: Changes | undefined;
  if (doc.pending !== undefined) {
    const list = doc.pending;
    if (!Array.isArray(list)) return undefined;
    pending = [];
    for (const a of touched.pending) {
      const at = searchPending(list, a);
      const v = at >= 0 ? list[at] : undefined;
      if (snapshot.pending && v === snapshot.pending.get(a)) continue;
      if (v !== undefined && !isPlainObject(v)) return undefined;
      if (v !== undefined || snapshot.pending?.has(a)) pending.push([a, v ?? null]);
    }
  }
  for (const [, v] of resources) if (v) deepFreeze(v);
  for (const [, v] of pending ?? []) if (v) deepFreeze(v);
  const text = (c: Changes) => `{${c.map(([a, v]) => `${JSON.stringify(a)}:${v === null ? 'null' : canonicalJson(v)}`).join(',')}}`;
  const line = `{"serial":${JSON.stringify(doc.serial)},"resources":${text(resources)},"pending":${pending ? text(pending) : 'null'}}\n`;
  update(snapshot.resources, resources);
  if (pending) update((snapshot.pending ??= new Map()), pending);
  else snapshot.pending = undefined;
  if (process.env.FLUXBASE_VERIFY_JOURNAL === '1') verify(snapshot, doc);
  return line;
}

/** Members set (an object) or removed (null), by key. */
type Changes = [string, object | null][];

function update(map: Map<string, object>, changed: Changes): void {
  for (const [a, v] of changed) {
    if (v === null) map.delete(a);
    else map.set(a, v);
  }
}

/** Throws when the snapshot, updated by a line, is not the document: a change the line left out. */
function verify(snapshot: JournalSnapshot, doc: StateDocument): void {
  const missed: string[] = [];
  const keys = Object.keys(doc.resources);
  for (const a of keys) if (snapshot.resources.get(a) !== doc.resources[a]) missed.push(a);
  for (const a of snapshot.resources.keys()) if (!Object.hasOwn(doc.resources, a)) missed.push(a);
  const list = doc.pending ?? [];
  if ((doc.pending === undefined) !== (snapshot.pending === undefined) || list.length !== (snapshot.pending?.size ?? 0)) missed.push('pending');
  for (const r of list) if (snapshot.pending?.get(r.address) !== r) missed.push(`pending ${r.address}`);
  if (missed.length > 0) {
    throw new Error(`state journal: changes made without setEntry/removeEntry/addPending/clearPending/dropPending were left out of a line: ${missed.slice(0, 5).join(', ')}`);
  }
}

/** A journal line that cannot be read: the journal was damaged. */
export class JournalDamagedError extends Error {
  constructor(readonly line: number, problem: string) {
    super(`line ${line} ${problem}`);
    this.name = 'JournalDamagedError';
  }
}

/**
 * Applies a journal's text to the document read from the state file whose digest is `base`
 * (changing `doc` in place). Returns the number of lines applied, or undefined when the journal is
 * stale or empty (its header names another base, or is incomplete): `doc` is then unchanged.
 * A last line without its newline (a write cut short by a kill) is ignored. Throws a
 * {@link JournalDamagedError} for a complete line that is not a journal line.
 */
export function replayJournal(doc: StateDocument, text: string, base: string): number | undefined {
  const lines = text.split('\n');
  // The last element is '' after a final newline, else a line cut short: either way not applied.
  lines.pop();
  if (lines.length === 0) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(lines[0]!);
  } catch {
    throw new JournalDamagedError(1, 'is not JSON');
  }
  const h = header as { format?: unknown; version?: unknown; base?: unknown } | null;
  if (!h || h.format !== JOURNAL_FORMAT) throw new JournalDamagedError(1, 'is not a state journal header');
  if (h.version !== 1) throw new JournalDamagedError(1, `has journal format version ${String(h.version)}, which this tool does not read`);
  if (h.base !== base) return undefined;
  const resources = doc.resources as Record<string, unknown>;
  let pending = doc.pending === undefined ? undefined : pendingRecords(doc.pending);
  if (pending === null) throw new JournalDamagedError(1, 'extends a state whose pending list is not sorted by address');
  for (let n = 1; n < lines.length; n++) {
    let entry: unknown;
    try {
      entry = JSON.parse(lines[n]!);
    } catch {
      throw new JournalDamagedError(n + 1, 'is not JSON');
    }
    const e = entry as { serial?: unknown; resources?: unknown; pending?: unknown } | null;
    if (!isPlainObject(e) || typeof e.serial !== 'number' || !isPlainObject(e.resources) || !(e.pending === null || isPlainObject(e.pending))) {
      throw new JournalDamagedError(n + 1, 'is not a journal line (serial, resources, pending)');
    }
    if (e.serial <= doc.serial) throw new JournalDamagedError(n + 1, `has serial ${e.serial}, not after ${doc.serial}`);
    doc.serial = e.serial;
    for (const [a, v] of Object.entries(e.resources)) {
      if (v === null) delete resources[a];
      else if (isPlainObject(v)) resources[a] = v;
      else throw new JournalDamagedError(n + 1, `has an entry for ${a} that is not an object`);
    }
    if (e.pending === null) pending = undefined;
    else {
      pending ??= new Map();
      for (const [a, v] of Object.entries(e.pending)) {
        if (v === null) pending.delete(a);
        else if (isPlainObject(v)) pending.set(a, v);
        else throw new JournalDamagedError(n + 1, `has a pending record for ${a} that is not an object`);
      }
    }
  }
  const writable = doc as { pending?: PendingOperation[] };
  if (pending === undefined) delete writable.pending;
  else writable.pending = [...pending.keys()].sort().map((a) => pending.get(a)) as PendingOperation[];
  return lines.length - 1;
}

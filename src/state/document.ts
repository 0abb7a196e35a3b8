/**
 * The state document (format and versioning: docs/state.md). It records which live resources
 * this configuration manages (so removing one from the config plans its deletion, and resources
 * made elsewhere are never touched), the keyed fingerprints of write-only values (so a changed
 * secret is re-sent without the secret ever being stored), and, where PostgreSQL renders an
 * expression differently from how it was declared, the last rendering seen after apply.
 * It never holds a plaintext secret.
 */
import { createHash, randomBytes, randomUUID, scryptSync } from 'node:crypto';
import { canonicalJson } from '../model/canonical.js';
import type { HazardType } from '../model/plan.js';
import type { ResourceKind } from '../model/resource.js';

/**
 * The state's record of a write-only value adopted by `fluxbase export --adopt`: the live value
 * was never read (it cannot be) nor sent by this tool. A plan does not send the declared value on
 * its own; it is sent, and fingerprinted, with the next change the resource needs for another
 * reason, or at once when the server reports the value absent (docs/state.md).
 */
export const UNKNOWN_WRITE_ONLY = 'unknown';

/** Current state format version. */
export const STATE_VERSION = 1;

/** One managed resource. */
export interface StateEntry {
  kind: ResourceKind;
  /** Server-side id at the last apply (informational: refresh matches by address). */
  id?: string;
  /**
   * Write-only attribute → `scrypt:<hex>` fingerprint of the value last sent (absent: never sent;
   * null: declared without a value; {@link UNKNOWN_WRITE_ONLY}: adopted, live value unknown).
   */
  writeOnly?: Record<string, string | null>;
  /**
   * Attribute path (dot-joined) → the declared text and PostgreSQL's rendering of it seen after the
   * last apply; used when the two cannot be proven equal by syntax tree.
   */
  observed?: Record<string, { desired: string; live: string }>;
  /** `lifecycle.prevent_destroy` when last applied: protects the resource after it leaves the config. */
  preventDestroy?: boolean;
}

/**
 * A change of the plan apply is executing (docs/state.md, "Pending operations"). Apply records
 * every change of the approved plan before the first API call, marks each `started` (durably)
 * before its first call, and removes it with the write that records its result. One left in the
 * state means the run stopped — interrupted, killed, or with a call whose outcome it never learned —
 * and the next plan resolves it against live state before planning anything (engine/pending.ts):
 * started ones by looking at what is live, and all of them by gating the resumed change on the
 * hazards the user approved for it. Never holds a plaintext secret.
 */
export interface PendingOperation {
  address: string;
  kind: ResourceKind;
  /** `replace` is delete-then-create. */
  action: 'create' | 'update' | 'delete' | 'replace';
  /** Server id of the object being changed or deleted (for a replace: the object being replaced). */
  id?: string;
  /** ISO 8601 time of its first API call; absent: approved in the plan, never started. */
  started?: string;
  /** `sha256:` fingerprint of the declared attributes the call sends (creates, updates, replaces). */
  desired?: string;
  /** Write-only fingerprints of the values the call sends (as {@link StateEntry.writeOnly}). */
  writeOnly?: Record<string, string | null>;
  /** `lifecycle.prevent_destroy` of the declaration (recorded when the object is adopted). */
  preventDestroy?: boolean;
  /**
   * For kinds whose value the server shows once (keys): the value reached the terminal or the
   * `--secrets-out` file. A key created by an interrupted run without it is replaced (its value
   * was never received).
   */
  revealed?: true;
  /**
   * Hazard types the change carried (and the user allowed). A resumed change of the same declared
   * resource is never gated on a hazard outside them.
   */
  hazards?: HazardType[];
  /** Steps of a multi-step change (a table's) that completed, and how many there are. */
  steps?: { done: number; of: number };
}

/** The whole document. */
export interface StateDocument {
  format: 'fluxbase-iac-state';
  version: typeof STATE_VERSION;
  /** Random id given when the state is created; a saved plan must come from the same lineage. */
  lineage: string;
  /** Incremented on every write; a saved plan is refused if the state moved on since. */
  serial: number;
  /** Random key (base64) for write-only fingerprints, so equal secrets in two states do not match. */
  salt: string;
  /**
   * Managed entries by address. Read-only to the type: entries are set and removed with
   * {@link setEntry} and {@link removeEntry}, which tell the state journal what changed
   * (state/journal.ts), and never changed in place (the state file keeps their text: state/text.ts).
   */
  readonly resources: Readonly<Record<string, StateEntry>>;
  /**
   * Operations a run started and did not finish recording (absent when none; sorted by address).
   * Changed only with {@link addPending}, {@link clearPending} and {@link dropPending}.
   */
  readonly pending?: readonly PendingOperation[];
}

/** A new, empty state. */
export function emptyState(): StateDocument {
  return {
    format: 'fluxbase-iac-state',
    version: STATE_VERSION,
    lineage: randomUUID(),
    serial: 0,
    salt: randomBytes(32).toString('base64'),
    resources: {},
  };
}

/** scrypt cost for secret fingerprints: ~5 ms each, so guessing is slow but plans stay fast. */
const SCRYPT = { N: 4096, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/**
 * Fingerprint of a write-only value: scrypt of the value, salted with the state's random salt and
 * the attribute's address, so equal secrets never look equal and each guess costs an scrypt.
 * (A weak secret can still be guessed offline by whoever holds the state, only slowly; treat the
 * state as sensitive — docs/state.md.)
 */
export function secretFingerprint(salt: string, where: string, value: string): string {
  const key = scryptSync(value, Buffer.concat([Buffer.from(salt, 'base64'), Buffer.from(where, 'utf8')]), 32, SCRYPT);
  return `scrypt:${key.toString('hex')}`;
}

/**
 * Deterministic fingerprint of a desired state that includes its write-only values without
 * revealing them: sha256 over the non-secret part and an scrypt of the secrets salted with it.
 * Two runs on the same input give the same value (saved plans are byte-identical), a changed
 * secret changes it, and the value does not let anyone read the secrets back.
 */
export function desiredFingerprint(nonSecret: unknown, secrets: readonly string[]): string {
  const base = createHash('sha256').update(canonicalJson(nonSecret)).digest();
  const hash = createHash('sha256').update(base);
  if (secrets.length > 0) hash.update(scryptSync(canonicalJson(secrets), base, 32, SCRYPT));
  return `sha256:${hash.digest('hex')}`;
}

/** What changed in a document since {@link trackChanges}: addresses whose entry or pending record was set or removed. */
export interface TrackedChanges {
  resources: Set<string>;
  pending: Set<string>;
}
const tracked = new WeakMap<StateDocument, TrackedChanges>();

/**
 * Starts (or restarts) recording which addresses {@link setEntry}, {@link removeEntry},
 * {@link addPending}, {@link clearPending} and {@link dropPending} touch in `state`; returns the
 * changes recorded before, if it was tracked. The state journal reads them so that a journal line
 * costs what changed, not what the state holds (state/journal.ts).
 */
export function trackChanges(state: StateDocument): TrackedChanges | undefined {
  const before = tracked.get(state);
  tracked.set(state, { resources: new Set(), pending: new Set() });
  return before;
}

/** The document's members, writable: for the functions below only. */
type Writable = { resources: Record<string, StateEntry>; pending?: PendingOperation[] };

/** Sets the entry at `address` (a new object: entries are never changed in place). */
export function setEntry(state: StateDocument, address: string, entry: StateEntry): void {
  (state as unknown as Writable).resources[address] = entry;
  tracked.get(state)?.resources.add(address);
}

/** Removes the entry at `address`, if any. */
export function removeEntry(state: StateDocument, address: string): void {
  delete (state as unknown as Writable).resources[address];
  tracked.get(state)?.resources.add(address);
}

/** Records pending operations (each replacing one for the same address), keeping the list sorted by address. */
export function addPending(state: StateDocument, ...ops: PendingOperation[]): void {
  const list = (state.pending ?? []) as PendingOperation[];
  const fresh: PendingOperation[] = [];
  const changes = tracked.get(state);
  for (const op of ops) {
    changes?.pending.add(op.address);
    const at = indexOfPending(list, op.address);
    if (at >= 0) list[at] = op;
    else fresh.push(op);
  }
  (state as unknown as Writable).pending = fresh.length === 0 ? list : [...list, ...fresh].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** Removes every pending operation (and the list). */
export function dropPending(state: StateDocument): void {
  const changes = tracked.get(state);
  for (const op of state.pending ?? []) changes?.pending.add(op.address);
  delete (state as unknown as Writable).pending;
}

/** The pending operation for an address, if any. */
export function pendingFor(state: StateDocument, address: string): PendingOperation | undefined {
  const at = state.pending ? indexOfPending(state.pending, address) : -1;
  return at >= 0 ? state.pending![at] : undefined;
}

/** Removes the pending operations for an address (dropping the list when it empties). */
export function clearPending(state: StateDocument, address: string): void {
  const list = state.pending as PendingOperation[] | undefined;
  if (!list) return;
  tracked.get(state)?.pending.add(address);
  const at = searchPending(list, address);
  if (at >= 0) {
    // In the sorted list, records for the same address (a file edited by hand) are next to it.
    let from = at;
    let to = at + 1;
    while (from > 0 && list[from - 1]!.address === address) from--;
    while (to < list.length && list[to]!.address === address) to++;
    list.splice(from, to - from);
  } else {
    (state as unknown as Writable).pending = list.filter((p) => p.address !== address);
  }
  if (state.pending?.length === 0) delete (state as unknown as Writable).pending;
}

/**
 * Where the record for `address` is in a list, -1 when none: a binary search of the order
 * {@link addPending} keeps (apply looks a record up several times per change, among as many
 * records as changes), then a scan, for a list not in that order (a state file edited by hand).
 */
function indexOfPending(list: readonly PendingOperation[], address: string): number {
  const at = searchPending(list, address);
  return at >= 0 ? at : list.findIndex((p) => p.address === address);
}

/** Binary search of a list sorted by address; -1 when not found (or the list is not sorted there). */
export function searchPending(list: readonly PendingOperation[], address: string): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const a = list[mid]!.address;
    if (a === address) return mid;
    if (a < address) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Checks a parsed document's shape and version. Returns an error message, or undefined when usable.
 */
export function checkState(doc: unknown): string | undefined {
  const d = doc as Partial<StateDocument> | null;
  if (!d || typeof d !== 'object' || d.format !== 'fluxbase-iac-state') return 'not a fluxbase-iac state document';
  if (d.version !== STATE_VERSION) return `state format version ${String(d.version)} is not supported (this tool writes version ${STATE_VERSION})`;
  if (typeof d.lineage !== 'string' || typeof d.serial !== 'number' || typeof d.salt !== 'string' || !d.resources || typeof d.resources !== 'object') {
    return 'state document is missing lineage, serial, salt or resources';
  }
  if (d.pending !== undefined && !Array.isArray(d.pending)) return 'state document has a malformed `pending` list';
  return undefined;
}

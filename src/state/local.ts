/**
 * The default state backend: a JSON file beside the configuration (`fluxbase.state.json`).
 *
 * - Writes are atomic: the document goes to `<file>.<pid>.tmp` (mode 0600), then the temporary
 *   file is renamed over `<file>`. A reader — or a process killed at any moment — sees the old or
 *   the new document. Before its first write, a process hard-links the current file to
 *   `<file>.backup` (replacing the previous backup atomically): the backup is the state as it was
 *   before the latest command that changed it.
 * - The lock is `<file>.lock`, created atomically with link() so it never appears half-written;
 *   it records its owner (user, host, pid), operation, creation time and expiry. A lock whose
 *   owner is a process on this host that no longer runs, or that expired, is taken over.
 * - Temporary files are registered with state/cleanup.ts so none outlives the process; those of
 *   killed processes are removed by the next run that takes the lock.
 * - Apply's writes after its first go to `<file>.journal` ({@link LocalStateBackend.append},
 *   state/journal.ts): one line per write with what changed, instead of the whole document. Apply
 *   folds the journal into the file when it ends; a run killed before that leaves it, and the next
 *   read applies it (the next whole write folds it in and removes it).
 */
import { copyFile, link, open, readFile, rename, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { readFileSync, rmSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { randomUUID } from 'node:crypto';
import { checkState, type StateDocument } from './document.js';
import { stateFileBytes } from './text.js';
import { baseDigest, journalHeader, journalLine, JournalDamagedError, replayJournal, snapshotOf, type JournalSnapshot } from './journal.js';
import { lockOwner, StateDamagedError, StateLockedError, type LockInfo, type LockRequest, type StateBackend } from './backend.js';
import { onHardExit, processAlive, removeDeadTemps, trackTemp } from './cleanup.js';

/** Local-file backend. */
export class LocalStateBackend implements StateBackend {
  readonly path: string;
  /** The document as of this process's last whole write or journal line (what the next line extends). */
  private snapshot: JournalSnapshot | undefined;
  /** Digest and size of the state file this process last wrote whole. */
  private base = { digest: '', size: 0 };
  /** The journal this process is appending to. */
  private journal: FileHandle | undefined;
  /** Its size so far (in UTF-16 units: only compared with the file's size to decide when to write whole). */
  private journalSize = 0;
  /** The document of the last journal line. */
  private appended: StateDocument | undefined;
  /** True once this process has kept the file it first replaced as the backup. */
  private backedUp = false;
  /** False once this process has removed any journal and not started one since. */
  private journalMayExist = true;
  constructor(path: string) {
    this.path = path;
  }

  /** The journal of the writes since the file was last written whole (state/journal.ts). */
  get journalPath(): string {
    return `${this.path}.journal`;
  }

  describe(): string {
    return `local file ${this.path}`;
  }

  /** The backup: the file as it was before the latest process that wrote it first did. */
  get backupPath(): string {
    return `${this.path}.backup`;
  }

  async read(): Promise<StateDocument | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text) as unknown;
    } catch (e) {
      throw new StateDamagedError(this.path, `it is not valid JSON (${(e as Error).message})`, await this.usableBackup());
    }
    const problem = checkState(doc);
    if (problem) throw new StateDamagedError(this.path, problem, await this.usableBackup());
    await this.replay(doc as StateDocument, text);
    return doc as StateDocument;
  }

  /**
   * Applies the journal of a run that was killed before it folded the journal in (absent, stale or
   * empty: nothing). A damaged journal is reported, with the state file unchanged.
   */
  private async replay(doc: StateDocument, text: string): Promise<void> {
    let journal: string;
    try {
      journal = await readFile(this.journalPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    try {
      if (replayJournal(doc, journal, baseDigest(text)) === undefined) return;
    } catch (e) {
      if (!(e instanceof JournalDamagedError)) throw e;
      throw new StateDamagedError(this.journalPath, `${e.message} (it holds the writes an interrupted apply made after its first one)`);
    }
    const problem = checkState(doc);
    if (problem) throw new StateDamagedError(this.journalPath, `applying it gives a document that is not usable: ${problem}`);
  }

  async write(doc: StateDocument): Promise<void> {
    // Serialised before the first await: the caller may change `doc` at once (StateBackend.write).
    const bytes = stateFileBytes(doc);
    const snapshot = snapshotOf(doc);
    this.snapshot = undefined;
    const tmp = `${this.path}.${process.pid}.tmp`;
    const untrack = trackTemp(tmp);
    let renamed = false;
    try {
      await writeFile(tmp, bytes, { mode: 0o600 });
      // The backup is the file as it was before this process first rewrote it (as Terraform's
      // terraform.tfstate.backup): for an apply, the state before the apply.
      if (!this.backedUp) await this.backup();
      this.backedUp = true;
      await rename(tmp, this.path);
      renamed = true;
    } finally {
      untrack();
      if (!renamed) await removeIfThere(tmp);
    }
    // The file holds everything a journal did: remove it (once renamed, a journal left by a kill
    // here names a base that is no longer the file's, and is ignored).
    await this.journal?.close().catch(() => undefined);
    this.journal = undefined;
    this.journalSize = 0;
    this.appended = undefined;
    if (this.journalMayExist) await removeIfThere(this.journalPath);
    this.journalMayExist = false;
    this.base = { digest: baseDigest(bytes), size: bytes.length };
    this.snapshot = snapshot;
  }

  /**
   * Records `doc` as {@link write} does, as a line of `<file>.journal` holding what changed since
   * this process's previous write (state/journal.ts), when it can: a whole write when this process
   * has not written the file whole yet, when the journal has grown past the file's size (at least
   * 1 MiB), or when the line cannot describe the change. Like write(), the line is made before the
   * first await, and calls must not overlap (engine/state-writer.ts serialises apply's). A failed
   * append leaves the next call to write whole.
   */
  async append(doc: StateDocument): Promise<void> {
    const snapshot = this.snapshot;
    const line = snapshot && this.journalSize <= Math.max(this.base.size, 1 << 20) ? journalLine(snapshot, doc) : undefined;
    if (line === undefined) return this.write(doc);
    this.appended = doc;
    try {
      if (!this.journal) {
        this.journalMayExist = true;
        this.journal = await open(this.journalPath, 'w', 0o600);
        await this.journal.writeFile(journalHeader(this.base.digest) + line);
      } else {
        await this.journal.writeFile(line);
      }
      this.journalSize += line.length;
    } catch (e) {
      // What reached the file is unknown (a line cut short ends it): the next write is whole.
      this.snapshot = undefined;
      throw e;
    }
  }

  /** Writes whole the document last appended, when a journal was started since the last whole write. */
  async compact(): Promise<void> {
    if (this.journal && this.appended) await this.write(this.appended);
  }

  /** Keeps the current file as `<file>.backup` (a hard link where possible, else a copy), atomically. */
  private async backup(): Promise<void> {
    const tmp = `${this.backupPath}.${process.pid}.tmp`;
    const untrack = trackTemp(tmp);
    let renamed = false;
    try {
      try {
        await link(this.path, tmp);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing to back up yet
        // No hard links here, or a temporary backup left by an earlier write that failed half-way
        // (link() does not replace it): a copy. The leftover goes first: it may be a link to the
        // state file itself, which copying over it would truncate.
        await removeIfThere(tmp);
        await copyFile(this.path, tmp);
      }
      await rename(tmp, this.backupPath);
      renamed = true;
    } finally {
      untrack();
      if (!renamed) await removeIfThere(tmp);
    }
  }

  /** The backup's path when it holds a readable state document. */
  private async usableBackup(): Promise<string | undefined> {
    try {
      return checkState(JSON.parse(await readFile(this.backupPath, 'utf8'))) === undefined ? this.backupPath : undefined;
    } catch {
      return undefined;
    }
  }

  async lock(req: LockRequest): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + req.waitMs;
    for (;;) {
      const info = newLockInfo(req.operation, req.ttlMs);
      // Write the lock's content first, then hard-link it into place: link() fails with EEXIST
      // when a lock exists, so the lock appears atomically and never half-written.
      const tmp = `${lockPath}.${process.pid}.${info.id}.tmp`;
      const untrack = trackTemp(tmp);
      let acquired = false;
      try {
        await writeFile(tmp, JSON.stringify(info, null, 2), { mode: 0o600 });
        await link(tmp, lockPath);
        acquired = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        untrack();
        await rm(tmp, { force: true });
      }
      if (acquired) return this.held(lockPath, info);
      const holder = await readLock(lockPath);
      const gone = holder ? staleReason(holder) : undefined;
      if (holder && gone) {
        // Take it over atomically: rename it away (only one contender succeeds), then retry the
        // exclusive create.
        const aside = `${lockPath}.stale-${holder.id}`;
        const moved = await rename(lockPath, aside).then(
          () => true,
          () => false,
        );
        await rm(aside, { force: true });
        if (moved) req.notice?.(`Took over the state lock of ${holder.owner} (\`${holder.operation}\` since ${holder.created}): ${gone}.`);
        continue;
      }
      if (Date.now() >= deadline || req.signal?.aborted) {
        throw new StateLockedError(holder ?? { ...newLockInfo('unknown', 0), owner: 'unknown' }, this.path);
      }
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }

  /** The release function of a lock just taken; also removes dead processes' temporary files. */
  private async held(lockPath: string, info: LockInfo): Promise<() => Promise<void>> {
    const ours = () => {
      try {
        return (JSON.parse(readFileSync(lockPath, 'utf8')) as LockInfo).id === info.id;
      } catch {
        return false;
      }
    };
    const unhook = onHardExit(() => {
      if (ours()) rmSync(lockPath, { force: true });
    });
    await removeDeadTemps(this.path);
    return async () => {
      unhook();
      const current = await readLock(lockPath);
      if (current?.id === info.id) await rm(lockPath, { force: true });
    };
  }

  async forceUnlock(id: string): Promise<void> {
    const lockPath = `${this.path}.lock`;
    const holder = await readLock(lockPath);
    if (!holder) throw new Error(`state ${this.path} is not locked`);
    if (holder.id !== id) throw new Error(`lock id ${id} does not match the current lock ${holder.id} (held by ${holder.owner})`);
    await rm(lockPath, { force: true });
  }
}

/**
 * Why a lock may be taken over, or undefined while its holder may still be working: it expired,
 * or its owner is a process on this host that no longer runs.
 */
export function staleReason(holder: LockInfo, now = Date.now()): string | undefined {
  if (Date.parse(holder.expires) < now) return `it expired at ${holder.expires}`;
  const { host, pid } = lockOwner(holder);
  if (host === hostname() && pid !== undefined && pid !== process.pid && !processAlive(pid)) {
    return `process ${pid} on this host is no longer running`;
  }
  return undefined;
}

/** In-memory backend (for `fluxbase demo` and library callers). */
export class MemoryStateBackend implements StateBackend {
  private doc: StateDocument | undefined;
  private held: LockInfo | undefined;
  describe(): string {
    return 'in-memory state';
  }
  async read(): Promise<StateDocument | undefined> {
    return this.doc ? (structuredClone(this.doc) as StateDocument) : undefined;
  }
  async write(doc: StateDocument): Promise<void> {
    this.doc = structuredClone(doc) as StateDocument;
  }
  async lock(req: LockRequest): Promise<() => Promise<void>> {
    if (this.held && Date.parse(this.held.expires) > Date.now()) throw new StateLockedError(this.held, 'in memory');
    const info = newLockInfo(req.operation, req.ttlMs);
    this.held = info;
    return async () => {
      if (this.held?.id === info.id) this.held = undefined;
    };
  }
  async forceUnlock(id: string): Promise<void> {
    if (this.held?.id !== id) throw new Error(`lock id ${id} does not match`);
    this.held = undefined;
  }
}

/** Lock metadata for this process. */
export function newLockInfo(operation: string, ttlMs: number): LockInfo {
  const now = Date.now();
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry */
  }
  const host = hostname();
  return {
    id: randomUUID(),
    owner: `${user}@${host} (pid ${process.pid})`,
    operation,
    created: new Date(now).toISOString(),
    expires: new Date(now + ttlMs).toISOString(),
    host,
    pid: process.pid,
  };
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/** Removes a file; one that is not there is no error (cheaper than rm({ force }) on the hot path of every state write). */
async function removeIfThere(path: string): Promise<void> {
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

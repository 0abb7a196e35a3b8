/**
 * The default state backend: a JSON file beside the configuration (`fluxbase.state.json`).
 *
 * - Writes are atomic: the document goes to `<file>.<pid>.tmp` (mode 0600), the current file is
 *   hard-linked to `<file>.backup` (replacing the previous backup atomically), then the temporary
 *   file is renamed over `<file>`. A reader — or a process killed at any moment — sees the old or
 *   the new document, and the one before the latest write is always in `<file>.backup`.
 * - The lock is `<file>.lock`, created atomically with link() so it never appears half-written;
 *   it records its owner (user, host, pid), operation, creation time and expiry. A lock whose
 *   owner is a process on this host that no longer runs, or that expired, is taken over.
 * - Temporary files are registered with state/cleanup.ts so none outlives the process; those of
 *   killed processes are removed by the next run that takes the lock.
 */
import { copyFile, link, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { readFileSync, rmSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { randomUUID } from 'node:crypto';
import { checkState, type StateDocument } from './document.js';
import { stateFileBytes } from './text.js';
import { lockOwner, StateDamagedError, StateLockedError, type LockInfo, type LockRequest, type StateBackend } from './backend.js';
import { onHardExit, processAlive, removeDeadTemps, trackTemp } from './cleanup.js';

/** Local-file backend. */
export class LocalStateBackend implements StateBackend {
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }

  describe(): string {
    return `local file ${this.path}`;
  }

  /** The backup of the document before the latest write. */
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
    return doc as StateDocument;
  }

  async write(doc: StateDocument): Promise<void> {
    // Serialised before the first await: the caller may change `doc` at once (StateBackend.write).
    const bytes = stateFileBytes(doc);
    const tmp = `${this.path}.${process.pid}.tmp`;
    const untrack = trackTemp(tmp);
    let renamed = false;
    try {
      await writeFile(tmp, bytes, { mode: 0o600 });
      await this.backup();
      await rename(tmp, this.path);
      renamed = true;
    } finally {
      untrack();
      if (!renamed) await removeIfThere(tmp);
    }
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

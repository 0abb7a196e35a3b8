/**
 * The default state backend: a JSON file beside the configuration (`fluxbase.state.json`),
 * written atomically (temp file + rename, mode 0600), locked with a lock file
 * (`fluxbase.state.json.lock`, created atomically with link()) that records its owner, creation
 * time and expiry.
 */
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../model/canonical.js';
import { checkState, type StateDocument } from './document.js';
import { StateLockedError, type LockInfo, type StateBackend } from './backend.js';

/** Local-file backend. */
export class LocalStateBackend implements StateBackend {
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }

  describe(): string {
    return `local file ${this.path}`;
  }

  async read(): Promise<StateDocument | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const doc = JSON.parse(text) as unknown;
    const problem = checkState(doc);
    if (problem) throw new Error(`${this.path}: ${problem}`);
    return doc as StateDocument;
  }

  async write(doc: StateDocument): Promise<void> {
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, `${canonicalJson(doc, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.path);
  }

  async lock(req: { operation: string; waitMs: number; ttlMs: number }): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + req.waitMs;
    for (;;) {
      const info = newLockInfo(req.operation, req.ttlMs);
      // Write the lock's content first, then hard-link it into place: link() fails with EEXIST
      // when a lock exists, so the lock appears atomically and never half-written.
      const tmp = `${lockPath}.${info.id}.tmp`;
      await writeFile(tmp, JSON.stringify(info, null, 2), { mode: 0o600 });
      try {
        await link(tmp, lockPath);
        return async () => {
          const current = await readLock(lockPath);
          if (current?.id === info.id) await rm(lockPath, { force: true });
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        await rm(tmp, { force: true });
      }
      const holder = await readLock(lockPath);
      if (holder && Date.parse(holder.expires) < Date.now()) {
        // Stale: take it over atomically by renaming it away before retrying the exclusive create.
        await rename(lockPath, `${lockPath}.stale-${holder.id}`).catch(() => undefined);
        await rm(`${lockPath}.stale-${holder.id}`, { force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        throw new StateLockedError(holder ?? { ...newLockInfo('unknown', 0), owner: 'unknown' }, this.path);
      }
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
    }
  }

  async forceUnlock(id: string): Promise<void> {
    const lockPath = `${this.path}.lock`;
    const holder = await readLock(lockPath);
    if (!holder) throw new Error(`state ${this.path} is not locked`);
    if (holder.id !== id) throw new Error(`lock id ${id} does not match the current lock ${holder.id} (held by ${holder.owner})`);
    await rm(lockPath, { force: true });
  }
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
  async lock(req: { operation: string; waitMs: number; ttlMs: number }): Promise<() => Promise<void>> {
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
  return {
    id: randomUUID(),
    owner: `${user}@${hostname()} (pid ${process.pid})`,
    operation,
    created: new Date(now).toISOString(),
    expires: new Date(now + ttlMs).toISOString(),
  };
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/**
 * Where the state document lives. The default backend is a local file beside the configuration;
 * docs/state.md describes the others. Every backend serialises writers with a lock.
 */
import type { StateDocument } from './document.js';

/** Who holds a lock, since when, and for how long it is valid. */
export interface LockInfo {
  id: string;
  /** `user@host (pid N): fluxbase apply` */
  owner: string;
  operation: string;
  /** ISO 8601. */
  created: string;
  /** ISO 8601; after this the lock is stale and may be taken over. */
  expires: string;
  /** Host name and process id of the owner: a lock whose owner on this host is dead is taken over. */
  host?: string;
  pid?: number;
}

/** Input of {@link StateBackend.lock}. */
export interface LockRequest {
  /** What the holder is doing (`fluxbase apply`), shown to whoever finds the state locked. */
  operation: string;
  /** Retry until this many ms have passed (0: fail at once). */
  waitMs: number;
  /** Validity of the lock; after it, another run takes it over. */
  ttlMs: number;
  /** Told when the lock of a run that is gone was taken over (one sentence). */
  notice?: (message: string) => void;
  /** Stops waiting (the lock is then reported as held) when aborted, e.g. by Ctrl-C. */
  signal?: AbortSignal;
}

/** A state backend. */
export interface StateBackend {
  /** Human description (`local file fluxbase.state.json`). */
  describe(): string;
  /** The current document, or undefined when none exists yet. Throws on unreadable/invalid state. */
  read(): Promise<StateDocument | undefined>;
  /**
   * Replaces the document atomically (a reader sees the old or the new document, never a mix),
   * after keeping the document it replaces as a backup (`<file>.backup`, `<key>.backup`).
   * The document is copied (serialised) before the promise is returned: the caller may change
   * it at once, and apply does so while the write is under way (engine/state-writer.ts).
   */
  write(doc: StateDocument): Promise<void>;
  /**
   * Optional: records `doc` like {@link write}, with the same guarantees for readers, but may
   * append what changed since this process's previous write to a journal instead of rewriting the
   * document (the local backend: `<file>.journal`, state/journal.ts). Apply persists with it and
   * ends with {@link compact}. Calls must not overlap.
   */
  append?(doc: StateDocument): Promise<void>;
  /** Folds what this process appended into the document (a whole write); nothing when it appended nothing since its last write. */
  compact?(): Promise<void>;
  /**
   * Takes the lock or throws StateLockedError naming the holder. `waitMs` > 0 retries until then.
   * A lock that expired, or whose owner is a process on this host that no longer runs, is taken
   * over (and `notice` told). Returns a release function.
   */
  lock(req: LockRequest): Promise<() => Promise<void>>;
  /** Removes a lock by id regardless of owner (force-unlock). Throws if the id does not match. */
  forceUnlock(id: string): Promise<void>;
}

/** The state is locked by someone else. */
export class StateLockedError extends Error {
  readonly holder: LockInfo;
  constructor(holder: LockInfo, where: string) {
    const age = Math.max(0, Math.round((Date.now() - Date.parse(holder.created)) / 1000));
    super(
      `state ${where} is locked by ${holder.owner} since ${holder.created} (lock id ${holder.id}, expires ${holder.expires}), ` +
        `running \`${holder.operation}\` for ${Number.isFinite(age) ? `${age} s` : 'an unknown time'}; ` +
        `wait for it to finish (--lock-timeout SECONDS waits), or run \`fluxbase force-unlock ${holder.id}\` if that run is gone`,
    );
    this.name = 'StateLockedError';
    this.holder = holder;
  }
}

/** The state exists but cannot be read (not JSON, or not a state document). */
export class StateDamagedError extends Error {
  constructor(where: string, problem: string, backup?: string) {
    super(
      `the state ${where} is damaged: ${problem}. Nothing was changed.` +
        (backup
          ? ` An earlier version is kept in ${backup} (the state before the latest command that changed it): check it, copy it over the damaged file (\`cp ${backup} ${where}\`), then run \`fluxbase plan\`; resources recorded since show as "not managed" and can be adopted with \`fluxbase import\`.`
          : ' Restore it from a copy, or move it aside and adopt the live resources with `fluxbase import` (or `fluxbase export --adopt`).'),
    );
    this.name = 'StateDamagedError';
  }
}

/** The owner of a lock, as host and pid (parsed from `owner` for locks written without them). */
export function lockOwner(info: LockInfo): { host?: string; pid?: number } {
  if (info.host && info.pid) return { host: info.host, pid: info.pid };
  const m = /@(\S+) \(pid (\d+)\)/.exec(info.owner ?? '');
  return m ? { host: m[1], pid: Number(m[2]) } : {};
}

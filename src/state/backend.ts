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
}

/** A state backend. */
export interface StateBackend {
  /** Human description (`local file fluxbase.state.json`). */
  describe(): string;
  /** The current document, or undefined when none exists yet. Throws on unreadable/invalid state. */
  read(): Promise<StateDocument | undefined>;
  /** Replaces the document (atomically where the medium allows). */
  write(doc: StateDocument): Promise<void>;
  /**
   * Takes the lock or throws StateLockedError naming the holder. `waitMs` > 0 retries until then.
   * Returns a release function.
   */
  lock(req: { operation: string; waitMs: number; ttlMs: number }): Promise<() => Promise<void>>;
  /** Removes a lock by id regardless of owner (force-unlock). Throws if the id does not match. */
  forceUnlock(id: string): Promise<void>;
}

/** The state is locked by someone else. */
export class StateLockedError extends Error {
  readonly holder: LockInfo;
  constructor(holder: LockInfo, where: string) {
    super(
      `state ${where} is locked by ${holder.owner} since ${holder.created} (lock id ${holder.id}, expires ${holder.expires}); ` +
        `wait for it to finish, or run \`fluxbase force-unlock ${holder.id}\` if that run is gone`,
    );
    this.name = 'StateLockedError';
    this.holder = holder;
  }
}

/**
 * The state writer apply uses: writes never overlap, each write holds every change made to the
 * document before it started (so a caller that awaits `persist()` knows its change is durable),
 * and calls that arrive while a write is waiting share it instead of queueing one each — with
 * several changes in flight, a burst of completions costs one or two writes, not one per change.
 */
import type { StateDocument } from '../state/document.js';

/** The state could not be persisted (the cause is the backend's error). */
export class StateWriteError extends Error {
  constructor(cause: unknown) {
    super(`the state could not be written: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'StateWriteError';
  }
}

/**
 * Wraps a backend's write. The returned function persists the document as it is when the write
 * starts (serial + 1) and resolves once that write is done; it rejects with a
 * {@link StateWriteError} when that write failed. `write` must take its copy of the document
 * before it returns its promise (as `StateBackend.write` does): the document is not
 * copied here, and changes made after that are left to the next write.
 */
export function stateWriter(write: (s: StateDocument) => Promise<void>): (s: StateDocument) => Promise<void> {
  let tail: Promise<void> = Promise.resolve();
  let waiting: Promise<void> | undefined;
  return (s) => {
    if (waiting) return waiting;
    const next = tail.then(() => {
      waiting = undefined;
      s.serial += 1;
      return write(s).catch((e: unknown) => {
        throw new StateWriteError(e);
      });
    });
    waiting = next;
    tail = next.catch(() => undefined);
    return next;
  };
}

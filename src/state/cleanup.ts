/**
 * What a process leaves on disk while it works with the state — temporary files of atomic writes
 * and its lock file — and how none of it outlives the process:
 *
 * - while the process runs, every such path is registered here; an orderly end removes them as
 *   it goes (a finished write renames its temporary file, a release removes the lock);
 * - when the process is stopped at once (a second Ctrl-C), the CLI calls {@link hardExitCleanup}
 *   from its `exit` handler, which removes them synchronously;
 * - a process killed outright (SIGKILL) cannot clean up: the next command that takes the lock
 *   removes the temporary files of dead processes ({@link removeDeadTemps}) and takes over a lock
 *   whose owner on this host is dead (state/local.ts).
 */
import { rmSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

const temps = new Set<string>();
const exitHooks = new Set<() => void>();

/** Registers a temporary file being written; returns the function that unregisters it. */
export function trackTemp(file: string): () => void {
  temps.add(file);
  return () => {
    temps.delete(file);
  };
}

/**
 * Registers a synchronous clean-up for an immediate exit (e.g. removing a held lock file);
 * returns the function that unregisters it.
 */
export function onHardExit(fn: () => void): () => void {
  exitHooks.add(fn);
  return () => {
    exitHooks.delete(fn);
  };
}

/**
 * Removes every registered temporary file and runs every registered exit hook, synchronously.
 * Safe to call more than once. Only the CLI calls it (from `process.on('exit')`).
 */
export function hardExitCleanup(): void {
  for (const file of temps) rmSync(file, { force: true });
  temps.clear();
  for (const fn of exitHooks) {
    try {
      fn();
    } catch {
      // best effort: the process is exiting
    }
  }
  exitHooks.clear();
}

/** True when a process with this id exists (on this host). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `<base>.<pid>.tmp`, `<base>.backup.<pid>.tmp`, `<base>.lock.<pid>.<id>.tmp` → pid. */
const TEMP_PID = /\.(\d+)(?:\.[0-9a-f-]+)?\.tmp$/;

/**
 * Removes the temporary files that processes which no longer run left beside `file` (they were
 * killed between writing and renaming). Returns the removed names.
 */
export async function removeDeadTemps(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const base = `${path.basename(file)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(base)) continue;
    const pid = Number(TEMP_PID.exec(name)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    await rm(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

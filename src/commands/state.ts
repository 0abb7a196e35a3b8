/**
 * State commands: `fluxbase import ADDRESS…` adopts live resources the configuration declares
 * into the state (after which they are managed: diffed, changed and, when removed from the
 * config, deleted); `fluxbase state list|show|rm|mv` read and edit the state (rm stops managing
 * without deleting, mv changes an address); `fluxbase force-unlock ID` removes a stuck lock.
 * Only `import` contacts the server (and the others only when the state lives in the instance).
 */
import { existsSync } from 'node:fs';
import { error, hasErrors, type Diagnostic } from '../diag/index.js';
import { buildDesired } from '../engine/graph.js';
import { refresh } from '../engine/refresh.js';
import { adoptionProblems, recordAdopted } from '../engine/adopt.js';
import { moveEntry } from '../engine/lifecycle.js';
import type { ValidConfig } from '../engine/validate.js';
import { parseAddress } from '../model/address.js';
import { clearPending, emptyState, removeEntry, UNKNOWN_WRITE_ONLY, type StateDocument } from '../state/document.js';
import type { StateBackend } from '../state/backend.js';
import { loadEither, lockState, prepare, readState, stateBackendFor, type ConfigOptions } from './common.js';
import { connect } from './connect.js';
import type { FluxbaseClient } from '../client/http.js';
import { printDiagnostics, type CommandIO } from './io.js';
import { logSettings } from './log.js';

/** Runs `fluxbase import`; 0 when every address was adopted. */
export async function importCommand(io: CommandIO, options: ConfigOptions & { addresses: string[]; lockTimeoutMs?: number }): Promise<number> {
  const prepared = await prepare(io, options);
  if (!prepared) return 1;
  let release: (() => Promise<void>) | undefined;
  try {
    release = await lockState(io, prepared.backend, { operation: 'fluxbase import', waitMs: options.lockTimeoutMs, ttlMs: 10 * 60_000 });
    if (!release) return 1;
    const read = await readState(io, prepared.backend);
    if (read === false) return 1;
    const state = read ?? emptyState();
    const desired = buildDesired(prepared.valid);
    const live = await refresh({ client: prepared.client, desired, state });
    const problems: Diagnostic[] = [...live.diagnostics, ...adoptionProblems({ addresses: options.addresses, desired, live, state })];
    printDiagnostics(io, problems);
    if (hasErrors(problems)) return 1;
    recordAdopted({ addresses: options.addresses, desired, live, state });
    state.serial += 1;
    await prepared.backend.write(state);
    for (const address of options.addresses) io.out(`${address}: Import successful.`);
    io.out('\nThe imported resources are now managed by this configuration. Run `fluxbase plan` to see how they differ from it.');
    return 0;
  } finally {
    await release?.();
    await prepared.client.close();
  }
}

/** Runs `fluxbase force-unlock ID` (connects only when the state lives in the instance). */
export async function forceUnlockCommand(io: CommandIO, options: ConfigOptions & { id: string }): Promise<number> {
  const opened = await openBackend(io, options);
  if (!opened) return 1;
  try {
    await opened.backend.forceUnlock(options.id);
  } catch (e) {
    printDiagnostics(io, [error('state.locked', (e as Error).message)]);
    return 1;
  } finally {
    await opened.client?.close();
  }
  io.out(`Lock ${options.id} on ${opened.backend.describe()} removed. Make sure no other run is still applying.`);
  return 0;
}

/** Options of the `fluxbase state …` commands. */
export interface StateCommandOptions extends ConfigOptions {
  lockTimeoutMs?: number;
}

/**
 * The state backend a command names (`--state FILE`, or the config's `state:` block), with the
 * loaded configuration when there is one. Connects only for the instance backend. Undefined after
 * reporting a problem.
 */
async function openBackend(
  io: CommandIO,
  options: ConfigOptions,
): Promise<{ backend: StateBackend; valid?: ValidConfig; client?: FluxbaseClient } | undefined> {
  if (options.state) return { backend: stateBackendFor(options) };
  if (!existsSync(options.config) && !options.app) return { backend: stateBackendFor(options) };
  const loaded = await loadEither(io, options);
  if (!loaded) return undefined;
  if (!loaded.valid) {
    printDiagnostics(io, loaded.diagnostics);
    return undefined;
  }
  let client: FluxbaseClient | undefined;
  if (loaded.valid.config.state?.backend === 'instance') {
    const connected = connect(options, io.env, logSettings(io));
    printDiagnostics(io, connected.diagnostics);
    if (!connected.client) return undefined;
    client = connected.client;
  }
  return { backend: stateBackendFor(options, loaded.valid.config, client, loaded.valid.projectDir), valid: loaded.valid, client };
}

/** Runs `fluxbase state list [ADDRESS…]`: the managed addresses (those under the given ones), one a line. */
export async function stateListCommand(io: CommandIO, options: ConfigOptions & { addresses: string[] }): Promise<number> {
  const opened = await openBackend(io, options);
  if (!opened) return 1;
  try {
    const state = await readState(io, opened.backend);
    if (state === false) return 1;
    const pending = new Map((state?.pending ?? []).map((p) => [p.address, p]));
    const addresses = [...new Set([...Object.keys(state?.resources ?? {}), ...pending.keys()])].sort();
    const shown = options.addresses.length === 0 ? addresses : addresses.filter((a) => options.addresses.some((p) => a === p || a.startsWith(`${p}.`) || a.startsWith(`${p}[`)));
    for (const address of shown) {
      const op = pending.get(address);
      io.out(op ? `${address}  (pending ${op.action} from an interrupted apply)` : address);
    }
    return 0;
  } finally {
    await opened.client?.close();
  }
}

/** Runs `fluxbase state show ADDRESS`: what the state records for one resource (never a secret). */
export async function stateShowCommand(io: CommandIO, options: ConfigOptions & { address: string }): Promise<number> {
  const opened = await openBackend(io, options);
  if (!opened) return 1;
  try {
    const state = await readState(io, opened.backend);
    if (state === false) return 1;
    const entry = state?.resources[options.address];
    const op = state?.pending?.find((p) => p.address === options.address);
    if (!entry && !op) {
      printDiagnostics(io, [error('state.read', `${options.address} is not in the state`, { detail: 'Run `fluxbase state list` to see the managed addresses.' })]);
      return 1;
    }
    io.out(`# ${options.address}`);
    if (entry) {
      io.out(`kind            = ${entry.kind}`);
      if (entry.id) io.out(`id              = ${JSON.stringify(entry.id)}`);
      io.out(`prevent_destroy = ${entry.preventDestroy === true}`);
      for (const [attr, fp] of Object.entries(entry.writeOnly ?? {}).sort()) {
        const what = fp === null ? 'declared without a value' : fp === UNKNOWN_WRITE_ONLY ? 'adopted; the live value is unknown' : 'sent; its keyed fingerprint is recorded';
        io.out(`${`${attr}`.padEnd(15)} = (sensitive value: ${what})`);
      }
      for (const [path, o] of Object.entries(entry.observed ?? {}).sort()) {
        io.out(`observed ${path}: ${JSON.stringify(o.desired)} is rendered by PostgreSQL as ${JSON.stringify(o.live)}`);
      }
    }
    if (op) io.out(`pending         = ${op.action} started ${op.started}${op.steps ? ` (${op.steps.done} of ${op.steps.of} steps done)` : ''}; the next plan resolves it`);
    return 0;
  } finally {
    await opened.client?.close();
  }
}

/**
 * Runs `fluxbase state rm ADDRESS…`: stops managing resources without deleting them (the live
 * objects are left in place and listed as not managed from then on). Under the lock.
 */
export async function stateRmCommand(io: CommandIO, options: StateCommandOptions & { addresses: string[] }): Promise<number> {
  return editState(io, options, 'fluxbase state rm', (state) => {
    const missing = options.addresses.filter((a) => !state.resources[a] && !state.pending?.some((p) => p.address === a));
    if (missing.length > 0) return missing.map((a) => error('state.read', `${a} is not in the state`, { detail: 'Run `fluxbase state list` to see the managed addresses. Nothing was removed.' }));
    for (const address of options.addresses) {
      removeEntry(state, address);
      clearPending(state, address);
    }
    return options.addresses.map((a) => `Removed ${a} from the state. The live object is left in place (listed as not managed from now on).`);
  });
}

/**
 * Runs `fluxbase state mv FROM TO`: gives a managed resource another address without touching the
 * live object (what a `moved:` entry does at the next apply). Under the lock.
 */
export async function stateMvCommand(io: CommandIO, options: StateCommandOptions & { from: string; to: string }): Promise<number> {
  return editState(io, options, 'fluxbase state mv', (state, valid) => {
    if (!parseAddress(options.to)) return [error('cli.usage', `${options.to} is not a resource address`, { detail: 'Addresses look like webhook.acme.signups.' })];
    if (!state.resources[options.from]) return [error('state.read', `${options.from} is not in the state`, { detail: 'Nothing was moved.' })];
    if (state.resources[options.to]) return [error('state.read', `${options.to} is already in the state`, { detail: 'Nothing was moved. Remove it first (`fluxbase state rm`) if it is a leftover.' })];
    const toKind = parseAddress(options.to)!.kind;
    if (toKind !== state.resources[options.from]!.kind) return [error('cli.usage', `cannot move a ${state.resources[options.from]!.kind} to a ${toKind} address`)];
    const declared = valid ? (buildDesired(valid).get(options.to)?.writeOnly ?? {}) : {};
    moveEntry(state, options.from, options.to, declared);
    return [`Moved ${options.from} to ${options.to}.`];
  });
}

/** Reads the state under the lock, lets `edit` change it (or return errors), writes it back (with a backup). */
async function editState(
  io: CommandIO,
  options: StateCommandOptions,
  operation: string,
  edit: (state: StateDocument, valid: ValidConfig | undefined) => string[] | Diagnostic[],
): Promise<number> {
  const opened = await openBackend(io, options);
  if (!opened) return 1;
  let release: (() => Promise<void>) | undefined;
  try {
    release = await lockState(io, opened.backend, { operation, waitMs: options.lockTimeoutMs, ttlMs: 10 * 60_000 });
    if (!release) return 1;
    const state = await readState(io, opened.backend);
    if (state === false) return 1;
    if (!state) {
      printDiagnostics(io, [error('state.read', `there is no state yet (${opened.backend.describe()})`)]);
      return 1;
    }
    const result = edit(state, opened.valid);
    if (result.some((r) => typeof r !== 'string')) {
      printDiagnostics(io, result as Diagnostic[]);
      return 1;
    }
    state.serial += 1;
    await opened.backend.write(state);
    for (const line of result as string[]) io.out(line);
    return 0;
  } finally {
    await release?.();
    await opened.client?.close();
  }
}

/**
 * State commands: `fluxbase import ADDRESS…` adopts live resources the configuration declares
 * into the state (after which they are managed: diffed, changed and, when removed from the
 * config, deleted); `fluxbase force-unlock ID` removes a stuck lock.
 */
import { error, hasErrors, type Diagnostic } from '../diag/index.js';
import { buildDesired } from '../engine/graph.js';
import { refresh } from '../engine/refresh.js';
import { adoptionProblems, recordAdopted } from '../engine/adopt.js';
import { emptyState } from '../state/document.js';
import { StateLockedError } from '../state/backend.js';
import { prepare, stateBackendFor, type ConfigOptions } from './common.js';
import { connect } from './connect.js';
import { loadConfig } from '../engine/session.js';
import type { FluxbaseClient } from '../client/http.js';
import { printDiagnostics, type CommandIO } from './io.js';

/** Runs `fluxbase import`; 0 when every address was adopted. */
export async function importCommand(io: CommandIO, options: ConfigOptions & { addresses: string[]; lockTimeoutMs?: number }): Promise<number> {
  const prepared = await prepare(io, options);
  if (!prepared) return 1;
  let release: (() => Promise<void>) | undefined;
  try {
    try {
      release = await prepared.backend.lock({ operation: 'fluxbase import', waitMs: options.lockTimeoutMs ?? 0, ttlMs: 10 * 60_000 });
    } catch (e) {
      if (e instanceof StateLockedError) {
        printDiagnostics(io, [error('state.locked', e.message)]);
        return 1;
      }
      throw e;
    }
    const state = (await prepared.backend.read()) ?? emptyState();
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
  let backend = stateBackendFor(options);
  let client: FluxbaseClient | undefined;
  if (!options.state) {
    const { valid, diagnostics } = await loadConfig(options.config, { env: io.env });
    if (!valid) {
      printDiagnostics(io, diagnostics);
      return 1;
    }
    if (valid.config.state?.backend === 'instance') {
      const connected = connect(options, io.env);
      printDiagnostics(io, connected.diagnostics);
      if (!connected.client) return 1;
      client = connected.client;
    }
    backend = stateBackendFor(options, valid.config, client, valid.projectDir);
  }
  try {
    await backend.forceUnlock(options.id);
  } catch (e) {
    printDiagnostics(io, [error('state.locked', (e as Error).message)]);
    return 1;
  } finally {
    await client?.close();
  }
  io.out(`Lock ${options.id} on ${backend.describe()} removed. Make sure no other run is still applying.`);
  return 0;
}

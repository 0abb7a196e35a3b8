/**
 * What plan and apply share: load and validate the config, connect, open the state backend,
 * refresh and plan.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FluxbaseClient } from '../client/http.js';
import { error, hasErrors, warning, type Diagnostic } from '../diag/index.js';
import { loadConfigFile } from '../engine/load.js';
import { loadConfig, planConfig, validateLoaded, type PlanOptions, type PlanResult, type Reconciled } from '../engine/session.js';
import { StateDamagedError, StateLockedError } from '../state/backend.js';
import type { StateDocument } from '../state/document.js';
import type { ValidConfig } from '../engine/validate.js';
import type { StateBackend } from '../state/backend.js';
import { LocalStateBackend } from '../state/local.js';
import { InstanceStateBackend } from '../state/instance.js';
import type { FluxbaseConfig } from '../model/config.generated.js';
import type { ConnectOptions } from './connect.js';
import { appPointer, synthesiseApp } from './app.js';
import { printDiagnostics, type CommandIO } from './io.js';
import { logSettings } from './log.js';
import { buildDesired } from '../engine/graph.js';

/** Options common to commands that read a config and a state. */
export interface ConfigOptions extends ConnectOptions {
  config: string;
  state?: string;
  /** A construct app command (`npx tsx infra/fluxbase.ts`) to synthesise the config from. */
  app?: string;
}

/**
 * The state backend: `--state FILE` (a local file), else the config's `state:` block (`local`
 * with an optional path relative to the config, or `instance` — a custom setting in the
 * instance, which needs a client), else fluxbase.state.json beside the config. For a construct
 * app's document, "beside the config" is the app's working directory (`projectDir`), so `--app`
 * and `-c cdk.out/fluxbase.json` share one state.
 */
export function stateBackendFor(options: ConfigOptions, config?: FluxbaseConfig, client?: FluxbaseClient, projectDir?: string): StateBackend {
  const dir = projectDir ?? path.dirname(path.resolve(options.config));
  if (options.state) return new LocalStateBackend(options.state);
  if (config?.state?.backend === 'instance' && client) return new InstanceStateBackend(client, config.state.key);
  return new LocalStateBackend(path.resolve(dir, config?.state?.path ?? 'fluxbase.state.json'));
}

/** A loaded config, a client and a state backend, or the diagnostics that prevented them. */
export interface Prepared {
  valid: ValidConfig;
  client: FluxbaseClient;
  backend: StateBackend;
}

/**
 * Loads the config (reporting every problem before any API call) and connects.
 * Returns undefined after printing diagnostics when something is wrong.
 */
export async function prepare(io: CommandIO, options: ConfigOptions): Promise<Prepared | undefined> {
  const loaded = await loadEither(io, options);
  if (!loaded) return undefined;
  const { valid, diagnostics } = loaded;
  if (!valid) {
    printDiagnostics(io, diagnostics);
    return undefined;
  }
  // Imported here: the HTTP client (undici) is the largest module a command loads, and `validate` needs none.
  const { connect } = await import('./connect.js');
  const log = logSettings(io);
  const { client, diagnostics: connectDiagnostics } = connect(options, io.env, log);
  printDiagnostics(io, [...diagnostics, ...connectDiagnostics]);
  if (!client) return undefined;
  // Logged bodies mask every value the configuration declares as write-only.
  if (log) for (const r of buildDesired(valid).values()) client.addSecrets(Object.values(r.writeOnly));
  return { valid, client, backend: stateBackendFor(options, valid.config, client, valid.projectDir) };
}

/**
 * Loads the config: from a construct app when `--app` is given or the config file holds only
 * `app: <command>`, else the file itself. Undefined when the app failed (already reported).
 */
export async function loadEither(io: CommandIO, options: ConfigOptions): Promise<Awaited<ReturnType<typeof loadConfig>> | undefined> {
  let command = options.app;
  if (!command) {
    // The file is read once; only a document shaped like a pointer is read again for the command as written.
    const loaded = await loadConfigFile(options.config, { env: io.env });
    command = mayBeAppPointer(loaded.data) ? await appPointer(options.config) : undefined;
    if (!command) return validateLoaded(loaded);
  }
  const cwd = options.app ? process.cwd() : path.dirname(path.resolve(options.config));
  const synth = await synthesiseApp(io, command, cwd);
  if (!synth) return undefined;
  try {
    return await loadConfig(synth.file, { env: io.env });
  } finally {
    await synth.dispose();
  }
}

/** `app: <string>` and no `version` (env substitution keeps strings strings, so this is what {@link appPointer} checks). */
function mayBeAppPointer(data: unknown): boolean {
  return !!data && typeof data === 'object' && !Array.isArray(data) && typeof (data as { app?: unknown }).app === 'string' && !('version' in data);
}

/**
 * Loads the config for commands whose write-only values never leave this machine (`demo`,
 * `access`, `test`: a throwaway emulator at most): every `${env:NAME}` that is unset without a
 * default gets a random placeholder, so secrets need not be present. `filled` names them.
 */
export async function loadWithPlaceholders(
  io: CommandIO,
  options: ConfigOptions,
): Promise<{ loaded: Awaited<ReturnType<typeof loadConfig>>; env: Record<string, string | undefined>; filled: string[] } | undefined> {
  const env = { ...io.env };
  const filled: string[] = [];
  let loaded = await loadEither({ ...io, env }, options);
  if (!loaded) return undefined;
  const unset = loaded.diagnostics.filter((d) => d.code === 'config.env-unset');
  if (unset.length === 0) return { loaded, env, filled };
  for (const d of unset) {
    const name = /environment variable (\S+)/.exec(d.summary)?.[1];
    if (name && !(name in env)) {
      env[name] = `placeholder-${randomBytes(12).toString('hex')}`;
      filled.push(name);
    }
  }
  loaded = await loadEither({ ...io, env }, options);
  return loaded ? { loaded, env, filled } : undefined;
}

/**
 * Reads the state document; prints a diagnostic and returns `false` when it cannot be read (a
 * damaged file gets a recovery message, not a parse error). Undefined: there is none yet.
 */
export async function readState(io: CommandIO, backend: StateBackend): Promise<StateDocument | undefined | false> {
  try {
    return await backend.read();
  } catch (e) {
    if (e instanceof StateDamagedError) printDiagnostics(io, [error('state.damaged', e.message)]);
    else printDiagnostics(io, [error('state.read', `cannot read state: ${(e as Error).message}`, { detail: `Backend: ${backend.describe()}.` })]);
    return false;
  }
}

/** Reads the state and plans; prints diagnostics. Undefined when the plan could not be made. */
export async function makePlan(io: CommandIO, prepared: Prepared, extra: PlanOptions = {}): Promise<PlanResult | undefined> {
  const state = await readState(io, prepared.backend);
  if (state === false) return undefined;
  const imports = new Set([...(prepared.valid.config.import ?? []), ...(extra.imports ?? [])]);
  const result = await planConfig({ client: prepared.client, valid: prepared.valid, state, ...extra, imports });
  return result;
}

/**
 * Takes the state lock for a command; a lock whose owner is gone is taken over with a warning.
 * Returns the release function, or undefined after reporting who holds it.
 */
export async function lockState(
  io: CommandIO,
  backend: StateBackend,
  req: { operation: string; waitMs?: number; ttlMs: number },
): Promise<(() => Promise<void>) | undefined> {
  try {
    return await backend.lock({
      operation: req.operation,
      waitMs: req.waitMs ?? 0,
      ttlMs: req.ttlMs,
      notice: (message) => printDiagnostics(io, [warning('state.locked', message)]),
      signal: io.interrupt,
    });
  } catch (e) {
    if (!(e instanceof StateLockedError)) throw e;
    printDiagnostics(io, [error('state.locked', e.message)]);
    return undefined;
  }
}

/** The lines that say what reconciling the state found (pending operations resolved, moves). */
export function reconciledLines(reconciled: Reconciled): string[] {
  const notes = reconciled.resolution.notes.map((n) => `  ${n.address ? `${n.address}: ` : ''}${n.message}`);
  const moves = [...reconciled.moved].map(([to, from]) => `  ${to}: moved from ${from} (moved:)`);
  if (notes.length + moves.length === 0) return [];
  return [
    ...(notes.length > 0 ? ['Resolved the operations an interrupted apply left in the state:', ...notes] : []),
    ...(moves.length > 0 ? ['Addresses changed by `moved:`:', ...moves] : []),
    '',
  ];
}

/** True when diagnostics contain errors (after printing them). */
export function reportErrors(io: CommandIO, diagnostics: readonly Diagnostic[]): boolean {
  printDiagnostics(io, diagnostics);
  return hasErrors(diagnostics);
}

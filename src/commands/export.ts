/**
 * `fluxbase export [--tenant SLUG…] [--kinds K,…] [-o FILE] [--adopt] [--include-internal]`:
 * writes the configuration that declares what is live (src/export). With `--adopt` the exported
 * resources are also recorded as managed in the state beside the output (or `--state FILE`), with
 * their write-only values recorded as unknown, so the first plan is clean and later removals plan
 * deletions. Exit codes: 0 written, 1 error (nothing written).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { error, hasErrors } from '../diag/index.js';
import { adoptionProblems, recordAdopted } from '../engine/adopt.js';
import { exportInstance, type ExportResult } from '../export/export.js';
import { RESOURCE_KINDS, type ResourceKind } from '../model/resource.js';
import { StateLockedError } from '../state/backend.js';
import { emptyState, type StateDocument } from '../state/document.js';
import { stateBackendFor } from './common.js';
import { connect, type ConnectOptions } from './connect.js';
import { printDiagnostics, type CommandIO } from './io.js';

/** Options of `fluxbase export`. */
export interface ExportOptions extends ConnectOptions {
  /** Output file; `-` for standard output (default fluxbase.config.yaml). */
  out?: string;
  tenant?: string[];
  /** Comma-separated resource kinds. */
  kinds?: string;
  adopt?: boolean;
  includeInternal?: boolean;
  /** Overwrite an existing output file. */
  force?: boolean;
  state?: string;
  lockTimeoutMs?: number;
}

/** The JSON Schema of the configuration, shipped with the tool. */
const SCHEMA_FILE = fileURLToPath(new URL('../../schemas/fluxbase.config.schema.json', import.meta.url));

/** `$schema` reference from the directory of the output file. */
function schemaRef(dir: string): string {
  const rel = path.relative(dir, SCHEMA_FILE).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** Runs `fluxbase export`; returns the exit code. */
export async function exportCommand(io: CommandIO, options: ExportOptions): Promise<number> {
  const kinds = (options.kinds ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = kinds.filter((k) => !(RESOURCE_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    printDiagnostics(io, [error('cli.usage', `unknown resource kind(s): ${unknown.join(', ')}`, { detail: `Kinds: ${RESOURCE_KINDS.join(', ')}.` })]);
    return 1;
  }
  const out = options.out ?? 'fluxbase.config.yaml';
  const toStdout = out === '-';
  const file = path.resolve(toStdout ? 'fluxbase.config.yaml' : out);
  if (!toStdout && existsSync(file) && !options.force) {
    printDiagnostics(io, [error('export.output', `${out} already exists`, { detail: 'Choose another file with -o FILE, or pass --force to overwrite it.' })]);
    return 1;
  }
  const { client, diagnostics: connectDiagnostics } = connect(options, io.env);
  printDiagnostics(io, connectDiagnostics);
  if (!client) return 1;
  const say = toStdout ? io.err : io.out;
  let release: (() => Promise<void>) | undefined;
  try {
    const result = await exportInstance({
      client,
      tenants: options.tenant,
      kinds: kinds.length > 0 ? (kinds as ResourceKind[]) : undefined,
      includeInternal: options.includeInternal,
      schemaRef: schemaRef(path.dirname(file)),
    });
    printDiagnostics(io, result.diagnostics);
    if (!result.yaml || hasErrors(result.diagnostics)) return 1;
    const backend = stateBackendFor({ config: file, state: options.state });
    let adopt: { state: StateDocument; addresses: string[] } | undefined;
    if (options.adopt) {
      try {
        release = await backend.lock({ operation: 'fluxbase export --adopt', waitMs: options.lockTimeoutMs ?? 0, ttlMs: 10 * 60_000 });
      } catch (e) {
        if (!(e instanceof StateLockedError)) throw e;
        printDiagnostics(io, [error('state.locked', e.message)]);
        return 1;
      }
      const state = (await backend.read()) ?? emptyState();
      const addresses = adoptable(result).filter((a) => !state.resources[a]);
      const problems = adoptionProblems({ addresses, desired: result.desired, live: result.live, state });
      printDiagnostics(io, problems);
      if (hasErrors(problems)) return 1;
      adopt = { state, addresses };
    }
    if (toStdout) io.out(result.yaml.trimEnd());
    else await writeFile(file, result.yaml, { mode: 0o644 });
    const declared = [...result.desired.keys()].filter((a) => result.live.resources.has(a)).length;
    say(`Exported ${declared} resource(s) to ${toStdout ? 'standard output' : out}.`);
    if (result.variables.length > 0) {
      say(`\nWrite-only values cannot be read back; the configuration references ${result.variables.length} environment variable(s):`);
      for (const v of result.variables) say(`  ${v.name}  (${v.address} ${v.attribute})`);
    }
    if (adopt) {
      const { state, addresses } = adopt;
      recordAdopted({ addresses, desired: result.desired, live: result.live, state, writeOnly: 'unknown' });
      state.serial += 1;
      await backend.write(state);
      const unknownCount = addresses.reduce((n, a) => n + Object.keys(state.resources[a]?.writeOnly ?? {}).length, 0);
      say(`\nAdopted ${addresses.length} resource(s) into ${backend.describe()}; they are managed by this configuration from now on.`);
      if (unknownCount > 0) {
        say(`${unknownCount} write-only value(s) are recorded as unknown: plan leaves the live values alone until the resource changes for another reason (docs/state.md).`);
      }
      say('Run `fluxbase plan` to check: it shows no changes.');
    }
    return 0;
  } finally {
    await release?.();
    await client.close();
  }
}

/**
 * What `--adopt` records: every exported resource of the exported kinds that exists live, except
 * built-in objects (adopted without import anyway) and external tables (only referenced).
 */
function adoptable(result: ExportResult): string[] {
  return [...result.desired.values()]
    .filter((d) => {
      const l = result.live.resources.get(d.address);
      return l && result.kinds.has(d.kind) && !d.builtin && !l.builtin && !d.external;
    })
    .map((d) => d.address)
    .sort();
}

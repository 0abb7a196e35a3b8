/** `fluxbase validate`: check a config without contacting any server. */
import { loadConfig } from '../engine/session.js';
import { hasErrors } from '../diag/index.js';
import { printDiagnostics, type CommandIO } from './io.js';

/** Runs `fluxbase validate`; 0 when valid, 1 otherwise. Makes no API call. */
export async function validateCommand(io: CommandIO, options: { config: string }): Promise<number> {
  const { diagnostics } = await loadConfig(options.config, { env: io.env });
  printDiagnostics(io, diagnostics);
  if (hasErrors(diagnostics)) return 1;
  io.out(`${options.config} is valid.`);
  return 0;
}

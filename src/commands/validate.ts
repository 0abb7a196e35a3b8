/** `fluxbase validate`: check a config without contacting any server. */
import { hasErrors } from '../diag/index.js';
import { securityLints } from '../access/lints.js';
import { loadEither } from './common.js';
import { printDiagnostics, type CommandIO } from './io.js';

/** Runs `fluxbase validate`; 0 when valid, 1 otherwise. Makes no API call. */
export async function validateCommand(io: CommandIO, options: { config: string; app?: string }): Promise<number> {
  const loaded = await loadEither(io, options);
  if (!loaded) return 1;
  const diagnostics = [...loaded.diagnostics, ...(loaded.valid ? securityLints(loaded.valid) : [])];
  printDiagnostics(io, diagnostics);
  if (hasErrors(diagnostics)) return 1;
  io.out(`${options.app ? 'The construct app' : options.config} is valid.`);
  return 0;
}

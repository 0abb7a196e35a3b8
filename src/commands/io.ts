/**
 * Where commands write. Commands never touch process.stdout/exit directly (only cli.ts does), so
 * tests and library callers can capture output.
 */
import { formatDiagnostic, sortDiagnostics, type Diagnostic } from '../diag/index.js';
import { styler } from '../engine/render.js';

/** Output streams and terminal facts. */
export interface CommandIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stdout is a terminal (colour, prompts, revealing secrets). */
  isTTY: boolean;
  /** Colour allowed (TTY and no NO_COLOR). */
  color: boolean;
  /** Asks a question on the terminal; undefined when not interactive. */
  prompt?: (question: string) => Promise<string>;
  env: Record<string, string | undefined>;
  /**
   * Aborted on the first SIGINT/SIGTERM. A command that changes things (apply, destroy) stops
   * starting changes, finishes those in flight, saves the state and releases the lock; the CLI
   * stops at once on a second signal. Commands that only read are stopped at once by the CLI.
   */
  interrupt?: AbortSignal;
}

/** Writes diagnostics to stderr, sorted, coloured by severity. */
export function printDiagnostics(io: CommandIO, diagnostics: readonly Diagnostic[]): void {
  const c = styler(io.color);
  for (const d of sortDiagnostics(diagnostics)) {
    const text = formatDiagnostic(d);
    io.err(d.severity === 'error' ? text.replace(/^(.*?)(error)(\[)/, (_, a: string, b: string, cc: string) => `${a}${c.red(b)}${cc}`) : text);
  }
}

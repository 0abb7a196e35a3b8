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

/**
 * Whether output may be coloured: never with `--no-color`; with `FORCE_COLOR` set (to anything but
 * `0` or `false`) always, even without a terminal (CI logs); never with a non-empty `NO_COLOR`
 * (no-color.org: an empty value does not count); otherwise on a terminal whose TERM is not `dumb`.
 */
export function colorEnabled(req: { isTTY: boolean; env: Record<string, string | undefined>; noColorFlag: boolean }): boolean {
  if (req.noColorFlag) return false;
  const force = req.env.FORCE_COLOR;
  if (force !== undefined && force !== '') return !['0', 'false'].includes(force.toLowerCase());
  if (req.env.NO_COLOR !== undefined && req.env.NO_COLOR !== '') return false;
  return req.isTTY && req.env.TERM !== 'dumb';
}

/** Writes diagnostics to stderr, sorted, coloured by severity. */
export function printDiagnostics(io: CommandIO, diagnostics: readonly Diagnostic[]): void {
  const c = styler(io.color);
  for (const d of sortDiagnostics(diagnostics)) {
    const text = formatDiagnostic(d);
    io.err(d.severity === 'error' ? text.replace(/^(.*?)(error)(\[)/, (_, a: string, b: string, cc: string) => `${a}${c.red(b)}${cc}`) : text);
  }
}

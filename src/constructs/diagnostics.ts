/** Diagnostics of a construct tree, and the error `app.synth()` throws when there are errors. */
import { DiagnosticsError, formatDiagnostic, type Diagnostic } from '../diag/index.js';

const SYNTH_ERROR = Symbol.for('fluxbase-iac.constructs.SynthError');

/**
 * A diagnostic located in the construct tree. `path` (from Diagnostic) is the value's path in the
 * synthesised config document, `location` is where the user's code created the construct (when
 * the stack shows it).
 */
export interface ConstructDiagnostic extends Diagnostic {
  /** Path of the construct that declared the value, e.g. `tenants/acme/schemas/app/tables/posts`. */
  constructPath: string;
  /** Path of the offending value inside that construct's props (`['columns', 'id', 'type']`); empty for the construct itself. */
  propPath: (string | number)[];
}

/** One line (plus an indented detail) per diagnostic, compiler style, naming the construct path. */
export function formatConstructDiagnostic(d: ConstructDiagnostic): string {
  const subject = d.propPath.length > 0 ? `${d.constructPath} (${d.propPath.join('.')})` : d.constructPath;
  return formatDiagnostic({ ...d, address: subject });
}

/**
 * Thrown by `app.synth()` when the tree has errors; nothing was written. `diagnostics` holds every
 * diagnostic found (errors and warnings) in tree order; the message lists them all.
 */
export class SynthError extends DiagnosticsError {
  /** True for a SynthError from any copy of this library (by symbol). */
  static isSynthError(x: unknown): x is SynthError {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[SYNTH_ERROR] === true;
  }

  declare readonly diagnostics: ConstructDiagnostic[];

  constructor(diagnostics: ConstructDiagnostic[]) {
    super(diagnostics);
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    this.name = 'SynthError';
    // Not enumerable: an uncaught SynthError prints its message (every diagnostic) without a dump.
    Object.defineProperty(this, 'diagnostics', { value: diagnostics, enumerable: false, writable: false });
    this.message = `synth found ${errors} error${errors === 1 ? '' : 's'}; nothing was written:\n${diagnostics
      .map(formatConstructDiagnostic)
      .join('\n')}`;
  }
}
Object.defineProperty(SynthError.prototype, SYNTH_ERROR, { value: true, enumerable: false, writable: false });

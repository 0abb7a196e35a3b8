/**
 * Diagnostics: what the provider tells Terraform besides values (the
 * protocol's `Diagnostic` message). Paths are plain arrays of attribute
 * names / map keys (strings) and list indexes (numbers); the server turns
 * them into `AttributePath` steps using the schema (see `toProtoPath`).
 */
import type { CtyType } from './cty/types.js';
import { CtyValueError, type ValuePath } from './cty/values.js';

export type Severity = 'error' | 'warning';

/** One diagnostic. `path` points at the attribute Terraform should underline. */
export interface Diagnostic {
  severity: Severity;
  summary: string;
  detail?: string;
  path?: ValuePath;
}

/** Throw from any callback to fail the operation with a precise diagnostic. */
export class DiagnosticError extends Error {
  readonly detail: string | undefined;
  readonly path: ValuePath | undefined;
  constructor(summary: string, opts: { detail?: string; path?: ValuePath } = {}) {
    super(summary);
    this.name = 'DiagnosticError';
    this.detail = opts.detail;
    this.path = opts.path;
  }
}

/** Collector handed to callbacks as `ctx.diagnostics`. */
export class Diagnostics {
  readonly items: Diagnostic[] = [];

  /** Adds an error; the operation fails after the callback returns. */
  error(summary: string, detail?: string, path?: ValuePath): void {
    this.items.push(clean({ severity: 'error', summary, detail, path }));
  }

  /** Adds a warning; Terraform shows it and carries on. */
  warning(summary: string, detail?: string, path?: ValuePath): void {
    this.items.push(clean({ severity: 'warning', summary, detail, path }));
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }

  /** Records a thrown value as an error diagnostic (DiagnosticError and CtyValueError keep their paths). */
  addThrown(e: unknown, summaryPrefix?: string): void {
    const prefix = summaryPrefix ? `${summaryPrefix}: ` : '';
    if (e instanceof DiagnosticError) this.error(prefix + e.message, e.detail, e.path);
    else if (e instanceof CtyValueError) this.error(prefix + e.reason, undefined, e.path);
    else if (e instanceof Error) this.error(prefix + e.message, undefined);
    else this.error(prefix + String(e));
  }
}

function clean(d: { severity: Severity; summary: string; detail: string | undefined; path: ValuePath | undefined }): Diagnostic {
  const out: Diagnostic = { severity: d.severity, summary: d.summary };
  if (d.detail) out.detail = d.detail;
  if (d.path && d.path.length) out.path = d.path;
  return out;
}

/** Wire shape of `tfplugin6.AttributePath` as protobufjs fromObject expects it. */
export interface ProtoAttributePath {
  steps: ({ attribute_name: string } | { element_key_string: string } | { element_key_int: number })[];
}

/**
 * Turns a plain path into protocol steps, choosing attribute_name /
 * element_key_string / element_key_int by walking `type` (an object's
 * member is an attribute, a map's is a key, a list/set/tuple's an index).
 * Steps past the end of the type fall back to attribute_name / index.
 */
export function toProtoPath(path: ValuePath, type: CtyType | undefined): ProtoAttributePath {
  const steps: ProtoAttributePath['steps'] = [];
  let cur: CtyType | undefined = type;
  for (const step of path) {
    if (typeof step === 'number') {
      steps.push({ element_key_int: step });
      cur = cur && typeof cur !== 'string' ? (cur[0] === 'tuple' ? cur[1][step] : cur[0] === 'object' ? undefined : cur[1]) : undefined;
    } else if (cur && typeof cur !== 'string' && cur[0] === 'map') {
      steps.push({ element_key_string: step });
      cur = cur[1];
    } else {
      steps.push({ attribute_name: step });
      cur = cur && typeof cur !== 'string' && cur[0] === 'object' ? cur[1][step] : undefined;
    }
  }
  return { steps };
}

/** Wire shape of `tfplugin6.Diagnostic`. */
export interface ProtoDiagnostic {
  severity: 'ERROR' | 'WARNING';
  summary: string;
  detail: string;
  attribute?: ProtoAttributePath;
}

/** Converts diagnostics for a response; `type` is the implied type of the value the paths point into. */
export function toProtoDiagnostics(diags: readonly Diagnostic[], type?: CtyType): ProtoDiagnostic[] {
  return diags.map((d) => {
    const out: ProtoDiagnostic = { severity: d.severity === 'error' ? 'ERROR' : 'WARNING', summary: d.summary, detail: d.detail ?? '' };
    if (d.path && d.path.length) out.attribute = toProtoPath(d.path, type);
    return out;
  });
}

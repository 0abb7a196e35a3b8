/**
 * Diagnostics: the user's problems (bad config, an API error on one resource, a refused hazard, a
 * stale plan) reported as data, after terraform-plugin-framework. Code throws only for bugs and
 * cancellation; everything a user can fix is a Diagnostic, and they are collected, not stopped at
 * the first. Stable codes are listed in docs/diagnostics.md.
 */

/** `error` stops the command (exit 1) after every diagnostic is reported; `warning` does not. */
export type Severity = 'error' | 'warning';

/** A position in a source file. Lines and columns are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/**
 * One problem. `summary` says what is wrong in one line; `detail` says whose fault it is and how
 * to fix it. `address` is the resource address when the problem belongs to one resource; `path` is
 * the attribute path inside the config document (e.g. ["tenants","acme","webhooks","x","url"]).
 */
export interface Diagnostic {
  severity: Severity;
  code: DiagnosticCode;
  summary: string;
  detail?: string;
  address?: string;
  path?: (string | number)[];
  location?: SourceLocation;
}

/**
 * The closed set of diagnostic codes (docs/diagnostics.md explains each). `config.*` come from
 * loading and validating the desired state, `api.*` from the Fluxbase API, `plan.*` from planning
 * and gating, `apply.*` from applying, `state.*` from the state backend, `export.*` from
 * `fluxbase export`, `security.*` are the lints of src/access/lints.ts, `test.*` come from
 * `fluxbase test` and `plan --prove`.
 */
export type DiagnosticCode =
  | 'config.read'
  | 'config.yaml-syntax'
  | 'config.duplicate-key'
  | 'config.env-unset'
  | 'config.schema'
  | 'config.identifier'
  | 'config.undeclared-table'
  | 'config.reference'
  | 'config.conflict'
  | 'config.unsupported'
  | 'config.internal-schema'
  | 'config.webhook-undeliverable'
  | 'config.ineffective-setting'
  | 'api.auth'
  | 'api.http'
  | 'api.network'
  | 'api.unexpected-response'
  | 'api.ambiguous'
  | 'api.env-override'
  | 'api.capability'
  | 'api.token-without-iat'
  | 'api.migrations-allowlist'
  | 'api.url-guard'
  | 'plan.unmanaged-conflict'
  | 'plan.prevent-destroy'
  | 'plan.server-limit'
  | 'plan.hazard-not-allowed'
  | 'plan.stale'
  | 'plan.reference'
  | 'plan.type-change'
  | 'plan.data'
  | 'plan.config-changed'
  | 'plan.format'
  | 'plan.replace'
  | 'plan.not-supported'
  | 'plan.target'
  | 'plan.moved'
  | 'plan.removed'
  | 'apply.failed'
  | 'apply.interrupted'
  | 'apply.not-attempted'
  | 'apply.refused'
  | 'state.read'
  | 'state.write'
  | 'state.locked'
  | 'state.format'
  | 'state.damaged'
  | 'export.not-exported'
  | 'export.mismatch'
  | 'export.output'
  | 'cli.usage'
  | 'cli.interactive'
  | 'security.rls-disabled'
  | 'security.rls-no-policy'
  | 'security.policy-always-true'
  | 'security.anon-write'
  | 'security.missing-with-check'
  | 'security.sensitive-column'
  | 'security.public-role'
  | 'security.policy-without-grant'
  | 'security.unreachable-role'
  | 'test.error'
  | 'local.start';

/** Builds an error diagnostic. */
export function error(code: DiagnosticCode, summary: string, extra: Partial<Diagnostic> = {}): Diagnostic {
  return { severity: 'error', code, summary, ...extra };
}

/** Builds a warning diagnostic. */
export function warning(code: DiagnosticCode, summary: string, extra: Partial<Diagnostic> = {}): Diagnostic {
  return { severity: 'warning', code, summary, ...extra };
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/**
 * Thrown to abort a stage with the diagnostics collected so far (all of them, never just the
 * first). The CLI renders them and exits 1; library callers can read `diagnostics`.
 */
export class DiagnosticsError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => d.summary).join('; ') || 'failed');
    this.name = 'DiagnosticsError';
    this.diagnostics = diagnostics;
  }
}

/** Sorts diagnostics by file position, then address, then code, so output is deterministic. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => {
    const fa = a.location?.file ?? '';
    const fb = b.location?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    const la = a.location?.line ?? 0;
    const lb = b.location?.line ?? 0;
    if (la !== lb) return la - lb;
    const ca = a.location?.column ?? 0;
    const cb = b.location?.column ?? 0;
    if (ca !== cb) return ca - cb;
    const aa = a.address ?? '';
    const ab = b.address ?? '';
    if (aa !== ab) return aa < ab ? -1 : 1;
    return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
  });
}

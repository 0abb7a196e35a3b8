import type { Diagnostic } from './diagnostic.js';

/**
 * Renders one diagnostic for a terminal, compiler style:
 *
 *     fluxbase.config.yaml:12:7: error[config.schema]: tenants.acme.webhooks.x: must have required property 'url'
 *       Add `url: https://…` to the webhook.
 *
 * The location prefix is omitted when unknown; the address (or the attribute path) is prefixed to
 * the summary when present. Never includes secret values (diagnostics are built without them).
 */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.location ? `${d.location.file}:${d.location.line}:${d.location.column}: ` : '';
  const subject = d.address ?? (d.path && d.path.length > 0 ? d.path.join('.') : undefined);
  const head = `${where}${d.severity}[${d.code}]: ${subject ? `${subject}: ` : ''}${d.summary}`;
  if (!d.detail) return head;
  return `${head}\n${d.detail
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}`;
}

/** Renders several diagnostics separated by newlines. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map(formatDiagnostic).join('\n');
}

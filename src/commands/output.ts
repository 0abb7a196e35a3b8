/**
 * Output helpers shared by plan, apply and demo: the API-call summary, apply progress in
 * Terraform's words, revealing new key values once, and the `--secrets-out` file (NAME=value
 * lines, mode 0600).
 */
import { appendFile, chmod, open } from 'node:fs/promises';
import type { FluxbaseClient } from '../client/http.js';
import type { ApiCalls } from '../engine/plan-document.js';
import type { ApplyEvent } from '../engine/apply.js';
import type { styler } from '../engine/render.js';
import { HAZARD_TYPES, type Plan, type ResourceChange } from '../model/plan.js';

/** Kinds whose create or replace yields a value the server shows only once. */
export const REVEALING_KINDS: ReadonlySet<string> = new Set(['client_key', 'service_key']);

/** The calls a client made. */
export function apiCalls(client: FluxbaseClient): ApiCalls {
  return { total: client.totalCalls(), retries: client.retryCount(), byRoute: client.callCounts() };
}

/** True when applying the plan will produce values that can be shown only once. */
export function revealsSecrets(plan: Plan): boolean {
  return plan.changes.some((c) => REVEALING_KINDS.has(c.kind) && (c.action === 'create' || c.action === 'replace'));
}

/** Appends `NAME=value` lines to a file created with mode 0600 (and forced to 0600 if it existed). */
export async function writeSecretsFile(file: string, values: readonly { name: string; value: string }[]): Promise<void> {
  const fh = await open(file, 'a', 0o600);
  await fh.close();
  await chmod(file, 0o600);
  await appendFile(file, values.map((v) => `${v.name}=${v.value}\n`).join(''));
}

/** Terraform's progress words per action: while running, and when done. */
const VERBS: Record<ResourceChange['action'], [string, string]> = {
  'no-op': ['Importing...', 'Import complete'],
  create: ['Creating...', 'Creation complete'],
  update: ['Modifying...', 'Modifications complete'],
  delete: ['Destroying...', 'Destruction complete'],
  replace: ['Replacing...', 'Replacement complete'],
};

/** Progress words of one change; state-only changes (`removed:`, `moved:`) have their own. */
function verbsOf(change: ResourceChange): [string, string] {
  if (change.forget) return ['Removing from the state...', 'Removed from the state (left in place)'];
  if (change.movedFrom && change.action === 'no-op' && !change.importing) return ['Moving...', `Moved from ${change.movedFrom}`];
  return VERBS[change.action];
}

/** One progress line for an apply event (`webhook.default.x: Creation complete after 0.3s`). */
export function applyEventLine(e: ApplyEvent, c: ReturnType<typeof styler>): string | undefined {
  if (e.type === 'start') return `${e.change.address}: ${verbsOf(e.change)[0]}`;
  if (e.type === 'done') return `${e.change.address}: ${verbsOf(e.change)[1]} after ${(e.ms / 1000).toFixed(1)}s`;
  if (e.type === 'fail') return c.red(`${e.change.address}: failed: ${e.diagnostic.summary}`);
  return undefined;
}

/** `Apply complete! Resources: 3 added, 1 changed, 0 destroyed.` (`Destroy complete! …` for a destroy plan) */
export function applyCompleteLine(plan: Plan): string {
  const s = plan.summary;
  if (plan.destroy) return `Destroy complete! Resources: ${s.destroy} destroyed.`;
  return `Apply complete! Resources: ${s.add} added, ${s.change} changed, ${s.destroy} destroyed.`;
}

/** The hazard types a plan has, in the fixed order, for `--allow-hazards=A,B` (empty: none). */
export function hazardTypesOf(plan: Plan): string[] {
  return HAZARD_TYPES.filter((t) => plan.changes.some((c) => c.hazards.some((h) => h.type === t)));
}

/**
 * Output helpers shared by plan and apply: the API-call summary, revealing new key values once,
 * and the `--secrets-out` file (NAME=value lines, mode 0600).
 */
import { appendFile, chmod, open } from 'node:fs/promises';
import type { FluxbaseClient } from '../client/http.js';
import type { ApiCalls } from '../engine/plan-document.js';
import type { Plan } from '../model/plan.js';

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

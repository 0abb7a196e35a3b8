/**
 * Helpers shared by the key kinds (client keys, service keys): a key's value exists only in the
 * create (and rotate) response, so creating or replacing one reveals it exactly once.
 */
import { ApiError, NetworkError } from '../client/errors.js';
import type { FluxbaseClient } from '../client/http.js';
import type { ApplyRequest, ApplyResult } from './types.js';

/** The environment-variable style name under which a new key value is revealed (`--secrets-out`). */
export function revealName(address: string): string {
  return address.replace(/\[["']?|["']?\]/g, '.').replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '').toUpperCase();
}

/**
 * Hands a new key's value to the user the moment the create answered (ApplyRequest.reveal), so no
 * later failure or interruption can lose it; returns what the result must still carry (nothing
 * when it was handed over, the value itself for callers without `reveal`).
 */
export async function revealKey(req: ApplyRequest, value: string | undefined): Promise<NonNullable<ApplyResult['revealed']>> {
  if (!value) return [];
  const revealed = { name: revealName(req.change.address), value };
  if (!req.reveal) return [revealed];
  await req.reveal(revealed);
  return [];
}

/**
 * Deletes, treating "already gone" as success: a DELETE that answers 404 — or 500 where the real
 * server answers 500 for not-found — is followed by a GET; a 404 from the GET means it is gone.
 */
export async function deleteConfirmed(req: { client: FluxbaseClient; route: string; id: string; tenantId?: string }): Promise<void> {
  try {
    await req.client.request({ method: 'DELETE', route: req.route, params: { id: req.id }, tenantId: req.tenantId, expect: [200, 204, 404] });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 500) throw e;
    const check = await req.client.request({ method: 'GET', route: req.route, params: { id: req.id }, tenantId: req.tenantId, expect: [200, 404] });
    if (check.status !== 404) throw e;
  }
}

/** True when a create may or may not have been executed (the connection failed, or a gateway answered). */
export function outcomeUnknown(e: unknown): boolean {
  return e instanceof NetworkError || (e instanceof ApiError && (e.status === 502 || e.status === 503 || e.status === 504));
}

/**
 * Creates a key exactly once although its request cannot be retried blindly (F10): the create is
 * sent without an Idempotency-Key (the server would keep the new key's value for 24 h), so after
 * an unknown outcome the live keys of that name are read first. Any found was made by the lost
 * request — its value was never received, so nobody can use it — and is deleted before the
 * create is sent again. At most `attempts` creates (default 3); the last error is thrown.
 */
export async function createKeyOnce<T>(req: {
  create: () => Promise<T>;
  /** Ids of the live keys with the new key's name (one list call). */
  findByName: () => Promise<string[]>;
  /** Deletes one of them (already gone counts as deleted). */
  remove: (id: string) => Promise<void>;
  attempts?: number;
}): Promise<T> {
  const attempts = req.attempts ?? 3;
  for (let i = 1; ; i++) {
    try {
      return await req.create();
    } catch (e) {
      if (!outcomeUnknown(e) || i >= attempts) throw e;
    }
    for (const id of await req.findByName()) await req.remove(id);
  }
}

/**
 * `Idempotency-Key` support (auth doc §2.4, keys doc §12.6), kept in memory for 24 h.
 *
 * - Applies to POST/PUT/PATCH/DELETE under `/api/` with the header set; a key longer than 256
 *   characters gives `400 IDEMPOTENCY_KEY_TOO_LONG` (checked for any method).
 * - Keys are global (not per user). A replay of a completed request returns the stored status,
 *   headers and body plus `Idempotency-Replayed: true`.
 * - Same key, other method or path: `422 IDEMPOTENCY_KEY_MISMATCH`; other body (both non-empty):
 *   `422 IDEMPOTENCY_REQUEST_BODY_MISMATCH`; first request still running:
 *   `409 IDEMPOTENCY_REQUEST_IN_PROGRESS`.
 * - A stored 5xx is "failed": the next request with the key deletes it and runs unrecorded.
 */
import { createHash } from 'node:crypto';
import type { Ctx } from './context.js';

interface IdemRecord {
  method: string;
  path: string;
  requestHash: string;
  status: 'processing' | 'completed' | 'failed';
  responseStatus?: number;
  responseHeaders?: Record<string, string>;
  responseBody?: Buffer;
  expiresAt: number;
}

const TTL_MS = 24 * 60 * 60 * 1000;
const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const EXCLUDED = new Set(['/api/v1/auth/refresh', '/api/v1/auth/logout']);

export class IdempotencyStore {
  private readonly records = new Map<string, IdemRecord>();

  /**
   * Wraps the rest of the pipeline. `run` processes the request normally and leaves the response
   * in `ctx`.
   */
  async handle(ctx: Ctx, run: () => Promise<void>): Promise<void> {
    const key = ctx.header('idempotency-key');
    if (key !== '' && key.length > 256) {
      ctx.json(400, {
        code: 'IDEMPOTENCY_KEY_TOO_LONG',
        error: 'Invalid Idempotency-Key',
        message: 'Idempotency key exceeds maximum length of 256 characters',
      });
      return;
    }
    if (key === '' || !METHODS.has(ctx.method) || !ctx.path.startsWith('/api/') || EXCLUDED.has(ctx.path)) {
      await run();
      return;
    }
    const now = Date.now();
    const hash = ctx.rawBody.length === 0 ? '' : createHash('sha256').update(ctx.rawBody).digest('hex');
    const existing = this.records.get(key);
    if (existing && existing.expiresAt > now) {
      if (existing.method !== ctx.method || existing.path !== ctx.path) {
        ctx.json(422, {
          code: 'IDEMPOTENCY_KEY_MISMATCH',
          details: { current_method: ctx.method, current_path: ctx.path, original_method: existing.method, original_path: existing.path },
          error: 'Idempotency Key Mismatch',
          message: 'This idempotency key was used for a different request',
        });
        return;
      }
      if (existing.requestHash !== '' && hash !== '' && existing.requestHash !== hash) {
        ctx.json(422, {
          code: 'IDEMPOTENCY_REQUEST_BODY_MISMATCH',
          error: 'Idempotency Key Mismatch',
          message: 'This idempotency key was used with a different request body',
        });
        return;
      }
      if (existing.status === 'processing') {
        ctx.json(409, {
          code: 'IDEMPOTENCY_REQUEST_IN_PROGRESS',
          error: 'Request In Progress',
          hint: 'Please wait and retry in a few seconds',
          message: 'A request with this idempotency key is currently being processed',
        });
        return;
      }
      if (existing.status === 'completed') {
        for (const [k, v] of Object.entries(existing.responseHeaders ?? {})) ctx.headers[k] = v;
        ctx.headers['idempotency-replayed'] = 'true';
        ctx.status = existing.responseStatus ?? 200;
        ctx.body = existing.responseBody ?? Buffer.alloc(0);
        ctx.responded = true;
        return;
      }
      // failed: forget it and run the request without recording it
      this.records.delete(key);
      await run();
      return;
    }
    const record: IdemRecord = { method: ctx.method, path: ctx.path, requestHash: hash, status: 'processing', expiresAt: now + TTL_MS };
    this.records.set(key, record);
    try {
      await run();
    } catch (e) {
      record.status = 'failed';
      throw e;
    }
    record.status = ctx.status >= 500 ? 'failed' : 'completed';
    record.responseStatus = ctx.status;
    record.responseHeaders = { ...ctx.headers };
    record.responseBody = ctx.body;
  }
}

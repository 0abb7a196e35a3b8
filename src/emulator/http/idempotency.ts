/**
 * `Idempotency-Key` support (auth doc §2.4, keys doc §12.6), kept in the main database for 24 h.
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
import type { Sql } from '../db/types.js';

interface IdemRow {
  method: string;
  path: string;
  request_hash: string;
  status: 'processing' | 'completed' | 'failed';
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: Buffer | Uint8Array | null;
}

const TTL_SECONDS = 24 * 60 * 60;
const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const EXCLUDED = new Set(['/api/v1/auth/refresh', '/api/v1/auth/logout']);

/**
 * Idempotency records in the main database's `platform.idempotency_keys`, as the server keeps
 * them (F10): a response body stays there for 24 h in full — the one-time value of a new key
 * included — and survives restarts.
 */
export class IdempotencyStore {
  constructor(private readonly db: () => Sql) {}

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
    const hash = ctx.rawBody.length === 0 ? '' : createHash('sha256').update(ctx.rawBody).digest('hex');
    // Claim the key atomically (a concurrent request with the same key sees 'processing'); an
    // expired record is taken over.
    const claimed = await this.db().query(
      `INSERT INTO platform.idempotency_keys (key, method, path, request_hash, status, expires_at)
       VALUES ($1, $2, $3, $4, 'processing', now() + make_interval(secs => $5))
       ON CONFLICT (key) DO UPDATE SET method = EXCLUDED.method, path = EXCLUDED.path, request_hash = EXCLUDED.request_hash,
         status = 'processing', response_status = NULL, response_headers = NULL, response_body = NULL,
         created_at = now(), expires_at = EXCLUDED.expires_at
       WHERE platform.idempotency_keys.expires_at <= now()
       RETURNING key`,
      [key, ctx.method, ctx.path, hash, TTL_SECONDS],
    );
    if (claimed.rows.length === 0) {
      const found = await this.db().query<IdemRow>(
        `SELECT method, path, request_hash, status, response_status, response_headers, response_body
           FROM platform.idempotency_keys WHERE key = $1`,
        [key],
      );
      const existing = found.rows[0];
      if (!existing) {
        await run();
        return;
      }
      if (existing.method !== ctx.method || existing.path !== ctx.path) {
        ctx.json(422, {
          code: 'IDEMPOTENCY_KEY_MISMATCH',
          details: { current_method: ctx.method, current_path: ctx.path, original_method: existing.method, original_path: existing.path },
          error: 'Idempotency Key Mismatch',
          message: 'This idempotency key was used for a different request',
        });
        return;
      }
      if (existing.request_hash !== '' && hash !== '' && existing.request_hash !== hash) {
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
        for (const [k, v] of Object.entries(existing.response_headers ?? {})) ctx.headers[k] = v;
        ctx.headers['idempotency-replayed'] = 'true';
        ctx.status = existing.response_status ?? 200;
        ctx.body = Buffer.from(existing.response_body ?? Buffer.alloc(0));
        ctx.responded = true;
        return;
      }
      // failed: forget it and run the request without recording it
      await this.db().query('DELETE FROM platform.idempotency_keys WHERE key = $1', [key]);
      await run();
      return;
    }
    try {
      await run();
    } catch (e) {
      await this.db().query(`UPDATE platform.idempotency_keys SET status = 'failed' WHERE key = $1`, [key]).catch(() => {});
      throw e;
    }
    await this.db().query(
      `UPDATE platform.idempotency_keys SET status = $2, response_status = $3, response_headers = $4::jsonb, response_body = $5 WHERE key = $1`,
      [key, ctx.status >= 500 ? 'failed' : 'completed', ctx.status, JSON.stringify(ctx.headers), ctx.body],
    );
  }
}

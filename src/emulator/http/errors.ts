/**
 * The real server's error body shapes (auth-tenants-ddl-rls-sql.md §1, keys doc §12.1).
 *
 * - A `sendCode`: `{"error","code","request_id"}` (SendErrorWithCode), the standard.
 * - B `sendFiberError`: a `fiber.NewError` through the global handler; the code is derived from
 *   the status (400 INVALID_REQUEST_BODY, 401 AUTHENTICATION_REQUIRED, 403 ACCESS_DENIED,
 *   404 NOT_FOUND, 409 CONFLICT, other 4xx INVALID_INPUT, 5xx INTERNAL_ERROR).
 * - C `sendNoCode`: `{"error","request_id"}` (SendError; policy and RLS handlers).
 * - D plain `ctx.json(status, {...})` bodies (tenant not found, legacy handlers).
 */
import type { Ctx } from './context.js';

/** Kind A. `code` and `request_id` are omitted when empty. */
export function sendCode(ctx: Ctx, status: number, error: string, code?: string, extra?: Record<string, unknown>): void {
  ctx.json(status, { error, code: code || undefined, ...extra, request_id: ctx.requestId || undefined });
}

/** Kind C: no code. */
export function sendNoCode(ctx: Ctx, status: number, error: string): void {
  ctx.json(status, { error, request_id: ctx.requestId || undefined });
}

/** Kind B: the global Fiber error handler. */
export function sendFiberError(ctx: Ctx, status: number, message: string): void {
  let code = 'INTERNAL_ERROR';
  if (status === 400) code = 'INVALID_REQUEST_BODY';
  else if (status === 401) code = 'AUTHENTICATION_REQUIRED';
  else if (status === 403) code = 'ACCESS_DENIED';
  else if (status === 404) code = 'NOT_FOUND';
  else if (status === 409) code = 'CONFLICT';
  else if (status < 500) code = 'INVALID_INPUT';
  ctx.json(status, { error: message, code, request_id: ctx.requestId || undefined });
}

/** Body parse failure (`ParseBody`): `400 {"error":"Invalid request body","code":"INVALID_REQUEST_BODY"}`. */
export function sendInvalidBody(ctx: Ctx): void {
  sendFiberError(ctx, 400, 'Invalid request body');
}

/** A panic recovered by Fiber: `500 {"error":"Internal Server Error","code":"INTERNAL_ERROR"}`. */
export function sendPanic(ctx: Ctx): void {
  ctx.json(500, { error: 'Internal Server Error', code: 'INTERNAL_ERROR', request_id: ctx.requestId || undefined });
}

/** `200 {"success":true,"message":…}` (SendSuccess). */
export function sendSuccess(ctx: Ctx, message: string): void {
  ctx.json(200, { message, success: true }); // fiber.Map: keys sorted
}

/**
 * Binds the JSON body like the server's `ParseBody`; on failure sends the 400 and returns
 * undefined, so handlers can `if (!req) return;`.
 */
export function parseBody<T>(ctx: Ctx, spec: Parameters<Ctx['tryBind']>[0]): T | undefined {
  const req = ctx.tryBind<T>(spec);
  if (req === undefined) sendInvalidBody(ctx);
  return req;
}

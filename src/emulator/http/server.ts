/**
 * The HTTP front: global middleware in the server's order, then the route table.
 *
 * 1. request id: `X-Request-ID` echoed or generated (also `request_id` in error bodies);
 * 2. fault injection (emulator only; `/api/*` requests);
 * 3. body limit: 5 MB → `413 PAYLOAD_TOO_LARGE`;
 * 4. idempotency (`Idempotency-Key`);
 * 5. route chain, or the catch-all 404. An unexpected exception becomes Fiber's panic answer
 *    `500 {"error":"Internal Server Error","code":"INTERNAL_ERROR"}`.
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { EmulatorApp } from '../app.js';
import { Ctx } from './context.js';
import type { Router } from './router.js';
import { notFound, runChain } from './router.js';
import { sendPanic } from './errors.js';

const MAX_BODY = 5 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function write(res: ServerResponse, ctx: Ctx): void {
  for (const [k, v] of Object.entries(ctx.headers)) res.setHeader(k, v);
  res.setHeader('content-length', String(ctx.body.length));
  res.statusCode = ctx.status;
  res.end(ctx.body);
}

async function handle(app: EmulatorApp, router: Router, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req).catch(() => Buffer.alloc(0));
  const ctx = new Ctx(req, body === 'too-large' ? Buffer.alloc(0) : body);
  ctx.requestId = ctx.header('x-request-id') || randomUUID();
  ctx.headers['x-request-id'] = ctx.requestId;
  app.countRequest();
  app.requestLog.push(`${ctx.method} ${ctx.path}`);
  try {
    if (ctx.path.startsWith('/api/') && app.faults.maybeInject(ctx)) {
      write(res, ctx);
      return;
    }
    if (body === 'too-large') {
      ctx.json(413, {
        error: 'Payload Too Large',
        code: 'PAYLOAD_TOO_LARGE',
        message: `Request body exceeds the maximum allowed size of ${MAX_BODY} bytes`,
        hint: 'Reduce the size of the request body',
        details: { endpoint_type: ctx.path.startsWith('/api/v1/admin') ? 'admin' : 'default', max_bytes: MAX_BODY },
        request_id: ctx.requestId,
      });
      write(res, ctx);
      return;
    }
    await app.idempotency.handle(ctx, async () => {
      const match = router.match(ctx.method, ctx.path);
      if (!match) {
        notFound(ctx);
        return;
      }
      ctx.params = match.params;
      await runChain(ctx, match.chain);
      if (!ctx.responded) notFound(ctx);
    });
  } catch (e) {
    app.log(`unhandled error on ${ctx.method} ${ctx.path}: ${(e as Error).stack ?? String(e)}`);
    sendPanic(ctx);
  }
  if (app.faults.dropAfterProcessing(ctx)) {
    // The request was executed, but the caller never learns it: the connection is reset.
    app.log(`fault: dropped the response to ${ctx.method} ${ctx.path} after processing it`);
    res.socket?.destroy();
    return;
  }
  write(res, ctx);
}

/** Creates (not yet listening) the HTTP server for `app`. */
export function createServer(app: EmulatorApp, router: Router): Server {
  return createHttpServer((req, res) => {
    handle(app, router, req, res).catch((e) => {
      app.log(`request failed: ${String(e)}`);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
    });
  });
}

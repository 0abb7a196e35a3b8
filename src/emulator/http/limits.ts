/**
 * Rate limiting and fault injection.
 *
 * The 429 body is the real limiter's (kind E): `{"code":"RATE_LIMIT_EXCEEDED","error":"Rate limit
 * exceeded","message":…,"retry_after":N}` with `Retry-After: N` and `X-RateLimit-*` headers, where
 * N is the full window length (not the time remaining), as in the server.
 */
import type { Ctx } from './context.js';
import type { FaultState } from '../options.js';

/** Fixed-window limiter keyed by client IP (Fiber's default limiter algorithm). */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: () => number,
    readonly windowSeconds: number,
    private readonly keyPrefix: string,
    private readonly message: string,
  ) {}

  /** Returns true when the request may proceed; otherwise answers the 429 itself. */
  check(ctx: Ctx, clientIp: string): boolean {
    const key = `${this.keyPrefix}:${clientIp}`;
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || now >= w.resetAt) {
      w = { count: 0, resetAt: now + this.windowSeconds * 1000 };
      this.windows.set(key, w);
    }
    w.count++;
    const limit = this.limit();
    const remaining = Math.max(0, limit - w.count);
    ctx.headers['x-ratelimit-limit'] = String(limit);
    ctx.headers['x-ratelimit-remaining'] = String(remaining);
    ctx.headers['x-ratelimit-reset'] = String(Math.ceil((w.resetAt - now) / 1000));
    if (w.count <= limit) return true;
    send429(ctx, this.windowSeconds, this.message);
    return false;
  }
}

/** Answers a kind-E 429. */
export function send429(ctx: Ctx, retryAfter: number, message: string): void {
  ctx.headers['retry-after'] = String(retryAfter);
  ctx.json(429, { code: 'RATE_LIMIT_EXCEEDED', error: 'Rate limit exceeded', message, retry_after: retryAfter });
}

/** Deterministic PRNG (mulberry32) for fault injection. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Decides, per `/api/*` request, whether to inject a fault. Draws one number per request from the
 * seeded sequence, so a given seed and request order always fault the same requests.
 */
export class FaultInjector {
  private readonly next: () => number;
  constructor(readonly state: FaultState, seed: number) {
    this.next = seededRandom(seed);
  }

  /** Returns true when it answered the request with an injected fault. */
  maybeInject(ctx: Ctx): boolean {
    if (this.state.rate429 <= 0 && this.state.rate503 <= 0) return false;
    const r = this.next();
    if (r < this.state.rate429) {
      send429(ctx, this.state.retryAfterSeconds, 'API rate limit exceeded. Maximum 100 requests per minute allowed.');
      return true;
    }
    if (r < this.state.rate429 + this.state.rate503) {
      ctx.json(503, { error: 'Service Unavailable' });
      return true;
    }
    return false;
  }

  /**
   * True when the response to this (already processed) request is to be lost: the connection is
   * reset instead (`FaultState.dropResponses`, consumed one per match).
   */
  dropAfterProcessing(ctx: Ctx): boolean {
    const drop = this.state.dropResponses.find((d) => d.method === ctx.method && d.path === ctx.path && d.times > 0);
    if (!drop) return false;
    drop.times--;
    return true;
  }
}

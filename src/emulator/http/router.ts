/**
 * Route table with Fiber's matching rules as the real server configures them:
 * - routes are tried in registration order (an earlier `:param` route shadows a later literal);
 * - literal segments match case-insensitively, a trailing slash is ignored;
 * - `:param` matches one non-empty segment (kept raw, not URL-decoded), `*` matches the rest;
 * - an unmatched path *or method* falls through to the catch-all
 *   `404 {"error":"Not Found","path":…}` — never 405.
 */
import type { Ctx, Handler } from './context.js';

interface Route {
  method: string;
  segments: string[];
  /** `segments` lower-cased, for the case-insensitive comparison of literal segments. */
  lower: string[];
  /** Whether a `*` segment matches the rest (otherwise only paths of as many segments match). */
  wild: boolean;
  chain: Handler[];
}

function split(path: string): string[] {
  const parts = path.split('/').filter((_, i, arr) => !(i === 0 && arr[0] === ''));
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

export class Router {
  private readonly routes: Route[] = [];

  /** Registers `method` + `path` (e.g. `/api/v1/admin/tables/:schema/:table`) with its chain. */
  add(method: string, path: string, ...chain: Handler[]): void {
    const segments = split(path);
    this.routes.push({ method: method.toUpperCase(), segments, lower: segments.map((seg) => seg.toLowerCase()), wild: segments.includes('*'), chain });
  }

  /** Finds the first route matching method and path; returns its chain and params. */
  match(method: string, path: string): { chain: Handler[]; params: Record<string, string> } | undefined {
    const parts = split(path);
    const lower = parts.map((part) => part.toLowerCase());
    for (const route of this.routes) {
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
      const params = matchSegments(route, parts, lower);
      if (params) return { chain: route.chain, params };
    }
    return undefined;
  }
}

function matchSegments(route: Route, parts: string[], lowerParts: string[]): Record<string, string> | undefined {
  const pattern = route.segments;
  if (pattern.length !== parts.length && !route.wild) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const seg = pattern[i] as string;
    if (seg === '*') {
      params['*'] = parts.slice(i).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (seg.startsWith(':')) {
      if (part === '') return undefined;
      params[seg.slice(1)] = part;
    } else if (route.lower[i] !== lowerParts[i]) {
      return undefined;
    }
  }
  return pattern.length === parts.length ? params : undefined;
}

/** Runs a chain of handlers Koa-style. */
export async function runChain(ctx: Ctx, chain: Handler[]): Promise<void> {
  const step = async (i: number): Promise<void> => {
    const h = chain[i];
    if (!h) return;
    await h(ctx, () => step(i + 1));
  };
  await step(0);
}

/** The catch-all: `404 {"error":"Not Found","path":"/api/v1/…"}`. */
export function notFound(ctx: Ctx): void {
  ctx.json(404, { error: 'Not Found', path: ctx.path });
}

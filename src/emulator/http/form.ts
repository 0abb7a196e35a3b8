/**
 * Fiber's `c.FormValue(name, def)` (fasthttp `FormValue`): the query string first, then an
 * `application/x-www-form-urlencoded` body, then a `multipart/form-data` field. A JSON body is
 * never consulted (keys doc §1.7: revoke `reason`, deprecate `grace_period_hours`).
 */
import type { Ctx } from './context.js';

/** The first multipart field named `name`, or undefined. */
function multipartField(contentType: string, body: Buffer, name: string): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return undefined;
  const parts = body.toString('latin1').split(`--${boundary.trim()}`);
  for (const part of parts) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const headers = part.slice(0, headerEnd);
    const disp = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers);
    if (!disp || disp[1] !== name || /filename=/i.test(headers)) continue;
    const value = part.slice(headerEnd + 4).replace(/\r\n$/, '');
    return Buffer.from(value, 'latin1').toString('utf8');
  }
  return undefined;
}

/** `c.FormValue(name, def)`: the first non-empty value, else `def`. */
export function formValue(ctx: Ctx, name: string, def = ''): string {
  const q = ctx.query.get(name);
  if (q) return q; // empty values fall through, as in fasthttp
  const contentType = ctx.header('content-type');
  const media = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (media === 'application/x-www-form-urlencoded') {
    const v = new URLSearchParams(ctx.rawBody.toString('utf8')).get(name);
    if (v) return v;
  } else if (media === 'multipart/form-data') {
    const v = multipartField(contentType, ctx.rawBody, name);
    if (v) return v;
  }
  return def;
}

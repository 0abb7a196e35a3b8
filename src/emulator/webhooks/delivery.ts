/**
 * Sending a webhook request (keys doc §3.5; `sendWebhookSync`): `POST <url>` with
 * `Content-Type: application/json`, `User-Agent: Fluxbase-Webhooks/1.0`, then the custom headers
 * (which may override those two), then — only with a non-empty secret —
 * `X-Fluxbase-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` and the legacy
 * `X-Webhook-Signature: <hex HMAC-SHA256(secret, body)>`. Success = any 2xx within
 * `timeout_seconds` (0 = no timeout); redirects are followed.
 */
import { createHmac } from 'node:crypto';
import { webhookUrlProblem } from './guard.js';

export interface DeliveryTarget {
  url: string;
  secret: string | null;
  headers: Record<string, string> | null;
  timeout_seconds: number;
}

/** HMAC-SHA256 hex of `data` with `secret`. */
export function hmacHex(secret: string, data: string): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/** Delivers `body` (already-serialised JSON); throws with the server's error text on failure. */
export async function deliver(target: DeliveryTarget, body: string, guard: boolean, hosts: Readonly<Record<string, string>> = {}): Promise<void> {
  if (guard) {
    const problem = await webhookUrlProblem(target.url, hosts);
    if (problem) throw new Error(`webhook URL validation failed (possible DNS rebinding attack): ${problem}`);
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Fluxbase-Webhooks/1.0' };
  for (const [k, v] of Object.entries(target.headers ?? {})) headers[k.toLowerCase()] = v;
  if (target.secret) {
    const t = Math.floor(Date.now() / 1000);
    headers['x-fluxbase-signature'] = `t=${t},v1=${hmacHex(target.secret, `${t}.${body}`)}`;
    headers['x-webhook-signature'] = hmacHex(target.secret, body);
  }
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: 'POST',
      headers,
      body,
      redirect: 'follow',
      signal: target.timeout_seconds > 0 ? AbortSignal.timeout(target.timeout_seconds * 1000) : undefined,
    });
  } catch (e) {
    throw new Error(`failed to send request: ${(e as Error).message}`);
  }
  const text = await res.text().catch(() => '');
  if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}: ${text}`);
}

/**
 * Webhook target checks (keys doc §3.3; `validateWebhookURL`, `validateWebhookHeaders`).
 *
 * The URL guard runs on create, on PATCH and before every delivery unless the server runs with
 * FLUXBASE_DEBUG=true (option `webhookUrlGuard: false`; on by default, as on the server). Header checks
 * always run. Failures surface as 500s whose reason is only logged.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

const BLOCKED_HOSTS = ['metadata.google.internal', 'metadata', 'instance-data', 'kubernetes.default', 'kubernetes.default.svc'];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}

function inV4(ip: string, base: string, bits: number): boolean {
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (v4ToInt(ip) & mask) === (v4ToInt(base) & mask);
}

/** Expands an IPv6 address to 8 groups of 16 bits. */
function v6Groups(ip: string): number[] {
  let addr = ip.split('%')[0] ?? ip;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (v4tail?.[1]) {
    const n = v4ToInt(v4tail[1]);
    addr = addr.slice(0, -v4tail[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = addr.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...Array(fill).fill('0'), ...t].map((g) => Number.parseInt(g, 16) || 0);
}

/**
 * Go `isPrivateIP`: loopback, link-local unicast/multicast, 10/8, 172.16/12, 192.168/16,
 * 169.254/16, 127/8, ::1, fc00::/7, fe80::/10. (0.0.0.0, 100.64/10 and public IPs pass.)
 */
export function isPrivateIp(ip: string): boolean {
  if (isIP(ip) === 4) {
    return (
      inV4(ip, '127.0.0.0', 8) ||
      inV4(ip, '169.254.0.0', 16) ||
      inV4(ip, '224.0.0.0', 24) ||
      inV4(ip, '10.0.0.0', 8) ||
      inV4(ip, '172.16.0.0', 12) ||
      inV4(ip, '192.168.0.0', 16)
    );
  }
  if (isIP(ip) === 6) {
    const g = v6Groups(ip);
    const isMappedV4 = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
    if (isMappedV4) {
      const v4 = `${(g[6] ?? 0) >> 8}.${(g[6] ?? 0) & 255}.${(g[7] ?? 0) >> 8}.${(g[7] ?? 0) & 255}`;
      return isPrivateIp(v4);
    }
    const first = g[0] ?? 0;
    const loopback = g.slice(0, 7).every((x) => x === 0) && g[7] === 1;
    return loopback || (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || first === 0xff02;
  }
  return false;
}

/**
 * Returns why `url` is refused, or undefined when it is acceptable. Resolves the host through
 * `hosts` (static entries, like /etc/hosts) or DNS (5 s timeout).
 */
export async function webhookUrlProblem(url: string, hosts: Readonly<Record<string, string>> = {}): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `URL scheme must be http or https, got: ${/^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1] ?? ''}`;
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https') return `URL scheme must be http or https, got: ${scheme}`;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (host === '') return 'URL must have a hostname';
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower === 'ip6-localhost') return 'localhost URLs are not allowed';
  for (const blocked of BLOCKED_HOSTS) {
    if (lower === blocked || lower.endsWith(`.${blocked}`)) return `internal hostname '${host}' is not allowed`;
  }
  let addresses: string[];
  const fixed = hosts[lower] ?? Object.entries(hosts).find(([k]) => k.startsWith('*.') && lower.endsWith(k.slice(1)))?.[1];
  if (fixed !== undefined) addresses = [fixed];
  else try {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('lookup timed out')), 5000).unref());
    const found = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
    addresses = found.map((a) => a.address);
  } catch (e) {
    return `failed to resolve hostname: ${(e as Error).message}`;
  }
  const bad = addresses.find(isPrivateIp);
  return bad ? `URL resolves to private IP address ${bad} which is not allowed` : undefined;
}

const BLOCKED_HEADERS = new Set(['content-length', 'host', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailers', 'upgrade']);

/** `validateWebhookHeaders`: blocked names, CR/LF, values up to 8192 bytes. */
export function webhookHeadersProblem(headers: Record<string, string> | null): string | undefined {
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (BLOCKED_HEADERS.has(k.toLowerCase())) return `header '${k}' is not allowed to be overridden`;
    if (/[\r\n]/.test(k)) return `header name '${k}' contains invalid characters`;
    if (/[\r\n]/.test(v)) return `header value for '${k}' contains invalid characters`;
    if (Buffer.byteLength(v) > 8192) return `header value for '${k}' exceeds maximum length of 8192 bytes`;
  }
  return undefined;
}

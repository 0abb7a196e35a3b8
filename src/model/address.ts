/**
 * Resource addresses: `<kind>.<key>.<key>…`, e.g. `tenant.acme`, `table.acme.app.users`,
 * `policy.acme.app.users.users_read_own`, `webhook.acme.user-signups`,
 * `system_setting["app.auth.signup_enabled"]`. A key segment is written bare when it matches
 * [A-Za-z0-9_-]+ and as a bracketed JSON string otherwise. Addresses are stable identities: the
 * state, saved plans, `import:` entries and `--json` output all use them.
 */

const BARE = /^[A-Za-z0-9_-]+$/;

/** Formats an address from its kind and key segments. */
export function formatAddress(kind: string, segments: readonly string[]): string {
  return kind + segments.map((s) => (BARE.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join('');
}

/**
 * Parses an address into kind and segments. Returns undefined when malformed.
 * `parseAddress('webhook.acme["a.b"]')` → `{ kind: 'webhook', segments: ['acme', 'a.b'] }`.
 */
export function parseAddress(address: string): { kind: string; segments: string[] } | undefined {
  const m = /^([a-z_]+)/.exec(address);
  if (!m) return undefined;
  const kind = m[1]!;
  const segments: string[] = [];
  let i = kind.length;
  while (i < address.length) {
    if (address[i] === '.') {
      const bare = /^[A-Za-z0-9_-]+/.exec(address.slice(i + 1));
      if (!bare) return undefined;
      segments.push(bare[0]);
      i += 1 + bare[0].length;
    } else if (address.startsWith('["', i)) {
      let j = i + 2;
      while (j < address.length && !(address[j] === '"' && address[j - 1] !== '\\')) j++;
      if (address[j + 1] !== ']') return undefined;
      try {
        segments.push(JSON.parse(address.slice(i + 1, j + 1)) as string);
      } catch {
        return undefined;
      }
      i = j + 2;
    } else {
      return undefined;
    }
  }
  return { kind, segments };
}

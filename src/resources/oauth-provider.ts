/**
 * OAuth providers (shared/fluxbase-api keys-webhooks-settings §8), `oauth_provider.<name>`:
 * keyed by provider name in the config, addressed by UUID on the wire. POST creates (its `enabled`
 * defaults to false, so the tool always sends it); PUT /{id} is a partial update where an empty
 * client_secret keeps the old one; `is_custom` cannot change (replace). The client secret is
 * write-only (the server reports only `has_secret`). The server does not enforce unique names:
 * two live providers with one name are reported as ambiguous, never guessed. Providers defined in
 * the server's config file (`source: "config"`) cannot be managed through the API.
 */
import { error } from '../diag/index.js';
import { formatAddress, parseAddress } from '../model/address.js';
import { fingerprint } from '../model/canonical.js';
import type { OAuthProvider } from '../model/config.generated.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import { compact, groupByName, hazard, preventDestroy, sourceOf } from './common.js';
import type { ApplyRequest, ApplyResult, DesiredRequest, ListRequest, PlanRequest, PlanResult, ResourceHandler, SpecFragment, ToSpecRequest } from './types.js';

/** Provider JSON of GET /api/v1/admin/oauth/providers. */
interface OAuthProviderJson {
  id: string;
  provider_name: string;
  display_name: string;
  enabled: boolean;
  client_id: string;
  has_secret: boolean;
  redirect_url: string;
  scopes: string[] | null;
  is_custom: boolean;
  authorization_url?: string;
  token_url?: string;
  user_info_url?: string;
  revocation_endpoint?: string;
  end_session_endpoint?: string;
  allow_dashboard_login: boolean;
  allow_app_login: boolean;
  required_claims?: Record<string, string[]>;
  denied_claims?: Record<string, string[]>;
  source?: string;
}

const OPTIONAL_URLS = ['authorization_url', 'token_url', 'user_info_url', 'revocation_endpoint', 'end_session_endpoint'] as const;

/** `oauth_provider.<name>` */
export function oauthProviderAddress(name: string): string {
  return formatAddress('oauth_provider', [name]);
}

/** Canonical attributes of a declared provider. */
export function desiredProviderAttrs(p: OAuthProvider): Record<string, unknown> {
  return compact({
    display_name: p.display_name,
    enabled: p.enabled ?? true,
    client_id: p.client_id,
    redirect_url: p.redirect_url,
    scopes: [...(p.scopes ?? [])].sort(),
    is_custom: p.authorization_url !== undefined,
    authorization_url: p.authorization_url,
    token_url: p.token_url,
    user_info_url: p.user_info_url,
    revocation_endpoint: p.revocation_endpoint,
    end_session_endpoint: p.end_session_endpoint,
    allow_dashboard_login: p.allow_dashboard_login ?? false,
    allow_app_login: p.allow_app_login ?? true,
    required_claims: p.required_claims,
    denied_claims: p.denied_claims,
  });
}

function liveAttrs(p: OAuthProviderJson): Record<string, unknown> {
  return {
    display_name: p.display_name,
    enabled: p.enabled,
    client_id: p.client_id,
    redirect_url: p.redirect_url,
    scopes: [...(p.scopes ?? [])].sort(),
    is_custom: p.is_custom,
    ...Object.fromEntries(OPTIONAL_URLS.map((k) => [k, p[k] ?? null])),
    allow_dashboard_login: p.allow_dashboard_login,
    allow_app_login: p.allow_app_login,
    required_claims: p.required_claims ?? null,
    denied_claims: p.denied_claims ?? null,
  };
}

export const oauthProviderHandler: ResourceHandler = {
  kind: 'oauth_provider',
  scope: 'instance',
  rules: [{ path: 'is_custom', replace: true }, { path: 'scopes', compare: 'set' }],
  writeOnly: ['client_secret'],

  desired({ config, sources, preventDestroyDefault }: DesiredRequest): DesiredResource[] {
    return Object.entries(config.oauth_providers ?? {}).map(([name, p]) => {
      const path = ['oauth_providers', name];
      return {
        address: oauthProviderAddress(name),
        kind: 'oauth_provider',
        attrs: desiredProviderAttrs(p!),
        writeOnly: { client_secret: p!.client_secret },
        dependsOn: [],
        preventDestroy: preventDestroy(p!.lifecycle, preventDestroyDefault),
        source: sourceOf(sources, path),
        path,
        meta: { name },
      };
    });
  },

  /** GET /api/v1/admin/oauth/providers: database providers, then config-file ones (nil id). */
  async list({ client }: ListRequest): Promise<LiveResource[]> {
    const res = await client.request<OAuthProviderJson[] | null>({ method: 'GET', route: '/api/v1/admin/oauth/providers' });
    return [...groupByName(res.body ?? [], (p) => p.provider_name).entries()].map(([name, rows]) => {
      const p = rows[0]!;
      const attrs = liveAttrs(p);
      return {
        address: oauthProviderAddress(name),
        kind: 'oauth_provider' as const,
        id: p.id,
        attrs,
        fingerprint: fingerprint({ ...attrs, has_secret: p.has_secret }),
        writeOnlyPresent: { client_secret: p.has_secret },
        ...(rows.length > 1 ? { ambiguous: rows.map((r) => r.id) } : {}),
        meta: { source: p.source ?? 'database' },
      };
    });
  },

  /**
   * Defaults omitted (enabled, no scopes, app login allowed, dashboard login not); the custom
   * URLs only for custom providers. The client secret cannot be read: it is always declared.
   * Providers from the server's configuration file and names held by several providers cannot be
   * managed here and are reported.
   */
  toSpec({ live }: ToSpecRequest): SpecFragment {
    const path = ['oauth_providers', parseAddress(live.address)!.segments[0]!];
    if (live.ambiguous) return { path, notes: [`${live.ambiguous.length} live providers have this name (ids ${live.ambiguous.join(', ')})`] };
    if (live.meta?.source === 'config') return { path, notes: ["the provider is defined in the server's configuration file, not through the API"] };
    const a = live.attrs as Record<string, unknown> & { scopes: string[] };
    const urls = Object.fromEntries(OPTIONAL_URLS.map((k) => [k, a[k] ?? undefined]));
    const spec = compact({
      display_name: a.display_name,
      enabled: a.enabled === true ? undefined : a.enabled,
      client_id: a.client_id,
      redirect_url: a.redirect_url,
      scopes: a.scopes.length > 0 ? a.scopes : undefined,
      ...(a.is_custom ? urls : {}),
      allow_dashboard_login: a.allow_dashboard_login === true ? true : undefined,
      allow_app_login: a.allow_app_login === false ? false : undefined,
      required_claims: a.required_claims ?? undefined,
      denied_claims: a.denied_claims ?? undefined,
    });
    return { path, spec, writeOnly: [{ attribute: 'client_secret', path: ['client_secret'] }] };
  },

  plan({ change, live }: PlanRequest): PlanResult {
    if (live?.meta?.source === 'config' && change.action !== 'no-op') {
      return {
        diagnostics: [
          error('plan.not-supported', "this provider is defined in the server's configuration file and cannot be changed through the API", {
            detail: 'Manage it in the server config (auth.oauth_providers), or remove it from this configuration.',
          }),
        ],
      };
    }
    const name = change.address.slice('oauth_provider.'.length);
    if (change.action === 'delete' || change.action === 'replace') {
      return { hazards: [hazard('BREAKS_SIGN_IN', `Removes the ${name} provider: users who sign in with it cannot until it exists again.`)] };
    }
    if (change.attributes.some((a) => a.path[0] === 'enabled' && a.before === true && a.after === false)) {
      return { hazards: [hazard('BREAKS_SIGN_IN', `Disables the ${name} provider: users who sign in with it cannot.`)] };
    }
    return {};
  },

  /** POST /api/v1/admin/oauth/providers → 201 {"success":true,"id":…} (not the provider). */
  async create({ client, desired }: ApplyRequest): Promise<ApplyResult> {
    const res = await client.request<{ id: string }>({
      method: 'POST',
      route: '/api/v1/admin/oauth/providers',
      body: { provider_name: desired!.meta!.name, ...desired!.attrs, client_secret: desired!.writeOnly.client_secret },
      expect: [201],
      // The server does not keep instance-wide provider names unique: a blind retry could create a second one.
      once: true,
    });
    return { id: res.body.id };
  },

  /** PUT /api/v1/admin/oauth/providers/:id with the changed fields (the secret only when it changed). */
  async update({ client, change, desired }: ApplyRequest): Promise<ApplyResult> {
    const changed = new Set(change.attributes.map((a) => a.path[0]!));
    const body: Record<string, unknown> = {};
    for (const key of changed) {
      if (key === 'client_secret') body.client_secret = desired!.writeOnly.client_secret;
      else body[key] = desired!.attrs[key] ?? null;
    }
    await client.request({ method: 'PUT', route: '/api/v1/admin/oauth/providers/:id', params: { id: change.id! }, body, expect: [200] });
    return { id: change.id };
  },

  /** DELETE /api/v1/admin/oauth/providers/:id → 200. */
  async delete({ client, change }: ApplyRequest): Promise<void> {
    await client.request({ method: 'DELETE', route: '/api/v1/admin/oauth/providers/:id', params: { id: change.id! }, expect: [200, 404] });
  },
};

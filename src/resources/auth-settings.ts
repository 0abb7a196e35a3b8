/**
 * Authentication settings (shared/fluxbase-api keys-webhooks-settings §9): one instance-wide
 * resource, `auth_settings`. The real PUT /api/v1/admin/auth/settings REPLACES all twelve keys
 * (missing ones become false/0), so apply re-reads them, merges the declared keys and sends all
 * twelve. If any of the four overridable keys is locked by a FLUXBASE_* environment variable the
 * server refuses every PUT (409 ENV_OVERRIDE), so the changes are dropped with a warning.
 */
import { warning } from '../diag/index.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import { sourceOf } from './common.js';
import { AUTH_SETTINGS_FLOOR, floorHazards, settingChanges } from './security-floor.js';
import type { ApplyRequest, ApplyResult, DesiredRequest, ListRequest, PlanRequest, PlanResult, ResourceHandler, SpecFragment, ToSpecRequest } from './types.js';

const ADDRESS = 'auth_settings';

/** The twelve keys GET returns and PUT writes. */
export const AUTH_SETTING_KEYS = [
  'enable_signup', 'require_email_verification', 'enable_magic_link', 'password_min_length',
  'password_require_uppercase', 'password_require_lowercase', 'password_require_number',
  'password_require_special', 'session_timeout_minutes', 'max_sessions_per_user',
  'disable_dashboard_password_login', 'disable_app_password_login',
] as const;

/** What GET shows for a key nothing was stored for (keys doc §9). */
export const AUTH_SETTING_DEFAULTS: Readonly<Record<(typeof AUTH_SETTING_KEYS)[number], boolean | number>> = {
  enable_signup: false,
  require_email_verification: false,
  enable_magic_link: false,
  password_min_length: 8,
  password_require_uppercase: false,
  password_require_lowercase: false,
  password_require_number: false,
  password_require_special: false,
  session_timeout_minutes: 60,
  max_sessions_per_user: 5,
  disable_dashboard_password_login: false,
  disable_app_password_login: false,
};

type AuthSettingsJson = Record<string, unknown> & { _overrides?: Record<string, { env_var?: string }> };

function pick(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(AUTH_SETTING_KEYS.map((k) => [k, body[k]]));
}

export const authSettingsHandler: ResourceHandler = {
  kind: 'auth_settings',
  scope: 'instance',
  rules: [],

  desired({ config, sources }: DesiredRequest): DesiredResource[] {
    const auth = config.settings?.auth;
    if (!auth) return [];
    return [{ address: ADDRESS, kind: 'auth_settings', attrs: { ...auth }, writeOnly: {}, dependsOn: [], preventDestroy: false, builtin: true, source: sourceOf(sources, ['settings', 'auth']), path: ['settings', 'auth'] }];
  },

  async list({ client }: ListRequest): Promise<LiveResource[]> {
    const res = await client.request<AuthSettingsJson>({ method: 'GET', route: '/api/v1/admin/auth/settings' });
    const attrs = pick(res.body);
    return [{ address: ADDRESS, kind: 'auth_settings', attrs, builtin: true, meta: { overrides: res.body._overrides ?? {} } }];
  },

  /** The keys that differ from the server's defaults and are not locked by its environment. */
  toSpec({ live, includeInternal }: ToSpecRequest): SpecFragment {
    const locked = (live.meta?.overrides ?? {}) as Record<string, unknown>;
    const spec = Object.fromEntries(
      AUTH_SETTING_KEYS.filter((k) => live.attrs[k] !== undefined && !(k in locked) && (includeInternal || live.attrs[k] !== AUTH_SETTING_DEFAULTS[k])).map((k) => [k, live.attrs[k]]),
    );
    return { path: ['settings', 'auth'], spec: Object.keys(spec).length > 0 ? spec : undefined };
  },

  plan({ change, live }: PlanRequest): PlanResult {
    const overrides = (live?.meta?.overrides ?? {}) as Record<string, { env_var?: string }>;
    const locked = Object.entries(overrides).map(([k, v]) => `${k} (${v.env_var ?? 'environment'})`);
    if (change.attributes.length === 0) return {};
    if (locked.length === 0) return { hazards: floorHazards(AUTH_SETTINGS_FLOOR, settingChanges(change.attributes, 'settings.auth')) };
    return {
      drop: change.attributes.map((a) => a.path),
      diagnostics: [
        warning('api.env-override', `settings.auth is not changed: the server locks ${locked.join(', ')} and then refuses every auth-settings update`, {
          address: ADDRESS,
          detail: `Unset those environment variables on the server to manage ${change.attributes.map((a) => a.path.join('.')).join(', ')} here, or remove them from the configuration.`,
        }),
      ],
    };
  },

  create: (req) => write(req),
  update: (req) => write(req),

  /** Auth settings are never deleted; removing them from the config leaves them as they are. */
  async delete(): Promise<void> {},
};

/** GET, merge declared keys, PUT all twelve keys (the server's full replacement). */
async function write({ client, desired }: ApplyRequest): Promise<ApplyResult> {
  const current = (await client.request<AuthSettingsJson>({ method: 'GET', route: '/api/v1/admin/auth/settings' })).body;
  await client.request({ method: 'PUT', route: '/api/v1/admin/auth/settings', body: { ...pick(current), ...desired!.attrs }, expect: [200] });
  return {};
}

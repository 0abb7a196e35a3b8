/**
 * System settings (shared/fluxbase-api keys-webhooks-settings §5): instance-wide key → value rows,
 * `system_setting["app.auth.signup_enabled"]`. PUT /api/v1/admin/system/settings/{key} upserts,
 * but only for the server's whitelisted keys; DELETE removes the row (the server's default
 * applies again). Values are stored as {"value": X}. A key locked by a FLUXBASE_* environment
 * variable cannot be written (409): its change is dropped with a warning. Credentials among the
 * whitelisted keys are write-only.
 */
import { warning } from '../diag/index.js';
import { formatAddress, parseAddress } from '../model/address.js';
import { floorHazards, SYSTEM_SETTINGS_FLOOR } from './security-floor.js';
import { canonicalJson, fingerprint } from '../model/canonical.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import { compact, preventDestroy, sourceOf } from './common.js';
import type { ApplyRequest, ApplyResult, DesiredRequest, ListRequest, PlanRequest, PlanResult, ResourceHandler, SpecFragment, ToSpecRequest } from './types.js';

/** Keys PUT /system/settings accepts (internal/auth/system_settings.go whitelist). */
export const SYSTEM_SETTING_KEYS: ReadonlySet<string> = new Set([
  'app.auth.signup_enabled', 'app.auth.magic_link_enabled', 'app.auth.password_min_length', 'app.auth.require_email_verification',
  'app.realtime.enabled', 'app.storage.enabled', 'app.functions.enabled', 'app.ai.enabled', 'app.rpc.enabled', 'app.jobs.enabled',
  'app.email.enabled', 'app.email.provider', 'app.email.from_address', 'app.email.from_name', 'app.email.smtp_host',
  'app.email.smtp_port', 'app.email.smtp_username', 'app.email.smtp_password', 'app.email.smtp_tls',
  'app.email.sendgrid_api_key', 'app.email.mailgun_api_key', 'app.email.mailgun_domain', 'app.email.ses_access_key',
  'app.email.ses_secret_key', 'app.email.ses_region', 'app.security.enable_global_rate_limit',
  'app.security.captcha.enabled', 'app.security.captcha.provider', 'app.security.captcha.site_key',
  'app.security.captcha.secret_key', 'app.security.captcha.score_threshold', 'app.security.captcha.endpoints',
  'app.security.captcha.cap_server_url', 'app.security.captcha.cap_api_key',
]);

/** Whitelisted keys that hold credentials: handled as write-only values. */
export const SENSITIVE_SYSTEM_KEYS: ReadonlySet<string> = new Set([
  'app.email.smtp_password', 'app.email.sendgrid_api_key', 'app.email.mailgun_api_key', 'app.email.ses_access_key',
  'app.email.ses_secret_key', 'app.security.captcha.secret_key', 'app.security.captcha.cap_api_key',
]);

/** The value the server assumes for a key without a row (internal/auth/system_settings.go settingDefaults). */
export const SYSTEM_SETTING_DEFAULTS: Readonly<Record<string, unknown>> = {
  'app.auth.signup_enabled': true, 'app.auth.magic_link_enabled': false, 'app.auth.password_min_length': 12,
  'app.auth.require_email_verification': false, 'app.realtime.enabled': true, 'app.storage.enabled': true,
  'app.functions.enabled': true, 'app.ai.enabled': true, 'app.rpc.enabled': true, 'app.jobs.enabled': true,
  'app.email.enabled': true, 'app.email.provider': '', 'app.security.enable_global_rate_limit': true,
  'app.email.from_address': '', 'app.email.from_name': '', 'app.email.smtp_host': '', 'app.email.smtp_port': 587,
  'app.email.smtp_username': '', 'app.email.smtp_tls': true, 'app.email.mailgun_domain': '', 'app.email.ses_region': 'us-east-1',
  'app.security.captcha.enabled': false, 'app.security.captcha.provider': 'hcaptcha', 'app.security.captcha.site_key': '',
  'app.security.captcha.score_threshold': 0.5, 'app.security.captcha.endpoints': ['signup', 'login', 'password_reset', 'magic_link'],
  'app.security.captcha.cap_server_url': '',
};

/** Keys app settings also write (settings.app section.field → system key), to catch double management. */
export const APP_SETTING_KEYS: Record<string, string> = {
  'authentication.enable_signup': 'app.auth.signup_enabled',
  'authentication.enable_magic_link': 'app.auth.magic_link_enabled',
  'authentication.password_min_length': 'app.auth.password_min_length',
  'authentication.require_email_verification': 'app.auth.require_email_verification',
  'features.enable_realtime': 'app.realtime.enabled',
  'features.enable_storage': 'app.storage.enabled',
  'features.enable_functions': 'app.functions.enabled',
  'security.enable_global_rate_limit': 'app.security.enable_global_rate_limit',
};

const APP_SETTING_ROWS: ReadonlySet<string> = new Set(Object.values(APP_SETTING_KEYS));

/**
 * Rows that app settings' email section shows and writes whole (enabled, provider, sender):
 * `fluxbase export` declares them there (app-settings.ts APP_EMAIL_DEFAULTS), never here.
 */
export const SHARED_EMAIL_KEYS: ReadonlySet<string> = new Set(['app.email.enabled', 'app.email.provider', 'app.email.from_address', 'app.email.from_name']);

/** A row of GET /api/v1/admin/system/settings. */
interface SystemSettingJson {
  key: string;
  value: unknown;
  description?: string;
  is_overridden?: boolean;
  override_source?: string;
}

/** `system_setting["<key>"]` */
export function systemSettingAddress(key: string): string {
  return formatAddress('system_setting', [key]);
}

/** The setting's value from the stored form: {"value": X} → X; any other object as is. */
export function unwrapValue(stored: unknown): unknown {
  if (stored && typeof stored === 'object' && !Array.isArray(stored) && Object.keys(stored).length === 1 && 'value' in stored) {
    return (stored as { value: unknown }).value;
  }
  return stored;
}

export const systemSettingHandler: ResourceHandler = {
  kind: 'system_setting',
  scope: 'instance',
  rules: [],
  writeOnly: ['value'],

  desired({ config, sources, preventDestroyDefault }: DesiredRequest): DesiredResource[] {
    return Object.entries(config.settings?.system ?? {}).map(([key, setting]) => {
      const path = ['settings', 'system', key];
      const sensitive = SENSITIVE_SYSTEM_KEYS.has(key);
      const writeOnly: Record<string, string | null> = sensitive ? { value: canonicalJson(setting!.value) } : {};
      return {
        address: systemSettingAddress(key),
        kind: 'system_setting',
        attrs: compact({ value: sensitive ? undefined : setting!.value, description: setting!.description }),
        writeOnly,
        dependsOn: [],
        preventDestroy: preventDestroyDefault,
        source: sourceOf(sources, path),
        path,
        meta: { key },
      };
    });
  },

  /** GET /api/v1/admin/system/settings lists every row of app.settings; only whitelisted keys are system settings. */
  async list({ client }: ListRequest): Promise<LiveResource[]> {
    const res = await client.request<SystemSettingJson[] | null>({ method: 'GET', route: '/api/v1/admin/system/settings' });
    return (res.body ?? [])
      .filter((row) => SYSTEM_SETTING_KEYS.has(row.key))
      .map((row) => {
        const sensitive = SENSITIVE_SYSTEM_KEYS.has(row.key);
        const attrs = { ...(sensitive ? {} : { value: unwrapValue(row.value) }), description: row.description ?? '' };
        return {
          address: systemSettingAddress(row.key),
          kind: 'system_setting' as const,
          id: row.key,
          attrs,
          fingerprint: fingerprint({ ...attrs, value: sensitive ? fingerprint(row.value) : attrs.value }),
          meta: { key: row.key, overriddenBy: row.is_overridden ? (row.override_source ?? 'an environment variable') : undefined },
          // Rows app settings write (settings.app) are reported there, not as unmanaged system settings.
          hidden: APP_SETTING_ROWS.has(row.key) || row.key.startsWith('app.email.'),
        };
      });
  },

  /**
   * A stored row whose value differs from the server's default, or that has a description. A row
   * locked by the server's environment is reported instead (it can only change there). Credential
   * keys are write-only. The email sender rows are declared with app settings (SHARED_EMAIL_KEYS).
   */
  toSpec({ live, includeInternal }: ToSpecRequest): SpecFragment | undefined {
    const key = live.meta!.key as string;
    if (SHARED_EMAIL_KEYS.has(key)) return undefined;
    const path = ['settings', 'system', key];
    if (live.meta?.overriddenBy) return { path, notes: [`locked by ${String(live.meta.overriddenBy)} on the server`] };
    const description = live.attrs.description ? (live.attrs.description as string) : undefined;
    if (SENSITIVE_SYSTEM_KEYS.has(key)) return { path, spec: compact({ description }), writeOnly: [{ attribute: 'value', path: ['value'] }] };
    const atDefault = canonicalJson(live.attrs.value) === canonicalJson(SYSTEM_SETTING_DEFAULTS[key] ?? null);
    if (atDefault && description === undefined && !includeInternal) return undefined;
    return { path, spec: compact({ value: live.attrs.value, description }) };
  },

  plan({ change, live }: PlanRequest): PlanResult {
    const lockedBy = live?.meta?.overriddenBy as string | undefined;
    if (change.action === 'no-op') return {};
    if (!lockedBy) {
      // Without a row the server's default applies: a create changes from it, a delete back to it.
      const key = parseAddress(change.address)!.segments[0]!;
      const fallback = SYSTEM_SETTING_DEFAULTS[key];
      const before = change.action === 'create' ? fallback : change.before?.value;
      const after = change.action === 'delete' ? fallback : change.after?.value;
      return { hazards: floorHazards(SYSTEM_SETTINGS_FLOOR, [{ key, label: `settings.system["${key}"]`, before, after }]) };
    }
    return {
      drop: change.attributes.map((a) => a.path),
      diagnostics: [
        warning('api.env-override', `not changed: the server locks this setting with ${lockedBy}`, {
          address: change.address,
          detail: 'Change it through the server environment, or remove it from the configuration.',
        }),
      ],
    };
  },

  create: (req) => put(req),
  update: (req) => put(req),

  /** DELETE /api/v1/admin/system/settings/{key} → 204: the server's default applies again. */
  async delete({ client, change }: ApplyRequest): Promise<void> {
    await client.request({ method: 'DELETE', route: '/api/v1/admin/system/settings/*', params: {}, rawPath: `/api/v1/admin/system/settings/${change.id}`, expect: [204, 404] });
  },
};

/** PUT /api/v1/admin/system/settings/{key} {"value":{"value":X},"description":…} (description is overwritten, so the live one is kept when undeclared). */
async function put({ client, change, desired }: ApplyRequest): Promise<ApplyResult> {
  const key = desired!.meta!.key as string;
  const value = 'value' in desired!.writeOnly ? (JSON.parse(desired!.writeOnly.value!) as unknown) : desired!.attrs.value;
  const description = (desired!.attrs.description as string | undefined) ?? ((change.before?.description as string | undefined) ?? '');
  await client.request({
    method: 'PUT',
    route: '/api/v1/admin/system/settings/*',
    rawPath: `/api/v1/admin/system/settings/${key}`,
    body: { value: { value }, description },
    expect: [200],
  });
  return { id: key };
}

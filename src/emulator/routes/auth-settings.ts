/**
 * Auth settings `GET/PUT /api/v1/admin/auth/settings` (`internal/api/oauth_provider_handler.go`
 * GetAuthSettings / UpdateAuthSettings; keys doc §9). Roles admin / instance_admin.
 *
 * Storage: `app.settings` rows with category `auth` and **unprefixed** keys (`enable_signup`…),
 * raw JSON values (`true`, `12`), no tenant. The runtime reads `app.auth.*` instead, so these
 * rows change nothing but `disable_dashboard_password_login` (dashboard SSO login).
 *
 * - GET: the 12 keys with defaults (8 / 60 / 5 for the numbers, false otherwise) and
 *   `_overrides` (omitted when empty) for the 4 overridable keys locked by the environment.
 * - PUT: full replacement (zero values for missing keys) → `200 {success,message}`. Checks in
 *   order: body; any of the 4 overridable keys env-locked → `409 ENV_OVERRIDE` whatever the
 *   request changes; `disable_dashboard_password_login: true` without an enabled OAuth provider
 *   allowing dashboard login → `400 NO_SSO_PROVIDERS`; `disable_app_password_login: true`
 *   without one allowing app login → `400 NO_APP_SSO_PROVIDERS` (config-file providers do not
 *   count; SAML providers are not emulated).
 */
import type { EmulatorApp } from '../app.js';
import type { Router } from '../http/router.js';
import type { StructSpec } from '../http/bind.js';
import { parseBody, sendCode, sendSuccess } from '../http/errors.js';
import { ADMIN_ONLY, ADMIN_PREFIX, adminChain } from './chains.js';
import { envVarName } from '../settings/env.js';

/** The 12 keys in response order, with their kind and GET default. */
const FIELDS: Array<[string, 'bool' | 'int', boolean | number]> = [
  ['enable_signup', 'bool', false],
  ['require_email_verification', 'bool', false],
  ['enable_magic_link', 'bool', false],
  ['password_min_length', 'int', 8],
  ['password_require_uppercase', 'bool', false],
  ['password_require_lowercase', 'bool', false],
  ['password_require_number', 'bool', false],
  ['password_require_special', 'bool', false],
  ['session_timeout_minutes', 'int', 60],
  ['max_sessions_per_user', 'int', 5],
  ['disable_dashboard_password_login', 'bool', false],
  ['disable_app_password_login', 'bool', false],
];

/** The overridable fields and the `app.auth.*` keys whose variables lock them. */
const OVERRIDABLE: Array<[string, string]> = [
  ['enable_signup', 'app.auth.signup_enabled'],
  ['enable_magic_link', 'app.auth.magic_link_enabled'],
  ['password_min_length', 'app.auth.password_min_length'],
  ['require_email_verification', 'app.auth.require_email_verification'],
];

const SPEC: StructSpec = { ...Object.fromEntries(FIELDS.map(([name, kind]) => [name, kind])), _overrides: 'map[string]any' };

async function countProviders(app: EmulatorApp, column: 'allow_dashboard_login' | 'allow_app_login'): Promise<number> {
  const r = await app.main.query<{ n: number }>(`SELECT count(*)::int AS n FROM platform.oauth_providers WHERE enabled = true AND ${column} = true`);
  return r.rows[0]?.n ?? 0;
}

export function registerAuthSettings(router: Router, app: EmulatorApp): void {
  const p = `${ADMIN_PREFIX}/auth/settings`;
  const chain = adminChain(app, ADMIN_ONLY);

  router.add('GET', p, ...chain, async (ctx) => {
    const out: Record<string, unknown> = Object.fromEntries(FIELDS.map(([name, , def]) => [name, def]));
    const r = await app.main.query<{ key: string; value: unknown }>("SELECT key, value FROM app.settings WHERE category = 'auth'");
    for (const { key, value } of r.rows) {
      const field = FIELDS.find(([name]) => name === key);
      if (!field) continue;
      if (field[1] === 'bool' && typeof value === 'boolean') out[key] = value;
      if (field[1] === 'int' && typeof value === 'number') out[key] = Math.trunc(value);
    }
    const overrides: Record<string, unknown> = {};
    for (const [field, key] of [...OVERRIDABLE].sort((a, b) => a[0].localeCompare(b[0]))) {
      if (app.env.isOverridden(key)) overrides[field] = { is_overridden: true, env_var: envVarName(key) };
    }
    if (Object.keys(overrides).length > 0) out._overrides = overrides;
    ctx.json(200, out);
  });

  router.add('PUT', p, ...chain, async (ctx) => {
    const req = parseBody<Record<string, boolean | number>>(ctx, SPEC);
    if (!req) return;
    const locked = OVERRIDABLE.find(([, key]) => app.env.isOverridden(key));
    if (locked) {
      return sendCode(ctx, 409, `Setting '${locked[0]}' cannot be updated because it is overridden by an environment variable`, 'ENV_OVERRIDE');
    }
    if (req.disable_dashboard_password_login === true && (await countProviders(app, 'allow_dashboard_login')) === 0) {
      return sendCode(
        ctx,
        400,
        "Cannot disable password login: No SSO providers are configured for dashboard login. Configure at least one OAuth or SAML provider with 'Allow dashboard login' enabled first.",
        'NO_SSO_PROVIDERS',
      );
    }
    if (req.disable_app_password_login === true && (await countProviders(app, 'allow_app_login')) === 0) {
      return sendCode(
        ctx,
        400,
        "Cannot disable password login: No OAuth or SAML providers are configured for app login. Configure at least one OAuth or SAML provider with 'Allow app login' enabled first.",
        'NO_APP_SSO_PROVIDERS',
      );
    }
    for (const [name] of FIELDS) {
      try {
        await app.main.query(
          `INSERT INTO app.settings (key, value, category, updated_at) VALUES ($1, $2::jsonb, 'auth', clock_timestamp())
           ON CONFLICT (key) WHERE user_id IS NULL DO UPDATE SET value = EXCLUDED.value, updated_at = clock_timestamp()`,
          [name, JSON.stringify(req[name])],
        );
      } catch (e) {
        app.log(`auth setting ${name} failed: ${(e as Error).message}`);
        return sendCode(ctx, 500, `Failed to update setting: ${name}`, 'INTERNAL_ERROR');
      }
    }
    sendSuccess(ctx, 'Authentication settings updated successfully');
  });
}

/**
 * System settings `/api/v1/admin/system/settings[/*key]` (`internal/api/system_settings_handler.go`,
 * `internal/auth/system_settings.go`; keys doc §5). Roles admin / instance_admin. Instance-global,
 * over every row of `app.settings`.
 *
 * | route | success | errors |
 * |---|---|---|
 * | GET /          | 200 bare array of every row by key (`null` when none), each with `is_overridden` / `override_source` | |
 * | GET /*key      | 200 row, or a synthesised one (nil id, zero times) for an absent whitelisted key | 404 `Setting not found` |
 * | PUT /*key      | 200 row (upsert, category `system`, description overwritten) | 400 body (value must be an object), 400 `Invalid setting key`, 409 env-locked |
 * | DELETE /*key   | 204 (every row with the key) | 404 |
 * The key is the raw rest of the path (not URL-decoded); `value` is always an object, legacy raw
 * values read back wrapped as `{"value": raw}`.
 */
import type { EmulatorApp } from '../app.js';
import type { Ctx } from '../http/context.js';
import type { Router } from '../http/router.js';
import { parseBody, sendCode } from '../http/errors.js';
import { rfc3339, sortKeys } from '../http/json.js';
import { ADMIN_ONLY, ADMIN_PREFIX, adminChain } from './chains.js';
import { envBool, envInt, envVarName } from '../settings/env.js';
import { getSettingRow, listAllSettings, systemValue, upsertSystemSetting } from '../settings/store.js';
import type { SettingRow } from '../settings/store.js';

type Kind = 'bool' | 'string' | 'int' | 'float' | 'list';

/** The PUT whitelist with the defaults GET synthesises (`settingDefaults`). */
export const SYSTEM_SETTING_DEFAULTS: Readonly<Record<string, { kind: Kind; value: unknown }>> = {
  'app.auth.signup_enabled': { kind: 'bool', value: true },
  'app.auth.magic_link_enabled': { kind: 'bool', value: false },
  'app.auth.password_min_length': { kind: 'int', value: 12 },
  'app.auth.require_email_verification': { kind: 'bool', value: false },
  'app.realtime.enabled': { kind: 'bool', value: true },
  'app.storage.enabled': { kind: 'bool', value: true },
  'app.functions.enabled': { kind: 'bool', value: true },
  'app.ai.enabled': { kind: 'bool', value: true },
  'app.rpc.enabled': { kind: 'bool', value: true },
  'app.jobs.enabled': { kind: 'bool', value: true },
  'app.email.enabled': { kind: 'bool', value: true },
  'app.email.provider': { kind: 'string', value: '' },
  'app.security.enable_global_rate_limit': { kind: 'bool', value: true },
  'app.email.from_address': { kind: 'string', value: '' },
  'app.email.from_name': { kind: 'string', value: '' },
  'app.email.smtp_host': { kind: 'string', value: '' },
  'app.email.smtp_port': { kind: 'int', value: 587 },
  'app.email.smtp_username': { kind: 'string', value: '' },
  'app.email.smtp_password': { kind: 'string', value: '' },
  'app.email.smtp_tls': { kind: 'bool', value: true },
  'app.email.sendgrid_api_key': { kind: 'string', value: '' },
  'app.email.mailgun_api_key': { kind: 'string', value: '' },
  'app.email.mailgun_domain': { kind: 'string', value: '' },
  'app.email.ses_access_key': { kind: 'string', value: '' },
  'app.email.ses_secret_key': { kind: 'string', value: '' },
  'app.email.ses_region': { kind: 'string', value: 'us-east-1' },
  'app.security.captcha.enabled': { kind: 'bool', value: false },
  'app.security.captcha.provider': { kind: 'string', value: 'hcaptcha' },
  'app.security.captcha.site_key': { kind: 'string', value: '' },
  'app.security.captcha.secret_key': { kind: 'string', value: '' },
  'app.security.captcha.score_threshold': { kind: 'float', value: 0.5 },
  'app.security.captcha.endpoints': { kind: 'list', value: ['signup', 'login', 'password_reset', 'magic_link'] },
  'app.security.captcha.cap_server_url': { kind: 'string', value: '' },
  'app.security.captcha.cap_api_key': { kind: 'string', value: '' },
};

const ZERO_TIME = '0001-01-01T00:00:00Z';

function overrideInfo(app: EmulatorApp, key: string): { is_overridden: boolean; override_source?: string } {
  const on = app.env.isOverridden(key);
  return { is_overridden: on, override_source: on ? envVarName(key) : undefined };
}

/** `SystemSetting` JSON of a row. */
function rowJson(app: EmulatorApp, r: SettingRow): Record<string, unknown> {
  const value = systemValue(r.value);
  return {
    id: r.id,
    key: r.key,
    value: value === null ? null : sortKeys(value),
    description: r.description ?? undefined,
    ...overrideInfo(app, r.key),
    created_at: rfc3339(r.created_at),
    updated_at: rfc3339(r.updated_at),
  };
}

/** The value GET synthesises for an absent whitelisted key: the environment, else the default. */
function synthesisedValue(app: EmulatorApp, key: string): unknown {
  const def = SYSTEM_SETTING_DEFAULTS[key];
  if (!def) return undefined;
  const env = app.env.valueOf(key);
  if (env === undefined) return def.value;
  switch (def.kind) {
    case 'bool':
      return envBool(env);
    case 'string':
      return env;
    case 'int':
      return envInt(env) ?? def.value;
    case 'float': {
      const f = Number(env);
      return env.trim() !== '' && Number.isFinite(f) ? f : def.value;
    }
    default:
      return def.value;
  }
}

function wildcardKey(ctx: Ctx): string | undefined {
  const key = ctx.params['*'] ?? '';
  if (key === '') {
    sendCode(ctx, 400, 'Setting key is required', 'MISSING_REQUIRED_FIELD');
    return undefined;
  }
  return key;
}

export function registerSystemSettings(router: Router, app: EmulatorApp): void {
  const p = `${ADMIN_PREFIX}/system/settings`;
  const chain = adminChain(app, ADMIN_ONLY);

  router.add('GET', p, ...chain, async (ctx) => {
    try {
      const rows = await listAllSettings(app.main);
      ctx.json(200, rows.length === 0 ? null : rows.map((r) => rowJson(app, r)));
    } catch {
      sendCode(ctx, 500, 'Failed to retrieve system settings', 'INTERNAL_ERROR');
    }
  });

  router.add('GET', `${p}/*`, ...chain, async (ctx) => {
    const key = wildcardKey(ctx);
    if (!key) return;
    const row = await getSettingRow(app.main, key);
    if (row) return ctx.json(200, rowJson(app, row));
    if (!SYSTEM_SETTING_DEFAULTS[key]) return sendCode(ctx, 404, 'Setting not found', 'NOT_FOUND');
    ctx.json(200, {
      id: '00000000-0000-0000-0000-000000000000',
      key,
      value: { value: synthesisedValue(app, key) },
      ...overrideInfo(app, key),
      created_at: ZERO_TIME,
      updated_at: ZERO_TIME,
    });
  });

  router.add('PUT', `${p}/*`, ...chain, async (ctx) => {
    const key = wildcardKey(ctx);
    if (!key) return;
    const req = parseBody<{ value: Record<string, unknown> | null; description: string }>(ctx, { value: 'map[string]any', description: 'string' });
    if (!req) return;
    if (!SYSTEM_SETTING_DEFAULTS[key]) return sendCode(ctx, 400, 'Invalid setting key', 'INVALID_INPUT');
    if (app.env.isOverridden(key)) {
      return sendCode(ctx, 409, 'This setting cannot be updated because it is overridden by an environment variable', 'CONFLICT');
    }
    try {
      await upsertSystemSetting(app.main, key, req.value, req.description);
    } catch (e) {
      app.log(`system setting update failed: ${(e as Error).message}`);
      return sendCode(ctx, 500, 'Failed to update setting', 'INTERNAL_ERROR');
    }
    const row = await getSettingRow(app.main, key);
    ctx.json(200, row ? rowJson(app, row) : { description: req.description, key, value: req.value });
  });

  router.add('DELETE', `${p}/*`, ...chain, async (ctx) => {
    const key = wildcardKey(ctx);
    if (!key) return;
    const r = await app.main.query('DELETE FROM app.settings WHERE key = $1', [key]);
    if (r.rowCount === 0) return sendCode(ctx, 404, 'Setting not found', 'NOT_FOUND');
    ctx.empty(204);
  });
}

/**
 * App settings `GET/PUT /api/v1/admin/app/settings` (`internal/api/app_settings_handler.go`;
 * keys doc §4). Roles admin / instance_admin / tenant_admin. Instance-global: reads every
 * `app.settings` row and writes `app.*` rows (`{"value": X}`, category `system`, no tenant,
 * description `""`) shared with the system-settings API.
 *
 * GET: the fixed shape with defaults; values come from the rows only (an env override does not
 * change the value shown, it only appears in `overrides`), except the email block, which the
 * config (`emailConfig` option and `FLUXBASE_EMAIL_*` variables) overlays. `password_require_*`,
 * `session_timeout_minutes` and `max_sessions_per_user` are display-only defaults.
 *
 * PUT: sections are processed in the order authentication, features, email, security; a present
 * section is written whole (zero values for missing keys), an absent or `null` one is left alone.
 * A section containing an env-locked key answers `500 "Failed to update <authentication|feature|
 * email|security> settings"`; earlier sections stay written. Emulator choice where the server
 * iterates a Go map (authentication, features): none of that section's keys is written. Email is
 * written in the server's fixed order, so its keys before the locked one are saved. → 200 GET shape.
 */
import type { EmulatorApp } from '../app.js';
import type { Ctx } from '../http/context.js';
import type { Router } from '../http/router.js';
import type { StructSpec } from '../http/bind.js';
import { BindError, bindStruct } from '../http/bind.js';
import { sendCode, sendInvalidBody } from '../http/errors.js';
import { sortKeys } from '../http/json.js';
import { ADMIN_PREFIX, DEFAULT_ROLES, adminChain } from './chains.js';
import { innerValue, listAllSettings, upsertSystemSetting } from '../settings/store.js';
import { envInt } from '../settings/env.js';
import type { EmailConfig } from '../options.js';

const AUTH_SPEC: StructSpec = {
  enable_signup: 'bool',
  enable_magic_link: 'bool',
  password_min_length: 'int',
  require_email_verification: 'bool',
  password_require_uppercase: 'bool',
  password_require_lowercase: 'bool',
  password_require_number: 'bool',
  password_require_special: 'bool',
  session_timeout_minutes: 'int',
  max_sessions_per_user: 'int',
};
const FEATURES_SPEC: StructSpec = { enable_realtime: 'bool', enable_storage: 'bool', enable_functions: 'bool' };
const EMAIL_SPEC: StructSpec = {
  enabled: 'bool',
  provider: 'string',
  from_address: 'string',
  from_name: 'string',
  reply_to_address: 'string',
  smtp: 'map[string]any',
  sendgrid: 'map[string]any',
  mailgun: 'map[string]any',
  ses: 'map[string]any',
};
const SMTP_SPEC: StructSpec = { host: 'string', port: 'int', username: 'string', password: 'string', tls: 'bool' };
const SENDGRID_SPEC: StructSpec = { api_key: 'string' };
const MAILGUN_SPEC: StructSpec = { api_key: 'string', domain: 'string', eu_region: 'bool' };
const SES_SPEC: StructSpec = { region: 'string', access_key_id: 'string', secret_access_key: 'string' };
const SECURITY_SPEC: StructSpec = { enable_global_rate_limit: 'bool' };
const REQUEST_SPEC: StructSpec = { authentication: 'map[string]any', features: 'map[string]any', email: 'map[string]any', security: 'map[string]any' };

type Section = Record<string, unknown>;

/** Response field ↔ stored key, per section (also the `overrides` names). */
const AUTH_KEYS: Array<[string, string]> = [
  ['enable_signup', 'app.auth.signup_enabled'],
  ['enable_magic_link', 'app.auth.magic_link_enabled'],
  ['password_min_length', 'app.auth.password_min_length'],
  ['require_email_verification', 'app.auth.require_email_verification'],
];
const FEATURE_KEYS: Array<[string, string]> = [
  ['enable_realtime', 'app.realtime.enabled'],
  ['enable_storage', 'app.storage.enabled'],
  ['enable_functions', 'app.functions.enabled'],
];
const EMAIL_OVERRIDE_KEYS = [
  'enabled', 'provider', 'from_address', 'from_name', 'reply_to_address', 'smtp.host', 'smtp.port', 'smtp.username', 'smtp.password',
  'smtp.tls', 'sendgrid.api_key', 'mailgun.api_key', 'mailgun.domain', 'mailgun.eu_region', 'ses.region', 'ses.access_key_id', 'ses.secret_access_key',
];
const SECURITY_KEY = 'app.security.enable_global_rate_limit';

/** Go's `strconv.ParseBool` (what viper uses for a bool env value). */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** The effective config email block: the option, then `FLUXBASE_EMAIL_*` variables (viper). */
function emailConfig(app: EmulatorApp): EmailConfig {
  const cfg: EmailConfig = { ...app.opts.emailConfig };
  const env = (name: string): string | undefined => app.env.get(`FLUXBASE_EMAIL_${name}`);
  const str = (name: string, field: 'provider' | 'from_address' | 'from_name' | 'reply_to_address' | 'smtp_host' | 'smtp_username' | 'mailgun_domain' | 'ses_region'): void => {
    const v = env(name);
    if (v !== undefined) cfg[field] = v;
  };
  const enabled = env('ENABLED');
  if (enabled !== undefined) cfg.enabled = parseBool(enabled) ?? cfg.enabled;
  str('PROVIDER', 'provider');
  str('FROM_ADDRESS', 'from_address');
  str('FROM_NAME', 'from_name');
  str('REPLY_TO_ADDRESS', 'reply_to_address');
  str('SMTP_HOST', 'smtp_host');
  const port = env('SMTP_PORT');
  if (port !== undefined) cfg.smtp_port = envInt(port) ?? cfg.smtp_port;
  str('SMTP_USERNAME', 'smtp_username');
  const tls = env('SMTP_TLS');
  if (tls !== undefined) cfg.smtp_tls = parseBool(tls) ?? cfg.smtp_tls;
  str('MAILGUN_DOMAIN', 'mailgun_domain');
  str('SES_REGION', 'ses_region');
  return cfg;
}

/** `buildAppSettings`: the GET shape. */
export async function appSettingsView(app: EmulatorApp): Promise<Record<string, unknown>> {
  const auth: Section = {
    enable_signup: false,
    enable_magic_link: false,
    password_min_length: 8,
    require_email_verification: false,
    password_require_uppercase: false,
    password_require_lowercase: false,
    password_require_number: false,
    password_require_special: false,
    session_timeout_minutes: 60,
    max_sessions_per_user: 5,
  };
  const features: Section = { enable_realtime: true, enable_storage: true, enable_functions: true };
  const email: Section = { enabled: false, provider: 'smtp', from_address: '', from_name: '', reply_to_address: '' };
  let smtp: Section | undefined;
  let mailgun: Section | undefined;
  let ses: Section | undefined;
  const security: Section = { enable_global_rate_limit: false };
  const smtpObj = (): Section => (smtp ??= { host: '', port: 0, username: '', tls: false });
  const mailgunObj = (): Section => (mailgun ??= { domain: '', eu_region: false });
  const sesObj = (): Section => (ses ??= { region: '' });

  for (const row of await listAllSettings(app.main)) {
    const v = innerValue(row.value);
    const isBool = typeof v === 'boolean';
    const isStr = typeof v === 'string';
    const isNum = typeof v === 'number';
    const num = isNum ? Math.trunc(v) : 0;
    switch (row.key) {
      case 'app.auth.signup_enabled': if (isBool) auth.enable_signup = v; break;
      case 'app.auth.magic_link_enabled': if (isBool) auth.enable_magic_link = v; break;
      case 'app.auth.password_min_length': if (isNum) auth.password_min_length = num; break;
      case 'app.auth.require_email_verification': if (isBool) auth.require_email_verification = v; break;
      case 'app.realtime.enabled': if (isBool) features.enable_realtime = v; break;
      case 'app.storage.enabled': if (isBool) features.enable_storage = v; break;
      case 'app.functions.enabled': if (isBool) features.enable_functions = v; break;
      case 'app.email.enabled': if (isBool) email.enabled = v; break;
      case 'app.email.provider': if (isStr) email.provider = v; break;
      case 'app.email.from_address': if (isStr) email.from_address = v; break;
      case 'app.email.from_name': if (isStr) email.from_name = v; break;
      case 'app.email.reply_to_address': if (isStr) email.reply_to_address = v; break;
      case 'app.email.smtp.host': if (isStr) smtpObj().host = v; break;
      case 'app.email.smtp.port': if (isNum) smtpObj().port = num; break;
      case 'app.email.smtp.username': if (isStr) smtpObj().username = v; break;
      case 'app.email.smtp.tls': if (isBool) smtpObj().tls = v; break;
      case 'app.email.mailgun.domain': if (isStr) mailgunObj().domain = v; break;
      case 'app.email.mailgun.eu_region': if (isBool) mailgunObj().eu_region = v; break;
      case 'app.email.ses.region': if (isStr) sesObj().region = v; break;
      case SECURITY_KEY: if (isBool) security.enable_global_rate_limit = v; break;
    }
  }

  const cfg = emailConfig(app);
  if (cfg.enabled) email.enabled = true;
  if (cfg.provider) email.provider = cfg.provider;
  if (cfg.from_address) email.from_address = cfg.from_address;
  if (cfg.from_name) email.from_name = cfg.from_name;
  if (cfg.reply_to_address) email.reply_to_address = cfg.reply_to_address;
  if (cfg.smtp_host || cfg.smtp_port || cfg.smtp_username) {
    const s = smtpObj();
    if (cfg.smtp_host) s.host = cfg.smtp_host;
    if (cfg.smtp_port) s.port = cfg.smtp_port;
    if (cfg.smtp_username) s.username = cfg.smtp_username;
    if (cfg.smtp_tls) s.tls = true;
  }
  if (cfg.mailgun_domain) mailgunObj().domain = cfg.mailgun_domain;
  if (cfg.ses_region) sesObj().region = cfg.ses_region;

  const locked = (pairs: Array<[string, string]>): Record<string, boolean> | undefined => {
    const out: Record<string, boolean> = {};
    for (const [field, key] of pairs) if (app.env.isOverridden(key)) out[field] = true;
    return Object.keys(out).length > 0 ? (sortKeys(out) as Record<string, boolean>) : undefined;
  };
  return {
    authentication: auth,
    features,
    email: {
      enabled: email.enabled,
      provider: email.provider,
      from_address: email.from_address || undefined,
      from_name: email.from_name || undefined,
      reply_to_address: email.reply_to_address || undefined,
      smtp,
      mailgun,
      ses,
    },
    security,
    overrides: {
      authentication: locked(AUTH_KEYS),
      features: locked(FEATURE_KEYS),
      email: locked(EMAIL_OVERRIDE_KEYS.map((f) => [f, `app.email.${f}`])),
      security: locked([['enable_global_rate_limit', SECURITY_KEY]]),
    },
  };
}

interface Parsed {
  authentication: Section | null;
  features: Section | null;
  email: (Section & { smtp: Section | null; sendgrid: Section | null; mailgun: Section | null; ses: Section | null }) | null;
  security: Section | null;
}

/** Binds the request like Go (pointer sections; type errors anywhere → undefined). */
function parseRequest(ctx: Ctx): Parsed | undefined {
  const top = ctx.tryBind<Record<string, Section | null>>(REQUEST_SPEC);
  if (!top) return undefined;
  try {
    const section = (v: Section | null | undefined, spec: StructSpec): Section | null => (v ? bindStruct<Section>(v, spec) : null);
    let email: Parsed['email'] = null;
    if (top.email) {
      const e = bindStruct<Section>(top.email, EMAIL_SPEC);
      email = {
        ...e,
        smtp: section(e.smtp as Section | null, SMTP_SPEC),
        sendgrid: section(e.sendgrid as Section | null, SENDGRID_SPEC),
        mailgun: section(e.mailgun as Section | null, MAILGUN_SPEC),
        ses: section(e.ses as Section | null, SES_SPEC),
      };
    }
    return {
      authentication: section(top.authentication, AUTH_SPEC),
      features: section(top.features, FEATURES_SPEC),
      email,
      security: section(top.security, SECURITY_SPEC),
    };
  } catch (e) {
    if (e instanceof BindError) return undefined;
    throw e;
  }
}

/** Writes `pairs` (key, value) unless one is env-locked; false when locked (nothing written). */
async function writeAll(app: EmulatorApp, pairs: Array<[string, unknown]>): Promise<boolean> {
  if (pairs.some(([key]) => app.env.isOverridden(key))) return false;
  for (const [key, value] of pairs) await upsertSystemSetting(app.main, key, { value }, '');
  return true;
}

/** Writes `pairs` in order, stopping at the first env-locked key; false when one was locked. */
async function writeInOrder(app: EmulatorApp, pairs: Array<[string, unknown]>): Promise<boolean> {
  for (const [key, value] of pairs) {
    if (app.env.isOverridden(key)) return false;
    await upsertSystemSetting(app.main, key, { value }, '');
  }
  return true;
}

function emailPairs(e: NonNullable<Parsed['email']>): Array<[string, unknown]> {
  const pairs: Array<[string, unknown]> = [
    ['app.email.enabled', e.enabled],
    ['app.email.provider', e.provider],
    ['app.email.from_address', e.from_address],
    ['app.email.from_name', e.from_name],
    ['app.email.reply_to_address', e.reply_to_address],
  ];
  if (e.smtp) {
    pairs.push(['app.email.smtp.host', e.smtp.host], ['app.email.smtp.port', e.smtp.port], ['app.email.smtp.username', e.smtp.username], ['app.email.smtp.tls', e.smtp.tls]);
    if (e.smtp.password !== '') pairs.push(['app.email.smtp.password', e.smtp.password]);
  }
  if (e.sendgrid && e.sendgrid.api_key !== '') pairs.push(['app.email.sendgrid.api_key', e.sendgrid.api_key]);
  if (e.mailgun) {
    pairs.push(['app.email.mailgun.domain', e.mailgun.domain], ['app.email.mailgun.eu_region', e.mailgun.eu_region]);
    if (e.mailgun.api_key !== '') pairs.push(['app.email.mailgun.api_key', e.mailgun.api_key]);
  }
  if (e.ses) {
    pairs.push(['app.email.ses.region', e.ses.region]);
    if (e.ses.access_key_id !== '') pairs.push(['app.email.ses.access_key_id', e.ses.access_key_id]);
    if (e.ses.secret_access_key !== '') pairs.push(['app.email.ses.secret_access_key', e.ses.secret_access_key]);
  }
  return pairs;
}

export function registerAppSettings(router: Router, app: EmulatorApp): void {
  const p = `${ADMIN_PREFIX}/app/settings`;
  const chain = adminChain(app, DEFAULT_ROLES);

  router.add('GET', p, ...chain, async (ctx) => {
    try {
      ctx.json(200, await appSettingsView(app));
    } catch {
      sendCode(ctx, 500, 'Failed to retrieve application settings', 'INTERNAL_ERROR');
    }
  });

  router.add('PUT', p, ...chain, async (ctx) => {
    const req = parseRequest(ctx);
    if (!req) return sendInvalidBody(ctx);
    const fail = (section: string): void => sendCode(ctx, 500, `Failed to update ${section} settings`, 'INTERNAL_ERROR');
    if (req.authentication) {
      const a = req.authentication;
      const ok = await writeAll(app, AUTH_KEYS.map(([field, key]) => [key, a[field]]));
      if (!ok) return fail('authentication');
    }
    if (req.features) {
      const f = req.features;
      if (!(await writeAll(app, FEATURE_KEYS.map(([field, key]) => [key, f[field]])))) return fail('feature');
    }
    if (req.email && !(await writeInOrder(app, emailPairs(req.email)))) return fail('email');
    if (req.security && !(await writeAll(app, [[SECURITY_KEY, req.security.enable_global_rate_limit]]))) return fail('security');
    try {
      ctx.json(200, await appSettingsView(app));
    } catch {
      sendCode(ctx, 500, 'Failed to retrieve updated settings', 'INTERNAL_ERROR');
    }
  });
}

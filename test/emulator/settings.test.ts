import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { STOCK_EMAIL_CONFIG } from '../../src/emulator/index.js';
import { envVarName } from '../../src/emulator/settings/env.js';
import { ADMIN, Api, SETUP_TOKEN, setupInstanceAdmin, startPgEmulator, tenantAdminToken } from './helpers.js';

const APP = `${ADMIN}/app/settings`;
const SYS = `${ADMIN}/system/settings`;
const AUTH = `${ADMIN}/auth/settings`;

const DEFAULT_APP = {
  authentication: {
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
  },
  features: { enable_realtime: true, enable_storage: true, enable_functions: true },
  email: { enabled: false, provider: 'smtp' },
  security: { enable_global_rate_limit: false },
  overrides: {},
};

describe('emulator app and system settings (keys doc §4, §5)', () => {
  let emu: RunningEmulator;
  let api: Api;

  beforeAll(async () => {
    emu = await startPgEmulator({ setupToken: SETUP_TOKEN });
    api = new Api(emu);
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('answers the exact default app-settings shape and lists no system rows before setup (null)', async () => {
    const r = await api.get(APP);
    expect(r.text).toBe(JSON.stringify(DEFAULT_APP));
    expect((await api.get(SYS)).body).toBeNull();
    expect((await api.as(await tenantAdminToken(emu)).get(APP)).status).toBe(200);
    expect((await api.as(await tenantAdminToken(emu)).get(SYS)).status).toBe(403);
  });

  it('replaces each present section with zero values, leaves absent ones, and ignores display-only keys', async () => {
    const r = await api.put(APP, { features: { enable_storage: false, enable_ai: true }, authentication: { enable_signup: true, password_require_uppercase: true, session_timeout_minutes: 5 } });
    expect(r.status).toBe(200);
    expect(r.body.features).toEqual({ enable_realtime: false, enable_storage: false, enable_functions: false });
    expect(r.body.authentication).toEqual({ ...DEFAULT_APP.authentication, enable_signup: true, password_min_length: 0 });
    expect(r.body.security).toEqual({ enable_global_rate_limit: false });
    const rows = (await api.get(SYS)).body as Array<{ key: string; value: unknown; description?: string; is_overridden: boolean }>;
    const byKey = Object.fromEntries(rows.map((s) => [s.key, s]));
    expect(byKey['app.storage.enabled']).toMatchObject({ value: { value: false }, description: '', is_overridden: false });
    expect(byKey['app.auth.password_min_length']?.value).toEqual({ value: 0 });
    expect(byKey).not.toHaveProperty('app.auth.password_require_uppercase');
    expect(byKey).not.toHaveProperty('app.security.enable_global_rate_limit');
    expect(rows.map((s) => s.key)).toEqual([...rows.map((s) => s.key)].sort());
    expect((await api.put(APP, { features: { enable_storage: 'no' } })).body.code).toBe('INVALID_REQUEST_BODY');
    expect((await api.put(APP, { features: null })).body.features).toEqual({ enable_realtime: false, enable_storage: false, enable_functions: false });
  });

  it('writes email keys, keeps write-only secrets out of GET, and overlays the config email block', async () => {
    const r = await api.put(APP, { email: { enabled: true, provider: 'smtp', from_address: 'a@b.co', smtp: { host: 'mx', port: 2525, username: 'u', password: 'pw', tls: true }, sendgrid: { api_key: 'sg' } } });
    expect(r.body.email).toEqual({ enabled: true, provider: 'smtp', from_address: 'a@b.co', smtp: { host: 'mx', port: 2525, username: 'u', tls: true } });
    const keys = ((await api.get(SYS)).body as Array<{ key: string }>).map((s) => s.key);
    expect(keys).toEqual(expect.arrayContaining(['app.email.smtp.password', 'app.email.sendgrid.api_key', 'app.email.reply_to_address']));
    // a later section without a password keeps the stored one
    await api.put(APP, { email: { enabled: true, smtp: { host: 'mx2' } } });
    const pw = ((await api.get(`${SYS}/app.email.smtp.password`)).body as { value: unknown }).value;
    expect(pw).toEqual({ value: 'pw' });

    const stock = await startPgEmulator({ emailConfig: STOCK_EMAIL_CONFIG, envOverrides: { FLUXBASE_EMAIL_FROM_NAME: 'Env Name' } });
    try {
      const view = (await new Api(stock).get(APP)).body;
      expect(view.email).toEqual({ enabled: true, provider: 'smtp', from_address: 'noreply@localhost', from_name: 'Env Name', smtp: { host: '', port: 587, username: '', tls: true } });
      expect(view.overrides).toEqual({ email: { from_name: true } });
    } finally {
      await stock.close();
    }
  });

  it('gets, synthesises, upserts and deletes system settings', async () => {
    const absent = await api.get(`${SYS}/app.jobs.enabled`);
    expect(absent.body).toEqual({ id: '00000000-0000-0000-0000-000000000000', key: 'app.jobs.enabled', value: { value: true }, is_overridden: false, created_at: '0001-01-01T00:00:00Z', updated_at: '0001-01-01T00:00:00Z' });
    expect((await api.get(`${SYS}/app.security.captcha.endpoints`)).body.value).toEqual({ value: ['signup', 'login', 'password_reset', 'magic_link'] });
    expect((await api.get(`${SYS}/app.nope`)).body).toMatchObject({ error: 'Setting not found', code: 'NOT_FOUND' });

    const put = await api.put(`${SYS}/app.jobs.enabled`, { value: { value: false, note: 'x' }, description: 'jobs off' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ key: 'app.jobs.enabled', value: { note: 'x', value: false }, description: 'jobs off', is_overridden: false });
    expect(Object.keys(put.body.value)).toEqual(['note', 'value']);
    const again = await api.put(`${SYS}/app.jobs.enabled`, { value: { value: true } });
    expect(again.body).toMatchObject({ id: put.body.id, description: '' }); // description overwritten
    expect((await api.put(`${SYS}/app.jobs.enabled`, { value: true })).body).toMatchObject({ error: 'Invalid request body', code: 'INVALID_REQUEST_BODY' });
    expect((await api.put(`${SYS}/app.auth.password_require_uppercase`, { value: { value: true } })).body).toMatchObject({ error: 'Invalid setting key', code: 'INVALID_INPUT' });

    expect((await api.delete(`${SYS}/app.jobs.enabled`)).status).toBe(204);
    expect((await api.delete(`${SYS}/app.jobs.enabled`)).body).toMatchObject({ error: 'Setting not found' });
    expect((await api.get(`${SYS}/app.jobs.enabled`)).body.id).toBe('00000000-0000-0000-0000-000000000000');
  });

  it('shares rows with app settings and lists every app.settings row, setup_completed and auth rows included', async () => {
    await api.put(`${SYS}/app.realtime.enabled`, { value: { value: true } });
    expect((await api.get(APP)).body.features.enable_realtime).toBe(true);
    await setupInstanceAdmin(api);
    await api.put(AUTH, { password_min_length: 12 });
    const rows = (await api.get(SYS)).body as Array<{ key: string; value: unknown; description?: string }>;
    const setup = rows.find((s) => s.key === 'setup_completed');
    expect(setup).toMatchObject({ description: 'Tracks initial setup completion', value: { completed: true, first_admin_email: 'owner@example.com' } });
    expect(rows.find((s) => s.key === 'password_min_length')?.value).toEqual({ value: 12 }); // raw value wrapped
    expect(rows.find((s) => s.key === 'enable_signup')).not.toHaveProperty('description');
    expect((await api.get(`${SYS}/enable_signup`)).body.value).toEqual({ value: false });
  });
});

describe('environment overrides in app, system and auth settings (keys doc §12.4)', () => {
  let emu: RunningEmulator;
  let api: Api;

  beforeAll(async () => {
    emu = await startPgEmulator({ envOverrides: { FLUXBASE_STORAGE_ENABLED: 'false', FLUXBASE_AUTH_SIGNUP_ENABLED: 'false', FLUXBASE_AUTH_PASSWORD_MIN_LENGTH: '', FLUXBASE_EMAIL_PROVIDER: 'ses' } });
    api = new Api(emu);
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('maps keys to variable names like the server', () => {
    expect(envVarName('app.auth.signup_enabled')).toBe('FLUXBASE_AUTH_SIGNUP_ENABLED');
    expect(envVarName('app.security.captcha.site_key')).toBe('FLUXBASE_SECURITY_CAPTCHA_SITE_KEY');
    expect(envVarName('billing-tier.v2')).toBe('FLUXBASE_BILLING_TIER_V2');
  });

  it('reports overrides in app settings and refuses a section with a locked key (500), keeping earlier sections', async () => {
    const view = (await api.get(APP)).body;
    expect(view.overrides).toEqual({ authentication: { enable_signup: true }, email: { provider: true }, features: { enable_storage: true } });
    expect(view.features.enable_storage).toBe(true); // the value shown comes from the database only
    expect(view.email.provider).toBe('ses'); // …except the email block, which the config overlays

    const r = await api.put(APP, { security: { enable_global_rate_limit: true }, features: { enable_storage: true, enable_realtime: true, enable_functions: true } });
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ error: 'Failed to update feature settings', code: 'INTERNAL_ERROR' });
    expect((await api.get(APP)).body.security.enable_global_rate_limit).toBe(false); // security comes after features
    const auth = await api.put(APP, { authentication: { enable_magic_link: true } });
    expect(auth.body.error).toBe('Failed to update authentication settings');
    expect((await api.get(APP)).body.authentication.enable_magic_link).toBe(false); // nothing of that section written
    const email = await api.put(APP, { email: { enabled: true, provider: 'smtp' } });
    expect(email.body.error).toBe('Failed to update email settings');
    const rows = (await api.get(SYS)).body as Array<{ key: string }>;
    expect(rows.map((s) => s.key)).toEqual(['app.email.enabled']); // written before the locked provider
    expect((await api.put(APP, { security: { enable_global_rate_limit: true } })).status).toBe(200);
  });

  it('annotates system settings and refuses PUT of a locked key with 409', async () => {
    const got = await api.get(`${SYS}/app.storage.enabled`);
    expect(got.body).toMatchObject({ value: { value: false }, is_overridden: true, override_source: 'FLUXBASE_STORAGE_ENABLED' });
    expect((await api.get(`${SYS}/app.auth.password_min_length`)).body).toMatchObject({ value: { value: 12 }, is_overridden: false }); // empty variable locks nothing
    const put = await api.put(`${SYS}/app.storage.enabled`, { value: { value: true } });
    expect(put.status).toBe(409);
    expect(put.body).toMatchObject({ error: 'This setting cannot be updated because it is overridden by an environment variable', code: 'CONFLICT' });
    const list = (await api.get(SYS)).body as Array<{ key: string; is_overridden: boolean; override_source?: string }>;
    expect(list.find((s) => s.key === 'app.email.enabled')).toMatchObject({ is_overridden: false });
    expect(list.find((s) => s.key === 'app.email.enabled')).not.toHaveProperty('override_source');
  });

  it('reports _overrides in auth settings and refuses any PUT with 409 ENV_OVERRIDE', async () => {
    const got = (await api.get(AUTH)).body;
    expect(got._overrides).toEqual({ enable_signup: { is_overridden: true, env_var: 'FLUXBASE_AUTH_SIGNUP_ENABLED' } });
    const put = await api.put(AUTH, { password_require_number: true });
    expect(put.status).toBe(409);
    expect(put.body).toMatchObject({ error: "Setting 'enable_signup' cannot be updated because it is overridden by an environment variable", code: 'ENV_OVERRIDE' });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ADMIN, Api, instanceAdminToken, startPgEmulator, tenantAdminToken } from './helpers.js';

const P = `${ADMIN}/oauth/providers`;
const AUTH = `${ADMIN}/auth/settings`;

const github = { provider_name: 'github', display_name: 'GitHub', client_id: 'cid', client_secret: 's3cret', redirect_url: 'https://app.example.com/cb', scopes: ['user:email'] };

describe('emulator OAuth providers (keys doc §8)', () => {
  let emu: RunningEmulator;
  let api: Api;

  beforeAll(async () => {
    emu = await startPgEmulator({
      configOAuthProviders: [
        { provider_name: 'google', client_id: 'g', client_secret: 'gs', scopes: ['openid'] },
        { provider_name: 'keycloak', display_name: 'Keycloak', issuer_url: 'https://kc.example.com', allow_dashboard_login: true },
      ],
    });
    api = new Api(emu, await instanceAdminToken(emu));
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('lists config-file providers with the nil id after the database ones', async () => {
    const list = (await api.get(P)).body as Array<Record<string, unknown>>;
    expect(list.map((p) => p.provider_name)).toEqual(['google', 'keycloak']);
    expect(list[0]).toMatchObject({
      id: '00000000-0000-0000-0000-000000000000',
      display_name: 'Google',
      enabled: true,
      has_secret: true,
      redirect_url: `${emu.url}/api/v1/auth/oauth/google/callback`,
      is_custom: false,
      allow_app_login: true,
      allow_dashboard_login: false,
      source: 'config',
    });
    expect(list[1]).toMatchObject({ is_custom: true, has_secret: false, scopes: null, allow_dashboard_login: true });
    expect((await api.get(`${P}/00000000-0000-0000-0000-000000000000`)).status).toBe(404);
    expect((await api.as(await tenantAdminToken(emu)).get(P)).status).toBe(403);
  });

  it('creates with a 201 envelope, enabled false by default, and never returns the secret', async () => {
    const r = await api.post(P, github);
    expect(r.status).toBe(201);
    expect(Object.keys(r.body)).toEqual(['created_at', 'id', 'message', 'provider', 'success', 'updated_at']);
    expect(r.body).toMatchObject({ success: true, provider: 'github', message: "OAuth provider 'GitHub' created successfully" });
    expect(r.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const got = (await api.get(`${P}/${r.body.id}`)).body;
    expect(got).toMatchObject({ id: r.body.id, provider_name: 'github', display_name: 'GitHub', enabled: false, has_secret: true, scopes: ['user:email'], is_custom: false, allow_dashboard_login: false, allow_app_login: true });
    for (const absent of ['client_secret', 'source', 'tenant_id', 'authorization_url', 'required_claims']) expect(got).not.toHaveProperty(absent);
    const listed = ((await api.get(P)).body as Array<Record<string, unknown>>).find((p) => p.id === r.body.id);
    expect(listed).toMatchObject({ source: 'database' });
    expect(JSON.stringify((await api.get(P)).body)).not.toContain('s3cret');
  });

  it('validates names, required fields and custom URLs', async () => {
    const bad = await api.post(P, { ...github, provider_name: 'Git-Hub' });
    expect(bad.body).toMatchObject({ error: 'Provider name must start with a letter and contain only lowercase letters, numbers, and underscores (2-50 chars)', code: 'INVALID_INPUT' });
    expect((await api.post(P, { ...github, client_secret: '' })).body).toMatchObject({ error: 'Missing required fields: display_name, client_id, client_secret, redirect_url', code: 'MISSING_REQUIRED_FIELD' });
    expect((await api.post(P, { ...github, provider_name: 'corp', is_custom: true, token_url: 't', user_info_url: 'u' })).body).toMatchObject({
      error: 'Custom providers require authorization_url, token_url, and user_info_url',
    });
    const custom = await api.post(P, { ...github, provider_name: 'corp', display_name: 'Corp', is_custom: true, authorization_url: 'a', token_url: 't', user_info_url: 'u', required_claims: { groups: ['eng'] } });
    expect(custom.status).toBe(201);
    expect((await api.get(`${P}/${custom.body.id}`)).body).toMatchObject({ is_custom: true, authorization_url: 'a', required_claims: { groups: ['eng'] } });
    expect((await api.post(P, { ...github, required_claims: { groups: 'eng' } })).body.code).toBe('INVALID_REQUEST_BODY');
  });

  it('accepts duplicate provider names, ordering the list by display_name', async () => {
    const again = await api.post(P, { ...github, display_name: 'Another GitHub' });
    expect(again.status).toBe(201);
    const names = ((await api.get(P)).body as Array<{ provider_name: string; display_name: string; source: string }>).filter((p) => p.source === 'database');
    expect(names.map((p) => p.display_name)).toEqual(['Another GitHub', 'Corp', 'GitHub']);
    // a database provider named like a config one hides the config entry
    await api.post(P, { ...github, provider_name: 'google', display_name: 'Google DB' });
    const list = (await api.get(P)).body as Array<{ provider_name: string; source: string }>;
    expect(list.filter((p) => p.provider_name === 'google').map((p) => p.source)).toEqual(['database']);
  });

  it('updates partially (empty secret keeps the old one, name immutable) and deletes with 200 envelopes', async () => {
    const { body } = await api.post(P, { ...github, provider_name: 'gitlab', display_name: 'GitLab' });
    const before = (await api.get(`${P}/${body.id}`)).body;
    const r = await api.put(`${P}/${body.id}`, { display_name: 'GitLab EE', enabled: true, client_secret: '', provider_name: 'other', is_custom: true });
    expect(r.body).toEqual({ success: true, message: "OAuth provider 'GitLab EE' updated successfully" });
    const after = (await api.get(`${P}/${body.id}`)).body;
    expect(after).toMatchObject({ provider_name: 'gitlab', display_name: 'GitLab EE', enabled: true, has_secret: true, is_custom: false, client_id: 'cid' });
    expect(after.updated_at >= before.updated_at).toBe(true);
    expect((await api.put(`${P}/${body.id}`, { provider_name: 'x' })).body).toMatchObject({ error: 'No fields to update', code: 'INVALID_INPUT' });
    expect((await api.put(`${P}/${randomUUID()}`, { enabled: true })).body).toMatchObject({ error: 'OAuth provider not found', code: 'NOT_FOUND' });
    expect((await api.put(`${P}/nope`, { enabled: true })).body).toMatchObject({ error: 'Invalid provider ID', code: 'INVALID_ID' });
    expect((await api.delete(`${P}/${body.id}`)).body).toEqual({ success: true, message: "OAuth provider 'GitLab EE' deleted successfully" });
    expect((await api.delete(`${P}/${body.id}`)).status).toBe(404);
  });
});

describe('emulator auth settings (keys doc §9)', () => {
  let emu: RunningEmulator;
  let api: Api;

  beforeAll(async () => {
    emu = await startPgEmulator({ configOAuthProviders: [{ provider_name: 'google', allow_dashboard_login: true }] });
    api = new Api(emu);
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('answers the 12 defaults without _overrides and replaces all keys with zero values on PUT', async () => {
    const r = await api.get(AUTH);
    expect(r.text).toBe(
      '{"enable_signup":false,"require_email_verification":false,"enable_magic_link":false,"password_min_length":8,"password_require_uppercase":false,' +
        '"password_require_lowercase":false,"password_require_number":false,"password_require_special":false,"session_timeout_minutes":60,' +
        '"max_sessions_per_user":5,"disable_dashboard_password_login":false,"disable_app_password_login":false}',
    );
    const put = await api.put(AUTH, { enable_signup: true, password_require_number: true, _overrides: {} });
    expect(put.body).toEqual({ success: true, message: 'Authentication settings updated successfully' });
    const after = (await api.get(AUTH)).body;
    expect(after).toMatchObject({ enable_signup: true, password_require_number: true, password_min_length: 0, session_timeout_minutes: 0, max_sessions_per_user: 0 });
    expect((await api.get(`${ADMIN}/app/settings`)).body.authentication.enable_signup).toBe(false); // the runtime keys are untouched
    expect((await api.put(AUTH, { password_min_length: '12' })).body.code).toBe('INVALID_REQUEST_BODY');
  });

  it('refuses disabling password login without a matching enabled database provider', async () => {
    const dash = await api.put(AUTH, { disable_dashboard_password_login: true });
    expect(dash.status).toBe(400);
    expect(dash.body.code).toBe('NO_SSO_PROVIDERS');
    const app = await api.put(AUTH, { disable_app_password_login: true });
    expect(app.body.code).toBe('NO_APP_SSO_PROVIDERS');
    const admin = api.as(await instanceAdminToken(emu));
    await admin.post(P, { ...github, enabled: true, allow_app_login: true });
    expect((await api.put(AUTH, { disable_app_password_login: true })).status).toBe(200);
    expect((await api.put(AUTH, { disable_dashboard_password_login: true })).body.code).toBe('NO_SSO_PROVIDERS');
    await admin.post(P, { ...github, provider_name: 'okta', enabled: true, allow_dashboard_login: true });
    expect((await api.put(AUTH, { disable_dashboard_password_login: true })).status).toBe(200);
    expect((await api.get(AUTH)).body).toMatchObject({ disable_dashboard_password_login: true, disable_app_password_login: false });
  });
});

/**
 * The other resource kinds under real Terraform — client keys, OAuth providers, auth and app
 * settings, system settings, custom and secret settings — with the provider in debug (reattach)
 * mode: one warm provider process serves every command, configured by the provider block
 * (url, token, admin_email, admin_password) rather than the environment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { api, buildProvider, FluxbaseWorkspace, setupAdmin, startDebugProvider, startTestEmulator, tenantId } from './helpers.js';

interface Knobs {
  changed?: boolean;
}

describe('instance-wide kinds and settings under real terraform (debug mode)', () => {
  let emulator: RunningEmulator;
  let ws: FluxbaseWorkspace;
  let provider: Awaited<ReturnType<typeof startDebugProvider>>;
  let env: NodeJS.ProcessEnv;
  let admin: { email: string; password: string; accessToken: string };

  const config = ({ changed = false }: Knobs = {}) => `
provider "fluxbase" {
  url            = ${JSON.stringify(emulator.url)}
  token          = ${JSON.stringify(emulator.serviceRoleToken)}
  admin_email    = ${JSON.stringify(admin.email)}
  admin_password = ${JSON.stringify(admin.password)}
}
resource "fluxbase_tenant" "kinds" {
  slug = "kinds"
}
resource "fluxbase_client_key" "web" {
  name        = "web"
  description = "${changed ? 'Web app (v2)' : 'Web app'}"
  scopes      = ["tables:read", "auth:read"]
}
resource "fluxbase_oauth_provider" "github" {
  name                     = "github"
  display_name             = "${changed ? 'GitHub SSO' : 'GitHub'}"
  client_id                = "gh-client"
  client_secret_wo         = "gh-secret"
  client_secret_wo_version = 1
  redirect_url             = "https://app.example.com/auth/callback"
  scopes                   = ["read:user", "user:email"]
}
resource "fluxbase_auth_settings" "auth" {
  password_min_length = ${changed ? 14 : 12}
}
resource "fluxbase_app_settings" "app" {
  features = { enable_storage = ${changed ? 'true' : 'false'} }
}
resource "fluxbase_system_setting" "magic_link" {
  key   = "app.auth.magic_link_enabled"
  value = jsonencode(${changed ? 'false' : 'true'})
}
resource "fluxbase_custom_setting" "flags" {
  tenant = fluxbase_tenant.kinds.slug
  key    = "kinds.flags"
  value  = jsonencode({ beta = ${changed ? 'false' : 'true'} })
}
resource "fluxbase_custom_setting" "api_secret" {
  tenant            = fluxbase_tenant.kinds.slug
  key               = "kinds.api_secret"
  secret_wo         = "shh"
  secret_wo_version = 1
}
output "web_key" {
  value     = fluxbase_client_key.web.key
  sensitive = true
}
`;

  beforeAll(async () => {
    const [em, built] = await Promise.all([startTestEmulator({ setupToken: 'tf-kinds' }), buildProvider()]);
    emulator = em;
    admin = await setupAdmin(emulator, 'tf-kinds');
    ws = new FluxbaseWorkspace(built.exe, emulator);
    ws.env.FLUXBASE_URL = '';
    ws.env.FLUXBASE_TOKEN = '';
    provider = await startDebugProvider(built.exe);
    built.remove();
    env = { TF_REATTACH_PROVIDERS: provider.reattach };
  });
  afterAll(async () => {
    provider?.stop();
    ws?.remove();
    await emulator?.close();
  });

  it('applies every kind and reveals the client key once, into state', async () => {
    ws.config(config());
    const apply = await ws.ok(['apply', '-auto-approve'], 0, env);
    expect(apply.stdout).toContain('Apply complete! Resources: 8 added, 0 changed, 0 destroyed.');
    const key = JSON.parse((await ws.ok(['output', '-json', 'web_key'], 0, env)).stdout) as string;
    expect(key.length).toBeGreaterThan(20);
    const auth = await api<{ password_min_length: number }>(emulator, 'GET', '/api/v1/admin/auth/settings');
    expect(auth.body.password_min_length).toBe(12);
    const providers = await api<{ provider_name: string; has_secret: boolean }[]>(emulator, 'GET', '/api/v1/admin/oauth/providers');
    expect(providers.body).toEqual([expect.objectContaining({ provider_name: 'github', has_secret: true })]);
    const secrets = await api<{ key: string }[]>(emulator, 'GET', '/api/v1/admin/settings/custom/secrets', { tenant: await tenantId(emulator, 'kinds'), token: admin.accessToken });
    expect(secrets.body.map((s) => s.key)).toEqual(['kinds.api_secret']);
  });

  it('then plans no changes', async () => {
    const plan = await ws.ok(['plan', '-detailed-exitcode'], 0, env);
    expect(plan.stdout).toContain('No changes.');
  });

  it('applies one change per kind in place', async () => {
    ws.config(config({ changed: true }));
    await ws.ok(['plan', '-out', 'kinds.tfplan'], 0, env);
    expect((await ws.planActions('kinds.tfplan', env)).sort()).toEqual([
      ['fluxbase_app_settings.app', 'update'],
      ['fluxbase_auth_settings.auth', 'update'],
      ['fluxbase_client_key.web', 'update'],
      ['fluxbase_custom_setting.flags', 'update'],
      ['fluxbase_oauth_provider.github', 'update'],
      ['fluxbase_system_setting.magic_link', 'update'],
    ]);
    await ws.ok(['apply', 'kinds.tfplan'], 0, env);
    const auth = await api<{ password_min_length: number }>(emulator, 'GET', '/api/v1/admin/auth/settings');
    expect(auth.body.password_min_length).toBe(14);
    await ws.ok(['plan', '-detailed-exitcode'], 0, env);
  });

  it('detects settings drift made through the API', async () => {
    const current = await api<Record<string, unknown>>(emulator, 'GET', '/api/v1/admin/auth/settings');
    const put = await api(emulator, 'PUT', '/api/v1/admin/auth/settings', { body: { ...current.body, password_min_length: 6 } });
    expect(put.status).toBe(200);
    const plan = await ws.ok(['plan', '-detailed-exitcode', '-out', 'drift.tfplan'], 2, env);
    expect(plan.stdout).toMatch(/password_min_length\s+= 6 -> 14/);
    expect(await ws.planActions('drift.tfplan', env)).toEqual([['fluxbase_auth_settings.auth', 'update']]);
    await ws.ok(['apply', 'drift.tfplan'], 0, env);
    await ws.ok(['plan', '-detailed-exitcode'], 0, env);
  });

  it('destroys: keys, providers and settings rows go, instance settings stay as they are', async () => {
    const res = await ws.ok(['destroy', '-auto-approve'], 0, env);
    expect(res.stdout).toContain('Destroy complete! Resources: 8 destroyed.');
    const keys = await api<unknown[] | null>(emulator, 'GET', '/api/v1/client-keys');
    expect(keys.body ?? []).toEqual([]);
    const providers = await api<unknown[] | null>(emulator, 'GET', '/api/v1/admin/oauth/providers');
    expect(providers.body ?? []).toEqual([]);
    const auth = await api<{ password_min_length: number }>(emulator, 'GET', '/api/v1/admin/auth/settings');
    expect(auth.body.password_min_length).toBe(14);
    expect(provider.child.exitCode).toBeNull(); // one warm process served every command
  });
});

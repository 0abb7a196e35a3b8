/**
 * Every resource kind, end to end (issue 3): the root fluxbase.config.yaml applied to an empty
 * emulator, one attribute of each kind changed, drift on each kind made through the API and
 * repaired, migrations with their SQL and history, and the write-only guarantees.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { api, changesOf, ROOT, setupAdmin, startTestEmulator, tenantId, Workspace } from './harness.js';
import { CANARIES } from './canaries.js';
import { HAZARD_TYPES } from '../../src/model/plan.js';

const ALL_HAZARDS = `--allow-hazards=${HAZARD_TYPES.join(',')}`;

let emulator: RunningEmulator;
let ws: Workspace;
let root: string;

beforeAll(async () => {
  emulator = await startTestEmulator({ setupToken: 'kinds-setup' });
  const admin = await setupAdmin(emulator, 'kinds-setup');
  root = await readFile(path.join(ROOT, 'fluxbase.config.yaml'), 'utf8');
  ws = await Workspace.create(emulator, root, { ...CANARIES, FLUXBASE_ADMIN_EMAIL: admin.email, FLUXBASE_ADMIN_PASSWORD: admin.password });
});

afterAll(async () => {
  await ws?.dispose();
  await emulator?.close();
});

describe('the root configuration, every kind', () => {
  it('applies from empty, revealing new key values only to the 0600 secrets file', async () => {
    const apply = await ws.cli(['apply', '--auto-approve', '--secrets-out', 'keys.env', '--allow-hazards=WEAKENS_SECURITY']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/Apply complete! Resources: \d+ added, 1 changed, 0 destroyed\./);
    const { stat } = await import('node:fs/promises');
    const keys = await readFile(path.join(ws.dir, 'keys.env'), 'utf8');
    // Each value is appended the moment the server returns it (no interruption can lose it), so
    // the lines follow the order the keys were created in.
    expect(keys.split('\n').filter(Boolean).map((l) => l.split('=')[0]).sort()).toEqual([
      'CLIENT_KEY_MOBILE_APP',
      'SERVICE_KEY_ACME_ACME_ETL',
      'SERVICE_KEY_DEFAULT_BLOG_BACKEND',
      'SERVICE_KEY_DEFAULT_PUBLIC_ANON',
    ]);
    expect((await stat(path.join(ws.dir, 'keys.env'))).mode & 0o777).toBe(0o600);
    for (const line of keys.split('\n').filter(Boolean)) expect(apply.stdout).not.toContain(line.split('=')[1]);
  });

  it('then plans no changes', async () => {
    const plan = await ws.cli(['plan', '--detailed-exitcode']);
    expect(plan.stdout).toContain('No changes.');
    expect(plan.code).toBe(0);
  });

  it('ran the SQL the DDL endpoints cannot express as named migrations, kept in the server history', async () => {
    const list = await api<{ name: string; status: string; up_sql: string }[]>(emulator, 'GET', '/api/v1/admin/migrations?namespace=fluxbase-iac');
    const posts = list.body.find((m) => m.name.includes('public.posts'));
    expect(posts?.status).toBe('applied');
    expect(posts?.up_sql).toContain('CONSTRAINT "posts_slug_key" UNIQUE ("slug")');
    expect(posts?.up_sql).toContain('CREATE INDEX "posts_author_created_idx"');
    const history = await api<{ status: string; action: string }[]>(emulator, 'GET', `/api/v1/admin/migrations/${posts!.name}/executions?namespace=fluxbase-iac`);
    expect(history.body).toEqual([expect.objectContaining({ action: 'apply', status: 'success' })]);
  });

  it('plans exactly one update per kind when one attribute of each kind changes', async () => {
    await ws.edit((t) =>
      t
        .replace('enable_functions: false', 'enable_functions: true')
        .replace('password_min_length: 12 ', 'password_min_length: 14 ')
        .replace('value: Fluxbase Blog', 'value: The Fluxbase Blog')
        .replace('display_name: GitHub', 'display_name: GitHub.com')
        .replace('rate_limit_per_minute: 300', 'rate_limit_per_minute: 600')
        .replace('name: Acme Corp', 'name: Acme Corporation')
        .replace('views:        { type: integer, nullable: false, default: 0 }', 'views:        { type: bigint, nullable: false, default: 0 }')
        .replace('using: author_id = auth.uid()\n                posts_write_own', 'using: author_id = auth.uid() AND status <> \'published\'\n                posts_write_own')
        .replace('timeout_seconds: 10', 'timeout_seconds: 15')
        .replace('rate_limit_per_minute: 1200', 'rate_limit_per_minute: 1200\n        enabled: false')
        .replace('new-editor: { enabled: true, rollout: 100 }', 'new-editor: { enabled: true, rollout: 50 }')
        .replace('events: [INSERT, DELETE]', 'events: [INSERT, UPDATE, DELETE]')
        .replace('posts_author_created_idx: { columns: [author_id, created_at] }', 'posts_author_created_idx: { columns: [author_id, created_at] }\n              posts_status_idx: { columns: [status] }'),
    );
    const plan = await ws.cli(['plan', '--json']);
    expect(plan.stderr).toBe('');
    const doc = JSON.parse(plan.stdout) as { changes: { address: string; action: string; attributes: { path: string[] }[]; sql?: string[] }[] };
    const changed = doc.changes.filter((c) => c.action !== 'no-op').map((c) => [c.address, c.action, c.attributes.map((a) => a.path.join('.')).sort()]);
    expect(changed.sort()).toEqual(
      [
        ['app_settings', 'update', ['authentication.password_min_length', 'features.enable_functions']],
        ['client_key.mobile-app', 'update', ['rate_limit_per_minute']],
        ['custom_setting.default["features.flags"]', 'update', ['value.new-editor.rollout']],
        ['oauth_provider.github', 'update', ['display_name']],
        ['policy.default.public.posts.posts_read_own_drafts', 'update', ['using']],
        ['service_key.default.blog-backend', 'update', ['enabled']],
        ['system_setting["app.email.from_name"]', 'update', ['value']],
        ['table.default.public.comments', 'update', ['realtime.events']],
        ['table.default.public.posts', 'update', ['columns.views.type', 'indexes.posts_status_idx']],
        ['tenant.acme', 'update', ['name']],
        ['webhook.default.post-published', 'update', ['timeout_seconds']],
      ].sort(),
    );
    const posts = doc.changes.find((c) => c.address === 'table.default.public.posts');
    expect(posts?.sql).toEqual([
      "SET LOCAL lock_timeout = '3s'",
      'ALTER TABLE "public"."posts" ALTER COLUMN "views" TYPE bigint',
      'CREATE INDEX "posts_status_idx" ON "public"."posts" ("status")',
    ]);
    const text = await ws.cli(['plan']);
    expect(text.stdout).toContain('SQL (applied as a migration):');
    expect(text.stdout).toContain('CREATE INDEX "posts_status_idx" ON "public"."posts" ("status");');
  });

  it('applies them, and the next plan is clean', async () => {
    const apply = await ws.cli(['apply', '--auto-approve', ALL_HAZARDS]);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('0 added, 11 changed, 0 destroyed');
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    const list = await api<{ name: string; up_sql: string }[]>(emulator, 'GET', '/api/v1/admin/migrations?namespace=fluxbase-iac');
    expect(list.body.some((m) => m.up_sql.includes('CREATE INDEX "posts_status_idx"'))).toBe(true);
  });

  it('detects drift made through the API on every kind, and apply repairs it', async () => {
    const token = (await api<{ access_token: string }>(emulator, 'POST', '/api/v1/admin/login', { body: { email: ws.env.FLUXBASE_ADMIN_EMAIL, password: ws.env.FLUXBASE_ADMIN_PASSWORD } })).body.access_token;
    const def = await tenantId(emulator, 'default');
    const acme = await tenantId(emulator, 'acme');
    const drift = async (method: string, route: string, options: { body?: unknown; tenant?: string; token?: string } = {}) => {
      const res = await api(emulator, method, route, options);
      expect(res.status, `${method} ${route}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
      return res;
    };
    const app = (await api<Record<string, Record<string, unknown>>>(emulator, 'GET', '/api/v1/admin/app/settings')).body;
    await drift('PUT', '/api/v1/admin/app/settings', { body: { features: { ...app.features, enable_realtime: false } } });
    const auth = (await api<Record<string, unknown>>(emulator, 'GET', '/api/v1/admin/auth/settings')).body;
    delete auth._overrides;
    // Undeclared auth keys are not managed: changing one is no drift.
    await drift('PUT', '/api/v1/admin/auth/settings', { body: { ...auth, max_sessions_per_user: 99 } });
    await drift('PUT', '/api/v1/admin/system/settings/app.email.from_address', { body: { value: { value: 'spoofed@evil.example' }, description: '' } });
    const providers = (await api<{ id: string; provider_name: string }[]>(emulator, 'GET', '/api/v1/admin/oauth/providers')).body;
    await drift('PUT', `/api/v1/admin/oauth/providers/${providers.find((p) => p.provider_name === 'corp_sso')!.id}`, { body: { enabled: false } });
    const clientKeys = (await api<{ id: string; name: string }[]>(emulator, 'GET', '/api/v1/client-keys')).body;
    await drift('PATCH', `/api/v1/client-keys/${clientKeys[0]!.id}`, { body: { description: 'edited in the dashboard' } });
    await drift('PATCH', `/api/v1/admin/tenants/${acme}`, { body: { metadata: { plan: 'free' } } });
    await drift('POST', '/api/v1/admin/tables/public/profiles/columns', { tenant: def, body: { name: 'nickname', type: 'text', nullable: true } });
    await drift('DELETE', '/api/v1/admin/policies/public/tasks/tasks_authenticated_all', { tenant: acme });
    const hooks = (await api<Record<string, unknown>[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: def })).body;
    const hook = hooks.find((h) => h.name === 'post-published')!;
    await drift('PATCH', `/api/v1/webhooks/${String(hook.id)}`, { tenant: def, body: { ...hook, enabled: false } });
    const keys = (await api<{ id: string; name: string }[]>(emulator, 'GET', '/api/v1/admin/service-keys', { tenant: acme })).body;
    await drift('POST', `/api/v1/admin/service-keys/${keys[0]!.id}/disable`, { tenant: acme });
    await drift('PUT', '/api/v1/admin/settings/custom/acme.features.flags', { tenant: acme, token, body: { value: { 'gantt-view': { enabled: false, rollout: 0 } } } });
    await drift('DELETE', '/api/v1/admin/realtime/tables/public/comments', { tenant: def });

    const plan = await ws.cli(['plan', '--json', '--detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(changesOf(plan.stdout).sort()).toEqual(
      [
        ['app_settings', 'update'],
        ['client_key.mobile-app', 'update'],
        ['custom_setting.acme["acme.features.flags"]', 'update'],
        ['oauth_provider.corp_sso', 'update'],
        ['policy.acme.public.tasks.tasks_authenticated_all', 'create'],
        ['service_key.acme.acme-etl', 'update'],
        ['system_setting["app.email.from_address"]', 'update'],
        ['table.default.public.comments', 'update'],
        ['table.default.public.profiles', 'update'],
        ['tenant.acme', 'update'],
        ['webhook.default.post-published', 'update'],
      ].sort(),
    );
    const apply = await ws.cli(['apply', '--auto-approve', ALL_HAZARDS]);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    const columns = await api<{ columns: { name: string }[] }>(emulator, 'GET', '/api/v1/admin/tables/public/profiles', { tenant: def });
    expect(columns.body.columns.map((c) => c.name)).not.toContain('nickname');
  });
});

describe('server behaviours the tool works around', () => {
  it('replaces a service key with a warning when the server PUT is broken, and reveals the new value once', async () => {
    const broken = await startTestEmulator(); // the real server: PUT /service-keys/{id} answers 500
    const config = `version: 1
tenants:
  ops:
    service_keys:
      deployer:
        description: CI deploys
        scopes: ["*"]
`;
    const local = await Workspace.create(broken, config);
    try {
      expect((await local.cli(['apply', '--auto-approve', '--secrets-out', 'k.env'])).code).toBe(0);
      await local.edit((t) => t.replace('CI deploys', 'CI and CD deploys'));
      const plan = await local.cli(['plan']);
      expect(plan.stderr).toContain('warning[api.capability]');
      expect(plan.stderr).toContain('replaces the key, so its value changes');
      expect(plan.stdout).toContain('# service_key.ops.deployer must be replaced');
      expect(plan.stdout).toContain('~ description: "CI deploys" -> "CI and CD deploys" # forces replacement');
      expect(plan.stdout).toContain('ROTATES_CREDENTIAL');
      const apply = await local.cli(['apply', '--auto-approve', '--allow-hazards=ROTATES_CREDENTIAL', '--secrets-out', 'k.env']);
      expect(apply.code).toBe(0);
      const lines = (await readFile(path.join(local.dir, 'k.env'), 'utf8')).split('\n').filter(Boolean);
      expect(lines).toHaveLength(2);
      expect(lines[0]).not.toBe(lines[1]);
      expect((await local.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
      // Only enabling/disabling: the working endpoints, not a replacement.
      await local.edit((t) => t.replace('scopes: ["*"]', 'scopes: ["*"]\n        enabled: false'));
      const disable = await local.cli(['plan', '--json']);
      expect(changesOf(disable.stdout)).toEqual([['service_key.ops.deployer', 'update']]);
    } finally {
      await local.dispose();
      await broken.close();
    }
  });

  it('skips settings locked by the server environment with a warning instead of failing every apply', async () => {
    const locked = await startTestEmulator({ envOverrides: { FLUXBASE_STORAGE_ENABLED: 'true' } });
    const config = `version: 1
settings:
  app:
    features: { enable_storage: false, enable_realtime: true }
    security: { enable_global_rate_limit: false }
  system:
    app.storage.enabled: { value: false }
`.replace('  system:\n    app.storage.enabled: { value: false }\n', '');
    const local = await Workspace.create(locked, config);
    try {
      const plan = await local.cli(['plan', '--detailed-exitcode']);
      expect(plan.stderr).toContain('warning[api.env-override]: app_settings: settings.app.features is not changed: enable_storage is locked');
      expect(plan.code).toBe(0);
      const apply = await local.cli(['apply', '--auto-approve']);
      expect(apply.code).toBe(0);
    } finally {
      await local.dispose();
      await locked.close();
    }
  });

  it('refuses, at plan time, migrations for a tenant database when only a dashboard login is given', async () => {
    const local = await Workspace.create(
      emulator,
      `version: 1\ntenants:\n  migr:\n    schemas:\n      public:\n        tables:\n          leads:\n            columns:\n              id: { type: bigint, primary_key: true }\n              email: { type: text, unique: true }\n`,
      { FLUXBASE_TOKEN: '', FLUXBASE_ADMIN_EMAIL: ws.env.FLUXBASE_ADMIN_EMAIL!, FLUXBASE_ADMIN_PASSWORD: ws.env.FLUXBASE_ADMIN_PASSWORD! },
    );
    try {
      const plan = await local.cli(['plan']);
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain('error[api.capability]: table.migr.public.leads');
      expect(plan.stderr).toContain('service-role JWT');
    } finally {
      await local.dispose();
    }
  });

  it('explains that custom settings need a dashboard login when only a service-role token is given', async () => {
    const local = await Workspace.create(emulator, `version: 1\ntenants:\n  default:\n    settings:\n      custom:\n        only.token.flag: { value: true }\n`);
    try {
      const plan = await local.cli(['plan']);
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain('error[api.capability]');
      expect(plan.stderr).toContain('FLUXBASE_ADMIN_EMAIL');
    } finally {
      await local.dispose();
    }
  });
});

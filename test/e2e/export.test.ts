/**
 * `fluxbase export` and drift reports (issue 7), end to end against the emulator: an instance
 * configured through the API (never through the tool) with every resource kind is exported and
 * adopted; the first plan is clean; the exported file applied to a second, empty instance exports
 * to the same YAML; no secret appears in any output; drift made through the API after adoption
 * is reported by `plan --refresh-only` / `fluxbase drift` (exit 2) and nothing is changed by it.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { api, changesOf, setupAdmin, startTestEmulator, tenantId, Workspace } from './harness.js';

/** Stderr without the security lints (docs/access.md): the configuration states what is live, insecure parts included. */
const withoutLints = (stderr: string) => stderr.replace(/^\S+ warning\[security\.[^\n]*\n(?: {2}[^\n]*\n)*/gm, '');

/** Secret values set through the API; none may appear in any output of the tool. */
const SECRETS = {
  webhook: 'canary-hook-4f1c77',
  github: 'canary-github-8d2a51',
  stripe: 'canary-stripe-61e0aa',
  smtp: 'canary-smtp-c47b19',
  appSmtp: 'canary-app-smtp-2e5f80',
};

let a: RunningEmulator;
let b: RunningEmulator;
let wsA: Workspace;
let wsB: Workspace;
/** Key values the server returned once at creation (also secrets). */
const keyValues: string[] = [];
let exported = '';
let exportRun = { stdout: '', stderr: '' };
/** Env var name → the secret the API was given, for the variables the export lists. */
let secretEnv: Record<string, string> = {};

async function ok<T>(emu: RunningEmulator, method: string, route: string, options: { body?: unknown; tenant?: string; token?: string } = {}): Promise<T> {
  const res = await api<T>(emu, method, route, options);
  if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function migrate(emu: RunningEmulator, name: string, sql: string, tenant?: string): Promise<void> {
  await ok(emu, 'POST', '/api/v1/admin/migrations', { tenant, body: { name, up_sql: sql } });
  await ok(emu, 'POST', `/api/v1/admin/migrations/${name}/apply`, { tenant, body: {} });
}

/** Configures every resource kind through the API, the way a team configures Fluxbase by hand. */
async function configureByHand(emu: RunningEmulator, adminToken: string): Promise<void> {
  const def = await tenantId(emu, 'default');
  const col = (name: string, type: string, extra: Record<string, unknown> = {}) => ({ name, type, nullable: true, ...extra });
  // Default tenant: a schema of its own, tables (one in `public`), constraints.
  await ok(emu, 'POST', '/api/v1/admin/ddl/schemas', { tenant: def, body: { name: 'blog' } });
  await ok(emu, 'POST', '/api/v1/admin/ddl/tables', {
    tenant: def,
    body: { schema: 'blog', name: 'authors', columns: [col('id', 'uuid', { primaryKey: true, nullable: false, defaultValue: 'gen_random_uuid()' }), col('name', 'text', { nullable: false }), col('joined_at', 'timestamptz', { nullable: false, defaultValue: 'now()' })] },
  });
  await ok(emu, 'POST', '/api/v1/admin/ddl/tables', {
    tenant: def,
    body: {
      schema: 'blog',
      name: 'posts',
      columns: [
        col('id', 'uuid', { primaryKey: true, nullable: false, defaultValue: 'gen_random_uuid()' }),
        col('author_id', 'uuid', { nullable: false }),
        col('slug', 'text', { nullable: false }),
        col('status', 'text', { nullable: false, defaultValue: 'draft' }),
        col('views', 'integer', { nullable: false, defaultValue: '0' }),
        col('score', 'numeric', { defaultValue: '1.50' }),
      ],
    },
  });
  await migrate(
    emu,
    'blog_posts_constraints',
    `ALTER TABLE blog.posts ADD COLUMN tags text[] DEFAULT '{}'::text[];
     ALTER TABLE blog.posts ADD COLUMN title varchar(120);
     ALTER TABLE blog.posts ADD CONSTRAINT posts_slug_key UNIQUE (slug);
     ALTER TABLE blog.posts ADD CONSTRAINT posts_author_id_fkey FOREIGN KEY (author_id) REFERENCES blog.authors (id) ON DELETE CASCADE;
     ALTER TABLE blog.posts ADD CONSTRAINT posts_status_valid CHECK (status IN ('draft', 'review', 'published'));
     CREATE INDEX posts_author_status_idx ON blog.posts (author_id, status);`,
  );
  await ok(emu, 'POST', '/api/v1/admin/ddl/tables', {
    tenant: def,
    body: { schema: 'public', name: 'notes', columns: [col('id', 'bigint', { primaryKey: true, nullable: false }), col('body', 'text', { nullable: false }), col('meta', 'jsonb', { defaultValue: '{}' })] },
  });
  await ok(emu, 'POST', '/api/v1/admin/tables/blog/posts/rls/toggle', { tenant: def, body: { enabled: true } });
  await ok(emu, 'POST', '/api/v1/admin/policies', { tenant: def, body: { schema: 'blog', table: 'posts', name: 'posts_read_published', command: 'SELECT', permissive: true, roles: ['anon', 'authenticated'], using: "status = 'published'" } });
  await ok(emu, 'POST', '/api/v1/admin/policies', {
    tenant: def,
    body: { schema: 'blog', table: 'posts', name: 'posts_write_own', command: 'ALL', permissive: true, roles: ['authenticated'], using: 'author_id = auth.uid()', with_check: "author_id = auth.uid() AND status IN ('draft', 'review')" },
  });
  await ok(emu, 'POST', '/api/v1/admin/policies', { tenant: def, body: { schema: 'blog', table: 'posts', name: 'posts_hide_low_scores', command: 'SELECT', permissive: false, using: 'score BETWEEN 0 AND 10' } });
  await ok(emu, 'POST', '/api/v1/admin/realtime/tables', { tenant: def, body: { schema: 'blog', table: 'posts', events: ['INSERT', 'UPDATE'] } });
  await ok(emu, 'POST', '/api/v1/admin/realtime/tables', { tenant: def, body: { schema: 'public', table: 'notes', exclude: ['meta'] } });
  await ok(emu, 'POST', '/api/v1/webhooks', {
    tenant: def,
    // Both forms, as a team that knows the server's matching rule (F7) sets it up: the qualified
    // name installs the trigger, the bare name matches the events.
    body: { name: 'post-events', url: 'https://hooks.example.com/posts', events: [{ table: 'blog.posts', operations: ['UPDATE', 'INSERT'] }, { table: 'posts', operations: ['INSERT', 'UPDATE'] }], secret: SECRETS.webhook, enabled: true, scope: 'global', headers: { 'X-Source': 'fluxbase' }, max_retries: 5 },
  });
  const backend = await ok<{ key: string }>(emu, 'POST', '/api/v1/admin/service-keys', { tenant: def, body: { name: 'blog-backend', description: 'SSR', key_type: 'service', scopes: ['*'], rate_limit_per_minute: 600 } });
  const reporting = await ok<{ id: string; key: string }>(emu, 'POST', '/api/v1/admin/service-keys', { tenant: def, body: { name: 'reporting', key_type: 'anon', scopes: ['tables:read'] } });
  await ok(emu, 'POST', `/api/v1/admin/service-keys/${reporting.id}/disable`, { tenant: def });
  const mobile = await ok<{ key: string }>(emu, 'POST', '/api/v1/client-keys', { body: { name: 'mobile-app', description: 'iOS and Android', scopes: ['tables:read', 'realtime:connect'], rate_limit_per_minute: 250 } });
  keyValues.push(backend.key, reporting.key, mobile.key);
  await ok(emu, 'POST', '/api/v1/admin/oauth/providers', {
    body: { provider_name: 'github', display_name: 'GitHub', enabled: true, client_id: 'Iv1.abc', client_secret: SECRETS.github, redirect_url: 'https://blog.example.com/cb', scopes: ['user:email'], allow_dashboard_login: true, allow_app_login: true },
  });
  // Instance settings: app (features + an SMTP server), system (one of them a credential).
  await ok(emu, 'PUT', '/api/v1/admin/app/settings', {
    body: { features: { enable_realtime: true, enable_storage: true, enable_functions: false }, email: { enabled: true, provider: 'smtp', from_address: 'blog@example.com', smtp: { host: 'smtp.example.com', port: 2525, username: 'mailer', password: SECRETS.appSmtp, tls: true } } },
  });
  await ok(emu, 'PUT', '/api/v1/admin/system/settings/app.auth.magic_link_enabled', { body: { value: { value: true }, description: 'Passwordless sign-in' } });
  await ok(emu, 'PUT', '/api/v1/admin/system/settings/app.email.smtp_password', { body: { value: { value: SECRETS.smtp }, description: '' } });
  // Custom and secret settings need a dashboard login.
  await ok(emu, 'POST', '/api/v1/admin/settings/custom', { token: adminToken, body: { key: 'features.flags', value: { beta: { enabled: true, rollout: 10 } }, value_type: 'json', description: 'Flags' } });
  await ok(emu, 'POST', '/api/v1/admin/settings/custom', { token: adminToken, body: { key: 'site.title', value: { value: 'Read ${env:HOME} and $${x}, not ${blog}' } } });
  await ok(emu, 'POST', '/api/v1/admin/settings/custom/secret', { token: adminToken, body: { key: 'stripe.key', value: SECRETS.stripe, description: 'Stripe' } });
  // A second tenant with a schema, a table, a PUBLIC policy, a key and a setting.
  const acme = (await ok<{ tenant: { id: string } }>(emu, 'POST', '/api/v1/admin/tenants', { body: { slug: 'acme', name: 'Acme Corp', metadata: { plan: 'enterprise', region: 'eu' } } })).tenant.id;
  await ok(emu, 'POST', '/api/v1/admin/ddl/schemas', { tenant: acme, body: { name: 'crm' } });
  await ok(emu, 'POST', '/api/v1/admin/ddl/tables', {
    tenant: acme,
    body: { schema: 'crm', name: 'contacts', columns: [col('id', 'uuid', { primaryKey: true, nullable: false, defaultValue: 'gen_random_uuid()' }), col('email', 'text', { nullable: false }), col('vip', 'boolean', { nullable: false, defaultValue: 'false' })] },
  });
  await ok(emu, 'POST', '/api/v1/admin/tables/crm/contacts/rls/toggle', { tenant: acme, body: { enabled: true } });
  await ok(emu, 'POST', '/api/v1/admin/policies', { tenant: acme, body: { schema: 'crm', table: 'contacts', name: 'contacts_read', command: 'SELECT', permissive: true, using: 'vip OR email IS NOT NULL' } });
  const etl = await ok<{ key: string }>(emu, 'POST', '/api/v1/admin/service-keys', { tenant: acme, body: { name: 'etl', scopes: ['tables:read'], rate_limit_per_hour: 5000 } });
  keyValues.push(etl.key);
  await ok(emu, 'POST', '/api/v1/admin/settings/custom', { tenant: acme, token: adminToken, body: { key: 'acme.theme', value: { value: 'dark' }, value_type: 'string' } });
}

/** Env var names from the export's header comment, each set to the secret the API was given. */
function secretsFor(yaml: string): Record<string, string> {
  const names = [...yaml.matchAll(/^#\s+([A-Z0-9_]+)\s+\S+ \S+$/gm)].map((m) => m[1]!);
  const byName: Record<string, string> = {
    WEBHOOK_DEFAULT_POST_EVENTS_SECRET: SECRETS.webhook,
    OAUTH_GITHUB_CLIENT_SECRET: SECRETS.github,
    CUSTOM_SETTING_DEFAULT_STRIPE_KEY: SECRETS.stripe,
    SYSTEM_SETTING_APP_EMAIL_SMTP_PASSWORD: SECRETS.smtp,
  };
  expect(names.sort()).toEqual(Object.keys(byName).sort());
  return byName;
}

beforeAll(async () => {
  a = await startTestEmulator({ setupToken: 'export-a' });
  const adminA = await setupAdmin(a, 'export-a');
  await configureByHand(a, adminA.accessToken);
  wsA = await Workspace.create(a, '', { FLUXBASE_ADMIN_EMAIL: adminA.email, FLUXBASE_ADMIN_PASSWORD: adminA.password });
  await rm(wsA.configPath);
});

afterAll(async () => {
  await wsA?.dispose();
  await wsB?.dispose();
  await a?.close();
  await b?.close();
});

describe('fluxbase export --adopt of an instance configured by hand', () => {
  it('writes a valid configuration declaring every kind, with readable SQL and no internal objects', async () => {
    const run = await wsA.cli(['export', '--adopt']);
    exportRun = run;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    exported = await wsA.read();
    secretEnv = secretsFor(exported);
    expect(exported.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=.*schemas\/fluxbase\.config\.schema\.json$/);
    for (const fragment of [
      'app.auth.magic_link_enabled:',
      'app.functions.enabled:',
      'smtp: {host: smtp.example.com, port: 2525, username: mailer, tls: true}',
      'github:',
      'mobile-app:',
      'acme:',
      'name: Acme Corp',
      'crm:',
      'post-events:',
      'reporting:',
      'stripe.key:',
      'value: Read $${env:HOME} and $$${x}, not ${blog}',
      "using: status = 'published' # PostgreSQL renders this as (status = 'published'::text)",
      "with_check: author_id = auth.uid() AND status IN ('draft', 'review')",
      "posts_status_valid: status IN ('draft', 'review', 'published')",
      'using: score >= 0::numeric AND score <= 10::numeric',
      'secret: ${env:WEBHOOK_DEFAULT_POST_EVENTS_SECRET}',
      'client_secret: ${env:OAUTH_GITHUB_CLIENT_SECRET}',
      'title: {type: varchar(120)}',
      'joined_at: {type: timestamptz, nullable: false, default: now()}',
      `status: {type: text, nullable: false, default: "'draft'"}`,
      'score: {type: numeric, default: "1.50"}',
      'author_id:',
      'references: {table: authors, on_delete: CASCADE}',
      'realtime: {events: [INSERT, UPDATE]}',
      'notes:',
    ]) {
      expect(exported, fragment).toContain(fragment);
    }
    // Fluxbase's own tables, settings at their defaults and the default tenant's fields are left out.
    for (const internal of ['users:', 'settings:\n            columns', 'schema_registry', '      app:', 'enable_signup', 'app.realtime.enabled', 'name: default']) {
      expect(exported).not.toContain(internal);
    }
    // Columns keep their table order; collections are sorted by name.
    const posts = exported.slice(exported.indexOf('        posts:'));
    const order = ['id:', 'author_id:', 'slug:', 'status:', 'views:', 'score:', 'tags:', 'title:'].map((c) => posts.indexOf(`              ${c}`));
    expect(order).toEqual([...order].sort((x, y) => x - y));
    expect(exported.indexOf('  acme:')).toBeLessThan(exported.indexOf('  default:'));
    expect(run.stdout).toContain('Adopted ');
    expect(run.stdout).toContain('write-only value(s) are recorded as unknown');
  });

  it('validates with the project validator (the security lints report what the hand-made instance allows)', async () => {
    const validate = await wsA.cli(['validate'], secretEnv);
    expect(withoutLints(validate.stderr)).toBe('');
    expect(validate.stderr).toContain('warning[security.rls-disabled]: table.default.public.notes');
    expect(validate.code).toBe(0);
  });

  it('is adopted: the first plan is clean, whatever the write-only variables hold', async () => {
    const withReal = await wsA.cli(['plan', '--detailed-exitcode'], secretEnv);
    expect(withoutLints(withReal.stderr)).toBe('');
    expect(withReal.stdout).toContain('No changes.');
    expect(withReal.code).toBe(0);
    // Placeholders are not sent either: the adopted secrets are recorded as unknown, not as fingerprints.
    const placeholders = Object.fromEntries(Object.keys(secretEnv).map((k) => [k, 'not-the-real-secret']));
    expect((await wsA.cli(['plan', '--detailed-exitcode'], placeholders)).code).toBe(0);
    const state = JSON.parse(await readFile(path.join(wsA.dir, 'fluxbase.state.json'), 'utf8')) as { resources: Record<string, { writeOnly?: Record<string, string> }> };
    expect(state.resources['webhook.default.post-events']?.writeOnly).toEqual({ secret: 'unknown' });
    expect(state.resources['oauth_provider.github']?.writeOnly).toEqual({ client_secret: 'unknown' });
    expect(state.resources['tenant.default']).toBeUndefined();
    expect(state.resources['table.default.blog.posts']).toBeDefined();
  });

  it('never writes a secret value: not in the file, the state, or any output', async () => {
    const state = await readFile(path.join(wsA.dir, 'fluxbase.state.json'), 'utf8');
    const stdout = await wsA.cli(['export', '-o', '-'], secretEnv);
    expect(stdout.code).toBe(0);
    for (const secret of [...Object.values(SECRETS), ...keyValues]) {
      for (const [where, text] of [['yaml', exported], ['state', state], ['stdout', exportRun.stdout], ['stderr', exportRun.stderr], ['export -o -', stdout.stdout + stdout.stderr]] as const) {
        expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
      }
    }
    expect(stdout.stdout.trimEnd()).toBe(exported.trimEnd());
  });

  it('refuses to overwrite an existing file without --force', async () => {
    const again = await wsA.cli(['export']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error[export.output]');
  });
});

describe('round trip', () => {
  it('applies the exported file to an empty instance, plans clean there, and exports the same YAML', async () => {
    b = await startTestEmulator({ setupToken: 'export-b' });
    const adminB = await setupAdmin(b, 'export-b');
    wsB = await Workspace.create(b, exported, { ...secretEnv, FLUXBASE_ADMIN_EMAIL: adminB.email, FLUXBASE_ADMIN_PASSWORD: adminB.password });
    const apply = await wsB.cli(['apply', '--auto-approve', '--secrets-out', 'keys.env', '--allow-hazards=WEAKENS_SECURITY']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect((await wsB.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    const again = await wsB.cli(['export', '-o', 'exported-b.yaml']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(await readFile(path.join(wsB.dir, 'exported-b.yaml'), 'utf8')).toBe(exported);
  });
});

describe('drift after adoption', () => {
  it('plan --refresh-only and fluxbase drift report drift made through the API with exit 2, and change nothing', async () => {
    const def = await tenantId(a, 'default');
    const acme = await tenantId(a, 'acme');
    const hooks = await ok<Record<string, unknown>[]>(a, 'GET', '/api/v1/webhooks', { tenant: def });
    await ok(a, 'PATCH', `/api/v1/webhooks/${String(hooks[0]!.id)}`, { tenant: def, body: { ...hooks[0], enabled: false, secret: SECRETS.webhook } });
    await ok(a, 'PUT', '/api/v1/admin/policies/blog/posts/posts_read_published', { tenant: def, body: { using: 'true' } });
    await ok(a, 'POST', '/api/v1/admin/tables/crm/contacts/columns', { tenant: acme, body: { name: 'nickname', type: 'text', nullable: true } });
    const keys = await ok<{ id: string; name: string }[]>(a, 'GET', '/api/v1/client-keys');
    await ok(a, 'PATCH', `/api/v1/client-keys/${keys.find((k) => k.name === 'mobile-app')!.id}`, { body: { rate_limit_per_minute: 1000 } });

    const statePath = path.join(wsA.dir, 'fluxbase.state.json');
    const stateBefore = await readFile(statePath, 'utf8');
    const live = async () =>
      JSON.stringify(
        await Promise.all([
          ok(a, 'GET', '/api/v1/webhooks', { tenant: def }),
          ok(a, 'GET', '/api/v1/admin/policies', { tenant: def }),
          ok(a, 'GET', '/api/v1/admin/tables/crm/contacts', { tenant: acme }),
          ok(a, 'GET', '/api/v1/client-keys'),
          ok(a, 'GET', '/api/v1/admin/service-keys', { tenant: def }),
          ok(a, 'GET', '/api/v1/admin/oauth/providers'),
          ok(a, 'GET', '/api/v1/admin/settings/custom/secrets', { tenant: def }),
        ]),
      );
    const liveBefore = await live();

    const text = await wsA.cli(['plan', '--refresh-only', '--detailed-exitcode'], secretEnv);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(2);
    expect(text.stdout).toContain('Drift between the configuration and the live instance (values shown as live -> configuration):');
    expect(text.stdout).toContain('# webhook.default.post-events differs from the configuration');
    expect(text.stdout).toContain('~ enabled: false -> true');
    expect(text.stdout).toMatch(/- columns\.nickname = \{ .*type = "text"/);
    expect(text.stdout).toContain('Drift: 4 resource(s) differ from the configuration. Nothing was changed');
    expect(text.stdout).not.toContain('secret');
    expect(text.stdout).not.toContain('SQL (applied as a migration)');
    expect(text.stdout).not.toContain('--allow-hazards');

    const drift = await wsA.cli(['drift', '--json', '--detailed-exitcode', '--out', 'drift.json'], secretEnv);
    expect(drift.code).toBe(2);
    expect(JSON.parse(drift.stdout)).toMatchObject({ refreshOnly: true });
    expect(changesOf(drift.stdout).sort()).toEqual(
      [
        ['client_key.mobile-app', 'update'],
        ['policy.default.blog.posts.posts_read_published', 'update'],
        ['table.acme.crm.contacts', 'update'],
        ['webhook.default.post-events', 'update'],
      ].sort(),
    );
    const refused = await wsA.cli(['apply', 'drift.json'], secretEnv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refresh-only (drift) report, which cannot be applied');

    expect(await readFile(statePath, 'utf8')).toBe(stateBefore);
    expect(await live()).toBe(liveBefore);
  });

  it('a plain plan would repair the drift and sends an adopted secret along with the webhook update', async () => {
    const plan = await wsA.cli(['plan'], secretEnv);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('# webhook.default.post-events will be updated in place');
    expect(plan.stdout).toContain('~ secret: (sensitive value) -> (sensitive value)');
  });

  it('plans a deletion when an adopted resource is removed from the configuration', async () => {
    await wsA.edit((t) => t.replace(/ {6}reporting:\n(?: {8}.*\n)+/, ''));
    const plan = await wsA.cli(['plan', '--json'], secretEnv);
    expect(changesOf(plan.stdout)).toContainEqual(['service_key.default.reporting', 'delete']);
  });
});

/**
 * The root fluxbase.config.yaml as a construct app: a blogging product whose default tenant hosts
 * the public site, and a customer tenant (Acme) running the project-management module.
 *
 *     npm run build                      # once: builds dist/, which `fluxbase-iac/constructs` resolves to
 *     npx tsx examples/cdk/fluxbase.ts   # writes cdk.out/fluxbase.json (or $FLUXBASE_OUTDIR/fluxbase.json)
 *     fluxbase plan -c cdk.out/fluxbase.json
 *
 * Secrets come from the environment: SIGNUP_WEBHOOK_SECRET, POSTS_WEBHOOK_SECRET,
 * ACME_TASKS_WEBHOOK_SECRET, GITHUB_CLIENT_SECRET, CORP_SSO_CLIENT_SECRET and
 * NEWSLETTER_SMTP_PASSWORD must be set; the file holds `${env:NAME}` references, never values.
 * Production sets FLUXBASE_PREVENT_DESTROY=true so nothing can be destroyed by accident.
 */
import {
  AppSettings,
  AuthSettings,
  ClientKey,
  CustomSetting,
  FluxbaseApp,
  OAuthProvider,
  Schema,
  Secret,
  ServiceKey,
  SystemSetting,
  Table,
  Tenant,
  Webhook,
  type Column,
  type TableProps,
} from 'fluxbase-iac/constructs';

/** `id uuid primary key default gen_random_uuid()`, the key of most tables. */
const uuidKey = (): Column => ({ type: 'uuid', primary_key: true, default: 'gen_random_uuid()' });
/** `created_at timestamptz not null default now()`. */
const createdAt = (defaultValue = 'now()'): Column => ({ type: 'timestamptz', nullable: false, default: defaultValue });
/** A NOT NULL column. */
const required = (type: string, extra: Omit<Column, 'type' | 'nullable'> = {}): Column => ({ type, nullable: false, ...extra });
/** Row-level security on, with the given policies. */
const rls = (policies: NonNullable<TableProps['rls']>['policies']): TableProps['rls'] => ({ enabled: true, policies });

const app = new FluxbaseApp({
  lifecycle: { prevent_destroy: process.env.FLUXBASE_PREVENT_DESTROY === 'true' },
});

// ---- instance settings -------------------------------------------------------------------------
new AppSettings(app, {
  // The app.auth.* keys the server's runtime reads (password_min_length is what clients are told).
  authentication: { enable_signup: true, enable_magic_link: true, require_email_verification: true, password_min_length: 12 },
  features: { enable_realtime: true, enable_storage: true, enable_functions: false },
  security: { enable_global_rate_limit: false },
});
// Most keys of /admin/auth/settings are never read by the server (docs/tenants.md).
new AuthSettings(app, { disable_dashboard_password_login: false });
new SystemSetting(app, 'app.email.from_name', { value: 'Fluxbase Blog' });
new SystemSetting(app, 'app.email.from_address', { value: 'no-reply@blog.example.com' });

// ---- sign-in and client access -----------------------------------------------------------------
const callback = 'https://blog.example.com/auth/callback';
new OAuthProvider(app, 'github', {
  display_name: 'GitHub',
  client_id: 'Iv1.8a61f9b3a7aba766',
  client_secret: Secret.fromEnv('GITHUB_CLIENT_SECRET'),
  redirect_url: callback,
  scopes: ['read:user', 'user:email'],
  allow_dashboard_login: true,
});
const sso = 'https://sso.corp.example.com/oauth2';
new OAuthProvider(app, 'corp_sso', {
  display_name: 'Corp SSO',
  client_id: 'fluxbase-blog',
  client_secret: Secret.fromEnv('CORP_SSO_CLIENT_SECRET'),
  redirect_url: callback,
  authorization_url: `${sso}/authorize`,
  token_url: `${sso}/token`,
  user_info_url: `${sso}/userinfo`,
  scopes: ['openid', 'email', 'profile'],
  allow_app_login: false,
  allow_dashboard_login: true,
});
new ClientKey(app, 'mobile-app', {
  description: 'iOS and Android apps',
  scopes: ['tables:read', 'tables:write', 'storage:read', 'realtime:connect'],
  rate_limit_per_minute: 300,
});

// ---- the default tenant: the blog --------------------------------------------------------------
const blog = new Tenant(app, 'default'); // the instance's built-in default tenant: never created or deleted
const blogSchema = new Schema(blog, 'public'); // user tables: public or a schema of your own, never Fluxbase's internal ones

new Table(blogSchema, 'profiles', {
  columns: {
    id: uuidKey(),
    email: required('text'),
    display_name: { type: 'text' },
    bio: { type: 'text', default: '' },
    is_admin: required('boolean', { default: false }),
    created_at: createdAt(),
  },
  rls: rls({
    profiles_read_all: { command: 'SELECT', roles: ['anon', 'authenticated'], using: 'true' },
    profiles_update_own: { command: 'UPDATE', roles: ['authenticated'], using: 'id = auth.uid()', with_check: 'id = auth.uid()' },
  }),
});

const posts = new Table(blogSchema, 'posts', {
  columns: {
    id: uuidKey(),
    author_id: required('uuid', { references: { table: 'profiles', on_delete: 'CASCADE' } }),
    slug: required('varchar(120)', { unique: true }),
    title: required('text'),
    body: { type: 'text' },
    tags: { type: 'text[]', default: "'{}'::text[]" },
    status: required('text', { default: 'draft' }),
    views: required('integer', { default: 0 }),
    published_at: { type: 'timestamptz' },
    created_at: createdAt(),
  },
  indexes: { posts_author_created_idx: { columns: ['author_id', 'created_at'] } },
  checks: { posts_status_valid: "status IN ('draft', 'review', 'published')" },
  rls: { enabled: true },
});
posts.addPolicy('posts_read_published', { command: 'SELECT', roles: ['anon', 'authenticated'], using: "status = 'published'" });
posts.addPolicy('posts_read_own_drafts', { command: 'SELECT', roles: ['authenticated'], using: 'author_id = auth.uid()' });
posts.addPolicy('posts_write_own', {
  command: 'ALL',
  roles: ['authenticated'],
  using: 'author_id = auth.uid()',
  with_check: "author_id = auth.uid() AND status IN ('draft', 'published')",
});

new Table(blogSchema, 'comments', {
  columns: {
    id: { type: 'bigint', primary_key: true },
    post_id: required('uuid', { references: { table: 'posts', on_delete: 'CASCADE' } }),
    author_id: required('uuid'),
    body: required('text'),
    created_at: createdAt(),
  },
  realtime: { events: ['INSERT', 'DELETE'] },
  rls: rls({
    comments_read_all: { command: 'SELECT', using: 'true' },
    comments_insert_own: { command: 'INSERT', roles: ['authenticated'], with_check: 'author_id = auth.uid()' },
  }),
});

new Webhook(blog, 'profile-signups', {
  url: 'https://hooks.example.com/fluxbase/signups',
  description: 'Tell the CRM about new profiles',
  events: [{ table: 'public.profiles', operations: ['INSERT'] }],
  secret: Secret.fromEnv('SIGNUP_WEBHOOK_SECRET'),
  enabled: true,
});
new Webhook(blog, 'post-published', {
  url: 'https://hooks.example.com/fluxbase/posts',
  events: [{ table: 'public.posts', operations: ['INSERT', 'UPDATE'] }],
  headers: { 'X-Source': 'fluxbase' },
  secret: Secret.fromEnv('POSTS_WEBHOOK_SECRET'),
  max_retries: 5,
  timeout_seconds: 10,
});

new ServiceKey(blog, 'blog-backend', {
  description: 'Server-side rendering and the newsletter job',
  scopes: ['*'],
  rate_limit_per_minute: 1200,
});
new ServiceKey(blog, 'public-anon', { key_type: 'anon', description: 'Embedded comment widget', scopes: ['tables:read'] });

new CustomSetting(blog, 'features.flags', {
  description: 'Feature flags read by the web app',
  value: {
    'new-editor': { enabled: true, rollout: 100 },
    'comment-reactions': { enabled: false, rollout: 0 },
  },
});
new CustomSetting(blog, 'newsletter.schedule', { value: '0 7 * * MON' });
new CustomSetting(blog, 'newsletter.smtp_password', {
  secret: Secret.fromEnv('NEWSLETTER_SMTP_PASSWORD'),
  description: 'SMTP password of the newsletter sender',
});

// ---- a customer tenant: Acme's project management ----------------------------------------------
const acme = new Tenant(app, 'acme', { name: 'Acme Corp', metadata: { plan: 'enterprise', region: 'eu-west-1' } });
const acmeSchema = new Schema(acme, 'public'); // a tenant with its own database: public is where every change works
const ownerOnly = 'owner_id = auth.uid()';

new Table(acmeSchema, 'projects', {
  columns: {
    id: uuidKey(),
    name: required('text'),
    owner_id: required('uuid'),
    archived: required('boolean', { default: false }),
    budget: { type: 'numeric', default: 0 },
    created_at: createdAt(),
  },
  rls: rls({
    projects_members_read: { command: 'SELECT', roles: ['authenticated'], using: `${ownerOnly} OR NOT archived` },
    projects_owner_write: { command: 'ALL', roles: ['authenticated'], using: ownerOnly, with_check: ownerOnly },
  }),
});

new Table(acmeSchema, 'tasks', {
  columns: {
    id: uuidKey(),
    project_id: required('uuid'),
    title: required('text'),
    done: required('boolean', { default: false }),
    priority: required('smallint', { default: 3 }),
    due_on: { type: 'date' },
    created_at: createdAt('current_timestamp'),
  },
  rls: rls({
    tasks_authenticated_all: { command: 'ALL', roles: ['authenticated'], using: 'true', with_check: 'priority BETWEEN 1 AND 5' },
  }),
});

new ServiceKey(acme, 'acme-etl', { description: "Nightly ETL into Acme's warehouse", scopes: ['tables:read'], rate_limit_per_hour: 5000 });
new CustomSetting(acme, 'acme.features.flags', { value: { 'gantt-view': { enabled: true, rollout: 50 } } });
// No webhooks on Acme's tables: the server installs webhook triggers only in the main database
// (docs/tenants.md).

const { file } = await app.synth();
console.log(`wrote ${file}`);

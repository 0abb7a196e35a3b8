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
  RlsTest,
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
  // Security lints (docs/access.md) this configuration accepts, each with the reason a reviewer reads.
  lints: {
    'security.policy-always-true': {
      reason: 'profiles and comments are public by design, and every Acme member works on every task',
      only: ['policy.default.public.profiles.profiles_read_all', 'policy.default.public.comments.comments_read_all', 'policy.acme.public.tasks.tasks_authenticated_all'],
    },
    'security.public-role': { reason: "comments are readable by every role, the service's own included", only: ['policy.default.public.comments.comments_read_all'] },
  },
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

const profiles = new Table(blogSchema, 'profiles', {
  columns: {
    id: uuidKey(),
    email: required('text'),
    display_name: { type: 'text' },
    bio: { type: 'text', default: "''" },
    is_admin: required('boolean', { default: false }),
    created_at: createdAt(),
  },
  grants: { anon: ['SELECT'], authenticated: ['SELECT', 'UPDATE'] }, // without a grant a role reaches no row
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
    status: required('text', { default: "'draft'" }),
    views: required('integer', { default: 0 }),
    published_at: { type: 'timestamptz' },
    created_at: createdAt(),
  },
  indexes: { posts_author_created_idx: { columns: ['author_id', 'created_at'] } },
  checks: { posts_status_valid: "status IN ('draft', 'review', 'published')" },
  grants: { anon: ['SELECT'], authenticated: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] },
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

const comments = new Table(blogSchema, 'comments', {
  columns: {
    id: { type: 'bigint', primary_key: true },
    post_id: required('uuid', { references: { table: 'posts', on_delete: 'CASCADE' } }),
    author_id: required('uuid'),
    body: required('text'),
    created_at: createdAt(),
  },
  realtime: { events: ['INSERT', 'DELETE'] },
  grants: { anon: ['SELECT'], authenticated: ['SELECT', 'INSERT'] },
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

const projects = new Table(acmeSchema, 'projects', {
  columns: {
    id: uuidKey(),
    name: required('text'),
    owner_id: required('uuid'),
    archived: required('boolean', { default: false }),
    budget: { type: 'numeric', default: 0 },
    created_at: createdAt(),
  },
  grants: { authenticated: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], tenant_service: ['SELECT'] }, // the acme-etl service key runs as tenant_service here
  rls: rls({
    projects_etl_read: { command: 'SELECT', roles: ['tenant_service'], using: 'true' },
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
  grants: { authenticated: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], tenant_service: ['SELECT'] },
  rls: rls({
    tasks_etl_read: { command: 'SELECT', roles: ['tenant_service'], using: 'true' },
    tasks_authenticated_all: { command: 'ALL', roles: ['authenticated'], using: 'true', with_check: 'priority BETWEEN 1 AND 5' },
  }),
});

new ServiceKey(acme, 'acme-etl', { description: "Nightly ETL into Acme's warehouse", scopes: ['tables:read'], rate_limit_per_hour: 5000 });
new CustomSetting(acme, 'acme.features.flags', { value: { 'gantt-view': { enabled: true, rollout: 50 } } });
// No webhooks on Acme's tables: the server installs webhook triggers only in the main database
// (docs/tenants.md).

// ---- row-level security as tests (`fluxbase test`, `fluxbase plan --test` / `--prove`) ------------
const alice = 'a11ce000-0000-4000-8000-000000000001';
const bob = 'b0b00000-0000-4000-8000-000000000002';
const carol = 'ca201000-0000-4000-8000-000000000003';
const dave = 'da4e0000-0000-4000-8000-000000000004';
const helloWorld = '90570000-0000-4000-8000-000000000001';
profiles.addFixtures([
  { id: alice, email: 'alice@blog.example.com', display_name: 'Alice' },
  { id: bob, email: 'bob@blog.example.com', display_name: 'Bob' },
]);
posts.addFixtures([
  { id: helloWorld, author_id: alice, slug: 'hello-world', title: 'Hello', status: 'published' },
  { id: '90570000-0000-4000-8000-000000000002', author_id: alice, slug: 'alice-draft', title: 'Draft' },
  { id: '90570000-0000-4000-8000-000000000003', author_id: bob, slug: 'bob-draft', title: 'Draft' },
]);
comments.addFixtures([{ id: 1, post_id: helloWorld, author_id: bob, body: 'Nice' }]);
projects.addFixtures([
  { id: '9e000000-0000-4000-8000-000000000001', name: 'Website', owner_id: carol },
  { id: '9e000000-0000-4000-8000-000000000002', name: 'Old site', owner_id: carol, archived: true },
  { id: '9e000000-0000-4000-8000-000000000003', name: 'Secret plan', owner_id: dave, archived: true },
]);
/** A signed-in user: the role and JWT claims Fluxbase sets for their requests. */
const as = (sub: string) => ({ role: 'authenticated', claims: { sub } });
new RlsTest(app, 'anonymous readers see published posts only', { select: 'public.posts', expect: { rows: [{ slug: 'hello-world' }] } });
new RlsTest(app, 'an author sees published posts and her own drafts', { ...as(alice), select: 'public.posts', expect: { rows: [{ slug: 'hello-world' }, { slug: 'alice-draft' }] } });
new RlsTest(app, "another author's drafts stay hidden", { ...as(bob), select: 'public.posts', expect: { rows: [{ slug: 'hello-world' }, { slug: 'bob-draft' }] } });
new RlsTest(app, 'anonymous callers cannot write posts', { insert: 'public.posts', values: { author_id: alice, slug: 'spam', title: 'Spam' }, expect: { denied: true } });
new RlsTest(app, 'an author writes drafts as herself', {
  ...as(alice),
  insert: 'public.posts',
  values: { author_id: alice, slug: 'new-draft', title: 'New' },
  expect: { rows: [{ slug: 'new-draft', status: 'draft' }] },
});
new RlsTest(app, "an author cannot post in someone else's name", { ...as(alice), insert: 'public.posts', values: { author_id: bob, slug: 'forged', title: 'Forged' }, expect: { denied: true } });
new RlsTest(app, "an author cannot delete another author's post", { ...as(bob), delete: 'public.posts', where: "slug = 'hello-world'", expect: { denied: true } });
new RlsTest(app, 'only the owner updates a profile', {
  ...as(bob),
  update: 'public.profiles',
  values: { display_name: 'Mallory' },
  expect: { rows: [{ email: 'bob@blog.example.com', display_name: 'Mallory' }] },
});
new RlsTest(app, 'comments are public', { select: 'public.comments', expect: { rows: [{ body: 'Nice' }] } });
new RlsTest(app, 'profiles cannot be created through the API', { ...as(bob), insert: 'public.profiles', values: { email: 'eve@blog.example.com' }, expect: { denied: true } });
new RlsTest(app, 'acme members see open projects and their own archived ones', {
  tenant: 'acme',
  ...as(dave),
  select: 'public.projects',
  expect: { rows: [{ name: 'Website' }, { name: 'Secret plan' }] },
});
new RlsTest(app, 'an archived project stays private to its owner', { tenant: 'acme', ...as(carol), select: 'public.projects', where: 'archived', expect: { rows: [{ name: 'Old site' }] } });
new RlsTest(app, "acme's API refuses inserts into a table without tenant_id", {
  tenant: 'acme',
  ...as(carol),
  insert: 'public.projects',
  values: { name: 'New', owner_id: carol },
  expect: { denied: true },
});
new RlsTest(app, "acme's ETL key reads every project", { tenant: 'acme', role: 'tenant_service', select: 'public.projects', expect: { count: 3 } });
new RlsTest(app, 'anonymous callers see nothing of acme', { tenant: 'acme', select: 'public.projects', expect: { denied: true } });
new RlsTest(app, "acme's users cannot reach the blog's posts (each tenant has its own database)", { tenant: 'acme', ...as(alice), select: 'public.posts', expect: { denied: true } });
new RlsTest(app, "the blog cannot reach acme's projects", { role: 'service_role', select: 'public.projects', expect: { denied: true } });

const { file } = await app.synth();
console.log(`wrote ${file}`);

import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/engine/load.js';
import { validateDocument } from '../../src/engine/validate.js';
import { buildDesired } from '../../src/engine/graph.js';
import { buildPlan } from '../../src/engine/plan.js';
import { recordAdopted } from '../../src/engine/adopt.js';
import { renderPlan } from '../../src/engine/render.js';
import type { LiveState } from '../../src/engine/refresh.js';
import { escapeRefs, exportLive, withContainers } from '../../src/export/export.js';
import { allocateEnvNames, envVarName } from '../../src/export/env-names.js';
import type { LiveResource } from '../../src/model/resource.js';
import { RESOURCE_KINDS } from '../../src/model/resource.js';
import { liveTable } from '../../src/resources/table-spec.js';
import { liveWebhookAttrs } from '../../src/resources/webhook.js';
import { expressionsEqual } from '../../src/sql/expression.js';
import { loadSqlParser } from '../../src/sql/parser.js';
import { readableDefault, readableExpression, readableType } from '../../src/sql/readable.js';
import { canonicalType } from '../../src/sql/types.js';
import { emptyState, setEntry, UNKNOWN_WRITE_ONLY } from '../../src/state/document.js';

beforeAll(() => loadSqlParser());

describe('PostgreSQL renderings written as a person would', () => {
  it.each([
    ['outer parentheses', '(auth.uid() = id)', 'auth.uid() = id'],
    ['a ::text cast of a literal', "(status = 'published'::text)", "status = 'published'"],
    ['an IN-list', "(status = ANY (ARRAY['draft'::text, 'review'::text]))", "status IN ('draft', 'review')"],
    ['a NOT IN-list', "(name <> ALL (ARRAY['x'::text]))", "name NOT IN ('x')"],
    ['a BETWEEN', '((priority >= 1) AND (priority <= 5))', 'priority >= 1 AND priority <= 5'],
    ['NOT and OR', '((owner_id = auth.uid()) OR (NOT archived))', 'owner_id = auth.uid() OR NOT archived'],
    ['a varchar column compared with text', "((slug)::text = 'x'::text)", "slug = 'x'"],
    ['parentheses that matter', '((a + b) * c)', '(a + b) * c'],
    ['a literal that looks like SQL', "(note = '(x)::text'::text)", "note = '(x)::text'"],
    ['a numeric cast, which is kept', '(score >= (0)::numeric)', 'score >= 0::numeric'],
  ])('%s: %s → %s, provably the same expression', (_, live, written) => {
    expect(readableExpression(live)).toBe(written);
    expect(expressionsEqual(written, live)).toBe(true);
  });

  it('keeps the live text when it is not one expression', () => {
    expect(readableExpression('(a = ')).toBe('(a = ');
  });

  it.each([
    ['timestamp with time zone', 'timestamptz'],
    ['timestamp(3) with time zone', 'timestamptz(3)'],
    ['character varying(120)', 'varchar(120)'],
    ['character varying(120)[]', 'varchar(120)[]'],
    ['time without time zone', 'time'],
    ['numeric(10,2)', 'numeric(10,2)'],
    ['double precision', 'double precision'],
  ])('type %s is written %s (same canonical type)', (live, written) => {
    expect(readableType(live)).toBe(written);
    expect(canonicalType(written)).toBe(canonicalType(live));
  });

  it.each([
    ["'draft'::text", 'text', "'draft'"],
    ["'-1'::integer", 'integer', -1],
    ['0', 'integer', 0],
    ['1.50', 'numeric', '1.50'],
    ['false', 'boolean', false],
    ['gen_random_uuid()', 'uuid', 'gen_random_uuid()'],
    ["'{}'::jsonb", 'jsonb', "'{}'"],
    ["''::text", 'text', "''"],
    ["'5'::text", 'text', "'5'"],
    ["nextval('t_id_seq'::regclass)", 'integer', "nextval('t_id_seq'::regclass)"],
    ['(now())::date', 'date', 'now()::date'],
  ] as const)('default %s of a %s column is declared as %j', (live, type, value) => {
    expect(readableDefault(live, type)).toEqual({ value, exact: true });
  });

  it('declares no default as no default, and any live default as SQL (defaults are SQL)', () => {
    expect(readableDefault(null, 'text')).toEqual({ exact: true });
    expect(readableDefault("(now() + '1 day'::interval)", 'timestamp with time zone')).toEqual({ value: "now() + '1 day'::interval", exact: true });
  });
});

describe('environment variable names for write-only values', () => {
  it.each([
    ['webhook.default.profile-signups', 'secret', 'WEBHOOK_DEFAULT_PROFILE_SIGNUPS_SECRET'],
    ['oauth_provider.github', 'client_secret', 'OAUTH_GITHUB_CLIENT_SECRET'],
    ['custom_setting.default["newsletter.smtp_password"]', 'secret', 'CUSTOM_SETTING_DEFAULT_NEWSLETTER_SMTP_PASSWORD'],
    ['system_setting["app.email.smtp_password"]', 'value', 'SYSTEM_SETTING_APP_EMAIL_SMTP_PASSWORD'],
  ])('%s %s → %s', (address, attribute, name) => {
    expect(envVarName(address, attribute)).toBe(name);
  });

  it('makes clashing names unique in address order, whatever order they come in', () => {
    const wanted = [
      { address: 'webhook.acme.a_b', attribute: 'secret' },
      { address: 'webhook.acme.a-b', attribute: 'secret' },
    ];
    const names = allocateEnvNames(wanted).map((v) => [v.address, v.name]);
    expect(names).toEqual([
      ['webhook.acme.a-b', 'WEBHOOK_ACME_A_B_SECRET'],
      ['webhook.acme.a_b', 'WEBHOOK_ACME_A_B_SECRET_2'],
    ]);
    expect(allocateEnvNames([...wanted].reverse()).map((v) => [v.address, v.name])).toEqual(names);
  });
});

describe('text that looks like an environment reference', () => {
  it.each(['Read ${env:HOME}', 'a $${b}', '$$${env:X}', 'plain ${curly}'])('%s is escaped so that loading gives it back', (text) => {
    const loaded = loadConfigText(`v: ${JSON.stringify(escapeRefs(text))}`, 'x.yaml', { env: { HOME: '/home/x', X: 'x' } });
    expect((loaded.data as { v: string }).v).toBe(text);
  });
});

describe('kinds and the kinds they are declared inside', () => {
  it('adds tables, schemas and tenants to policies', () => {
    expect([...withContainers(['policy'])].sort()).toEqual(['policy', 'schema', 'table', 'tenant']);
    expect([...withContainers(['client_key'])]).toEqual(['client_key']);
  });
});

/** A live instance as refreshed: one tenant with a table, a policy, a webhook, keys and settings. */
function live(): LiveState {
  const { attrs, meta } = liveTable(
    {
      schema: 'public',
      name: 'posts',
      rls_enabled: true,
      rls_forced: false,
      owner: 'tenant_migration_role',
      columns: [
        { name: 'id', type: 'uuid', not_null: true, default: 'gen_random_uuid()' },
        { name: 'status', type: 'text', not_null: true, default: "'draft'::text" },
        { name: 'title', type: 'character varying(200)', not_null: false, default: null },
        { name: 'seq', type: 'integer', not_null: true, default: "nextval('posts_seq_seq'::regclass)" },
      ],
      constraints: [
        { name: 'posts_pkey', type: 'p', columns: ['id'], ref_schema: null, ref_table: null, ref_columns: null, on_delete: null, on_update: null, check: null },
        { name: 'posts_status_check', type: 'c', columns: ['status'], ref_schema: null, ref_table: null, ref_columns: null, on_delete: null, on_update: null, check: "(status = ANY (ARRAY['draft'::text, 'published'::text]))" },
      ],
      indexes: [{ name: 'posts_title_lower', unique: false, columns: [null], partial: false, definition: 'CREATE INDEX posts_title_lower ON public.posts USING btree (lower(title))' }],
    },
    { schema: 'public', table: 'posts', realtime_enabled: true, events: ['DELETE', 'INSERT', 'UPDATE'], excluded_columns: [] },
  );
  const resources: LiveResource[] = [
    { address: 'tenant.default', kind: 'tenant', id: 't-0', attrs: { name: 'Default', metadata: {} }, fingerprint: 'f', builtin: true },
    { address: 'tenant.acme', kind: 'tenant', id: 't-1', attrs: { name: 'acme', metadata: { tier: 'gold' } }, fingerprint: 'f' },
    { address: 'schema.acme.app', kind: 'schema', tenant: 'acme', id: 'app', attrs: {}, fingerprint: 'f', parent: 'tenant.acme', builtin: true },
    { address: 'schema.acme.public', kind: 'schema', tenant: 'acme', id: 'public', attrs: {}, fingerprint: 'f', parent: 'tenant.acme', builtin: true },
    { address: 'table.acme.public.posts', kind: 'table', tenant: 'acme', id: 'public.posts', attrs: attrs as Record<string, unknown>, meta: meta as unknown as Record<string, unknown>, fingerprint: 'f', parent: 'schema.acme.public' },
    { address: 'table.acme.app.legacy', kind: 'table', tenant: 'acme', id: 'app.legacy', attrs: { columns: { id: { type: 'uuid', nullable: false, default: null, primary_key: true, unique: false, references: null } } }, fingerprint: 'f', parent: 'schema.acme.app', hidden: true },
    { address: 'table.acme.app.settings', kind: 'table', tenant: 'acme', id: 'app.settings', attrs: { columns: {} }, fingerprint: 'f', parent: 'schema.acme.app', hidden: true },
    {
      address: 'policy.acme.public.posts.read',
      kind: 'policy',
      tenant: 'acme',
      attrs: { command: 'SELECT', permissive: true, roles: ['public'], using: "(status = 'published'::text)", with_check: null },
      fingerprint: 'f',
      parent: 'table.acme.public.posts',
    },
    {
      address: 'webhook.acme.hook',
      kind: 'webhook',
      tenant: 'acme',
      id: 'w-1',
      attrs: liveWebhookAttrs({ id: 'w-1', name: 'hook', url: 'https://h.example.com', enabled: true, events: [{ table: 'public.posts', operations: ['INSERT'] }], max_retries: 3, retry_backoff_seconds: 5, timeout_seconds: 45, headers: null, scope: 'global' }),
      fingerprint: 'f',
      parent: 'tenant.acme',
    },
    {
      address: 'service_key.acme.old',
      kind: 'service_key',
      tenant: 'acme',
      id: 'k-1',
      attrs: { description: null, key_type: 'service', scopes: ['*'], allowed_namespaces: [], rate_limit_per_minute: null, rate_limit_per_hour: null, expires_at: null, enabled: true, revoked: true },
      fingerprint: 'f',
      parent: 'tenant.acme',
    },
    {
      address: 'custom_setting.acme.motd',
      kind: 'custom_setting',
      tenant: 'acme',
      id: 'motd',
      attrs: { secret: false, value: 'hello', value_type: 'string', description: '', editable_by: ['instance_admin'] },
      fingerprint: 'f',
      parent: 'tenant.acme',
    },
    {
      address: 'custom_setting.acme["fluxbase-iac.state"]',
      kind: 'custom_setting',
      tenant: 'acme',
      id: 'fluxbase-iac.state',
      attrs: { secret: false, value: { format: 'fluxbase-iac-state' }, value_type: 'json', description: '', editable_by: [] },
      fingerprint: 'f',
      parent: 'tenant.acme',
    },
    { address: 'system_setting["app.rpc.enabled"]', kind: 'system_setting', id: 'app.rpc.enabled', attrs: { value: true, description: '' }, fingerprint: 'f', meta: { key: 'app.rpc.enabled' } },
    { address: 'system_setting["app.jobs.enabled"]', kind: 'system_setting', id: 'app.jobs.enabled', attrs: { value: false, description: '' }, fingerprint: 'f', meta: { key: 'app.jobs.enabled' } },
  ];
  return {
    resources: new Map(resources.map((r) => [r.address, r])),
    tenants: new Map([
      ['default', { slug: 'default', id: 't-0', isDefault: true }],
      ['acme', { slug: 'acme', id: 't-1', isDefault: false }],
    ]),
    scanned: new Set(['default', 'acme']),
    diagnostics: [],
  };
}

async function exported(includeInternal = false) {
  return exportLive({ live: live(), tenants: ['default', 'acme'], kinds: new Set(RESOURCE_KINDS), includeInternal, schemaRef: './schemas/fluxbase.config.schema.json' });
}

describe('exporting a live state', () => {
  it('declares what is live, leaves out defaults, internals and what cannot be declared, and says why', async () => {
    const result = await exported();
    expect(result.yaml).toMatchInlineSnapshot(`
      "# yaml-language-server: $schema=./schemas/fluxbase.config.schema.json

      # Exported from a live Fluxbase instance by \`fluxbase export\`.

      # Write-only values cannot be read back, so they are declared as environment variables. Set each
      # one to the value the server holds before \`fluxbase plan\` (docs/export.md: what apply sends):
      #   WEBHOOK_ACME_HOOK_SECRET  webhook.acme.hook secret

      # Left out (the configuration cannot declare them):
      #   service_key.acme.old: the key is revoked; a revoked key cannot be declared
      #   table.acme.app.legacy: in Fluxbase's internal schema app, where the server drops user tables at its next start (F1): move it to public or a schema of your own (e.g. ALTER TABLE app.legacy SET SCHEMA public), then export again
      #   table.acme.public.posts: index posts_title_lower: CREATE INDEX posts_title_lower ON public.posts USING btree (lower(title))
      #   table.acme.public.posts: indexes are not declared: the configuration cannot express a partial or expression index, and declaring the others would drop it

      version: 1
      settings:
        system:
          app.jobs.enabled:
            value: false
      tenants:
        acme:
          metadata: {tier: gold}
          schemas:
            public:
              tables:
                posts:
                  columns:
                    id: {type: uuid, primary_key: true, default: gen_random_uuid()}
                    status: {type: text, nullable: false, default: "'draft'"}
                    title: {type: varchar(200)}
                    seq:
                      type: integer
                      nullable: false
                      default: nextval('posts_seq_seq'::regclass)
                  checks:
                    posts_status_check: status IN ('draft', 'published') # PostgreSQL renders this as (status = ANY (ARRAY['draft'::text, 'published'::text]))
                  rls:
                    enabled: true
                    policies:
                      read:
                        command: SELECT
                        using: status = 'published' # PostgreSQL renders this as (status = 'published'::text)
                  realtime: {enabled: true}
          webhooks:
            hook:
              url: https://h.example.com
              events:
                - {table: public.posts, operations: [INSERT]}
              timeout_seconds: 45
              secret: \${env:WEBHOOK_ACME_HOOK_SECRET}
          settings:
            custom:
              motd:
                value: hello
      "
    `);
    expect(result.variables).toEqual([{ name: 'WEBHOOK_ACME_HOOK_SECRET', address: 'webhook.acme.hook', attribute: 'secret' }]);
    // The self-check compares the declarations with the live resources: every default is SQL, so
    // even nextval(…) is declared as itself and nothing differs.
    expect(result.diagnostics.filter((d) => d.code === 'export.mismatch')).toEqual([]);
  });

  it('loads back into desired resources equal to the live ones: adopted, the first plan changes nothing else', async () => {
    const result = await exported();
    const { config } = await validateDocument(loadConfigText(result.yaml!, 'x.yaml', { env: { WEBHOOK_ACME_HOOK_SECRET: 's' } }));
    const desired = buildDesired(config!);
    const state = emptyState();
    const addresses = [...desired.values()].filter((d) => !d.builtin && !live().resources.get(d.address)?.builtin).map((d) => d.address);
    recordAdopted({ addresses, desired, live: live(), state, writeOnly: 'unknown' });
    expect(state.resources['webhook.acme.hook']).toEqual({ kind: 'webhook', id: 'w-1', writeOnly: { secret: UNKNOWN_WRITE_ONLY } });
    const plan = buildPlan({ endpoint: 'http://x', desired, live: live(), state });
    expect(plan.diagnostics).toEqual([]);
    const changed = plan.changes.filter((c) => c.action !== 'no-op').map((c) => [c.address, c.attributes.map((a) => a.path.join('.'))]);
    expect(changed).toEqual([]);
  });

  it('is deterministic', async () => {
    expect((await exported()).yaml).toBe((await exported()).yaml);
  });

  it('with includeInternal also declares built-in objects, and lists Fluxbase tables it read but cannot declare (F1)', async () => {
    const result = await exported(true);
    const yaml = result.yaml!;
    expect(yaml).toContain('  default:\n    name: Default\n');
    expect(yaml).toContain('app.rpc.enabled:');
    expect(yaml).not.toMatch(/^ {6}app:/m);
    expect(yaml).toContain("#   table.acme.app.settings: Fluxbase's own table: the server re-creates it and its policies from its schema files at every start");
  });
});

describe('a live value the configuration cannot declare', () => {
  it('leaves out that field, names it, and declares the rest of the section', async () => {
    const l = live();
    l.resources.set('auth_settings', { address: 'auth_settings', kind: 'auth_settings', attrs: { password_min_length: 12, session_timeout_minutes: 0 }, fingerprint: 'f' });
    const result = await exportLive({ live: l, tenants: ['default', 'acme'], kinds: new Set(RESOURCE_KINDS), schemaRef: './s.json' });
    expect(result.yaml).toContain('  auth:\n    password_min_length: 12\n');
    expect(result.yaml!.slice(result.yaml!.indexOf('version: 1'))).not.toContain('session_timeout_minutes');
    expect(result.diagnostics.filter((d) => d.address === 'auth_settings').map((d) => d.summary)).toEqual([
      'not exported: session_timeout_minutes (the configuration cannot declare its live value: must be >= 1); the rest is declared',
    ]);
  });

  it('leaves out the whole declaration when the field is in a map the plan treats as complete (a column)', async () => {
    const l = live();
    const posts = l.resources.get('table.acme.public.posts')!;
    const columns = { ...(posts.attrs.columns as Record<string, Record<string, unknown>>) };
    columns.title = { ...columns.title!, type: 'not a type' };
    l.resources.set(posts.address, { ...posts, attrs: { ...posts.attrs, columns } });
    const result = await exportLive({ live: l, tenants: ['default', 'acme'], kinds: new Set(RESOURCE_KINDS), schemaRef: './s.json' });
    expect(result.yaml!.slice(result.yaml!.indexOf('version: 1'))).not.toContain('posts:');
    expect(result.diagnostics.some((d) => d.address === posts.address && d.summary.startsWith('not exported: the configuration cannot declare columns.title.type:'))).toBe(true);
  });
});

describe('write-only values adopted as unknown', () => {
  const CONFIG = `version: 1
tenants:
  acme:
    webhooks:
      hook:
        url: https://h.example.com
        events: [{ table: public.posts, operations: [INSERT] }]
        timeout_seconds: 45
        secret: \${env:HOOK}
`;
  async function plan(config: string, refreshOnly = false) {
    const { config: valid } = await validateDocument(loadConfigText(config, 'x.yaml', { env: { HOOK: 'anything' } }));
    const state = emptyState();
    setEntry(state, 'tenant.acme', { kind: 'tenant' });
    setEntry(state, 'webhook.acme.hook', { kind: 'webhook', id: 'w-1', writeOnly: { secret: UNKNOWN_WRITE_ONLY } });
    return buildPlan({ endpoint: 'http://x', desired: buildDesired(valid!), live: live(), state, refreshOnly });
  }

  it('are not sent on their own: the plan is clean', async () => {
    const p = await plan(CONFIG);
    expect(p.changes.find((c) => c.address === 'webhook.acme.hook')?.action).toBe('no-op');
  });

  it('are sent along, visibly, when the resource changes anyway', async () => {
    const p = await plan(CONFIG.replace('timeout_seconds: 45', 'timeout_seconds: 60'));
    const change = p.changes.find((c) => c.address === 'webhook.acme.hook')!;
    expect(change.attributes.map((a) => a.path.join('.'))).toEqual(['timeout_seconds', 'secret']);
    expect(renderPlan(p)).toContain('~ secret: (sensitive value) -> (sensitive value)');
  });

  it('are never part of a refresh-only report, which reads as drift', async () => {
    const p = await plan(CONFIG.replace('timeout_seconds: 45', 'timeout_seconds: 60'), true);
    const change = p.changes.find((c) => c.address === 'webhook.acme.hook')!;
    expect(change.attributes.map((a) => a.path.join('.'))).toEqual(['timeout_seconds']);
    const text = renderPlan(p);
    expect(text).toContain('# webhook.acme.hook differs from the configuration');
    expect(text).toContain('~ timeout_seconds: 45 -> 60');
    expect(text).toContain('Drift: 1 resource(s) differ from the configuration. Nothing was changed');
    expect(text).not.toMatch(/will be|Hazards|allow-hazards/);
  });
});

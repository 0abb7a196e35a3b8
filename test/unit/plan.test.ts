import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/engine/load.js';
import { validateDocument } from '../../src/engine/validate.js';
import { buildDesired } from '../../src/engine/graph.js';
import { buildPlan } from '../../src/engine/plan.js';
import { renderPlan } from '../../src/engine/render.js';
import type { LiveState } from '../../src/engine/refresh.js';
import type { LiveResource } from '../../src/model/resource.js';
import { emptyState, removeEntry, secretFingerprint, setEntry, type StateDocument } from '../../src/state/document.js';
import { liveTable } from '../../src/resources/table-spec.js';
import { liveWebhookAttrs } from '../../src/resources/webhook.js';
import { canonicalRoles } from '../../src/resources/policy.js';
import { loadSqlParser } from '../../src/sql/parser.js';

beforeAll(() => loadSqlParser());

const CONFIG = `version: 1
tenants:
  acme:
    name: Acme
  default:
    schemas:
      public:
        tables:
          posts:
            columns:
              id:         { type: uuid, primary_key: true, default: gen_random_uuid() }
              title:      { type: text, nullable: false }
              status:     { type: text, nullable: false, default: "'draft'" }
              views:      { type: integer, default: -1 }
              created_at: { type: timestamptz, nullable: false, default: now() }
            rls:
              enabled: true
              policies:
                read_published:
                  command: SELECT
                  roles: [anon, authenticated]
                  using: status = 'published' AND views >= 0
    webhooks:
      posts-hook:
        url: https://hooks.example.com/posts
        events: [{ table: public.posts, operations: [UPDATE, INSERT] }]
        secret: \${env:HOOK_SECRET}
`;

async function desiredFrom(yaml: string, env: Record<string, string> = { HOOK_SECRET: 's3cr3t-canary' }) {
  const { config, diagnostics } = await validateDocument(loadConfigText(yaml, 'fluxbase.config.yaml', { env }));
  expect(diagnostics).toEqual([]);
  return buildDesired(config!);
}

/** The built-in default tenant and its `public` schema, on every server. */
const DEFAULT_TENANT: LiveResource = { address: 'tenant.default', kind: 'tenant', id: 't-0', attrs: { name: 'default', metadata: {} }, fingerprint: 'f0', builtin: true };
const DEFAULT_PUBLIC: LiveResource = { address: 'schema.default.public', kind: 'schema', tenant: 'default', id: 'public', attrs: {}, fingerprint: 'f2', parent: 'tenant.default', builtin: true };

/** Live state as the real server renders the config above after it was applied. */
function liveState(): LiveState {
  const { attrs, meta } = liveTable(
    {
      schema: 'public',
      name: 'posts',
      rls_enabled: true,
      rls_forced: false,
      owner: 'postgres',
      columns: [
        { name: 'id', type: 'uuid', not_null: true, default: 'gen_random_uuid()' },
        { name: 'title', type: 'text', not_null: true, default: null },
        { name: 'status', type: 'text', not_null: true, default: "'draft'::text" },
        { name: 'views', type: 'integer', not_null: false, default: "'-1'::integer" },
        { name: 'created_at', type: 'timestamp with time zone', not_null: true, default: 'now()' },
      ],
      constraints: [{ name: 'posts_pkey', type: 'p', columns: ['id'], ref_schema: null, ref_table: null, ref_columns: null, on_delete: null, on_update: null, check: null }],
      indexes: null,
    },
    undefined,
  );
  const resources: LiveResource[] = [
    DEFAULT_TENANT,
    { address: 'tenant.acme', kind: 'tenant', id: 't-1', attrs: { name: 'Acme', metadata: {} }, fingerprint: 'f1' },
    DEFAULT_PUBLIC,
    { address: 'table.default.public.posts', kind: 'table', tenant: 'default', id: 'public.posts', attrs: attrs as Record<string, unknown>, meta: meta as unknown as Record<string, unknown>, fingerprint: 'f3', parent: 'schema.default.public' },
    {
      address: 'policy.default.public.posts.read_published',
      kind: 'policy',
      tenant: 'default',
      attrs: {
        command: 'SELECT',
        permissive: true,
        roles: canonicalRoles(['authenticated', 'anon']),
        using: "((status = 'published'::text) AND (views >= 0))",
        with_check: null,
      },
      fingerprint: 'f4',
      parent: 'table.default.public.posts',
    },
    {
      address: 'webhook.default.posts-hook',
      kind: 'webhook',
      tenant: 'default',
      id: 'w-1',
      attrs: liveWebhookAttrs({
        id: 'w-1',
        name: 'posts-hook',
        url: 'https://hooks.example.com/posts',
        enabled: true,
        events: [
          { table: 'public.posts', operations: ['INSERT', 'UPDATE'] },
          { table: 'posts', operations: ['INSERT', 'UPDATE'] },
        ],
        max_retries: 3,
        retry_backoff_seconds: 5,
        timeout_seconds: 30,
        headers: {},
        scope: 'global',
      }),
      fingerprint: 'f5',
      parent: 'tenant.default',
    },
    { address: 'webhook.default.dashboard-made', kind: 'webhook', tenant: 'default', id: 'w-2', attrs: {}, fingerprint: 'f6', parent: 'tenant.default' },
  ];
  return {
    resources: new Map(resources.map((r) => [r.address, r])),
    tenants: new Map([
      ['acme', { slug: 'acme', id: 't-1', isDefault: false }],
      ['default', { slug: 'default', id: 't-0', isDefault: true }],
    ]),
    scanned: new Set(['acme', 'default']),
    diagnostics: [],
  };
}

function managedState(): StateDocument {
  const state = emptyState();
  state.salt = Buffer.alloc(32, 7).toString('base64');
  for (const [address, kind] of [
    ['tenant.acme', 'tenant'],
    ['table.default.public.posts', 'table'],
    ['policy.default.public.posts.read_published', 'policy'],
    ['webhook.default.posts-hook', 'webhook'],
  ] as const) {
    setEntry(state, address, { kind });
  }
  state.resources['webhook.default.posts-hook']!.writeOnly = {
    secret: secretFingerprint(state.salt, 'webhook.default.posts-hook#secret', 's3cr3t-canary'),
  };
  return state;
}

describe('planning against live state rendered by PostgreSQL', () => {
  it('finds no changes when the config matches, whatever PostgreSQL did to the text', async () => {
    const plan = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(CONFIG), live: liveState(), state: managedState() });
    expect(plan.diagnostics).toEqual([]);
    expect(plan.changes.filter((c) => c.action !== 'no-op')).toEqual([]);
    expect(plan.unmanaged.map((u) => u.address)).toEqual(['webhook.default.dashboard-made']);
    expect(renderPlan(plan)).toContain('No changes.');
  });

  it('plans exactly one update each for a changed default, policy expression and webhook URL', async () => {
    const changed = CONFIG.replace(`default: "'draft'"`, `default: "'review'"`)
      .replace("views >= 0", 'views > 0')
      .replace('https://hooks.example.com/posts', 'https://hooks.example.com/v2/posts');
    const plan = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(changed), live: liveState(), state: managedState() });
    const changes = plan.changes.filter((c) => c.action !== 'no-op');
    expect(changes.map((c) => [c.address, c.action, c.attributes.map((a) => a.path.join('.'))])).toEqual([
      ['table.default.public.posts', 'update', ['columns.status.default']],
      ['policy.default.public.posts.read_published', 'update', ['using']],
      ['webhook.default.posts-hook', 'update', ['url']],
    ]);
    expect(changes[0]!.sql).toEqual(["SET LOCAL lock_timeout = '3s'", 'ALTER TABLE "public"."posts" ALTER COLUMN "status" SET DEFAULT \'review\'']);
    await expect(renderPlan(plan)).toMatchFileSnapshot('../golden/plan-three-updates.txt');
  });

  it('sends a changed secret and never shows it', async () => {
    const plan = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(CONFIG, { HOOK_SECRET: 'rotated-canary' }), live: liveState(), state: managedState() });
    const change = plan.changes.find((c) => c.address === 'webhook.default.posts-hook')!;
    expect(change.action).toBe('update');
    expect(change.attributes).toEqual([{ path: ['secret'], before: { sensitive: true }, after: { sensitive: true }, sensitive: true }]);
    const text = renderPlan(plan) + JSON.stringify(plan);
    expect(text).not.toContain('rotated-canary');
    expect(text).not.toContain('s3cr3t-canary');
    expect(renderPlan(plan)).toContain('~ secret: (sensitive value) -> (sensitive value)');
  });

  it('plans a delete with DELETES_DATA for a managed table removed from the config, and its policies go with it', async () => {
    const withoutTable = CONFIG.replace(/          posts:[\s\S]*?(?=    webhooks:)/, '          {}\n').replace('        tables:\n          {}\n', '        tables: {}\n');
    const plan = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(withoutTable), live: liveState(), state: managedState() });
    const del = plan.changes.find((c) => c.address === 'table.default.public.posts')!;
    expect(del.action).toBe('delete');
    expect(del.hazards.map((h) => h.type)).toEqual(['DELETES_DATA']);
    const policy = plan.changes.find((c) => c.address === 'policy.default.public.posts.read_published')!;
    expect(policy.deletedWith).toBe('table.default.public.posts');
    expect(plan.summary.destroy).toBe(2);
  });

  it('refuses to adopt a live resource that is not managed, and explains import', async () => {
    const state = managedState();
    removeEntry(state, 'webhook.default.posts-hook');
    const plan = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(CONFIG), live: liveState(), state });
    expect(plan.diagnostics.map((d) => [d.code, d.address])).toEqual([['plan.unmanaged-conflict', 'webhook.default.posts-hook']]);
    expect(plan.diagnostics[0]!.detail).toContain('fluxbase import webhook.default.posts-hook');
  });

  it('creates everything, in dependency order, on an empty server', async () => {
    // An empty server has the built-in default tenant and its `public` schema, which are adopted.
    const live: LiveState = {
      resources: new Map([DEFAULT_TENANT, DEFAULT_PUBLIC].map((r) => [r.address, r])),
      tenants: new Map([['default', { slug: 'default', id: 't-0', isDefault: true }]]),
      scanned: new Set(['default']),
      diagnostics: [],
    };
    const plan = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(CONFIG), live, state: emptyState() });
    expect(plan.diagnostics).toEqual([]);
    const changes = plan.changes.filter((c) => c.action !== 'no-op');
    expect(changes.map((c) => c.address)).toEqual([
      'tenant.acme',
      'table.default.public.posts',
      'policy.default.public.posts.read_published',
      'webhook.default.posts-hook',
    ]);
    expect(changes.every((c) => c.action === 'create')).toBe(true);
    const table = changes[1]!;
    // RLS is declared: the table is created with it on, in one migration (never reachable without it).
    expect(table.steps?.map((s) => s.op)).toEqual(['migration']);
    expect(table.sql?.at(-1)).toBe('ALTER TABLE "public"."posts" ENABLE ROW LEVEL SECURITY');
    // The webhook's event is sent in the form the server matches (F7): qualified + bare name.
    expect(changes[3]!.after?.events).toEqual([
      { table: 'posts', operations: ['INSERT', 'UPDATE'] },
      { table: 'public.posts', operations: ['INSERT', 'UPDATE'] },
    ]);
    await expect(renderPlan(plan)).toMatchFileSnapshot('../golden/plan-create.txt');
  });

  it('gives byte-identical plan JSON for the same input', async () => {
    const a = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(CONFIG), live: liveState(), state: managedState() });
    const b = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(CONFIG), live: liveState(), state: managedState() });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});

describe('checks across resources and renames (issue 11)', () => {
  const table = (schema: string, name: string, columns: [string, string][], fks: [string, string][] = []): LiveResource => {
    const { attrs, meta } = liveTable(
      {
        schema,
        name,
        rls_enabled: false,
        rls_forced: false,
        owner: 'postgres',
        columns: columns.map(([n, type]) => ({ name: n, type, not_null: n === 'id', default: null })),
        constraints: [
          { name: `${name}_pkey`, type: 'p', columns: ['id'], ref_schema: null, ref_table: null, ref_columns: null, on_delete: null, on_update: null, check: null },
          ...fks.map(([column, target]) => ({ name: `${name}_${column}_fkey`, type: 'f' as const, columns: [column], ref_schema: schema, ref_table: target, ref_columns: ['id'], on_delete: 'a', on_update: 'a', check: null })),
        ],
        indexes: null,
      },
      undefined,
    );
    return { address: `table.default.${schema}.${name}`, kind: 'table', tenant: 'default', id: `${schema}.${name}`, attrs: attrs as Record<string, unknown>, meta: meta as unknown as Record<string, unknown>, fingerprint: `f-${name}`, parent: `schema.default.${schema}` };
  };
  const live = (...tables: LiveResource[]): LiveState => ({
    resources: new Map(
      [
        { address: 'tenant.default', kind: 'tenant', id: 't-0', attrs: { name: 'Default', metadata: {} }, fingerprint: 't', builtin: true } as LiveResource,
        { address: 'schema.default.shop', kind: 'schema', tenant: 'default', id: 'shop', attrs: {}, fingerprint: 's', parent: 'tenant.default' } as LiveResource,
        ...tables,
      ].map((r) => [r.address, r]),
    ),
    tenants: new Map([['default', { slug: 'default', id: 't-0', isDefault: true }]]),
    scanned: new Set(['default']),
    diagnostics: [],
  });
  const managing = (...addresses: string[]) => {
    const state = emptyState();
    for (const a of ['schema.default.shop', ...addresses]) setEntry(state, a, { kind: a.split('.')[0] as 'table' });
    return state;
  };
  const config = (tables: string) => `version: 1
tenants:
  default:
    schemas:
      shop:
        tables:
${tables}`;

  it('refuses a policy on an external table that names a column the live table lacks', async () => {
    const desired = await desiredFrom(
      config('          customers:\n            external: true\n            rls:\n              enabled: true\n              policies:\n                own: { command: SELECT, using: "owner_id = auth.uid()" }\n'),
    );
    const plan = buildPlan({ endpoint: 'http://x', desired, live: live(table('shop', 'customers', [['id', 'bigint'], ['owner', 'uuid']])), state: managing() });
    expect(plan.diagnostics.map((d) => [d.code, d.address, d.summary, d.location?.line])).toEqual([
      ['plan.reference', 'policy.default.shop.customers.own', 'using of policy own refers to column owner_id, which shop.customers does not have', 12],
    ]);
  });

  it('plans a table and a column rename as one update that keeps the data, with the state moving along', async () => {
    const desired = await desiredFrom(
      config('          clients:\n            renamed_from: customers\n            columns:\n              id:    { type: bigint, primary_key: true }\n              label: { type: text, renamed_from: name }\n'),
    );
    const plan = buildPlan({ endpoint: 'http://x', desired, live: live(table('shop', 'customers', [['id', 'bigint'], ['name', 'text']])), state: managing('table.default.shop.customers') });
    expect(plan.diagnostics).toEqual([]);
    const changes = plan.changes.filter((c) => c.action !== 'no-op');
    expect(changes.map((c) => [c.address, c.action, c.renamedFrom, c.hazards])).toEqual([['table.default.shop.clients', 'update', 'table.default.shop.customers', []]]);
    expect(changes[0]!.attributes).toEqual([
      { path: ['name'], before: 'customers', after: 'clients' },
      { path: ['columns', 'label', 'name'], before: 'name', after: 'label' },
    ]);
    expect(changes[0]!.steps).toEqual([
      { op: 'ddl_rename_table', from: 'customers', to: 'clients' },
      { op: 'migration', sql: ["SET LOCAL lock_timeout = '3s'", 'ALTER TABLE "shop"."clients" RENAME COLUMN "name" TO "label"'] },
    ]);
  });

  it('records the state under the new name when the server renamed the table but the apply was interrupted', async () => {
    const desired = await desiredFrom(config('          clients:\n            renamed_from: customers\n            columns:\n              id: { type: bigint, primary_key: true }\n'));
    const plan = buildPlan({ endpoint: 'http://x', desired, live: live(table('shop', 'clients', [['id', 'bigint']])), state: managing('table.default.shop.customers') });
    expect(plan.diagnostics).toEqual([]);
    const change = plan.changes.find((c) => c.address === 'table.default.shop.clients')!;
    expect([change.action, change.importing, change.renamedFrom, change.steps]).toEqual(['no-op', true, 'table.default.shop.customers', undefined]);
  });

  it('refuses a renamed_from whose source does not exist, located at the directive', async () => {
    const desired = await desiredFrom(config('          clients:\n            renamed_from: nobody\n            columns:\n              id: { type: bigint, primary_key: true }\n'));
    const plan = buildPlan({ endpoint: 'http://x', desired, live: live(), state: managing() });
    expect(plan.diagnostics.map((d) => [d.code, d.address, d.location?.line, d.location?.column])).toEqual([['plan.reference', 'table.default.shop.clients', 8, 27]]);
  });
});

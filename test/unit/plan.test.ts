import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/engine/load.js';
import { validateDocument } from '../../src/engine/validate.js';
import { buildDesired } from '../../src/engine/graph.js';
import { buildPlan } from '../../src/engine/plan.js';
import { renderPlan } from '../../src/engine/render.js';
import type { LiveState } from '../../src/engine/refresh.js';
import type { LiveResource } from '../../src/model/resource.js';
import { emptyState, secretFingerprint, type StateDocument } from '../../src/state/document.js';
import { liveTable } from '../../src/resources/table-spec.js';
import { liveWebhookAttrs } from '../../src/resources/webhook.js';
import { canonicalRoles } from '../../src/resources/policy.js';
import { loadSqlParser } from '../../src/sql/parser.js';

beforeAll(() => loadSqlParser());

const CONFIG = `version: 1
tenants:
  acme:
    name: Acme
    schemas:
      app:
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
        events: [{ table: app.posts, operations: [UPDATE, INSERT] }]
        secret: \${env:HOOK_SECRET}
`;

async function desiredFrom(yaml: string, env: Record<string, string> = { HOOK_SECRET: 's3cr3t-canary' }) {
  const { config, diagnostics } = await validateDocument(loadConfigText(yaml, 'fluxbase.config.yaml', { env }));
  expect(diagnostics).toEqual([]);
  return buildDesired(config!);
}

/** Live state as the real server renders the config above after it was applied. */
function liveState(): LiveState {
  const { attrs, meta } = liveTable(
    {
      schema: 'app',
      name: 'posts',
      rls_enabled: true,
      rls_forced: false,
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
    { address: 'tenant.acme', kind: 'tenant', id: 't-1', attrs: { name: 'Acme', metadata: {} }, fingerprint: 'f1' },
    { address: 'schema.acme.app', kind: 'schema', tenant: 'acme', id: 'app', attrs: {}, fingerprint: 'f2', parent: 'tenant.acme' },
    { address: 'table.acme.app.posts', kind: 'table', tenant: 'acme', id: 'app.posts', attrs: attrs as Record<string, unknown>, meta: meta as unknown as Record<string, unknown>, fingerprint: 'f3', parent: 'schema.acme.app' },
    {
      address: 'policy.acme.app.posts.read_published',
      kind: 'policy',
      tenant: 'acme',
      attrs: {
        command: 'SELECT',
        permissive: true,
        roles: canonicalRoles(['authenticated', 'anon']),
        using: "((status = 'published'::text) AND (views >= 0))",
        with_check: null,
      },
      fingerprint: 'f4',
      parent: 'table.acme.app.posts',
    },
    {
      address: 'webhook.acme.posts-hook',
      kind: 'webhook',
      tenant: 'acme',
      id: 'w-1',
      attrs: liveWebhookAttrs({
        id: 'w-1',
        name: 'posts-hook',
        url: 'https://hooks.example.com/posts',
        enabled: true,
        events: [{ table: 'app.posts', operations: ['INSERT', 'UPDATE'] }],
        max_retries: 3,
        retry_backoff_seconds: 5,
        timeout_seconds: 30,
        headers: {},
        scope: 'global',
      }),
      fingerprint: 'f5',
      parent: 'tenant.acme',
    },
    { address: 'webhook.acme.dashboard-made', kind: 'webhook', tenant: 'acme', id: 'w-2', attrs: {}, fingerprint: 'f6', parent: 'tenant.acme' },
  ];
  return {
    resources: new Map(resources.map((r) => [r.address, r])),
    tenants: new Map([['acme', { slug: 'acme', id: 't-1', isDefault: false }]]),
    scanned: new Set(['acme']),
    diagnostics: [],
  };
}

function managedState(): StateDocument {
  const state = emptyState();
  state.salt = Buffer.alloc(32, 7).toString('base64');
  for (const [address, kind] of [
    ['tenant.acme', 'tenant'],
    ['schema.acme.app', 'schema'],
    ['table.acme.app.posts', 'table'],
    ['policy.acme.app.posts.read_published', 'policy'],
    ['webhook.acme.posts-hook', 'webhook'],
  ] as const) {
    state.resources[address] = { kind };
  }
  state.resources['webhook.acme.posts-hook']!.writeOnly = {
    secret: secretFingerprint(state.salt, 'webhook.acme.posts-hook#secret', 's3cr3t-canary'),
  };
  return state;
}

describe('planning against live state rendered by PostgreSQL', () => {
  it('finds no changes when the config matches, whatever PostgreSQL did to the text', async () => {
    const plan = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(CONFIG), live: liveState(), state: managedState() });
    expect(plan.diagnostics).toEqual([]);
    expect(plan.changes.filter((c) => c.action !== 'no-op')).toEqual([]);
    expect(plan.unmanaged.map((u) => u.address)).toEqual(['webhook.acme.dashboard-made']);
    expect(renderPlan(plan)).toContain('No changes.');
  });

  it('plans exactly one update each for a changed default, policy expression and webhook URL', async () => {
    const changed = CONFIG.replace(`default: "'draft'"`, `default: "'review'"`)
      .replace("views >= 0", 'views > 0')
      .replace('https://hooks.example.com/posts', 'https://hooks.example.com/v2/posts');
    const plan = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(changed), live: liveState(), state: managedState() });
    const changes = plan.changes.filter((c) => c.action !== 'no-op');
    expect(changes.map((c) => [c.address, c.action, c.attributes.map((a) => a.path.join('.'))])).toEqual([
      ['table.acme.app.posts', 'update', ['columns.status.default']],
      ['policy.acme.app.posts.read_published', 'update', ['using']],
      ['webhook.acme.posts-hook', 'update', ['url']],
    ]);
    expect(changes[0]!.sql).toEqual(["SET LOCAL lock_timeout = '3s'", 'ALTER TABLE "app"."posts" ALTER COLUMN "status" SET DEFAULT \'review\'']);
    await expect(renderPlan(plan)).toMatchFileSnapshot('../golden/plan-three-updates.txt');
  });

  it('sends a changed secret and never shows it', async () => {
    const plan = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(CONFIG, { HOOK_SECRET: 'rotated-canary' }), live: liveState(), state: managedState() });
    const change = plan.changes.find((c) => c.address === 'webhook.acme.posts-hook')!;
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
    const del = plan.changes.find((c) => c.address === 'table.acme.app.posts')!;
    expect(del.action).toBe('delete');
    expect(del.hazards.map((h) => h.type)).toEqual(['DELETES_DATA']);
    const policy = plan.changes.find((c) => c.address === 'policy.acme.app.posts.read_published')!;
    expect(policy.deletedWith).toBe('table.acme.app.posts');
    expect(plan.summary.destroy).toBe(2);
  });

  it('refuses to adopt a live resource that is not managed, and explains import', async () => {
    const state = managedState();
    delete state.resources['webhook.acme.posts-hook'];
    const plan = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(CONFIG), live: liveState(), state });
    expect(plan.diagnostics.map((d) => [d.code, d.address])).toEqual([['plan.unmanaged-conflict', 'webhook.acme.posts-hook']]);
    expect(plan.diagnostics[0]!.detail).toContain('fluxbase import webhook.acme.posts-hook');
  });

  it('creates everything, in dependency order, on an empty server', async () => {
    const live: LiveState = { resources: new Map(), tenants: new Map(), scanned: new Set(), diagnostics: [] };
    const plan = buildPlan({ endpoint: 'http://x', desired: await desiredFrom(CONFIG), live, state: emptyState() });
    // `app` is one of Fluxbase's own schemas: it comes with the new tenant and is adopted, not created.
    expect(plan.diagnostics).toEqual([]);
    expect(plan.changes.map((c) => c.address)).toEqual([
      'tenant.acme',
      'table.acme.app.posts',
      'policy.acme.app.posts.read_published',
      'webhook.acme.posts-hook',
    ]);
    expect(plan.changes.every((c) => c.action === 'create')).toBe(true);
    const table = plan.changes[1]!;
    expect(table.steps?.map((s) => s.op)).toEqual(['ddl_create_table', 'rls_toggle']);
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
        columns: columns.map(([n, type]) => ({ name: n, type, not_null: n === 'id', default: null })),
        constraints: [
          { name: `${name}_pkey`, type: 'p', columns: ['id'], ref_schema: null, ref_table: null, ref_columns: null, on_delete: null, on_update: null, check: null },
          ...fks.map(([column, target]) => ({ name: `${name}_${column}_fkey`, type: 'f' as const, columns: [column], ref_schema: schema, ref_table: target, ref_columns: ['id'], on_delete: 'a', on_update: 'a', check: null })),
        ],
        indexes: null,
      },
      undefined,
    );
    return { address: `table.acme.${schema}.${name}`, kind: 'table', tenant: 'acme', id: `${schema}.${name}`, attrs: attrs as Record<string, unknown>, meta: meta as unknown as Record<string, unknown>, fingerprint: `f-${name}`, parent: `schema.acme.${schema}` };
  };
  const live = (...tables: LiveResource[]): LiveState => ({
    resources: new Map(
      [
        { address: 'tenant.acme', kind: 'tenant', id: 't-1', attrs: { name: 'Acme', metadata: {} }, fingerprint: 't' } as LiveResource,
        { address: 'schema.acme.shop', kind: 'schema', tenant: 'acme', id: 'shop', attrs: {}, fingerprint: 's', parent: 'tenant.acme' } as LiveResource,
        ...tables,
      ].map((r) => [r.address, r]),
    ),
    tenants: new Map([['acme', { slug: 'acme', id: 't-1', isDefault: false }]]),
    scanned: new Set(['acme']),
    diagnostics: [],
  });
  const managing = (...addresses: string[]) => {
    const state = emptyState();
    for (const a of ['tenant.acme', 'schema.acme.shop', ...addresses]) state.resources[a] = { kind: a.split('.')[0] as 'table' };
    return state;
  };
  const config = (tables: string) => `version: 1
tenants:
  acme:
    name: Acme
    schemas:
      shop:
        tables:
${tables}`;

  it('refuses to drop a table that a table it does not manage still references (the server has no CASCADE)', async () => {
    const desired = await desiredFrom(config('          orders:\n            columns:\n              id: { type: bigint, primary_key: true }\n'));
    const plan = buildPlan({
      endpoint: 'http://x',
      desired,
      live: live(table('shop', 'orders', [['id', 'bigint']]), table('shop', 'customers', [['id', 'bigint']]), table('shop', 'invoices', [['id', 'bigint'], ['customer_id', 'bigint']], [['customer_id', 'customers']])),
      state: managing('table.acme.shop.orders', 'table.acme.shop.customers'),
    });
    expect(plan.changes.find((c) => c.address === 'table.acme.shop.customers')?.action).toBe('delete');
    expect(plan.diagnostics.map((d) => [d.code, d.address, d.summary])).toEqual([
      ['plan.reference', 'table.acme.shop.customers', 'the plan drops table shop.customers, but shop.invoices.customer_id references it and stays'],
    ]);
  });

  it('refuses a policy on an external table that names a column the live table lacks', async () => {
    const desired = await desiredFrom(
      config('          customers:\n            external: true\n            rls:\n              enabled: true\n              policies:\n                own: { command: SELECT, using: "owner_id = auth.uid()" }\n'),
    );
    const plan = buildPlan({ endpoint: 'http://x', desired, live: live(table('shop', 'customers', [['id', 'bigint'], ['owner', 'uuid']])), state: managing() });
    expect(plan.diagnostics.map((d) => [d.code, d.address, d.summary, d.location?.line])).toEqual([
      ['plan.reference', 'policy.acme.shop.customers.own', 'using of policy own refers to column owner_id, which shop.customers does not have', 13],
    ]);
  });

  it('plans a table and a column rename as one update that keeps the data, with the state moving along', async () => {
    const desired = await desiredFrom(
      config('          clients:\n            renamed_from: customers\n            columns:\n              id:    { type: bigint, primary_key: true }\n              label: { type: text, renamed_from: name }\n'),
    );
    const plan = buildPlan({ endpoint: 'http://x', desired, live: live(table('shop', 'customers', [['id', 'bigint'], ['name', 'text']])), state: managing('table.acme.shop.customers') });
    expect(plan.diagnostics).toEqual([]);
    const changes = plan.changes.filter((c) => c.action !== 'no-op');
    expect(changes.map((c) => [c.address, c.action, c.renamedFrom, c.hazards])).toEqual([['table.acme.shop.clients', 'update', 'table.acme.shop.customers', []]]);
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
    const plan = buildPlan({ endpoint: 'http://x', desired, live: live(table('shop', 'clients', [['id', 'bigint']])), state: managing('table.acme.shop.customers') });
    expect(plan.diagnostics).toEqual([]);
    const change = plan.changes.find((c) => c.address === 'table.acme.shop.clients')!;
    expect([change.action, change.importing, change.renamedFrom, change.steps]).toEqual(['no-op', true, 'table.acme.shop.customers', undefined]);
  });

  it('refuses a renamed_from whose source does not exist, located at the directive', async () => {
    const desired = await desiredFrom(config('          clients:\n            renamed_from: nobody\n            columns:\n              id: { type: bigint, primary_key: true }\n'));
    const plan = buildPlan({ endpoint: 'http://x', desired, live: live(), state: managing() });
    expect(plan.diagnostics.map((d) => [d.code, d.address, d.location?.line, d.location?.column])).toEqual([['plan.reference', 'table.acme.shop.clients', 9, 27]]);
  });
});

/**
 * The tool against the emulator in its default mode — the real Fluxbase 2026.3.7 behaviour
 * (issue 10, shared/fluxbase-api/real-server-behaviour.md F1–F11). For each finding: the working
 * path, or a plan-time refusal located at file:line:column with the resource address, exit 1 and
 * no API write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { api, changesOf, setupAdmin, sql, startTestEmulator, tenantId, Workspace } from './harness.js';

/** Requests that change something (reads — GETs and the catalog query — excluded). */
function writes(emulator: RunningEmulator, from: number): string[] {
  return emulator
    .requests()
    .slice(from)
    .filter((r) => !r.startsWith('GET ') && r !== 'POST /api/v1/admin/sql/execute' && !r.startsWith('POST /api/v1/admin/login'));
}

let emulator: RunningEmulator;
let admin: { email: string; password: string; accessToken: string };

beforeAll(async () => {
  emulator = await startTestEmulator({ setupToken: 'real-setup', faults: { tenantCreationFailures: ['stuck'] } });
  admin = await setupAdmin(emulator, 'real-setup');
});
afterAll(async () => {
  await emulator?.close();
});

/** Runs `fn` in a fresh workspace holding `config`, then removes it. */
async function withWorkspace(config: string, fn: (ws: Workspace) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const ws = await Workspace.create(emulator, config, env);
  try {
    await fn(ws);
  } finally {
    await ws.dispose();
  }
}

/** Runs validate, plan and apply and expects each to refuse with `code` at `where`, sending no write. */
async function refusedEverywhere(ws: Workspace, code: string, where: string, commands: string[][] = [['plan'], ['apply', '--auto-approve']]): Promise<string> {
  const from = emulator.requests().length;
  let stderr = '';
  for (const command of commands) {
    const result = await ws.cli(command);
    expect(result.code, `${command.join(' ')}: ${result.stderr}`).toBe(1);
    expect(result.stderr).toContain(`error[${code}]`);
    expect(result.stderr).toContain(where);
    stderr = result.stderr;
  }
  expect(writes(emulator, from)).toEqual([]);
  return stderr;
}

describe('F1: tables in Fluxbase internal schemas', () => {
  it('refuses a table in `app` before any call, saying the server drops it and what to declare instead', async () => {
    const config = 'version: 1\ntenants:\n  default:\n    schemas:\n      app:\n        tables:\n          posts:\n            columns:\n              id: { type: uuid, primary_key: true }\n';
    await withWorkspace(config, async (ws) => {
      const before = emulator.requestCount();
      const stderr = await refusedEverywhere(ws, 'config.internal-schema', 'fluxbase.config.yaml:7:11: error[config.internal-schema]: tenants.default.schemas.app.tables.posts', [['validate'], ['plan'], ['apply', '--auto-approve']]);
      expect(stderr).toContain('dropped');
      expect(stderr).toContain('Declare the table in `public` or in a schema of your own');
      expect(emulator.requestCount()).toBe(before);
    });
  });
});

describe('F2, F3: a tenant with its own database', () => {
  const tenantConfig = (slug = 'acme', indexes = '      posts_author_idx: { columns: [author_id] }') => `version: 1
tenants:
  ${slug}:
    schemas:
      public:
        tables:
          posts:
            columns:
              id:        { type: bigint, primary_key: true }
              author_id: { type: uuid, nullable: false }
              score:     { type: integer, default: 0 }
            indexes:
        ${indexes}
            checks:
              posts_score_positive: score >= 0
            rls: { enabled: true }
`;

  it('creates a public table with an index and a check, owned by tenant_migration_role, and later changes its type', async () => {
    await withWorkspace(tenantConfig(), async (ws) => {
      const apply = await ws.cli(['apply', '--auto-approve']);
      expect(apply.stderr).toBe('');
      expect(apply.code).toBe(0);
      const id = await tenantId(emulator, 'acme');
      const owner = await api<{ results: { rows: { owner: string; rls: boolean }[] }[] }>(emulator, 'POST', '/api/v1/admin/sql/execute', {
        tenant: id,
        body: { query: "SELECT pg_get_userbyid(relowner) AS owner, relrowsecurity AS rls FROM pg_class WHERE oid = 'public.posts'::regclass" },
      });
      expect(owner.body.results[0]!.rows).toEqual([{ owner: 'tenant_migration_role', rls: true }]);
      await ws.edit((t) => t.replace('score:     { type: integer, default: 0 }', 'score:     { type: bigint, default: 0 }'));
      // integer → bigint rewrites the table (docs/hazards.md): allowed by name.
      const change = await ws.cli(['apply', '--auto-approve', '--allow-hazards=REWRITES_TABLE']);
      expect(change.stderr).toBe('');
      expect(change.code).toBe(0);
      expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    });
  });

  it('refuses an index on a table in a schema of its own before any write, saying to use public', async () => {
    const config = tenantConfig('beta').replace('      public:', '      crm:');
    await withWorkspace(config, async (ws) => {
      const stderr = await refusedEverywhere(ws, 'plan.server-limit', "fluxbase.config.yaml:7:11: error[plan.server-limit]: table.beta.crm.posts: tenant beta's migrations cannot create or change tables in schema crm");
      expect(stderr).toContain('index posts_author_idx');
      expect(stderr).toContain("Declare the table in this tenant's `public` schema");
    });
  });

  it('refuses a migration on a public table that tenant_migration_role does not own (made through the DDL API)', async () => {
    const made = await api<{ tenant: { id: string } }>(emulator, 'POST', '/api/v1/admin/tenants', { body: { slug: 'gamma', name: 'Gamma' } });
    const ddl = await api(emulator, 'POST', '/api/v1/admin/ddl/tables', { tenant: made.body.tenant.id, body: { schema: 'public', name: 'legacy', columns: [{ name: 'id', type: 'bigint', primaryKey: true }] } });
    expect(ddl.status).toBe(201);
    const config = `version: 1
import: [tenant.gamma, table.gamma.public.legacy]
tenants:
  gamma:
    name: Gamma
    schemas:
      public:
        tables:
          legacy:
            columns:
              id: { type: bigint, primary_key: true }
            indexes:
              legacy_id_idx: { columns: [id] }
`;
    await withWorkspace(config, async (ws) => {
      const stderr = await refusedEverywhere(ws, 'plan.server-limit', 'fluxbase.config.yaml:9:11: error[plan.server-limit]: table.gamma.public.legacy: table public.legacy of tenant gamma is owned by postgres');
      expect(stderr).toContain('index legacy_id_idx');
    });
  });

  it('refuses realtime in a tenant database at plan time (F3)', async () => {
    const config = tenantConfig('delta').replace('            rls: { enabled: true }\n', '            rls: { enabled: true }\n            realtime: { events: [INSERT] }\n');
    await withWorkspace(config, async (ws) => {
      const stderr = await refusedEverywhere(ws, 'plan.server-limit', 'fluxbase.config.yaml:7:11: error[plan.server-limit]: table.delta.public.posts: realtime cannot be enabled in tenant delta');
      expect(stderr).toContain('Failed to enable realtime');
    });
  });
});

describe('F5: a token without iat', () => {
  it('is recognised before any call when the plan reads webhooks or client keys', async () => {
    const token = await new SignJWT({ role: 'service_role', iss: 'fluxbase' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(emulator.jwtSecret));
    const config = 'version: 1\nclient_keys:\n  app: { scopes: [tables:read] }\n';
    await withWorkspace(
      config,
      async (ws) => {
        const before = emulator.requestCount();
        const plan = await ws.cli(['plan']);
        expect(plan.code).toBe(1);
        expect(plan.stderr).toContain('error[api.token-without-iat]');
        expect(plan.stderr).toContain('deploy/generate-keys.sh');
        expect(emulator.requestCount()).toBe(before);
      },
      { FLUXBASE_TOKEN: token },
    );
  });
});

describe('F6: the migrations IP allowlist', () => {
  it('is checked at plan time with its own diagnostic, before any write', async () => {
    const fenced = await startTestEmulator({ migrationsAllowedIpRanges: ['10.0.0.0/8'] });
    const ws = await Workspace.create(fenced, 'version: 1\ntenants:\n  default:\n    schemas:\n      public:\n        tables:\n          items:\n            columns:\n              id: { type: bigint, primary_key: true }\n              tag: { type: text, unique: true }\n');
    try {
      const from = fenced.requests().length;
      const plan = await ws.cli(['plan']);
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain("error[api.migrations-allowlist]: the server's migrations API does not admit calls from this machine");
      expect(plan.stderr).toContain('FLUXBASE_MIGRATIONS_ALLOWED_IP_RANGES');
      expect(plan.stderr).not.toContain('FLUXBASE_TOKEN');
      expect(writes(fenced, from)).toEqual([]);
    } finally {
      await ws.dispose();
      await fenced.close();
    }
  });
});

describe('F7: webhooks', () => {
  const config = `version: 1
tenants:
  default:
    schemas:
      public:
        tables:
          orders:
            columns:
              id:   { type: uuid, primary_key: true, default: gen_random_uuid() }
              note: { type: text }
    webhooks:
      orders:
        url: https://hooks.example.com/orders
        events: [{ table: public.orders, operations: [INSERT] }]
        secret: s3cret
  epsilon:
    webhooks:
      tasks:
        url: https://hooks.example.com/tasks
        events: [{ table: public.tasks, operations: [INSERT] }]
        secret: s3cret
    schemas:
      public:
        tables:
          tasks:
            columns:
              id: { type: uuid, primary_key: true, default: gen_random_uuid() }
`;

  it('are sent in the form the server matches, so a row insert queues a delivery; undeliverable events are warned about', async () => {
    await withWorkspace(config, async (ws) => {
      const plan = await ws.cli(['plan']);
      expect(plan.stderr).toMatch(/fluxbase\.config\.yaml:20:27: warning\[config\.webhook-undeliverable\]: .*webhook tasks will never deliver events of public\.tasks/);
      const apply = await ws.cli(['apply', '--auto-approve']);
      expect(apply.code).toBe(0);
      await sql(emulator, admin.accessToken, "INSERT INTO public.orders (note) VALUES ('first')");
      const queued = await sql(emulator, admin.accessToken, "SELECT table_schema, table_name, event_type FROM auth.webhook_events WHERE table_name = 'orders'");
      expect(queued).toEqual([{ table_schema: 'public', table_name: 'orders', event_type: 'INSERT' }]);
      expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    });
  });
});

describe('F10: key creates whose answer is lost', () => {
  it('leave exactly one key and no stored key value after a reset connection', async () => {
    const lossy = await startTestEmulator({
      faults: { dropResponses: [{ method: 'POST', path: '/api/v1/admin/service-keys', times: 1 }, { method: 'POST', path: '/api/v1/client-keys', times: 1 }] },
    });
    const ws = await Workspace.create(lossy, 'version: 1\nclient_keys:\n  mobile: { scopes: [tables:read] }\ntenants:\n  default:\n    service_keys:\n      backend: { scopes: ["*"] }\n');
    try {
      const apply = await ws.cli(['apply', '--auto-approve', '--secrets-out', 'keys.env']);
      expect(apply.stderr).toBe('');
      expect(apply.code).toBe(0);
      const def = await tenantId(lossy, 'default');
      const serviceKeys = await api<{ name: string }[]>(lossy, 'GET', '/api/v1/admin/service-keys', { tenant: def });
      const clientKeys = await api<{ name: string }[]>(lossy, 'GET', '/api/v1/client-keys');
      expect(serviceKeys.body.map((k) => k.name)).toEqual(['backend']);
      expect(clientKeys.body.map((k) => k.name)).toEqual(['mobile']);
      const { readFile } = await import('node:fs/promises');
      const values = (await readFile(`${ws.dir}/keys.env`, 'utf8')).split('\n').filter(Boolean).map((l) => l.split('=')[1]!);
      expect(values).toHaveLength(2);
      const stored = await api<{ results: { rows?: { body: string }[] }[] }>(lossy, 'POST', '/api/v1/admin/sql/execute', {
        token: await new SignJWT({ role: 'instance_admin', sub: 'checker', user_id: 'checker' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(new TextEncoder().encode(lossy.jwtSecret)),
        body: { query: "SELECT convert_from(response_body, 'UTF8') AS body FROM platform.idempotency_keys" },
      });
      const bodies = (stored.body.results[0]!.rows ?? []).map((r) => r.body).join('\n');
      for (const value of values) expect(bodies).not.toContain(value);
      expect(lossy.requests().filter((r) => r === 'POST /api/v1/admin/service-keys')).toHaveLength(2);
    } finally {
      await ws.dispose();
      await lossy.close();
    }
  });
});

describe('F11: slugs, drops without CASCADE', () => {
  it('reports a slug held by a tenant stuck after a failed creation, at plan time', async () => {
    expect((await api(emulator, 'POST', '/api/v1/admin/tenants', { body: { slug: 'stuck', name: 'Stuck' } })).status).toBe(500);
    await withWorkspace(
      'version: 1\ntenants:\n  stuck:\n    name: Stuck again\n',
      async (ws) => {
        const stderr = await refusedEverywhere(ws, 'plan.server-limit', "fluxbase.config.yaml:3:3: error[plan.server-limit]: tenant.stuck: tenant slug stuck is taken by a tenant stuck in status 'error'");
        expect(stderr).toContain('/repair');
      },
      { FLUXBASE_ADMIN_EMAIL: admin.email, FLUXBASE_ADMIN_PASSWORD: admin.password },
    );
  });

  it('reports a slug held by a soft-deleted tenant, at plan time', async () => {
    const made = await api<{ tenant: { id: string } }>(emulator, 'POST', '/api/v1/admin/tenants', { body: { slug: 'gone', name: 'Gone' } });
    expect((await api(emulator, 'DELETE', `/api/v1/admin/tenants/${made.body.tenant.id}`)).status).toBe(204);
    await withWorkspace('version: 1\ntenants:\n  gone: {}\n', async (ws) => {
      const stderr = await refusedEverywhere(ws, 'plan.server-limit', 'fluxbase.config.yaml:3:3: error[plan.server-limit]: tenant.gone: tenant slug gone is taken by a soft-deleted tenant');
      expect(stderr).toContain('/recover');
    });
  });

  it('refuses to drop a table that another table still references, and drops both in order when both go', async () => {
    const both = `version: 1
tenants:
  default:
    schemas:
      public:
        tables:
          customers:
            columns:
              id: { type: bigint, primary_key: true }
          invoices:
            columns:
              id: { type: bigint, primary_key: true }
              customer_id: { type: bigint, references: { table: customers } }
`;
    await withWorkspace(both, async (ws) => {
      expect((await ws.cli(['apply', '--auto-approve'])).code).toBe(0);
      await ws.write(both.replace(/ {10}customers:\n(?: {12}.*\n)+/, ''));
      const from = emulator.requests().length;
      const plan = await ws.cli(['plan']);
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain('error[plan.server-limit]: table.default.public.customers: table public.customers cannot be dropped while other tables reference it');
      expect(plan.stderr).toContain('table.default.public.invoices');
      expect(writes(emulator, from)).toEqual([]);
      await ws.write('version: 1\ntenants:\n  default: {}\n');
      const drop = await ws.cli(['plan', '--json']);
      expect(changesOf(drop.stdout).sort()).toEqual([
        ['table.default.public.customers', 'delete'],
        ['table.default.public.invoices', 'delete'],
      ]);
      const apply = await ws.cli(['apply', '--auto-approve', '--allow-hazards=DELETES_DATA']);
      expect(apply.stderr).toBe('');
      expect(apply.code).toBe(0);
    });
  });
});

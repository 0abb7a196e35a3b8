/**
 * The `instance` state backend: the state document and its lock live in the Fluxbase instance
 * (custom settings of the default tenant), so two CI runners with nothing in common share them.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ChaosProxy } from '../support/proxy.js';
import { api, setupAdmin, startTestEmulator, tenantId, Workspace } from './harness.js';

const CONFIG = `version: 1
state:
  backend: instance
tenants:
  default:
    webhooks:
      shared-hook:
        url: https://hooks.example.com/shared
`;

let emulator: RunningEmulator;
let runnerA: Workspace;
let runnerB: Workspace;
let adminToken: string;

beforeAll(async () => {
  emulator = await startTestEmulator({ setupToken: 'state-setup' });
  const admin = await setupAdmin(emulator, 'state-setup');
  adminToken = admin.accessToken;
  const env = { FLUXBASE_ADMIN_EMAIL: admin.email, FLUXBASE_ADMIN_PASSWORD: admin.password };
  runnerA = await Workspace.create(emulator, CONFIG, env);
  runnerB = await Workspace.create(emulator, CONFIG, env);
});

afterAll(async () => {
  await runnerA?.dispose();
  await runnerB?.dispose();
  await emulator?.close();
});

describe('state kept in the instance', () => {
  it('is written to a custom setting, not to a local file', async () => {
    const apply = await runnerA.cli(['apply', '--auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(existsSync(path.join(runnerA.dir, 'fluxbase.state.json'))).toBe(false);
    const setting = await api<{ value: { format: string; resources: Record<string, unknown> } }>(emulator, 'GET', '/api/v1/admin/settings/custom/fluxbase-iac.state', { token: adminToken });
    expect(setting.body.value.format).toBe('fluxbase-iac-state');
    expect(Object.keys(setting.body.value.resources)).toContain('webhook.default.shared-hook');
  });

  it('is seen by a second runner: its plan is clean and a removal there plans a delete', async () => {
    expect((await runnerB.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    await runnerB.write('version: 1\nstate:\n  backend: instance\ntenants:\n  default: {}\n');
    const plan = await runnerB.cli(['plan', '--json']);
    const doc = JSON.parse(plan.stdout) as { changes: { address: string; action: string }[] };
    expect(doc.changes.filter((c) => c.action !== 'no-op').map((c) => [c.address, c.action])).toEqual([['webhook.default.shared-hook', 'delete']]);
  });

  it('locks through the instance: a held lock names its holder to the other runner', async () => {
    const holder = { id: 'lock-from-runner-a', owner: 'ci@runner-a (pid 42)', operation: 'fluxbase apply', created: new Date().toISOString(), expires: new Date(Date.now() + 600_000).toISOString() };
    const created = await api(emulator, 'POST', '/api/v1/admin/settings/custom', { token: adminToken, body: { key: 'fluxbase-iac.state.lock', value: holder, value_type: 'json' } });
    expect(created.status).toBe(201);
    const blocked = await runnerB.cli(['apply', '--auto-approve', '--allow-hazards=STOPS_DELIVERIES']);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain('error[state.locked]');
    expect(blocked.stderr).toContain('locked by ci@runner-a (pid 42)');
    expect((await runnerB.cli(['force-unlock', 'lock-from-runner-a'])).code).toBe(0);
    const before = await api<{ value: unknown }>(emulator, 'GET', '/api/v1/admin/settings/custom/fluxbase-iac.state', { token: adminToken });
    const apply = await runnerB.cli(['apply', '--auto-approve', '--allow-hazards=STOPS_DELIVERIES']);
    expect(apply.code).toBe(0);
    // The backup is the state before this command, not the apply's own earlier write (its pending record).
    const backup = await api<{ value: unknown }>(emulator, 'GET', '/api/v1/admin/settings/custom/fluxbase-iac.state.backup', { token: adminToken });
    expect(backup.body.value).toEqual(before.body.value);
    const hooks = await api<unknown[]>(emulator, 'GET', '/api/v1/webhooks');
    expect(hooks.body).toEqual([]);
    const lock = await api(emulator, 'GET', '/api/v1/admin/settings/custom/fluxbase-iac.state.lock', { token: adminToken });
    expect(lock.status).toBe(404);
  });

  it('keeps pending operations and a backup there too: a run whose create answer was lost is resolved by another runner', async () => {
    await runnerA.write(CONFIG.replace('shared-hook', 'lost-hook'));
    await runnerB.write(CONFIG.replace('shared-hook', 'lost-hook'));
    const proxy = await ChaosProxy.start(Number(new URL(emulator.url).port));
    proxy.onRequest = (r) => {
      if (r.method === 'POST' && r.path === '/api/v1/webhooks') r.cutResponse(); // made, but the answer is lost
    };
    try {
      const first = await runnerA.cli(['apply', '--auto-approve'], { FLUXBASE_URL: proxy.url });
      expect(first.code).toBe(1);
    } finally {
      await proxy.close();
    }
    const stored = await api<{ value: { pending?: { address: string; started?: string }[] } }>(emulator, 'GET', '/api/v1/admin/settings/custom/fluxbase-iac.state', { token: adminToken });
    expect(stored.body.value.pending).toEqual([expect.objectContaining({ address: 'webhook.default.lost-hook', started: expect.any(String) })]);
    const backup = await api<{ value: { format: string } }>(emulator, 'GET', '/api/v1/admin/settings/custom/fluxbase-iac.state.backup', { token: adminToken });
    expect(backup.body.value.format).toBe('fluxbase-iac-state');
    const apply = await runnerB.cli(['apply', '--auto-approve']);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('webhook.default.lost-hook: the interrupted create had made it: now managed');
    const hooks = await api<{ name: string }[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: await tenantId(emulator, 'default') });
    expect(hooks.body.map((h) => h.name)).toEqual(['lost-hook']);
    expect((await runnerA.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
  });
});

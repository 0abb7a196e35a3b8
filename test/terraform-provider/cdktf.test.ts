/**
 * examples/cdktf: synthesised with the generated CDKTF bindings (fluxbase-iac/cdktf, built into
 * dist/ by npm run build), applied with real terraform against the emulator, then re-planned
 * clean; values flow from terraform_data into a webhook and from a service key out. The CDK
 * Terrain variant (fluxbase-iac/cdktn) must synthesise the same Terraform JSON. The committed
 * bindings must match a fresh generation from the provider's schema.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { synth } from '../../examples/cdktf/main.js';
import { synth as synthTerrain } from '../../examples/cdktf/terrain.js';
import { api, buildProvider, FluxbaseWorkspace, startTestEmulator, tenantId } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** cdk.tf.json without cdktf's metadata (`//` keys), for comparing two synths. */
function withoutMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '//').map(([k, v]) => [k, withoutMetadata(v)]));
  return value;
}

describe('the CDKTF example under real terraform', () => {
  let emulator: RunningEmulator;
  let ws: FluxbaseWorkspace;

  beforeAll(async () => {
    const [em, built] = await Promise.all([startTestEmulator(), buildProvider()]);
    emulator = em;
    ws = new FluxbaseWorkspace(built.exe, emulator);
    built.remove();
  });
  afterAll(async () => {
    ws?.remove();
    await emulator?.close();
  });

  it('synthesises cdk.tf.json with the generated bindings (CDK Terrain gives the same Terraform JSON)', () => {
    synth(join(ws.root, 'cdktf.out'));
    synthTerrain(join(ws.root, 'cdktn.out'));
    const stack = (dir: string) => JSON.parse(readFileSync(join(ws.root, dir, 'stacks', 'fluxbase', 'cdk.tf.json'), 'utf8')) as Record<string, unknown>;
    const cdktf = stack('cdktf.out');
    expect(Object.keys(cdktf.resource as object).sort()).toEqual([
      'fluxbase_rls_policy', 'fluxbase_schema', 'fluxbase_service_key', 'fluxbase_table', 'fluxbase_tenant', 'fluxbase_webhook', 'terraform_data',
    ]);
    expect((cdktf.resource as Record<string, Record<string, { url?: string }>>).fluxbase_webhook!.orders_hook!.url).toBe('${terraform_data.endpoint.output["url"]}');
    expect(withoutMetadata(stack('cdktn.out'))).toEqual(withoutMetadata(cdktf));
    copyFileSync(join(ws.root, 'cdktf.out', 'stacks', 'fluxbase', 'cdk.tf.json'), join(ws.work, 'cdk.tf.json'));
  });

  it('applies it: the webhook URL comes from terraform_data, the key value flows out', async () => {
    await ws.ok(['init']);
    const apply = await ws.ok(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 8 added, 0 changed, 0 destroyed.');
    expect(await tenantId(emulator, 'shop')).toMatch(/^[0-9a-f-]{36}$/);
    const hooks = await api<{ name: string; url: string }[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: await tenantId(emulator, 'default') });
    expect(hooks.body).toEqual([expect.objectContaining({ name: 'orders', url: 'https://hooks.example.com/fluxbase/orders' })]);
    const key = JSON.parse((await ws.ok(['output', '-json', 'reporting_key'])).stdout) as string;
    expect(key).toMatch(/^sk_/);
    const shown = JSON.parse((await ws.ok(['show', '-json'])).stdout) as { values: { root_module: { resources: { address: string; values: Record<string, unknown> }[] } } };
    const store = shown.values.root_module.resources.find((r) => r.address === 'terraform_data.secret_store')!;
    expect((store.values.output as { reporting_key: string }).reporting_key).toBe(key);
  });

  it('then plans no changes, and destroys', async () => {
    const plan = await ws.ok(['plan', '-detailed-exitcode']);
    expect(plan.stdout).toContain('No changes.');
    await ws.ok(['destroy', '-auto-approve']);
  });

  it('commits bindings that match a fresh generation from the provider schema', async () => {
    const res = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'gen-cdktf-bindings.mjs'), '--check'], { cwd: ROOT }).catch((e: { stderr: string; code: number }) => e);
    expect('code' in res ? res.code : 0, 'stderr' in res ? res.stderr : '').toBe(0);
  });
});

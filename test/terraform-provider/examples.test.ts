/**
 * examples/terraform/main.tf applied as written with real terraform (full plugin protocol)
 * against the emulator: a value flows from terraform_data into the webhook, the service key's
 * value flows out into terraform_data and an output, a re-plan is clean, destroy removes it.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { api, buildProvider, FluxbaseWorkspace, startTestEmulator, tenantId } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('examples/terraform under real terraform', () => {
  let emulator: RunningEmulator;
  let ws: FluxbaseWorkspace;

  beforeAll(async () => {
    const [em, built] = await Promise.all([startTestEmulator(), buildProvider()]);
    emulator = em;
    ws = new FluxbaseWorkspace(built.exe, emulator);
    built.remove();
    ws.write('main.tf', readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'terraform', 'main.tf'), 'utf8'));
  });
  afterAll(async () => {
    ws?.remove();
    await emulator?.close();
  });

  it('applies the example; values flow in and out', async () => {
    await ws.ok(['init']);
    const apply = await ws.ok(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 8 added, 0 changed, 0 destroyed.');
    const def = await tenantId(emulator, 'default');
    const hooks = await api<{ url: string; headers: Record<string, string> }[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: def });
    expect(hooks.body).toEqual([expect.objectContaining({ url: 'https://gateway.example.com/hooks/fluxbase', headers: { 'X-Source': 'fluxbase' } })]);
    const key = JSON.parse((await ws.ok(['output', '-json', 'etl_key'])).stdout) as string;
    expect(key).toMatch(/^sk_/);
    const shown = JSON.parse((await ws.ok(['show', '-json'])).stdout) as { values: { root_module: { resources: { address: string; values: Record<string, unknown> }[] } } };
    const store = shown.values.root_module.resources.find((r) => r.address === 'terraform_data.secret_store')!;
    expect((store.values.output as { etl_key: string }).etl_key).toBe(key);
    expect(JSON.parse((await ws.ok(['output', '-json', 'contacts_table'])).stdout)).toBe('default/crm/contacts');
    // the README's column order: primary key first, then by name
    const cols = await api<{ results: { rows: { attname: string }[] }[] }>(emulator, 'POST', '/api/v1/admin/sql/execute', {
      body: { query: "SELECT attname FROM pg_attribute WHERE attrelid = 'crm.contacts'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum" },
    });
    expect(cols.body.results[0]!.rows.map((r) => r.attname)).toEqual(['id', 'created_at', 'email', 'owner', 'status']);
  });

  it('re-plans clean with one list call per kind, not per resource', async () => {
    const before = emulator.requestCount();
    await ws.ok(['plan', '-detailed-exitcode']);
    // 7 Fluxbase resources are read and planned (14 operations); the lists are shared: tenants,
    // schemas, tables (catalog query + realtime), policies, webhooks, service keys.
    expect(emulator.requestCount() - before).toBe(7);
  });

  it('destroys', async () => {
    const destroy = await ws.ok(['destroy', '-auto-approve']);
    expect(destroy.stdout).toContain('Destroy complete! Resources: 8 destroyed.');
  });
});

describe("examples/terraform from its README's commands", () => {
  it('terraform-provider-fluxbase install (a filesystem mirror Terraform finds by itself), terraform init, terraform apply', async () => {
    const readme = readFileSync(join(ROOT, 'examples', 'terraform', 'README.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const commands = block.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
    expect(commands).toEqual(['terraform-provider-fluxbase install', 'terraform init', 'terraform apply']);
    const emulator = await startTestEmulator();
    const root = mkdtempSync(join(tmpdir(), 'fluxbase-tf-readme-'));
    try {
      const project = join(root, 'project');
      cpSync(join(ROOT, 'examples', 'terraform'), project, { recursive: true });
      // a user's shell: no CLI configuration, a home directory of its own, the package's bin on PATH
      const bin = join(root, 'bin');
      mkdirSync(bin);
      symlinkSync(join(ROOT, 'dist', 'terraform-provider-fluxbase'), join(bin, 'terraform-provider-fluxbase'));
      const env = { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: join(root, 'home'), CHECKPOINT_DISABLE: '1', NO_COLOR: '1', FLUXBASE_URL: emulator.url, FLUXBASE_TOKEN: emulator.serviceRoleToken };
      const run = (command: string, input?: string) =>
        new Promise<{ code: number; output: string }>((resolve) => {
          const child = execFile('bash', ['-c', command], { cwd: project, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
            resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
          );
          child.stdin!.end(input ?? '');
        });
      const installed = await run(commands[0]!);
      expect(installed.code).toBe(0);
      expect(installed.output).toContain(join(root, 'home', '.terraform.d', 'plugins', 'registry.terraform.io', 'fluxbase', 'fluxbase'));
      const init = await run(commands[1]!);
      expect(init.output).toContain('Installing fluxbase/fluxbase v0.1.0');
      expect(init.code).toBe(0);
      const apply = await run(commands[2]!, 'yes\n');
      expect(apply.output).toContain('Apply complete! Resources: 8 added, 0 changed, 0 destroyed.');
      expect(apply.code).toBe(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
      await emulator.close();
    }
  });
});


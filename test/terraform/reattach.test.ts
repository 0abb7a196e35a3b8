import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoteStore } from './fixtures/example-provider.js';
import { buildExampleProvider, removeBuiltProvider } from './helpers/build.js';
import { TerraformWorkspace } from './helpers/terraform.js';

describe('debug (reattach) mode', () => {
  let child: ChildProcess;
  let reattach: string;
  let ws: TerraformWorkspace;
  let exe: string;

  beforeAll(async () => {
    exe = await buildExampleProvider();
    ws = new TerraformWorkspace(exe, { host: 'registry.terraform.io', namespace: 'fluxbase-test', type: 'example', version: '0.1.0' });
    child = spawn(exe, [], { env: { PATH: process.env.PATH, FLUXBASE_TF_DEBUG: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = createInterface({ input: child.stdout! });
    reattach = await new Promise<string>((resolve, reject) => {
      lines.on('line', (l) => {
        const m = /^export TF_REATTACH_PROVIDERS='(.*)'$/.exec(l);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`provider exited with ${code}`)));
    });
  });

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
    ws.remove();
    removeBuiltProvider(exe);
  });

  it('prints a TF_REATTACH_PROVIDERS value for a test-mode process without needing the magic cookie', () => {
    const cfg = JSON.parse(reattach)['registry.terraform.io/fluxbase-test/example'];
    expect(cfg).toMatchObject({ Protocol: 'grpc', ProtocolVersion: 6, Pid: child.pid, Test: true });
    expect(cfg.Addr.String).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('serves several terraform commands from one warm process, without terraform init', async () => {
    const store = new NoteStore(join(ws.root, 'store.json'));
    ws.write(
      'main.tf',
      `terraform {\n  required_providers {\n    example = { source = "fluxbase-test/example" }\n  }\n}\n` +
        `provider "example" {\n  store_path = ${JSON.stringify(store.path)}\n}\n` +
        `resource "example_note" "a" {\n  title = "warm"\n  slug  = "warm"\n}\n`,
    );
    const env = { TF_REATTACH_PROVIDERS: reattach };
    const applied = await ws.run(['apply', '-auto-approve'], env);
    expect(applied.code, applied.output).toBe(0);
    expect(Object.values(store.load().notes).map((n) => n.title)).toEqual(['warm']);
    const planned = await ws.run(['plan', '-detailed-exitcode'], env);
    expect(planned.code, planned.output).toBe(0);
    const destroyed = await ws.run(['destroy', '-auto-approve'], env);
    expect(destroyed.code, destroyed.output).toBe(0);
    expect(child.exitCode).toBeNull(); // Test: true ⇒ terraform leaves it running
  });
});

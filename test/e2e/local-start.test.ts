/**
 * `fluxbase local start` as a user runs it: a separate process that prints its URL and a
 * service-role token; with and without the real webhook URL guard.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ROOT } from './harness.js';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';

interface Server {
  url: string;
  token: string;
  output: () => string;
  stop: () => Promise<number | null>;
}

async function localStart(args: string[], env: Record<string, string> = {}): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'local', 'start', '--port', '0', '--database-url', inject('databaseUrl'), ...args], {
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const started = Date.now();
  while (!/FLUXBASE_TOKEN=\S+/.test(out)) {
    if (Date.now() - started > 30_000 || child.exitCode !== null) throw new Error(`local start did not come up:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: /listening on (\S+)/.exec(out)![1]!,
    token: /FLUXBASE_TOKEN=(\S+)/.exec(out)![1]!,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGINT');
      }),
  };
}

function cli(dir: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'dist/cli.js'), ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const CONFIG = `version: 1
tenants:
  default:
    webhooks:
      local-receiver:
        url: http://127.0.0.1:9/hook
`;

describe('fluxbase local start', () => {
  it.each([
    ['refuses a loopback webhook URL by default, like a production server, with the URL-guard explanation (F9)', [], 1],
    ['with --debug accepts it, as FLUXBASE_DEBUG=true does', ['--debug'], 0],
  ] as const)('%s', async (_name, flags, expected) => {
    const server = await localStart([...flags], { FLUXBASE_ADMIN_EMAIL: 'dev@example.com', FLUXBASE_ADMIN_PASSWORD: 'a-long-dev-password' });
    const dir = await mkdtemp(path.join(tmpdir(), 'fluxbase-local-'));
    try {
      expect(server.output()).toContain(`webhook URL guard: ${flags.length > 0 ? 'off' : 'on'}`);
      expect(server.output()).toContain('dashboard admin: dev@example.com');
      await writeFile(path.join(dir, 'fluxbase.config.yaml'), CONFIG);
      const apply = await cli(dir, ['apply', '--auto-approve'], { FLUXBASE_URL: server.url, FLUXBASE_TOKEN: server.token });
      expect(apply.code).toBe(expected);
      if (expected === 1) {
        expect(apply.stderr).toContain('POST /api/v1/webhooks answered 500: Failed to create webhook');
        expect(apply.stderr).toContain('unless it runs with FLUXBASE_DEBUG=true');
      }
      const login = await cli(dir, ['plan', '--detailed-exitcode'], {
        FLUXBASE_URL: server.url,
        FLUXBASE_ADMIN_EMAIL: 'dev@example.com',
        FLUXBASE_ADMIN_PASSWORD: 'a-long-dev-password',
      });
      expect(login.code).toBe(expected === 0 ? 0 : 2);
    } finally {
      expect(await server.stop()).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

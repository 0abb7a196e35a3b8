/**
 * Recovery (issue 12), deterministic: a proxy between the CLI and the emulator holds or cuts
 * chosen requests, so each test interrupts an apply at an exact point — a signal while a change is
 * in flight, a create whose answer is lost, a delete whose target vanished, a key whose value must
 * already be saved — and checks that the next plain apply converges with no manual step. Also:
 * locks (dead owner taken over, live holder named, plan under the lock), backups, a damaged state
 * and temporary files of killed runs.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ChaosProxy, type SeenRequest } from '../support/proxy.js';
import { api, ROOT, startTestEmulator, tenantId, Workspace, type CliResult } from './harness.js';

const CLI = path.join(ROOT, 'dist/cli.js');

let emulator: RunningEmulator;
let proxy: ChaosProxy;

beforeAll(async () => {
  emulator = await startTestEmulator();
  proxy = await ChaosProxy.start(Number(new URL(emulator.url).port));
});

afterAll(async () => {
  await proxy?.close();
  await emulator?.close();
});

/** A workspace whose CLI talks to the emulator through the proxy. */
async function workspace(config: string): Promise<Workspace> {
  const ws = await Workspace.create(emulator, config);
  ws.env.FLUXBASE_URL = proxy.url;
  return ws;
}

/** Starts the CLI; resolves when the request `match` reaches the proxy (held there), with the running process. */
function startUntil(ws: Workspace, args: string[], match: (r: SeenRequest) => boolean) {
  let output = '';
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ws.dir, env: { PATH: process.env.PATH ?? '', HOME: ws.dir, NO_COLOR: '1', ...ws.env } });
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<CliResult>((resolve) => child.on('exit', (code, signal) => resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 1), stdout: output, stderr: '' })));
  const reached = new Promise<SeenRequest>((resolve) => {
    proxy.onRequest = (r) => {
      if (!match(r)) return;
      proxy.onRequest = undefined;
      proxy.pause();
      resolve(r);
    };
  });
  return { child, exited, reached };
}

const hooksOf = async (slug: string) => (await api<{ id: string; name: string }[]>(emulator, 'GET', '/api/v1/webhooks', { tenant: await tenantId(emulator, slug) })).body;

describe('graceful interrupt', () => {
  it('on SIGINT finishes the change in flight, saves the state, releases the lock, reports and exits 1; apply then converges', async () => {
    const ws = await workspace(`version: 1
tenants:
  default:
    webhooks:
      int-a: { url: https://hooks.example.com/a }
      int-b: { url: https://hooks.example.com/b }
      int-c: { url: https://hooks.example.com/c }
`);
    try {
      const run = startUntil(ws, ['apply', '--auto-approve', '--parallelism', '1'], (r) => r.method === 'POST' && r.path === '/api/v1/webhooks');
      await run.reached;
      run.child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 300)); // the signal is handled while the call is held
      proxy.resume();
      const result = await run.exited;
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('Received SIGINT: no new changes are started');
      expect(result.stdout).toMatch(/Apply interrupted: 1 applied, 0 failed, 2 not attempted\./);
      expect(result.stdout).toContain('The state was saved and the lock released.');
      expect(existsSync(path.join(ws.dir, 'fluxbase.state.json.lock'))).toBe(false);
      expect((await hooksOf('default')).filter((h) => h.name.startsWith('int-'))).toHaveLength(1);
      const again = await ws.cli(['apply', '--auto-approve']);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('2 change(s) the interrupted apply had not started are planned again');
      expect((await hooksOf('default')).filter((h) => h.name.startsWith('int-')).map((h) => h.name).sort()).toEqual(['int-a', 'int-b', 'int-c']);
      expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    } finally {
      proxy.resume();
      await ws.dispose();
    }
  });
});

describe('pending operations', () => {
  it('adopts a create whose answer was lost (the server made it), without a duplicate or an import', async () => {
    const ws = await workspace(`version: 1
tenants:
  default:
    webhooks:
      lost-answer: { url: https://hooks.example.com/lost }
`);
    try {
      const run = startUntil(ws, ['apply', '--auto-approve'], (r) => {
        if (r.method !== 'POST' || r.path !== '/api/v1/webhooks') return false;
        r.cutResponse(); // the server makes the webhook, and its answer never arrives
        return true;
      });
      await run.reached;
      proxy.resume();
      const first = await run.exited;
      expect(first.code).toBe(1);
      const state = JSON.parse(await readFile(path.join(ws.dir, 'fluxbase.state.json'), 'utf8')) as { pending?: { address: string; started?: string }[] };
      expect(state.pending?.map((p) => p.address)).toEqual(['webhook.default.lost-answer']);
      const plan = await ws.cli(['plan', '--detailed-exitcode']);
      expect(plan.stdout).toContain('webhook.default.lost-answer: the interrupted create had made it: now managed');
      const again = await ws.cli(['apply', '--auto-approve']);
      expect(again.code).toBe(0);
      expect((await hooksOf('default')).filter((h) => h.name === 'lost-answer')).toHaveLength(1);
      expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    } finally {
      proxy.resume();
      await ws.dispose();
    }
  });

  it('counts a delete whose target is already gone as done: a webhook (the server answers 500) and a policy (400)', async () => {
    const config = `version: 1
tenants:
  default:
    schemas:
      public:
        tables:
          gone_t:
            columns: { id: { type: bigint, primary_key: true } }
            rls:
              enabled: true
              policies:
                gone_p: { command: SELECT, using: "true" }
    webhooks:
      gone-hook: { url: https://hooks.example.com/gone }
`;
    const ws = await workspace(config);
    try {
      expect((await ws.cli(['apply', '--auto-approve'])).code).toBe(0);
      const tenant = await tenantId(emulator, 'default');
      const [hook] = (await hooksOf('default')).filter((h) => h.name === 'gone-hook');
      await ws.write(config.replace(/ {16}gone_p:.*\n/, '').replace('              policies:\n', '').replace(/ {4}webhooks:\n.*\n/, ''));
      const run = startUntil(ws, ['apply', '--auto-approve', '--allow-hazards=AUTHZ_CHANGE,STOPS_DELIVERIES', '--parallelism', '1'], (r) => r.method === 'DELETE');
      await run.reached;
      // Someone else deletes both while the tool's first delete is on its way.
      expect((await api(emulator, 'DELETE', `/api/v1/webhooks/${hook!.id}`, { tenant })).status).toBe(200);
      expect((await api(emulator, 'DELETE', '/api/v1/admin/policies/public/gone_t/gone_p', { tenant })).status).toBe(200);
      expect((await api(emulator, 'DELETE', `/api/v1/webhooks/${hook!.id}`, { tenant })).status).toBe(500);
      expect((await api(emulator, 'DELETE', '/api/v1/admin/policies/public/gone_t/gone_p', { tenant })).status).toBe(400);
      proxy.resume();
      const result = await run.exited;
      expect(result.stdout).toContain('webhook.default.gone-hook: Destruction complete');
      expect(result.stdout).toContain('policy.default.public.gone_t.gone_p: Destruction complete');
      expect(result.code).toBe(0);
      const state = JSON.parse(await readFile(path.join(ws.dir, 'fluxbase.state.json'), 'utf8')) as { resources: Record<string, unknown>; pending?: unknown };
      expect(Object.keys(state.resources)).not.toContain('webhook.default.gone-hook');
      expect(state.pending).toBeUndefined();
      expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    } finally {
      proxy.resume();
      await ws.dispose();
    }
  });

  it('finishes a table whose later step failed once the configuration is fixed (no "not managed")', async () => {
    const config = `version: 1
tenants:
  default:
    schemas:
      public:
        tables:
          typo_t:
            columns:
              id:   { type: bigint, primary_key: true }
              body: { type: text }
            checks:
              body_present: lenght(body) > 0
`;
    const ws = await workspace(config);
    try {
      const first = await ws.cli(['apply', '--auto-approve']);
      expect(first.code).toBe(1);
      expect(first.stdout).toMatch(/failed: +table\.default\.public\.typo_t \(create\)/);
      await ws.write(config.replace('lenght(body)', 'length(body)'));
      const plan = await ws.cli(['plan']);
      expect(plan.stdout).toContain('table.default.public.typo_t: the interrupted create after 1 of 2 step(s) had made it: now managed');
      expect(plan.stdout).toContain('# table.default.public.typo_t will be updated in place');
      const again = await ws.cli(['apply', '--auto-approve']);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    } finally {
      await ws.dispose();
    }
  });

  it('saves a new key value before the next call; killed then, the key is kept (its value was delivered)', async () => {
    const ws = await workspace(`version: 1
tenants:
  default:
    service_keys:
      kept-value: { scopes: ["*"], enabled: false }
`);
    try {
      // The create answers with the value; the next call disables the key. Kill the CLI there.
      const run = startUntil(ws, ['apply', '--auto-approve', '--secrets-out', 'keys.env'], (r) => r.method === 'POST' && r.path.endsWith('/disable'));
      await run.reached;
      const saved = await readFile(path.join(ws.dir, 'keys.env'), 'utf8');
      expect(saved).toMatch(/^SERVICE_KEY_DEFAULT_KEPT_VALUE=sk_live_\S+\n$/);
      run.child.kill('SIGKILL');
      await run.exited;
      proxy.resume();
      const again = await ws.cli(['apply', '--auto-approve', '--secrets-out', 'keys.env']);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('service_key.default.kept-value: the interrupted create had made it: now managed');
      expect(again.stdout).not.toContain('replaced');
      expect(await readFile(path.join(ws.dir, 'keys.env'), 'utf8')).toBe(saved);
      expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    } finally {
      proxy.resume();
      await ws.dispose();
    }
  });
});

describe('the state journal', () => {
  it('a run killed after several changes left them in fluxbase.state.json.journal: the next commands read it, and apply folds it in', async () => {
    const ws = await workspace(`version: 1
tenants:
  default:
    webhooks:
      jr-a: { url: https://hooks.example.com/a }
      jr-b: { url: https://hooks.example.com/b }
      jr-c: { url: https://hooks.example.com/c }
`);
    try {
      let creates = 0;
      const run = startUntil(ws, ['apply', '--auto-approve', '--parallelism', '1'], (r) => r.method === 'POST' && r.path === '/api/v1/webhooks' && ++creates === 3);
      await run.reached;
      run.child.kill('SIGKILL');
      await run.exited;
      proxy.resume();
      // The file holds the apply's first write (the approved plan); the two results are journal lines.
      const file = JSON.parse(await readFile(path.join(ws.dir, 'fluxbase.state.json'), 'utf8')) as { resources: Record<string, unknown>; pending?: { address: string }[] };
      expect(Object.keys(file.resources).filter((a) => a.startsWith('webhook.default.jr-'))).toEqual([]);
      expect(file.pending?.map((p) => p.address)).toEqual(['webhook.default.jr-a', 'webhook.default.jr-b', 'webhook.default.jr-c']);
      expect(existsSync(path.join(ws.dir, 'fluxbase.state.json.journal'))).toBe(true);
      const list = await ws.cli(['state', 'list']);
      expect(list.stdout.split('\n').filter((l) => l.includes('jr-'))).toEqual(['webhook.default.jr-a', 'webhook.default.jr-b', 'webhook.default.jr-c  (pending create from an interrupted apply)']);
      const again = await ws.cli(['apply', '--auto-approve']);
      expect(again.code).toBe(0);
      expect(again.stdout).not.toContain('jr-a');
      expect(again.stdout).not.toContain('jr-b');
      expect((await hooksOf('default')).filter((h) => h.name.startsWith('jr-')).map((h) => h.name).sort()).toEqual(['jr-a', 'jr-b', 'jr-c']);
      expect(existsSync(path.join(ws.dir, 'fluxbase.state.json.journal'))).toBe(false);
      expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    } finally {
      proxy.resume();
      await ws.dispose();
    }
  });
});

describe('locks, backups and damaged state', () => {
  const lockFile = (ws: Workspace) => path.join(ws.dir, 'fluxbase.state.json.lock');
  const lock = (pid: number, created = new Date()) =>
    JSON.stringify({ id: 'c0ffee00-0000-4000-8000-000000000001', owner: `ci@${hostname()} (pid ${pid})`, operation: 'fluxbase apply', created: created.toISOString(), expires: new Date(Date.now() + 3_600_000).toISOString(), host: hostname(), pid });
  const deadPid = async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => child.on('exit', r));
    return child.pid!;
  };

  it('takes over the lock of a process on this host that is gone, and removes the temporary files it left', async () => {
    const ws = await workspace('version: 1\ntenants:\n  default:\n    webhooks:\n      lock-hook: { url: https://hooks.example.com/lock }\n');
    try {
      const dead = await deadPid();
      await writeFile(lockFile(ws), lock(dead));
      await writeFile(path.join(ws.dir, `fluxbase.state.json.${dead}.tmp`), '{"half": ');
      const apply = await ws.cli(['apply', '--auto-approve']);
      expect(apply.code).toBe(0);
      expect(apply.stderr).toContain(`warning[state.locked]: Took over the state lock of ci@${hostname()} (pid ${dead})`);
      expect(apply.stderr).toContain(`process ${dead} on this host is no longer running`);
      expect((await readdir(ws.dir)).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
    } finally {
      await ws.dispose();
    }
  });

  it('names a live holder and what it runs; plan waits for the lock with --lock-timeout, or reads without it with --no-lock', async () => {
    const ws = await workspace('version: 1\ntenants:\n  default: {}\n');
    try {
      await writeFile(lockFile(ws), lock(process.pid, new Date(Date.now() - 5000)));
      const blocked = await ws.cli(['plan']);
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toMatch(new RegExp(`error\\[state\\.locked\\]: state .* is locked by ci@${hostname()} \\(pid ${process.pid}\\) since .* running \`fluxbase apply\` for \\d+ s`));
      const unlocked = await ws.cli(['plan', '--no-lock']);
      expect(unlocked.code).toBe(0);
      expect(unlocked.stderr).toContain('warning[state.locked]: reading the state without its lock (--no-lock)');
      const waiting = ws.cli(['plan', '--lock-timeout', '30']);
      await new Promise((r) => setTimeout(r, 1500));
      await rm(lockFile(ws)); // the holder finishes
      const waited = await waiting;
      expect(waited.code).toBe(0);
      expect(waited.stdout).toContain('No changes.');
    } finally {
      await ws.dispose();
    }
  });

  it('keeps the previous state as fluxbase.state.json.backup and explains how to recover a damaged state', async () => {
    const ws = await workspace('version: 1\ntenants:\n  default:\n    webhooks:\n      backup-hook: { url: https://hooks.example.com/backup }\n');
    try {
      expect((await ws.cli(['apply', '--auto-approve'])).code).toBe(0);
      const before = await readFile(path.join(ws.dir, 'fluxbase.state.json'), 'utf8');
      await ws.write('version: 1\ntenants:\n  default:\n    webhooks:\n      backup-hook: { url: https://hooks.example.com/backup }\n      second-hook: { url: https://hooks.example.com/second }\n');
      expect((await ws.cli(['apply', '--auto-approve'])).code).toBe(0);
      // The backup is the state as it was before the latest apply, byte for byte.
      const state = await readFile(path.join(ws.dir, 'fluxbase.state.json'), 'utf8');
      expect(state).toContain('webhook.default.second-hook');
      expect(await readFile(path.join(ws.dir, 'fluxbase.state.json.backup'), 'utf8')).toBe(before);
      await writeFile(path.join(ws.dir, 'fluxbase.state.json'), state.slice(0, state.length / 2));
      const plan = await ws.cli(['plan']);
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain('error[state.damaged]: the state');
      expect(plan.stderr).toContain('is damaged: it is not valid JSON');
      expect(plan.stderr).toContain('fluxbase.state.json.backup');
      expect(plan.stderr).not.toMatch(/SyntaxError|at JSON\.parse/);
      await writeFile(path.join(ws.dir, 'fluxbase.state.json'), state);
      expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
    } finally {
      await ws.dispose();
    }
  });
});

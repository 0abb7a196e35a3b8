/**
 * `fluxbase local start` as a user runs it: a separate process that prints its URL and a
 * service-role token; with and without the real webhook URL guard.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ROOT } from './harness.js';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import pg from 'pg';

interface Server {
  url: string;
  token: string;
  output: () => string;
  stop: () => Promise<number | null>;
}

async function localStart(args: string[], env: Record<string, string> = {}, storage: string[] = ['--database-url', inject('databaseUrl')]): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'local', 'start', '--port', '0', ...storage, ...args], {
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const started = Date.now();
  while (!/Stop with Ctrl\+C/.test(out)) {
    if (Date.now() - started > 90_000 || child.exitCode !== null) throw new Error(`local start did not come up:\n${out}`);
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

/** Runs `fluxbase local start` expected to fail, and returns its exit code and output. */
function startFails(args: string[], runAs: string[] = []): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const argv = [...runAs, process.execPath, path.join(ROOT, 'dist/cli.js'), 'local', 'start', ...args];
    const child = spawn(argv[0]!, argv.slice(1), { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

const CUSTOM_SETTING = `version: 1
tenants:
  default:
    settings:
      custom:
        features.flags:
          value: { new-editor: true }
`;

describe('fluxbase local start prints everything needed to connect', () => {
  it('creates a dashboard admin by default, so a config with custom settings applies with the printed variables', async () => {
    const server = await localStart([]);
    const dir = await mkdtemp(path.join(tmpdir(), 'fluxbase-local-'));
    try {
      const printed = Object.fromEntries([...server.output().matchAll(/export (FLUXBASE_\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
      expect(Object.keys(printed).sort()).toEqual(['FLUXBASE_ADMIN_EMAIL', 'FLUXBASE_ADMIN_PASSWORD', 'FLUXBASE_TOKEN', 'FLUXBASE_URL']);
      expect(printed.FLUXBASE_ADMIN_EMAIL).toBe('admin@example.com');
      await writeFile(path.join(dir, 'fluxbase.config.yaml'), CUSTOM_SETTING);
      const apply = await cli(dir, ['apply', '--auto-approve'], printed);
      expect(apply.stderr).toBe('');
      expect(apply.code).toBe(0);
      expect((await cli(dir, ['plan', '--detailed-exitcode'], printed)).code).toBe(0);
    } finally {
      expect(await server.stop()).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with --data-dir keeps the JWT secret and the admin: a restart with FLUXBASE_ADMIN_EMAIL/PASSWORD set comes up, and the first token still works', async () => {
    const data = await mkdtemp(path.join(tmpdir(), 'fluxbase-local-data-'));
    const dir = await mkdtemp(path.join(tmpdir(), 'fluxbase-local-'));
    try {
      const first = await localStart([], {}, ['--data-dir', data]);
      const token = /FLUXBASE_TOKEN=(\S+)/.exec(first.output())![1]!;
      const password = /FLUXBASE_ADMIN_PASSWORD=(\S+)/.exec(first.output())![1]!;
      expect(await first.stop()).toBe(0);
      const env = { FLUXBASE_ADMIN_EMAIL: 'admin@example.com', FLUXBASE_ADMIN_PASSWORD: password };
      const second = await localStart([], env, ['--data-dir', data]);
      try {
        expect(second.output()).toContain('dashboard admin: admin@example.com (existing, from FLUXBASE_ADMIN_EMAIL/FLUXBASE_ADMIN_PASSWORD)');
        expect(second.output()).toContain(`JWT secret: kept in ${path.join(data, 'local-server.json')}`);
        await writeFile(path.join(dir, 'fluxbase.config.yaml'), CUSTOM_SETTING);
        const apply = await cli(dir, ['apply', '--auto-approve'], { FLUXBASE_URL: second.url, FLUXBASE_TOKEN: token, ...env });
        expect(apply.stderr).toBe('');
        expect(apply.code).toBe(0);
      } finally {
        expect(await second.stop()).toBe(0);
      }
    } finally {
      await rm(data, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('fluxbase local start: every start-up problem is one line and exit 1', () => {
  it('a port in use', async () => {
    const server = await localStart([]);
    try {
      const port = new URL(server.url).port;
      const { code, output } = await startFails(['--port', port]);
      expect({ code, output }).toEqual({ code: 1, output: `error[local.start]: port ${port} on 127.0.0.1 is already in use: stop what listens there, or choose another --port (0 picks a free one)\n` });
    } finally {
      await server.stop();
    }
  });

  it('an unreachable --database-url (its password not shown)', async () => {
    const { code, output } = await startFails(['--port', '0', '--database-url', 'postgres://u:hunter2@127.0.0.1:1/db']);
    expect({ code, output }).toEqual({ code: 1, output: 'error[local.start]: cannot use the PostgreSQL server at postgres://u:***@127.0.0.1:1/db (--database-url): connect ECONNREFUSED 127.0.0.1:1\n' });
  });

  it('a --data-dir that cannot be created', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fluxbase-local-'));
    try {
      await writeFile(path.join(dir, 'file'), 'x');
      const { code, output } = await startFails(['--port', '0', '--data-dir', path.join(dir, 'file', 'data')]);
      expect({ code, output }).toEqual({ code: 1, output: `error[local.start]: cannot create the data directory ${path.join(dir, 'file', 'data')}: a parent is not a directory\n` });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // Permissions mean nothing to root: run as nobody there (setpriv, util-linux).
  const asRoot = process.getuid?.() === 0;
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  it.skipIf(asRoot && !setpriv)('a --data-dir that is not writable', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fluxbase-local-'));
    try {
      await chmod(dir, 0o555);
      const runAs = asRoot ? [setpriv!, '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
      const { code, output } = await startFails(['--port', '0', '--data-dir', path.join(dir, 'data')], runAs);
      expect({ code, output }).toEqual({ code: 1, output: `error[local.start]: cannot create the data directory ${path.join(dir, 'data')}: permission denied\n` });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('SIGTERM while it starts stops it', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'local', 'start', '--port', '0'], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const code = await exited;
    // killed by the signal itself (before the handler was installed) or stopped by the handler
    expect(code === null || (code === 1 && output === 'Stopped before the server was ready.\n')).toBe(true);
  });
});

describe('fluxbase local start when its PostgreSQL server goes away', () => {
  it('stops with a located error naming the databases that may be left, not an internal error', async () => {
    // A relay between the emulator and the test PostgreSQL server, which the test cuts.
    const target = new URL(inject('databaseUrl'));
    const sockets = new Set<Socket>();
    const relay = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => s.destroy());
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const via = new URL(target.href);
    via.port = String((relay.address() as AddressInfo).port);
    via.hostname = '127.0.0.1';
    const server = await localStart([], {}, ['--database-url', via.href]);
    relay.close();
    for (const s of sockets) s.destroy();
    const code = await server.stop();
    const out = server.output();
    expect(code).toBe(1);
    expect(out).not.toContain('This is a bug');
    expect(out).toMatch(/error\[local\.start\]: stopped, but could not drop this run's databases \(fbemu_[a-z0-9]+_\*\) on postgres:\/\/[^ ]+ \(--database-url\): /);
    expect(out).toContain('Drop them by hand once the server is reachable');
    // They are there, as the message says: drop them.
    const prefix = /databases \((fbemu_[a-z0-9]+_)\*\)/.exec(out)![1]!;
    const admin = new pg.Client({ connectionString: target.href });
    await admin.connect();
    try {
      const left = (await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix])).rows;
      expect(left.map((r) => r.datname)).toContain(`${prefix}main`);
      for (const { datname } of left) await admin.query(`DROP DATABASE "${datname}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  });
});

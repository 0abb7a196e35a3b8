/**
 * End-to-end test harness: a real emulator over real HTTP on the test PostgreSQL server, a temp
 * workspace holding a config, and the real CLI (dist/cli.js, built by `npm test`) run as a child
 * process. Nothing is stubbed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { EXAMPLE_HOSTS } from '../support/hosts.js';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';

/** Repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/cli.js');

export { EXAMPLE_HOSTS };

/**
 * Starts an emulator on the test PostgreSQL server, behaving like the real server (every
 * real-server behaviour on, the webhook URL guard included) with {@link EXAMPLE_HOSTS} resolvable.
 */
export async function startTestEmulator(options: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
  return startEmulator({ storage: { kind: 'postgres', databaseUrl: inject('databaseUrl') }, hosts: EXAMPLE_HOSTS, ...options });
}

/** Result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temp directory with a config file, and the CLI wired to one emulator. */
export class Workspace {
  readonly dir: string;
  readonly emulator: RunningEmulator;
  env: Record<string, string>;

  private constructor(dir: string, emulator: RunningEmulator, env: Record<string, string>) {
    this.dir = dir;
    this.emulator = emulator;
    this.env = env;
  }

  /** Creates a workspace; `env` adds to the connection variables. */
  static async create(emulator: RunningEmulator, config: string, env: Record<string, string> = {}): Promise<Workspace> {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it first)');
    const dir = await mkdtemp(path.join(tmpdir(), 'fluxbase-e2e-'));
    // FLUXBASE_VERIFY_JOURNAL: each state journal line the CLI writes is checked against the whole document (src/state/journal.ts).
    const ws = new Workspace(dir, emulator, { FLUXBASE_URL: emulator.url, FLUXBASE_TOKEN: emulator.serviceRoleToken, FLUXBASE_VERIFY_JOURNAL: '1', ...env });
    await ws.write(config);
    return ws;
  }

  get configPath(): string {
    return path.join(this.dir, 'fluxbase.config.yaml');
  }

  /** Replaces the config file. */
  async write(config: string): Promise<void> {
    await writeFile(this.configPath, config);
  }

  /** Reads the config file. */
  read(): Promise<string> {
    return readFile(this.configPath, 'utf8');
  }

  /** Edits the config text with a function. */
  async edit(fn: (text: string) => string): Promise<void> {
    const before = await this.read();
    const after = fn(before);
    if (after === before) throw new Error('edit changed nothing');
    await this.write(after);
  }

  /** Runs `fluxbase <args>` in the workspace (NO_COLOR, no TTY). */
  cli(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { cwd: this.dir, env: { PATH: process.env.PATH ?? '', HOME: this.dir, NO_COLOR: '1', ...this.env, ...extraEnv }, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Calls the emulator's API directly (changes "made outside the tool"). */
export async function api<T = unknown>(
  emulator: RunningEmulator,
  method: string,
  route: string,
  options: { body?: unknown; tenant?: string; token?: string } = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${emulator.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${options.token ?? emulator.serviceRoleToken}`,
      ...(options.tenant ? { 'x-fb-tenant': options.tenant } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** The UUID of a tenant by slug. */
export async function tenantId(emulator: RunningEmulator, slug: string): Promise<string> {
  const { body } = await api<{ id: string; slug: string }[]>(emulator, 'GET', '/api/v1/admin/tenants');
  const t = body.find((x) => x.slug === slug);
  if (!t) throw new Error(`no tenant ${slug}`);
  return t.id;
}

/** The resource addresses of a plan's changes with their actions (from `plan --json`). */
export function changesOf(json: string): [string, string][] {
  const doc = JSON.parse(json) as { changes: { address: string; action: string }[] };
  return doc.changes.filter((c) => c.action !== 'no-op').map((c) => [c.address, c.action]);
}

/** Creates the first dashboard admin through POST /api/v1/admin/setup; returns its credentials and access token. */
export async function setupAdmin(emulator: RunningEmulator, setupToken: string): Promise<{ email: string; password: string; accessToken: string }> {
  const email = 'admin@example.com';
  const password = 'correct-horse-battery-staple';
  const res = await fetch(`${emulator.url}/api/v1/admin/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, name: 'Admin', setup_token: setupToken }),
  });
  if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { access_token: string };
  return { email, password, accessToken: body.access_token };
}

/** Runs SQL in the default tenant as the server's service_role (dashboard admin token, no tenant header). */
export async function sql(emulator: RunningEmulator, adminToken: string, query: string): Promise<Record<string, unknown>[]> {
  const res = await api<{ results: { rows?: Record<string, unknown>[]; error?: string }[] }>(emulator, 'POST', '/api/v1/admin/sql/execute', {
    token: adminToken,
    body: { query },
  });
  const first = res.body.results[0];
  if (!first || first.error) throw new Error(`sql failed: ${first?.error}`);
  return first.rows ?? [];
}

/**
 * The first hour of a new user (issue 13), through the real CLI against one emulator: one error
 * per failure, hints where the mistake is obvious, usage errors in one line, no stack traces,
 * hazards refused before the prompt, and plans that read the same saved or live.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { api, ROOT, setupAdmin, startTestEmulator, tenantId, Workspace } from './harness.js';

const CONFIG = `version: 1
tenants:
  default:
    schemas:
      public:
        tables:
          pets:
            columns:
              id:   { type: bigint, primary_key: true }
              kind: { type: text, default: "'dog'" }
          visits:
            columns:
              id: { type: bigint, primary_key: true }
    settings:
      custom:
        newsletter.schedule: { value: "0 7 * * MON" }
lints:
  security.rls-disabled: { reason: "these tests are about errors and plans, not access" }
`;

let emulator: RunningEmulator;
let ws: Workspace;
let admin: { email: string; password: string };

beforeAll(async () => {
  emulator = await startTestEmulator({ setupToken: 'first-hour-setup' });
  admin = await setupAdmin(emulator, 'first-hour-setup');
  ws = await Workspace.create(emulator, CONFIG, { FLUXBASE_ADMIN_EMAIL: admin.email, FLUXBASE_ADMIN_PASSWORD: admin.password });
});

afterAll(async () => {
  await ws?.dispose();
  await emulator?.close();
});

/** The diagnostics' first lines (`error[code]: …`) in stderr. */
const errors = (stderr: string) => stderr.split('\n').filter((l) => /^(\S+: )?(error|warning)\[/.test(l));

describe('errors: one failure, reported once, with a hint where the mistake is obvious', () => {
  it('a wrong token is one api.auth error, not followed by what a failed refresh implies', async () => {
    const r = await ws.cli(['plan'], { FLUXBASE_TOKEN: 'not-a-token', FLUXBASE_ADMIN_EMAIL: '', FLUXBASE_ADMIN_PASSWORD: '' });
    expect(r.code).toBe(1);
    expect(errors(r.stderr)).toEqual(['error[api.auth]: GET /api/v1/admin/tenants answered 401: Invalid or expired token']);
  });

  it('a server that cannot be reached is one api.network error', async () => {
    const r = await ws.cli(['plan', '--url', 'http://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(errors(r.stderr)).toEqual(['error[api.network]: cannot reach the Fluxbase server: GET /api/v1/admin/tenants: connect ECONNREFUSED 127.0.0.1:1']);
  });

  it('a URL that contains the API path gets a hint to drop it', async () => {
    const r = await ws.cli(['plan', '--url', `${emulator.url}/api/v1`]);
    expect(r.code).toBe(1);
    expect(errors(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`The URL should not contain the API path: use ${emulator.url} (FLUXBASE_URL / --url), without /api/v1.`);
  });

  it('a plan that needs the dashboard login checks it: a wrong password fails the plan, not the apply', async () => {
    const r = await ws.cli(['plan'], { FLUXBASE_ADMIN_PASSWORD: 'wrong-password-123' });
    expect(r.code).toBe(1);
    expect(errors(r.stderr)).toEqual([
      'error[api.auth]: custom_setting.default["newsletter.schedule"]: the dashboard login that apply needs failed: POST /api/v1/admin/login answered 401: Invalid email or password',
    ]);
  });

  it('a usage error prints one line and the command usage, not the whole help', async () => {
    const r = await ws.cli(['plan', '--bogus']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error: unknown option '--bogus'\nUsage: fluxbase plan [options]\nRun 'fluxbase plan --help' for the options.\n");
  });

  it('an undefined YAML alias is a located diagnostic for every command, never a stack trace', async () => {
    const dir = ws.dir;
    const bad = path.join(dir, 'alias.yaml');
    await import('node:fs/promises').then((fs) => fs.writeFile(bad, 'version: 1\ntenants:\n  default:\n    metadata: *defaults\n'));
    for (const command of [['validate'], ['plan'], ['apply', '--auto-approve']]) {
      const r = await ws.cli([...command, '-c', bad]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`${bad}:4:15: error[config.yaml-syntax]: tenants.default.metadata: undefined alias *defaults\n  Define the anchor before using it (\`&defaults\` on an earlier value), or write the value here.\n`);
    }
  });

  it('anything unexpected is one internal.unexpected diagnostic with the command and version, not a stack trace', async () => {
    // A bug stand-in: process.cwd() throws, which nothing in the tool expects.
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'data:text/javascript,process.cwd=()=>{throw new TypeError("boom")}', path.join(ROOT, 'dist/cli.js'), 'plan', '-c', 'fluxbase.config.yaml'],
        { cwd: ws.dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...ws.env } },
        (err, _stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code) : 0, stderr }),
      );
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[internal\.unexpected\]: fluxbase plan failed unexpectedly: boom\n {2}This is a bug in fluxbase-iac \d+\.\d+\.\d+ \(Node\.js v[\d.]+, \w+\) at dist\/[\w/-]+\.js:\d+:\d+\. Please report it with this message and the command you ran\.\n$/);
  });
});

describe('plans as a Terraform user reads them', () => {
  it('apply shows a custom setting as declared, then plans clean', async () => {
    const plan = await ws.cli(['plan']);
    expect(plan.stderr).toBe('');
    expect(plan.stdout).toContain('      + value = "0 7 * * MON"\n');
    const apply = await ws.cli(['apply', '--auto-approve']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect((await ws.cli(['plan', '--detailed-exitcode'])).code).toBe(0);
  });

  it('shows a changed default in one form on both sides', async () => {
    await ws.write(CONFIG.replace(`default: "'dog'"`, `default: "'cat'"`));
    const plan = await ws.cli(['plan']);
    expect(plan.stdout).toContain(`~ columns.kind.default: "'dog'" -> "'cat'"`);
    await ws.write(CONFIG);
  });

  it('lists what it does not manage whatever its kind (a webhook, though the config declares none)', async () => {
    const id = await tenantId(emulator, 'default');
    const made = await api<{ id: string }>(emulator, 'POST', '/api/v1/webhooks', {
      tenant: id,
      body: { name: 'made-in-dashboard', url: 'https://hooks.example.com/x', enabled: true, events: [{ table: 'public.pets', operations: ['INSERT'] }] },
    });
    expect(made.status).toBe(201);
    try {
      const plan = await ws.cli(['plan']);
      expect(plan.stdout).toContain('Not managed by this configuration (left untouched):\n  ? webhook.default.made-in-dashboard\n');
    } finally {
      await api(emulator, 'DELETE', `/api/v1/webhooks/${made.body.id}`, { tenant: id });
    }
  });

  it('a saved plan with hazards: the hint names the --allow-hazards it needs, and apply renders it as plan did', async () => {
    // drop a table (DELETES_DATA) and create one (attributes and nested values to order)
    const owners = '          owners:\n            columns:\n              name: { type: text, nullable: false }\n              id: { type: bigint, primary_key: true }\n';
    await ws.write(CONFIG.replace(/ {10}visits:\n(?: {12}.*\n)+/, owners));
    const plan = await ws.cli(['plan', '--out', 'plan.json']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Apply exactly this plan with: fluxbase apply --allow-hazards=DELETES_DATA plan.json');
    const apply = await ws.cli(['apply', '--allow-hazards=DELETES_DATA', 'plan.json']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    const shown = plan.stdout.slice(0, plan.stdout.indexOf('\nSaved the plan'));
    expect(shown).toContain('+ columns.id = { nullable = false, primary_key = true, type = "bigint", unique = false }');
    expect(apply.stdout.startsWith(shown)).toBe(true);
    await ws.write(CONFIG);
    const back = await ws.cli(['apply', '--auto-approve', '--allow-hazards=DELETES_DATA']);
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
  });

  it('apply on a terminal refuses hazards that are not allowed before asking for "yes"', async () => {
    await ws.write(CONFIG.replace(/ {10}visits:\n(?: {12}.*\n)+/, ''));
    // `script` gives the CLI a terminal (stdin and stdout), as a person at a shell has
    const r = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const cmd = `${process.execPath} ${path.join(ROOT, 'dist/cli.js')} apply`;
      execFile('script', ['-qec', cmd, '/dev/null'], { cwd: ws.dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', TERM: 'dumb', ...ws.env } }, (err, stdout) =>
        resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout }),
      );
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[plan.hazard-not-allowed]');
    expect(r.stdout).not.toContain('Do you want to perform these actions?');
    await ws.write(CONFIG);
  });
});

/**
 * No secret leaks: a canary in every secret field of the root config, then every command's
 * output (text, JSON, Markdown, errors), the saved plan, the state and every other file the tool
 * writes are searched for each canary. New key values may appear only in the 0600 secrets file.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ROOT, setupAdmin, startTestEmulator, Workspace, type CliResult } from './harness.js';
import { CANARIES } from './canaries.js';

let emulator: RunningEmulator;
let ws: Workspace;
const outputs: { label: string; text: string }[] = [];

function record(label: string, r: CliResult): CliResult {
  outputs.push({ label: `${label} stdout`, text: r.stdout }, { label: `${label} stderr`, text: r.stderr });
  return r;
}

beforeAll(async () => {
  const logLines: string[] = [];
  emulator = await startTestEmulator({ setupToken: 'canary-setup', webhookUrlGuard: true, log: (l) => logLines.push(l) });
  const admin = await setupAdmin(emulator, 'canary-setup');
  const root = (await readFile(path.join(ROOT, 'fluxbase.config.yaml'), 'utf8'))
    // public IP literals: the URL guard is on (it would refuse unresolvable names)
    .replaceAll('https://hooks.example.com/fluxbase/signups', 'https://93.184.216.34/signups')
    .replaceAll('https://hooks.example.com/fluxbase/posts', 'https://93.184.216.34/posts')
    .replaceAll('https://automation.acme.example/fluxbase/tasks', 'https://93.184.216.34/tasks');
  ws = await Workspace.create(emulator, root, { ...CANARIES, FLUXBASE_ADMIN_EMAIL: admin.email, FLUXBASE_ADMIN_PASSWORD: admin.password });
  outputs.push({ label: 'emulator log', text: logLines.join('\n') });
});

afterAll(async () => {
  await ws?.dispose();
  await emulator?.close();
});

describe('secrets never leak', () => {
  it('through every command, format and file, including failures', { timeout: 120_000 }, async () => {
    record('validate', await ws.cli(['validate']));
    record('plan', await ws.cli(['plan']));
    record('plan --json', await ws.cli(['plan', '--json']));
    record('plan markdown', await ws.cli(['plan', '--format', 'markdown']));
    record('plan --out', await ws.cli(['plan', '--out', 'saved-plan.json']));
    // FLUXBASE_LOG=trace logs every body sent and received (new key values included), masked.
    const trace = { FLUXBASE_LOG: 'trace', FLUXBASE_LOG_PATH: 'trace.log' };
    const applied = record('apply saved', await ws.cli(['apply', 'saved-plan.json', '--secrets-out', 'keys.env', '--allow-hazards=WEAKENS_SECURITY'], trace));
    expect(applied.code).toBe(0);
    // Rotate every secret: updates carrying write-only values.
    for (const [name, value] of Object.entries(CANARIES)) ws.env[name] = `${value}-rotated`;
    record('plan rotated', await ws.cli(['plan']));
    record('apply rotated --json', await ws.cli(['apply', '--auto-approve', '--json', '--allow-hazards=AUTHZ_CHANGE'], trace));
    // A failing change that carries a secret: the URL guard refuses a private address.
    await ws.edit((t) => t.replace('https://93.184.216.34/posts', 'http://10.0.0.5/posts'));
    ws.env.POSTS_WEBHOOK_SECRET = 'canary-posts-failure-5a5a5a';
    const failed = record('apply failing', await ws.cli(['apply', '--auto-approve']));
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('Failed to update webhook');
    record('apply failing --json', await ws.cli(['apply', '--auto-approve', '--json']));
    // A config error next to secrets.
    await ws.edit((t) => t.replace('enable_storage: true', 'enable_storage: maybe'));
    record('validate invalid', await ws.cli(['validate']));

    const canaries = [...Object.values(CANARIES), ...Object.values(CANARIES).map((v) => `${v}-rotated`), 'canary-posts-failure-5a5a5a'];
    const keyValues = (await readFile(path.join(ws.dir, 'keys.env'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(l.indexOf('=') + 1));
    expect(keyValues).toHaveLength(4);
    const files: { label: string; text: string }[] = [];
    for (const name of await readdir(ws.dir)) {
      if (name === 'keys.env' || name === 'fluxbase.config.yaml') continue;
      files.push({ label: name, text: await readFile(path.join(ws.dir, name), 'utf8') });
    }
    expect(files.map((f) => f.label).sort()).toEqual(['fluxbase.state.json', 'fluxbase.state.json.backup', 'saved-plan.json', 'trace.log']);
    expect(files.find((f) => f.label === 'trace.log')!.text).toContain('"secret":"(sensitive)"');
    for (const { label, text } of [...outputs, ...files]) {
      for (const secret of [...canaries, ...keyValues]) {
        expect(text.includes(secret), `${label} contains a secret`).toBe(false);
      }
    }
  });
});

/**
 * The README's first quick-start command: `npm run demo` (embedded PGlite emulator, the root
 * config, apply, clean re-plan).
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './harness.js';

describe('fluxbase demo', () => {
  it('applies the root configuration to an in-memory emulator and re-plans to "No changes.", in Terraform\'s words, leaving no file behind', async () => {
    const before = new Set(await readdir(tmpdir()));
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'demo'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', HOME: process.env.HOME ?? '/tmp', TMPDIR: process.env.TMPDIR ?? '/tmp' }, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Plan: \d+ to add, 1 to change, 0 to destroy\./);
    expect(result.stdout).toMatch(/Apply complete! Resources: \d+ added, 1 changed, 0 destroyed\./);
    expect(result.stdout).toMatch(/^tenant\.acme: Creation complete after \d+\.\ds$/m);
    expect(result.stdout).toMatch(/^app_settings: Modifications complete after \d+\.\ds$/m);
    // new key values are not written anywhere (no key file left in the temp directory)
    expect(result.stdout).toContain('are discarded with the demo');
    expect((await readdir(tmpdir())).filter((f) => !before.has(f) && f.startsWith('fluxbase-demo'))).toEqual([]);
    expect(result.stdout.split('== fluxbase plan (again) ==')[1]).toContain('No changes. Your Fluxbase instance matches the configuration.');
  }, 180_000);
});

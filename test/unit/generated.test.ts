import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('generated files', () => {
  it('src/model/config.generated.ts is up to date with schemas/', async () => {
    const { stderr } = await run(process.execPath, ['scripts/gen-config-types.mjs', '--check']);
    expect(stderr).toBe('');
  });

  it('package.json and src/version.ts agree on the version', async () => {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const { VERSION } = await import('../../src/version.js');
    expect(VERSION).toBe(pkg.version);
  });
});

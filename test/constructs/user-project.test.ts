import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/engine/load.js';
import { validateDocument } from '../../src/engine/validate.js';
import { ROOT, TSC, cleanEnv, ensureBuilt, run } from './helpers.js';

const FIXTURE = path.join(ROOT, 'test/fixtures/cdk-user-project');

describe('a user project importing fluxbase-iac/constructs', () => {
  let project: string;

  beforeAll(async () => {
    await ensureBuilt();
    project = await mkdtemp(path.join(tmpdir(), 'fluxbase-cdk-user-'));
    for (const file of ['tsconfig.json', 'fluxbase.ts']) await copyFile(path.join(FIXTURE, file), path.join(project, file));
    await writeFile(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'cdk-user-project', private: true, type: 'module', dependencies: { 'fluxbase-iac': `file:${ROOT}` } }, null, 2),
    );
    // What `npm install` would leave: the package (linked), its `constructs` dependency, and @types/node.
    await mkdir(path.join(project, 'node_modules/@types'), { recursive: true });
    await symlink(ROOT, path.join(project, 'node_modules/fluxbase-iac'), 'dir');
    await symlink(path.join(ROOT, 'node_modules/constructs'), path.join(project, 'node_modules/constructs'), 'dir');
    await symlink(path.join(ROOT, 'node_modules/@types/node'), path.join(project, 'node_modules/@types/node'), 'dir');
  });
  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('type-checks and compiles with strict settings, declarations included', async () => {
    const result = await run(process.execPath, [TSC, '-p', path.join(project, 'tsconfig.json')], { cwd: project });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('runs compiled and synthesises into FLUXBASE_OUTDIR a file the loader accepts', async () => {
    const outdir = path.join(project, 'out');
    const env = cleanEnv({ ACME_HOOK_SECRET: 'canary-acme', GLOBEX_HOOK_SECRET: 'canary-globex', FLUXBASE_OUTDIR: outdir });
    const result = await run(process.execPath, [path.join(project, 'dist/fluxbase.js')], { cwd: project, env });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(path.join(outdir, 'fluxbase.json'));
    const text = await readFile(path.join(outdir, 'fluxbase.json'), 'utf8');
    expect(text).not.toContain('canary-');
    const { config, diagnostics } = await validateDocument(await loadConfigFile(path.join(outdir, 'fluxbase.json'), { env }));
    expect(diagnostics).toEqual([]);
    expect(Object.keys(config!.config.tenants ?? {})).toEqual(['acme', 'globex']);
    expect(config!.config.tenants?.globex?.webhooks?.['task-events']?.secret).toBe('canary-globex');
  });
});

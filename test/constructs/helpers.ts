/**
 * Shared by the construct tests: the repository root, a fresh `dist/` for tests that import the
 * package the way a user does (`fluxbase-iac/constructs`), and running the example app.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
export const TSC = require.resolve('typescript/bin/tsc');
export const TSX = path.join(path.dirname(require.resolve('tsx/package.json')), 'dist/cli.mjs');

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
export async function run(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** The environment of this process without the variables a test sets itself. */
export function cleanEnv(extra: Record<string, string>, drop: readonly string[] = []): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [...Object.keys(extra), ...drop, 'FLUXBASE_OUTDIR']) delete env[name];
  return { ...env, ...extra };
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(ts|json)$/.test(entry.name)) continue;
    newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

async function isFresh(): Promise<boolean> {
  try {
    const built = Math.min(
      (await stat(path.join(ROOT, 'dist/constructs/index.js'))).mtimeMs,
      (await stat(path.join(ROOT, 'dist/constructs/index.d.ts'))).mtimeMs,
    );
    return built >= (await newestMtime(path.join(ROOT, 'src')));
  } catch {
    return false;
  }
}

/**
 * Makes sure dist/ holds a build of the current src/ (`npm test` builds first; a direct
 * `npx vitest run test/constructs` may find none or a stale one). Builds at most once at a time
 * across test workers (a lock directory), and accepts a build that type errors elsewhere in src/
 * left behind as long as it emitted the constructs.
 */
export async function ensureBuilt(): Promise<void> {
  if (await isFresh()) return;
  const lock = path.join(ROOT, 'node_modules/.cache/fluxbase-constructs-build.lock');
  await mkdir(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > 300_000) await rmdir(lock).catch(() => undefined); // left by a killed worker
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (await isFresh()) return;
    const build = await run(process.execPath, [TSC, '-p', 'tsconfig.build.json']);
    if (!(await isFresh())) throw new Error(`npm run build did not produce dist/constructs:\n${build.stdout}${build.stderr}`);
  } finally {
    await rmdir(lock);
  }
}

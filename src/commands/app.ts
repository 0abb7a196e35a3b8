/**
 * Construct apps (`--app "npx tsx infra/fluxbase.ts"`, or a config file holding only
 * `app: <command>`): like the CDK, the command runs with FLUXBASE_OUTDIR set to a fresh
 * directory, its `app.synth()` writes `fluxbase.json` there, and that file is loaded as an
 * ordinary config (JSON is YAML). Synthesis errors are printed by the app itself (stderr is
 * passed through); a non-zero exit stops the command before any API call.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { error } from '../diag/index.js';
import { printDiagnostics, type CommandIO } from './io.js';

/** The app command a config file points to (`app: <command>` and no `version`), if any. */
export async function appPointer(file: string): Promise<string | undefined> {
  if (!existsSync(file)) return undefined;
  try {
    const { parse } = await import('yaml');
    const doc = parse(await readFile(file, 'utf8')) as unknown;
    if (doc && typeof doc === 'object' && !Array.isArray(doc) && typeof (doc as { app?: unknown }).app === 'string' && !('version' in doc)) {
      return (doc as { app: string }).app;
    }
  } catch {
    /* not ours to report: the loader will */
  }
  return undefined;
}

/** A synthesised config file; `dispose()` removes its temporary directory. */
export interface Synthesised {
  file: string;
  dispose(): Promise<void>;
}

/** Runs a construct app and returns its synthesised document, or undefined after reporting why not. */
export async function synthesiseApp(io: CommandIO, command: string, cwd: string): Promise<Synthesised | undefined> {
  const outdir = await mkdtemp(path.join(tmpdir(), 'fluxbase-synth-'));
  const dispose = () => rm(outdir, { recursive: true, force: true });
  // The app's stderr is passed through (its diagnostics and warnings); its stdout only when it fails.
  const stdout: string[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(command, { cwd, shell: true, env: { ...io.env, FLUXBASE_OUTDIR: outdir }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => stdout.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => io.err(d.toString().trimEnd()));
    child.on('error', () => resolve(127));
    child.on('close', (c) => resolve(c ?? 1));
  });
  const file = path.join(outdir, 'fluxbase.json');
  if (code !== 0 || !existsSync(file)) {
    if (stdout.length > 0) io.err(stdout.join('').trimEnd());
    await dispose();
    printDiagnostics(io, [
      error('config.read', code !== 0 ? `the construct app failed (exit ${code}): ${command}` : `the construct app wrote no fluxbase.json: ${command}`, {
        detail: code !== 0 ? 'Its own messages are above. Nothing was sent to the server.' : 'Call `app.synth()` at the end of the app (it writes $FLUXBASE_OUTDIR/fluxbase.json).',
      }),
    ]);
    return undefined;
  }
  return { file, dispose };
}

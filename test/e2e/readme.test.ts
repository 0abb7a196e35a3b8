/**
 * The README's "Getting the command" and "Using it" sections, walked literally by a new user: the
 * package packed into a tarball and installed into a temporary global prefix, `fluxbase local
 * start` in one "terminal", and every line of the second block run in another, in order: the
 * exports it printed, the config, validate, plan, apply (answering "yes" on a terminal), a clean
 * plan, a saved plan, and the demo from the installed package. The only changes to the text:
 * `--prefix` for the install, a free port instead of 8080.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './harness.js';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The ```sh blocks of a `## ` section. */
function shBlocks(heading: string): string[] {
  const start = README.indexOf(`\n## ${heading}\n`);
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** A block's commands: comments dropped, a heredoc kept as one command. */
function commands(block: string): string[] {
  const out: string[] = [];
  const lines = block.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /<<'(\w+)'$/.exec(lines[i]!);
    if (heredoc) {
      const close = lines.indexOf(heredoc[1]!, i);
      out.push(lines.slice(i, close + 1).join('\n'));
      i = close;
      continue;
    }
    const line = lines[i]!.replace(/\s+#.*$/, '').trim();
    if (line && !line.startsWith('#')) out.push(line);
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string, env: Record<string, string>, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

const dirs: string[] = [];
let server: ChildProcess | undefined;

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGINT');
    await exited;
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('the README, as a new user follows it', () => {
  it('installs from a packed tarball, starts the local server, validates, plans, applies, plans clean and runs the demo', async () => {
    const base = await mkdtemp(path.join(tmpdir(), 'fluxbase-readme-'));
    dirs.push(base);
    const prefix = path.join(base, 'prefix');
    const work = path.join(base, 'project');
    await mkdir(work);
    // the user's own environment (npm's settings, CA certificates), without FLUXBASE_ variables
    const inherited = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('FLUXBASE_')));
    const env: Record<string, string> = { ...inherited, PATH: `${path.join(prefix, 'bin')}:${process.env.PATH ?? ''}`, NO_COLOR: '1', TERM: 'dumb' };

    // "Getting the command": npm ci (done: the tests run in a built clone) && npm pack; npm install -g
    const [getting] = shBlocks('Getting the command');
    const steps = commands(getting!);
    expect(steps).toEqual(['npm ci && npm pack', `npm install -g ./fluxbase-iac-${VERSION}.tgz`, 'fluxbase --version']);
    const pack = await run('npm', ['pack', '--pack-destination', base], ROOT, env);
    expect(pack.code).toBe(0);
    const install = await run('bash', ['-c', `${steps[1]} --prefix ${prefix}`], base, env);
    expect(install.stderr).not.toMatch(/install-scripts|WARN/i);
    expect(install.code).toBe(0);
    expect((await run('bash', ['-c', steps[2]!], work, env)).stdout.trim()).toBe(VERSION);

    // "Using it", first block: the server, in its own terminal
    const [startBlock, useBlock] = shBlocks('Using it');
    const [start] = commands(startBlock!);
    expect(start).toBe('fluxbase local start --port 8080 --data-dir .fluxbase');
    const port = await freePort();
    server = spawn('bash', ['-c', `exec ${start!.replace('--port 8080', `--port ${port}`)}`], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    for (const t0 = Date.now(); !out.includes('Stop with Ctrl+C.'); ) {
      if (server.exitCode !== null || Date.now() - t0 > 120_000) throw new Error(`local start did not come up:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const printed = Object.fromEntries([...out.matchAll(/^ {2}export (FLUXBASE_\w+)=(\S+)/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(printed).sort()).toEqual(['FLUXBASE_ADMIN_EMAIL', 'FLUXBASE_ADMIN_PASSWORD', 'FLUXBASE_TOKEN', 'FLUXBASE_URL']);
    expect(printed.FLUXBASE_URL).toBe(`http://127.0.0.1:${port}`);

    // second block, line by line, in the second terminal
    const shell = { ...env };
    const ran: string[] = [];
    for (const command of commands(useBlock!)) {
      const exported = /^export (FLUXBASE_\w+)=/.exec(command);
      if (exported) {
        shell[exported[1]!] = printed[exported[1]!]!; // "paste the export lines it printed"
        continue;
      }
      let result: Run;
      if (command === 'fluxbase apply') {
        // a person at a terminal: `script` gives it one, and "yes" is typed at the prompt
        result = await run('script', ['-qec', command, '/dev/null'], work, shell, 'yes\n');
        expect(result.stdout).toContain("Do you want to perform these actions? Only 'yes' will be accepted to approve.");
        expect(result.stdout).toMatch(/Apply complete! Resources: \d+ added, 0 changed, 0 destroyed./);
      } else {
        result = await run('bash', ['-c', command], work, shell);
        if (!command.startsWith('cat ')) expect(result.stderr).toBe('');
      }
      expect({ command, code: result.code }).toEqual({ command, code: 0 });
      if (command === 'fluxbase demo') expect(result.stdout).toContain('No changes. Your Fluxbase instance matches the configuration.');
      ran.push(command.split('\n')[0]!);
    }
    expect(ran).toEqual([
      "cat > fluxbase.config.yaml <<'YAML'",
      'fluxbase validate',
      'fluxbase plan',
      'fluxbase apply',
      'fluxbase plan --detailed-exitcode',
      'fluxbase plan --out plan.json && fluxbase apply plan.json',
      'fluxbase demo',
    ]);
  }, 600_000);
});

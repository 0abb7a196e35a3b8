#!/usr/bin/env node
/**
 * Start-up time of the CLI: wall-clock median (and min) of `node dist/cli.js --version`,
 * `--help`, and `node -e 0` (Node's own floor), each run N times in turn.
 *
 *   node scripts/bench-cli-startup.mjs [runs=11]
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
const runs = Number(process.argv[2] ?? 11);
const cases = { 'fluxbase --version': [cli, '--version'], 'fluxbase --help': [cli, '--help'], 'node -e 0': ['-e', '0'] };
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(cases)) {
    const t = process.hrtime.bigint();
    execFileSync(process.execPath, args, { stdio: 'ignore' });
    times[name].push(Number(process.hrtime.bigint() - t) / 1e6);
  }
}
for (const [name, list] of Object.entries(times)) {
  list.sort((a, b) => a - b);
  console.log(`${name.padEnd(20)} median ${Math.round(list[Math.floor(list.length / 2)])} ms, min ${Math.round(list[0])} ms (${runs} runs)`);
}

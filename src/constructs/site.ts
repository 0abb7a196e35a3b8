/**
 * Where the user's code created a construct: the first stack frame outside this library and the
 * `constructs` package. Diagnostics carry it as their location, so an error in a synthesised
 * document points at the line of TypeScript that declared the value. Best effort: undefined when
 * the stack has no such frame.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceLocation } from '../diag/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** This library's own frames: run from src/, from dist/, or from dist/ with source maps to src/. */
const OWN = ['src', 'dist'].map((dir) => path.join(HERE, '../..', dir, 'constructs') + path.sep);
const FRAME = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?$/;

/** The caller's file:line:column, relative to the working directory when inside it. */
export function callSite(): SourceLocation | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    let file = m[1]!;
    if (file.startsWith('node:') || file.startsWith('internal/')) continue;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (OWN.some((own) => file.startsWith(own)) || file.includes(`${path.sep}node_modules${path.sep}constructs${path.sep}`)) continue;
    const relative = path.relative(process.cwd(), file);
    return {
      file: relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file,
      line: Number(m[2]),
      column: Number(m[3]),
    };
  }
  return undefined;
}

/**
 * `FLUXBASE_LOG=debug|trace`: what the tool sends to and receives from the server, with secrets
 * masked (client/http.ts), written to stderr or, with `FLUXBASE_LOG_PATH=FILE`, appended to that
 * file (created with mode 0600). `debug` logs each request's method, path, tenant, status and
 * time; `trace` adds headers and bodies.
 */
import { appendFileSync } from 'node:fs';
import type { ClientOptions } from '../client/http.js';
import type { CommandIO } from './io.js';

/** The client's log settings from the environment; undefined when logging is off. */
export function logSettings(io: CommandIO): ClientOptions['log'] {
  const raw = (io.env.FLUXBASE_LOG ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'off') return undefined;
  const file = io.env.FLUXBASE_LOG_PATH;
  const write = (line: string) => {
    const text = `${new Date().toISOString()} fluxbase: ${line}`;
    if (file) appendFileSync(file, `${text}\n`, { mode: 0o600 });
    else io.err(text);
  };
  if (raw !== 'debug' && raw !== 'trace') {
    io.err(`fluxbase: FLUXBASE_LOG=${raw} is not one of debug, trace: nothing is logged`);
    return undefined;
  }
  return { write, level: raw };
}

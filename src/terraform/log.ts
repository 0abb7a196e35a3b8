/**
 * Provider logging: hclog-style JSON lines on stderr, which go-plugin parses
 * and re-emits in Terraform's log (`TF_LOG=debug terraform plan` shows them
 * as `provider.terraform-provider-<name>: <message>: key=value`). Nothing is
 * ever written to stdout, whose first line is the handshake.
 *
 * The level comes from `TF_LOG_PROVIDER`, else `TF_LOG` (trace, debug, info,
 * warn, error, off; "json" counts as trace); unset means errors only.
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel | 'off', number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 5 };

/** A logger; `fields` become extra JSON keys (go-plugin shows them as key=value). */
export interface Logger {
  trace(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Reads the threshold from the environment as described above. */
export function levelFromEnv(env: NodeJS.ProcessEnv): LogLevel | 'off' {
  const raw = (env.TF_LOG_PROVIDER || env.TF_LOG || '').trim().toLowerCase();
  if (raw === 'json') return 'trace';
  if (raw in ORDER) return raw as LogLevel | 'off';
  return raw === '' ? 'error' : 'trace'; // Terraform treats unknown values as trace
}

/** hclog's timestamp layout: microseconds and a zone (`2006-01-02T15:04:05.000000Z07:00`). */
export function hclogTimestamp(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Creates a logger writing one JSON object per line to `write` (default:
 * stderr) for messages at or above `level`. `module` ('' for none) becomes
 * hclog's `@module`; go-plugin already prefixes lines with the executable
 * name and shows `@module` as an extra key=value, so serve() passes ''.
 */
export function createLogger(
  module: string,
  level: LogLevel | 'off',
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = ORDER[level];
  const emit = (lvl: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < threshold) return;
    const entry = { '@level': lvl, '@message': message, '@timestamp': hclogTimestamp(new Date()), ...(module ? { '@module': module } : {}), ...fields };
    write(JSON.stringify(entry) + '\n');
  };
  return { trace: emit('trace'), debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/**
 * Connection settings: `--url` or FLUXBASE_URL; credentials from FLUXBASE_TOKEN (an admin access
 * token or a service-role JWT, sent as `Authorization: Bearer`) and/or FLUXBASE_ADMIN_EMAIL +
 * FLUXBASE_ADMIN_PASSWORD (the client logs in and refreshes). With both, the token is used except
 * where the server needs a user (custom-setting writes), for which the client logs in.
 */
import { FluxbaseClient, type ClientOptions } from '../client/http.js';
import { error, type Diagnostic } from '../diag/index.js';

/** Connection options shared by commands that talk to a server. */
export interface ConnectOptions {
  url?: string;
  parallelism?: number;
}

/**
 * Builds a client, or returns a diagnostic that says what is missing. `log` receives what the
 * client sends and receives (FLUXBASE_LOG; see commands/log.ts).
 */
export function connect(
  options: ConnectOptions,
  env: Record<string, string | undefined>,
  log?: ClientOptions['log'],
): { client?: FluxbaseClient; diagnostics: Diagnostic[] } {
  const url = options.url ?? env.FLUXBASE_URL;
  if (!url) {
    return {
      diagnostics: [
        error('cli.usage', 'no Fluxbase URL given', {
          detail: 'Pass --url http://host:port or set FLUXBASE_URL. `fluxbase local start` runs a local server and prints its URL.',
        }),
      ],
    };
  }
  try {
    new URL(url);
  } catch {
    return { diagnostics: [error('cli.usage', `invalid Fluxbase URL '${url}'`, { detail: 'Use a full URL such as http://127.0.0.1:8080.' })] };
  }
  const token = env.FLUXBASE_TOKEN;
  const email = env.FLUXBASE_ADMIN_EMAIL;
  const password = env.FLUXBASE_ADMIN_PASSWORD;
  if (!token && !(email && password)) {
    return {
      diagnostics: [
        error('cli.usage', 'no Fluxbase credentials given', {
          detail: 'Set FLUXBASE_TOKEN (an admin access token or a service-role JWT), or FLUXBASE_ADMIN_EMAIL and FLUXBASE_ADMIN_PASSWORD.',
        }),
      ],
    };
  }
  const client = new FluxbaseClient({
    url,
    credentials: { ...(token ? { token } : {}), ...(email && password ? { email, password } : {}) },
    // With both, use the token and log in only for calls that need a user: the server allows
    // 10 admin logins a minute, and a CI pipeline runs many commands.
    preferToken: true,
    parallelism: options.parallelism,
    ...(log ? { log } : {}),
  });
  return { client, diagnostics: [] };
}

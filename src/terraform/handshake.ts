/**
 * go-plugin's start-up contract (undocumented upstream; see
 * /work/shared/terraform-provider.md §4): Terraform starts the provider with
 * a magic cookie and the protocol versions it speaks in the environment and
 * reads ONE line from the provider's stdout:
 *
 *   `<core version 1>|<app protocol 6>|tcp|127.0.0.1:<port>|grpc|<cert>`
 *
 * where `<cert>` is the server certificate's DER in base64 *without* `=`
 * padding (Go's RawStdEncoding), empty when TLS is off.
 */

export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
export const CORE_PROTOCOL_VERSION = 1;
export const APP_PROTOCOL_VERSION = 6;

/** Why the provider cannot start as a plugin; `serve` prints `message` to stderr and exits 1. */
export class HandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandshakeError';
  }
}

/**
 * Throws `HandshakeError` unless the magic cookie is set as Terraform sets
 * it, with a message for a human who ran the binary directly.
 */
export function checkMagicCookie(env: NodeJS.ProcessEnv, executable = 'this provider'): void {
  if (env[MAGIC_COOKIE_KEY] === MAGIC_COOKIE_VALUE) return;
  throw new HandshakeError(
    [
      `${executable} is a Terraform provider plugin: Terraform starts it, people do not.`,
      'Declare it in a required_providers block and run terraform init / plan / apply.',
      'To debug it, run it with FLUXBASE_TF_DEBUG=1 and export the TF_REATTACH_PROVIDERS value it prints.',
    ].join('\n'),
  );
}

/**
 * Picks the app protocol: 6 if `PLUGIN_PROTOCOL_VERSIONS` (comma list) has it
 * or is unset. Throws `HandshakeError` otherwise (e.g. a Terraform older than
 * 0.15, which speaks 5 only).
 */
export function negotiateProtocol(env: NodeJS.ProcessEnv): number {
  const raw = env.PLUGIN_PROTOCOL_VERSIONS;
  if (raw === undefined || raw.trim() === '') return APP_PROTOCOL_VERSION;
  const offered = raw.split(',').map((s) => Number(s.trim()));
  if (offered.includes(APP_PROTOCOL_VERSION)) return APP_PROTOCOL_VERSION;
  throw new HandshakeError(`Terraform offered plugin protocol(s) ${raw}; this provider speaks protocol ${APP_PROTOCOL_VERSION} only (Terraform ≥ 1.0).`);
}

/** Go's `base64.RawStdEncoding`: standard alphabet, no `=` padding. */
export function rawStdBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

/** The handshake line (without the newline). `certDer` absent means no TLS. */
export function handshakeLine(opts: { port: number; host?: string; protocol?: number; certDer?: Uint8Array }): string {
  const host = opts.host ?? '127.0.0.1';
  const cert = opts.certDer ? rawStdBase64(opts.certDer) : '';
  return [CORE_PROTOCOL_VERSION, opts.protocol ?? APP_PROTOCOL_VERSION, 'tcp', `${host}:${opts.port}`, 'grpc', cert].join('|');
}

/** The `TF_REATTACH_PROVIDERS` JSON for debug mode (`Test: true` makes Terraform leave the process running). */
export function reattachConfig(address: string, port: number, pid: number): string {
  return JSON.stringify({
    [address]: { Protocol: 'grpc', ProtocolVersion: APP_PROTOCOL_VERSION, Pid: pid, Test: true, Addr: { Network: 'tcp', String: `127.0.0.1:${port}` } },
  });
}

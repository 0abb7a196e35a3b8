/**
 * Runs a provider as a Terraform plugin process: go-plugin handshake,
 * AutoMTLS, and the gRPC services (tfplugin6.Provider, plugin.GRPCController,
 * plugin.GRPCStdio, grpc.health.v1.Health).
 *
 * Plugin mode (Terraform started us): needs `TF_PLUGIN_MAGIC_COOKIE`; with
 * `PLUGIN_CLIENT_CERT` set it generates a certificate and requires the
 * client to present Terraform's certificate (mutual TLS). The first stdout
 * line is the handshake; logs go to stderr only.
 *
 * Debug mode (`FLUXBASE_TF_DEBUG=1`): no cookie, no TLS; prints a
 * `TF_REATTACH_PROVIDERS=…` line and serves until interrupted, so one warm
 * process serves any number of terraform commands.
 */
import { format } from 'node:util';
import { Server, ServerCredentials, status, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { pluginServices } from './grpc-services.js';
import type { ProviderDefinition } from './framework.js';
import { checkMagicCookie, handshakeLine, HandshakeError, negotiateProtocol, reattachConfig } from './handshake.js';
import { createLogger, levelFromEnv, type Logger } from './log.js';
import { compileProvider, ProviderServer, type Req } from './provider-server.js';
import { generateServerCertificate } from './tls/cert.js';

/** The service definitions, keyed provider/controller/stdio/health (see grpc-services.ts). */
export function serviceDefinitions(): Record<'provider' | 'controller' | 'stdio' | 'health', ServiceDefinition> {
  return { ...pluginServices() };
}

/** Options of `serve`. Everything defaults to the real process. */
export interface ServeOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the handshake (or reattach) line goes. Default: process.stdout. */
  writeStdout?: (text: string) => void;
  /** Called instead of process.exit (tests). */
  exit?: (code: number) => void;
  /** Env var that turns on debug (reattach) mode. Default `FLUXBASE_TF_DEBUG`. */
  debugEnvVar?: string;
  /** Executable name for messages and log module. Default `terraform-provider-<name>`. */
  executable?: string;
}

/** A running server. */
export interface ServeHandle {
  port: number;
  /** True when serving in debug (reattach) mode. */
  debug: boolean;
  close(): Promise<void>;
}

function unary(log: Logger, name: string, fn: (req: Req) => Req | Promise<Req>) {
  return (call: { request: Req }, callback: (err: { code: number; details: string } | null, res?: Req) => void) => {
    const started = performance.now();
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => {
          log.trace(`rpc ${name}`, { ms: Math.round((performance.now() - started) * 10) / 10 });
          callback(null, res);
        },
        (e: unknown) => {
          log.error(`rpc ${name} crashed`, { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
          callback({ code: status.INTERNAL, details: e instanceof Error ? e.message : String(e) });
        },
      );
  };
}

/** Builds the gRPC server with all four services; `onShutdown` runs when go-plugin calls Shutdown. */
export function createPluginServer(ps: ProviderServer, log: Logger, onShutdown: () => void): Server {
  const defs = serviceDefinitions();
  // No channelz: Terraform never asks for it, and its per-call bookkeeping was ~5 % of a plan's CPU.
  const server = new Server({ 'grpc.max_receive_message_length': 256 * 1024 * 1024, 'grpc.max_send_message_length': 256 * 1024 * 1024, 'grpc.enable_channelz': 0 });
  const u = (name: string, fn: (req: Req) => Req | Promise<Req>) => unary(log, name, fn);
  const provider: UntypedServiceImplementation = {
    GetMetadata: u('GetMetadata', () => ps.GetMetadata()),
    GetProviderSchema: u('GetProviderSchema', () => ps.GetProviderSchema()),
    ValidateProviderConfig: u('ValidateProviderConfig', (r) => ps.ValidateProviderConfig(r)),
    ValidateResourceConfig: u('ValidateResourceConfig', (r) => ps.ValidateResourceConfig(r)),
    ValidateDataResourceConfig: u('ValidateDataResourceConfig', (r) => ps.ValidateDataResourceConfig(r)),
    UpgradeResourceState: u('UpgradeResourceState', (r) => ps.UpgradeResourceState(r)),
    ConfigureProvider: u('ConfigureProvider', (r) => ps.ConfigureProvider(r)),
    ReadResource: u('ReadResource', (r) => ps.ReadResource(r)),
    PlanResourceChange: u('PlanResourceChange', (r) => ps.PlanResourceChange(r)),
    ApplyResourceChange: u('ApplyResourceChange', (r) => ps.ApplyResourceChange(r)),
    ImportResourceState: u('ImportResourceState', (r) => ps.ImportResourceState(r)),
    MoveResourceState: u('MoveResourceState', (r) => ps.MoveResourceState(r)),
    ReadDataSource: u('ReadDataSource', (r) => ps.ReadDataSource(r)),
    ValidateEphemeralResourceConfig: u('ValidateEphemeralResourceConfig', (r) => ps.Ephemeral(r)),
    OpenEphemeralResource: u('OpenEphemeralResource', (r) => ps.Ephemeral(r)),
    RenewEphemeralResource: u('RenewEphemeralResource', (r) => ps.Ephemeral(r)),
    CloseEphemeralResource: u('CloseEphemeralResource', (r) => ps.Ephemeral(r)),
    GetFunctions: u('GetFunctions', () => ps.GetFunctions()),
    CallFunction: u('CallFunction', (r) => ps.CallFunction(r)),
    StopProvider: u('StopProvider', () => ps.StopProvider()),
  };
  server.addService(defs.provider, provider);
  server.addService(defs.controller, {
    Shutdown: (_call: unknown, callback: (e: null, r: Req) => void) => {
      log.debug('shutdown requested');
      callback(null, {});
      // Let the response flush, then exit: go-plugin waits at most 2 s before SIGKILL.
      setTimeout(onShutdown, 5);
    },
  });
  const openStreams = new Set<{ end(): void }>();
  server.addService(defs.stdio, {
    // Kept open and idle: logs reach go-plugin through stderr directly.
    StreamStdio: (call: { end(): void; on(ev: string, f: () => void): void }) => {
      openStreams.add(call);
      call.on('cancelled', () => openStreams.delete(call));
    },
  });
  server.addService(defs.health, {
    Check: (_call: unknown, callback: (e: null, r: Req) => void) => callback(null, { status: 'SERVING' }),
  });
  return server;
}

function bind(server: Server, creds: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (e, port) => (e ? reject(e) : resolve(port))));
}

/** Sends console.* output to stderr so nothing can print before (or instead of) the handshake. */
function protectStdout(): void {
  const toStderr = (...args: unknown[]) => void process.stderr.write(format(...args) + '\n');
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}

/**
 * Serves `def` as a plugin (or in debug mode) and resolves once listening.
 * Declaration errors (`SchemaError`) and handshake problems are printed to
 * stderr and end the process with exit code 1 (via `opts.exit`).
 */
export async function serve(def: ProviderDefinition<any>, opts: ServeOptions = {}): Promise<ServeHandle> {
  const env = opts.env ?? process.env;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const writeStdout = opts.writeStdout ?? ((text: string) => void process.stdout.write(text));
  const executable = opts.executable ?? `terraform-provider-${def.name}`;
  const debug = ['1', 'true', 'yes'].includes((env[opts.debugEnvVar ?? 'FLUXBASE_TF_DEBUG'] ?? '').toLowerCase());
  const log = createLogger('', debug ? 'debug' : levelFromEnv(env));
  if (!opts.writeStdout) protectStdout();

  let ps: ProviderServer;
  let protocol = 6;
  try {
    if (!debug) {
      checkMagicCookie(env, executable);
      protocol = negotiateProtocol(env);
    }
    ps = new ProviderServer(compileProvider(def), log);
  } catch (e) {
    process.stderr.write(`${e instanceof HandshakeError ? '' : 'error: '}${(e as Error).message}\n`);
    exit(1);
    throw e;
  }

  let server: Server | undefined = undefined;
  const stop = () => {
    server?.forceShutdown();
    exit(0);
  };
  server = createPluginServer(ps, log, stop);
  const clientCert = env.PLUGIN_CLIENT_CERT;
  let port: number;
  if (!debug && clientCert) {
    const cert = generateServerCertificate();
    const creds = ServerCredentials.createSsl(Buffer.from(clientCert), [{ cert_chain: Buffer.from(cert.certPem), private_key: Buffer.from(cert.keyPem) }], true);
    port = await bind(server, creds);
    writeStdout(handshakeLine({ port, protocol, certDer: cert.certDer }) + '\n');
  } else {
    port = await bind(server, ServerCredentials.createInsecure());
    if (debug) {
      const address = def.address ?? `registry.terraform.io/${def.name}/${def.name}`;
      writeStdout(
        `Provider ${executable} started in debug mode (pid ${process.pid}). In another shell:\n\n` +
          `export TF_REATTACH_PROVIDERS='${reattachConfig(address, port, process.pid)}'\n\n`,
      );
    } else {
      writeStdout(handshakeLine({ port, protocol }) + '\n');
    }
  }
  // Terraform forwards Ctrl-C to the whole process group and then calls
  // StopProvider; like go-plugin, keep running (debug mode: stop).
  if (!opts.exit) process.on('SIGINT', () => (debug ? stop() : log.debug('ignoring SIGINT; waiting for StopProvider/Shutdown')));
  log.debug('serving', { port, tls: !!clientCert && !debug, version: def.version ?? '' });
  return {
    port,
    debug,
    close: () => new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve())),
  };
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { credentials, makeGenericClientConstructor, type Client } from '@grpc/grpc-js';
import {
  checkMagicCookie,
  handshakeLine,
  HandshakeError,
  MAGIC_COOKIE_VALUE,
  negotiateProtocol,
  rawStdBase64,
  reattachConfig,
} from '../../src/terraform/handshake.js';
import { generateServerCertificate } from '../../src/terraform/tls/cert.js';
import { serviceDefinitions } from '../../src/terraform/serve.js';
import { buildExampleProvider, removeBuiltProvider } from './helpers/build.js';

describe('handshake line', () => {
  it('is core 1, protocol 6, tcp address, grpc and the unpadded base64 DER certificate', () => {
    const certDer = Buffer.from([1, 2, 3, 4]); // base64 "AQIDBA==" → unpadded "AQIDBA"
    expect(handshakeLine({ port: 4242, certDer })).toBe('1|6|tcp|127.0.0.1:4242|grpc|AQIDBA');
    expect(handshakeLine({ port: 1 })).toBe('1|6|tcp|127.0.0.1:1|grpc|');
  });

  it('never pads the base64 certificate (Go RawStdEncoding)', () => {
    for (let n = 1; n <= 6; n++) expect(rawStdBase64(Buffer.alloc(n, 0xff))).not.toContain('=');
  });
});

describe('magic cookie and protocol negotiation', () => {
  it('refuses to start without the cookie, with a message for humans', () => {
    expect(() => checkMagicCookie({}, 'terraform-provider-x')).toThrow(HandshakeError);
    expect(() => checkMagicCookie({}, 'terraform-provider-x')).toThrow(/Terraform provider plugin/);
    expect(() => checkMagicCookie({ TF_PLUGIN_MAGIC_COOKIE: MAGIC_COOKIE_VALUE })).not.toThrow();
  });

  it('negotiates protocol 6 and refuses a Terraform that only offers 5', () => {
    expect(negotiateProtocol({ PLUGIN_PROTOCOL_VERSIONS: '5,6' })).toBe(6);
    expect(negotiateProtocol({})).toBe(6);
    expect(() => negotiateProtocol({ PLUGIN_PROTOCOL_VERSIONS: '5' })).toThrow(/protocol 6 only/);
  });

  it('describes a reattachable test-mode process for TF_REATTACH_PROVIDERS', () => {
    const cfg = JSON.parse(reattachConfig('registry.terraform.io/a/b', 1234, 99));
    expect(cfg['registry.terraform.io/a/b']).toEqual({
      Protocol: 'grpc',
      ProtocolVersion: 6,
      Pid: 99,
      Test: true,
      Addr: { Network: 'tcp', String: '127.0.0.1:1234' },
    });
  });
});

describe('server certificate', () => {
  it('is a self-signed ECDSA P-256 CA certificate for DNS:localhost usable for server and client auth', () => {
    const { certDer, keyPem } = generateServerCertificate();
    const x = new X509Certificate(certDer);
    expect(x.subjectAltName).toBe('DNS:localhost');
    expect(x.ca).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkIssued(x)).toBe(true);
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(keyPem).toMatch(/BEGIN PRIVATE KEY/);
    expect(rawStdBase64(certDer).length).toBeGreaterThan(50); // go-plugin ignores shorter cert fields
    expect(Date.parse(x.validFrom)).toBeLessThan(Date.now());
  });
});

describe('the bundled provider process', () => {
  let exe: string;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    exe = await buildExampleProvider();
  });
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    child = undefined;
  });
  afterAll(() => removeBuiltProvider(exe));

  it('exits 1 with a helpful message and prints nothing on stdout when started by hand', () => {
    const res = spawnSync(exe, [], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
    expect(res.status).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/is a Terraform provider plugin/);
  });

  /** Starts the provider as Terraform would and resolves with its first stdout line. */
  function startPlugin(clientCertPem: string): Promise<string> {
    child = spawn(exe, [], {
      env: { PATH: process.env.PATH, TF_PLUGIN_MAGIC_COOKIE: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: '5,6', PLUGIN_CLIENT_CERT: clientCertPem },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = createInterface({ input: child.stdout! });
    return new Promise((resolve, reject) => {
      lines.once('line', resolve);
      child!.once('exit', (code) => reject(new Error(`provider exited with ${code}`)));
    });
  }

  function client(port: number, opts: { serverCertPem?: string; clientKeyPem?: string; clientCertPem?: string }, service: 'provider' | 'controller'): Client {
    const Ctor = makeGenericClientConstructor(serviceDefinitions()[service]!, service);
    const creds = credentials.createSsl(
      Buffer.from(opts.serverCertPem ?? ''),
      opts.clientKeyPem ? Buffer.from(opts.clientKeyPem) : null,
      opts.clientCertPem ? Buffer.from(opts.clientCertPem) : null,
    );
    return new Ctor(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' });
  }

  const call = (c: Client, method: string, req: object) =>
    new Promise<Record<string, any>>((resolve, reject) =>
      (c as unknown as Record<string, Function>)[method]!(req, (e: Error | null, res: Record<string, any>) => (e ? reject(e) : resolve(res))),
    );

  it('prints the handshake first, serves GetProviderSchema over mutual TLS, rejects clients without a certificate, and exits promptly on Shutdown', async () => {
    const terraformSide = generateServerCertificate(); // stands in for Terraform's client certificate
    const line = await startPlugin(terraformSide.certPem);
    const m = /^1\|6\|tcp\|127\.0\.0\.1:(\d+)\|grpc\|([A-Za-z0-9+/]+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const port = Number(m![1]);
    const serverCert = new X509Certificate(Buffer.from(m![2]!, 'base64'));
    expect(serverCert.subjectAltName).toBe('DNS:localhost');

    const good = client(port, { serverCertPem: serverCert.toString(), clientKeyPem: terraformSide.keyPem, clientCertPem: terraformSide.certPem }, 'provider');
    const schema = await call(good, 'GetProviderSchema', {});
    expect(Object.keys(schema.resource_schemas)).toEqual(['example_note']);
    expect(schema.server_capabilities.plan_destroy).toBe(true);
    good.close();

    const anonymous = client(port, { serverCertPem: serverCert.toString() }, 'provider');
    await expect(call(anonymous, 'GetProviderSchema', {})).rejects.toThrow();
    anonymous.close();

    const controller = client(port, { serverCertPem: serverCert.toString(), clientKeyPem: terraformSide.keyPem, clientCertPem: terraformSide.certPem }, 'controller');
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const t0 = performance.now();
    await call(controller, 'Shutdown', {});
    expect(await exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(1000); // go-plugin SIGKILLs after 2 s
    controller.close();
  });
});

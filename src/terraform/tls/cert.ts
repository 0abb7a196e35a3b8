/**
 * The provider's AutoMTLS server certificate: a fresh ECDSA P-256 key pair
 * and a self-signed X.509 v3 certificate for DNS:localhost, made with
 * node:crypto and the DER helpers in der.ts (about 1–3 ms; see
 * docs/terraform-provider.md for why no X.509 library is used).
 *
 * The shape follows go-plugin's own generated certificate, which Terraform's
 * client trusts as its only root (`RootCAs` = this cert, `ServerName`
 * "localhost"): CA:TRUE, key usage digitalSignature|keyEncipherment|
 * keyAgreement|keyCertSign, extended key usage serverAuth+clientAuth.
 */
import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import * as der from './der.js';

/** A generated certificate: `certDer` for the handshake line, PEMs for grpc-js. */
export interface ServerCertificate {
  certDer: Buffer;
  certPem: string;
  keyPem: string;
}

const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_SAN = '2.5.29.17';
const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? der.sequence(der.oid(id), der.boolean(true), der.octetString(value)) : der.sequence(der.oid(id), der.octetString(value));
}

/**
 * Generates the key pair and certificate. `now` and `validForMs` (default
 * 10 years) set the validity window, which starts a minute before `now` to
 * tolerate clock skew.
 */
export function generateServerCertificate(now: Date = new Date(), validForMs = 10 * 365 * 24 * 3600 * 1000): ServerCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  const sigAlg = der.sequence(der.oid(OID_ECDSA_SHA256));
  const name = der.sequence(
    der.set(der.sequence(der.oid(OID_O), der.utf8String('Fluxbase'))),
    der.set(der.sequence(der.oid(OID_CN), der.utf8String('localhost'))),
  );
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + validForMs);
  // keyUsage bits 0,2,4,5 → 1010 1100, two unused trailing bits.
  const keyUsage = der.bitString(Buffer.of(0xac), 2);
  const extensions = der.explicit(
    3,
    der.sequence(
      extension(OID_BASIC_CONSTRAINTS, true, der.sequence(der.boolean(true))),
      extension(OID_KEY_USAGE, true, keyUsage),
      extension(OID_EXT_KEY_USAGE, false, der.sequence(der.oid(OID_SERVER_AUTH), der.oid(OID_CLIENT_AUTH))),
      extension(OID_SAN, false, der.sequence(der.implicitPrimitive(2, Buffer.from('localhost')))),
    ),
  );
  const tbs = der.sequence(
    der.explicit(0, der.unsignedInteger(Buffer.of(2))),
    der.unsignedInteger(serial),
    sigAlg,
    name,
    der.sequence(der.time(notBefore), der.time(notAfter)),
    name,
    spki,
    extensions,
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const certDer = der.sequence(tbs, sigAlg, der.bitString(signature));
  const b64 = certDer.toString('base64');
  const certPem = `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { certDer, certPem, keyPem };
}

/** Parses a certificate with node:crypto (used by tests to check what we generate). */
export function inspectCertificate(certDer: Buffer): X509Certificate {
  return new X509Certificate(certDer);
}

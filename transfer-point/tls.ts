/**
 * The FTPS side of the local transfer point: a throwaway server certificate, and the check of
 * one given to it. The interop tests use the same certificate maker for vsftpd and pure-ftpd.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSelfSigned } from '../shared/signing';
import type { SimulatorTlsIdentity } from './types';

/** Names a loopback server is reached by, besides the address it listens on. */
const LOOPBACK_NAMES = ['127.0.0.1', '::1', 'localhost'] as const;

/**
 * Makes a fresh RSA key and a self-signed TLS server certificate for `host` and the loopback
 * names, as PEM. A client trusts it by giving the certificate as its CA (pinning it).
 */
export async function createTlsIdentity(
  host: string,
  commonName = 'onss-transfer local FTPS server',
): Promise<SimulatorTlsIdentity> {
  const serverNames = [...new Set([host, ...LOOPBACK_NAMES])];
  const material = await createSelfSigned({ commonName, serverNames });
  return {
    key: material.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    cert: material.certificate.toString(),
  };
}

/** Checks a given key and certificate; returns the problem, or undefined when they pair. */
export function tlsIdentityProblem(identity: SimulatorTlsIdentity): string | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(identity.cert);
  } catch {
    return 'cert is not a PEM certificate';
  }
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(identity.key))) {
      return 'key is not the key of cert';
    }
  } catch {
    return 'key is not a PEM private key (an encrypted key is not supported)';
  }
  return undefined;
}

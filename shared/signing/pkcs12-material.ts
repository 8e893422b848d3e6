import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { KeyPasswordRequiredError, KeyPasswordWrongError, MaterialUnreadableError } from './errors';
import { pairKeyWithCertificate, type SigningMaterial } from './material';
import { Pkcs12PasswordError, readPkcs12, type Pkcs12Contents } from './pkcs12';

// Apart from ./material so that a PEM key never loads node-forge (about 17 ms at start-up).

/**
 * Loads signing material from a PKCS#12 / .pfx file: modern ones (PBES2, AES,
 * SHA-256 MAC) and legacy ones (RC2-40, 3DES, SHA-1 MAC) exported by older
 * tools and Windows. Our reader on node-forge's primitives opens the container
 * (OpenSSL 3 and Node no longer do RC2 by default): see ./pkcs12 for why it is
 * not forge's own `pkcs12FromAsn1` (certificates kept byte for byte, non-ASCII
 * passwords). The key and certificates are then handed to Node.
 */
export function loadPkcs12Material(p12: Buffer, password?: string): SigningMaterial {
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = forge.asn1.fromDer(p12.toString('binary'));
  } catch (cause) {
    throw new MaterialUnreadableError('the PKCS#12 file is not valid DER', cause);
  }
  let contents: Pkcs12Contents;
  try {
    contents = readPkcs12(asn1, password ?? '');
  } catch (cause) {
    if (cause instanceof Pkcs12PasswordError) {
      if (password === undefined) throw new KeyPasswordRequiredError('the PKCS#12 file');
      throw new KeyPasswordWrongError('the PKCS#12 file', cause);
    }
    throw new MaterialUnreadableError('the PKCS#12 file cannot be opened', cause);
  }
  const certs = contents.certificates.map((der) => {
    try {
      return new X509Certificate(der);
    } catch (cause) {
      throw new MaterialUnreadableError('the PKCS#12 file holds an unreadable certificate', cause);
    }
  });
  const keyDer = contents.keys[0];
  if (contents.keys.length !== 1 || keyDer === undefined) {
    throw new MaterialUnreadableError(
      `the PKCS#12 file must hold exactly one private key (it holds ${contents.keys.length})`,
    );
  }
  if (certs.length === 0)
    throw new MaterialUnreadableError('the PKCS#12 file holds no certificate');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: keyDer, format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw new MaterialUnreadableError('the private key in the PKCS#12 file is unreadable', cause);
  }
  return pairKeyWithCertificate(privateKey, certs);
}

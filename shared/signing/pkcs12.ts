import { createHmac, timingSafeEqual } from 'node:crypto';
import forge from 'node-forge';

/**
 * A minimal PKCS#12 (RFC 7292) reader: password-integrity mode only, which is
 * what OpenSSL, Windows and Java export. node-forge supplies the ASN.1 parser,
 * the PKCS#12 key derivation and the PBE ciphers (RC2-40 is gone from OpenSSL
 * 3's default provider, so Node cannot decrypt legacy containers itself); the
 * walk over the structure is ours, for two reasons forge's `pkcs12FromAsn1`
 * cannot be fixed from outside:
 *
 * - Exact certificates. Forge parses each certificate it can and keeps no
 *   bytes, so we could only re-encode it, and that is not byte-exact:
 *   `certificateToAsn1` rebuilds the outer signatureAlgorithm from the OID,
 *   with a NULL parameter where the original had none (as pkijs writes
 *   sha256WithRSAEncryption). The copy is 2 bytes longer, no longer matches its
 *   tbsCertificate's algorithm, so it does not verify, and a signature would
 *   embed a certificate that is not the issued one. A certificate's DER is the
 *   content of an OCTET STRING in its CertBag: we take those bytes as they are
 *   and never parse or re-encode a certificate here.
 * - Password encodings. The MAC and the legacy PKCS#12 PBEs derive their keys
 *   from the password as a BMPString (UTF-16BE), PBES2 (OpenSSL 3's default
 *   AES containers) from its UTF-8 bytes (RFC 8018, as OpenSSL does). Forge
 *   hands the same JavaScript string to both, and its PBKDF2 reads it as a
 *   binary string (one "byte" per UTF-16 code unit), not as UTF-8: with a
 *   non-ASCII password the key is wrong and decryption fails. We give each
 *   scheme the encoding it expects.
 */

/** The password does not verify the MAC or does not decrypt a part of the container. */
export class Pkcs12PasswordError extends Error {}

/** What a PKCS#12 container holds that signing needs, as DER exactly as stored. */
export interface Pkcs12Contents {
  /** PKCS#8 PrivateKeyInfo of each key bag (shrouded ones decrypted). */
  keys: Buffer[];
  /** X.509 certificates of the certificate bags, byte for byte. */
  certificates: Buffer[];
}

type Node = forge.asn1.Asn1;

const { Class, Type } = forge.asn1;

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  pbes2: '1.2.840.113549.1.5.13',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
} as const;

/** MAC digests: forge's digest (for the PKCS#12 KDF), Node's name (for the HMAC). */
const MAC_DIGESTS: Readonly<Record<string, { node: string; forge: () => forge.md.MessageDigest }>> =
  {
    '1.3.14.3.2.26': { node: 'sha1', forge: () => forge.md.sha1.create() },
    '2.16.840.1.101.3.4.2.1': { node: 'sha256', forge: () => forge.md.sha256.create() },
    '2.16.840.1.101.3.4.2.2': { node: 'sha384', forge: () => forge.md.sha384.create() },
    '2.16.840.1.101.3.4.2.3': { node: 'sha512', forge: () => forge.md.sha512.create() },
    '1.2.840.113549.2.5': { node: 'md5', forge: () => forge.md.md5.create() }, // forge read these too
  };

/**
 * forge's PBE dispatcher (PBES2 with AES or DES, pbeWithSHAAnd3-KeyTripleDES-CBC,
 * pbeWithSHAAnd40BitRC2-CBC), public in forge but missing from @types/node-forge.
 */
const pbe = (
  forge.pki as unknown as {
    pbe: { getCipher(oid: string, params: Node, password: string): forge.cipher.BlockCipher };
  }
).pbe;

/**
 * A parsed node encoded again: only for an unencrypted keyBag, whose key Node
 * reads for its values (certificates are never re-encoded).
 */
const der = (node: Node): string => forge.asn1.toDer(node).getBytes();

function fail(message: string): never {
  throw new Error(`PKCS#12: ${message}`);
}

function isUniversal(node: Node | undefined, type: forge.asn1.Type): node is Node {
  return node !== undefined && node.tagClass === Class.UNIVERSAL && node.type === type;
}

function sequence(node: Node | undefined, what: string): Node[] {
  if (!isUniversal(node, Type.SEQUENCE) || !Array.isArray(node.value)) {
    fail(`${what} is not a SEQUENCE`);
  }
  return node.value;
}

function oid(node: Node | undefined, what: string): string {
  if (!isUniversal(node, Type.OID) || typeof node.value !== 'string') fail(`${what} is not an OID`);
  return forge.asn1.derToOid(node.value);
}

function integer(node: Node | undefined, what: string): number {
  if (!isUniversal(node, Type.INTEGER) || typeof node.value !== 'string') {
    fail(`${what} is not an INTEGER`);
  }
  return Number.parseInt(forge.util.bytesToHex(node.value) || '0', 16);
}

/** `[0]` EXPLICIT: the one node inside. */
function explicit0(node: Node | undefined, what: string): Node {
  if (node?.tagClass !== Class.CONTEXT_SPECIFIC || node.type !== 0 || !Array.isArray(node.value)) {
    fail(`${what} is not a [0] EXPLICIT value`);
  }
  return node.value[0] ?? fail(`${what} is empty`);
}

/**
 * The bytes of an OCTET STRING (or of a `[0]` IMPLICIT one when `implicit0`),
 * primitive or BER-constructed from chunks, as a forge binary string.
 */
function octets(node: Node | undefined, what: string, implicit0 = false): string {
  const tagged = implicit0
    ? node?.tagClass === Class.CONTEXT_SPECIFIC && node.type === 0
    : isUniversal(node, Type.OCTETSTRING);
  if (!tagged || node === undefined) fail(`${what} is not an OCTET STRING`);
  if (typeof node.value === 'string') return node.value;
  return node.value.map((chunk) => octets(chunk, what)).join('');
}

/**
 * Checks the MAC over the AuthenticatedSafe: HMAC keyed by the PKCS#12 KDF
 * (ID 3) of the password as a BMPString, which forge derives from the
 * string's UTF-16 code units.
 */
function verifyMac(macData: Node, authSafe: string, password: string): void {
  const [digestInfo, salt, iterations] = sequence(macData, 'MacData');
  const [algorithm, digest] = sequence(digestInfo, 'MAC DigestInfo');
  const [algorithmOid] = sequence(algorithm, 'MAC algorithm');
  const macOid = oid(algorithmOid, 'MAC algorithm');
  const md = MAC_DIGESTS[macOid] ?? fail(`unsupported MAC algorithm ${macOid}`);
  const count = iterations === undefined ? 1 : integer(iterations, 'MAC iteration count');
  if (!(count >= 1)) fail('the MAC iteration count must be at least 1');
  const expected = Buffer.from(octets(digest, 'MAC digest'), 'binary');
  const hash = md.forge();
  const key = forge.pkcs12.generateKey(
    password,
    forge.util.createBuffer(octets(salt, 'MAC salt')),
    3,
    count,
    hash.digestLength,
    hash,
  );
  const actual = createHmac(md.node, Buffer.from(key.getBytes(), 'binary'))
    .update(Buffer.from(authSafe, 'binary'))
    .digest();
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new Pkcs12PasswordError('PKCS#12: the MAC does not verify with this password');
  }
}

/**
 * Decrypts with a password-based scheme, giving the password in the encoding
 * that scheme defines: UTF-8 bytes for PBES2, the string itself for the
 * PKCS#12 PBEs (forge turns it into the BMPString they derive keys from).
 */
function decrypt(algorithm: Node, encrypted: string, password: string): string {
  const [algorithmOid, params] = sequence(algorithm, 'encryption algorithm');
  const schemeOid = oid(algorithmOid, 'encryption algorithm');
  if (params === undefined) fail(`no parameters for encryption algorithm ${schemeOid}`);
  const cipher = pbe.getCipher(
    schemeOid,
    params,
    schemeOid === OID.pbes2 ? forge.util.encodeUtf8(password) : password,
  );
  cipher.update(forge.util.createBuffer(encrypted));
  if (!cipher.finish()) throw new Pkcs12PasswordError('PKCS#12: the password does not decrypt');
  return cipher.output.getBytes();
}

/**
 * Parses what was decrypted. Without a MAC a wrong password can still leave
 * valid padding (1 time in 256): garbage then means a wrong password.
 */
function decryptedDer(bytes: string, what: string, macChecked: boolean): Node {
  try {
    return forge.asn1.fromDer(bytes, true);
  } catch (cause) {
    if (!macChecked) throw new Pkcs12PasswordError('PKCS#12: the password does not decrypt');
    throw new Error(`PKCS#12: ${what} is not valid DER`, { cause });
  }
}

/** Collects the keys and certificates of a SafeContents (SEQUENCE OF SafeBag). */
function readSafeContents(
  safeContents: Node,
  password: string,
  macChecked: boolean,
  into: Pkcs12Contents,
): void {
  for (const safeBag of sequence(safeContents, 'SafeContents')) {
    const [bagIdNode, bagValueNode] = sequence(safeBag, 'SafeBag');
    const bagId = oid(bagIdNode, 'SafeBag type');
    const bagValue = explicit0(bagValueNode, 'SafeBag value');
    switch (bagId) {
      case OID.keyBag:
        sequence(bagValue, 'PrivateKeyInfo');
        into.keys.push(Buffer.from(der(bagValue), 'binary'));
        break;
      case OID.pkcs8ShroudedKeyBag: {
        const [algorithm, encrypted] = sequence(bagValue, 'EncryptedPrivateKeyInfo');
        if (algorithm === undefined) fail('EncryptedPrivateKeyInfo has no algorithm');
        const plain = decrypt(algorithm, octets(encrypted, 'encrypted key'), password);
        sequence(decryptedDer(plain, 'the decrypted key', macChecked), 'PrivateKeyInfo');
        into.keys.push(Buffer.from(plain, 'binary'));
        break;
      }
      case OID.certBag: {
        const [certIdNode, certValue] = sequence(bagValue, 'CertBag');
        const certId = oid(certIdNode, 'certificate type');
        if (certId !== OID.x509Certificate) fail(`unsupported certificate type ${certId}`);
        // The certificate's own DER, untouched: never parsed and re-encoded.
        const cert = octets(explicit0(certValue, 'certificate value'), 'certificate');
        into.certificates.push(Buffer.from(cert, 'binary'));
        break;
      }
      case OID.safeContentsBag:
        readSafeContents(bagValue, password, macChecked, into);
        break;
      default:
        break; // CRLs, secrets and private bag types: nothing a signature needs
    }
  }
}

/**
 * Opens a PKCS#12 PFX (already parsed by forge's ASN.1 reader): checks the MAC
 * when there is one, decrypts the encrypted parts and returns the keys and
 * certificates. Throws {@link Pkcs12PasswordError} when the password is
 * refused, and a plain Error for anything malformed or unsupported.
 */
export function readPkcs12(pfx: Node, password: string): Pkcs12Contents {
  const [versionNode, authSafeInfo, macData] = sequence(pfx, 'PFX');
  const version = integer(versionNode, 'PFX version');
  if (version !== 3) fail(`version ${version} is not supported (only 3)`);
  const [contentTypeNode, contentNode] = sequence(authSafeInfo, 'authSafe');
  if (oid(contentTypeNode, 'authSafe content type') !== OID.data) {
    fail('only password integrity mode is supported (not public-key integrity)');
  }
  const authSafe = octets(explicit0(contentNode, 'authSafe content'), 'authSafe content');
  if (macData !== undefined) verifyMac(macData, authSafe, password);
  const macChecked = macData !== undefined;
  const contents: Pkcs12Contents = { keys: [], certificates: [] };
  for (const contentInfo of sequence(forge.asn1.fromDer(authSafe, true), 'AuthenticatedSafe')) {
    const [typeNode, valueNode] = sequence(contentInfo, 'ContentInfo');
    const type = oid(typeNode, 'ContentInfo type');
    if (type === OID.data) {
      const bytes = octets(explicit0(valueNode, 'Data'), 'Data');
      readSafeContents(forge.asn1.fromDer(bytes, true), password, macChecked, contents);
    } else if (type === OID.encryptedData) {
      const [, encryptedContentInfo] = sequence(
        explicit0(valueNode, 'EncryptedData'),
        'EncryptedData',
      );
      const [innerType, algorithm, encrypted] = sequence(
        encryptedContentInfo,
        'EncryptedContentInfo',
      );
      if (oid(innerType, 'encrypted content type') !== OID.data) {
        fail('the encrypted content is not Data');
      }
      if (algorithm === undefined) fail('EncryptedContentInfo has no algorithm');
      if (encrypted === undefined) continue; // no content: nothing to read
      const plain = decrypt(algorithm, octets(encrypted, 'encrypted content', true), password);
      readSafeContents(
        decryptedDer(plain, 'the decrypted SafeContents', macChecked),
        password,
        macChecked,
        contents,
      );
    } else {
      fail(`content type ${type} is not supported (public-key privacy mode?)`);
    }
  }
  return contents;
}

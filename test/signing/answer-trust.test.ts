import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AnswerTrustError,
  answerTrustKind,
  certificateFingerprint,
  checkAnswerSigner,
  makeAnswerTrust,
  parseFingerprints,
  readCaBundle,
  signFile,
  UntrustedSignerError,
  type AnswerTrust,
  type SigningMaterial,
} from '../../shared/signing';
import { identityOf, issue, makeCa, type TestCa } from '../helpers/ca';
import { makeIdentity, scratchDir, type Identity } from '../helpers/pki';

const { dir, cleanup } = scratchDir('onss-answer-trust-');
afterAll(cleanup);

const DAY_MS = 86_400_000;

let root: TestCa;
let strangerRoot: TestCa;
let intermediate: TestCa;
let direct: Identity; // issued by root
let viaIntermediate: Identity; // issued by the intermediate, which its signatures carry
let bareLeaf: Identity; // issued by the intermediate, carrying no chain
let strangersLeaf: Identity; // issued by another root
let selfSigned: Identity; // the local transfer point's kind of certificate
let shortLived: Identity; // issued by root for 1 day
let byALeaf: Identity; // issued by a signer certificate (no CA) of root

beforeAll(async () => {
  root = makeCa(dir, 'Answers Root');
  strangerRoot = makeCa(dir, 'Stranger Root');
  intermediate = issue(dir, root, 'Answers Intermediate', { ca: true });
  const directCertificate = issue(dir, root, 'Transfer Point Signer');
  direct = identityOf(directCertificate);
  byALeaf = identityOf(issue(dir, directCertificate, 'Issued By A Leaf'), [directCertificate]);
  const leaf = issue(dir, intermediate, 'Transfer Point Signer 2');
  viaIntermediate = identityOf(leaf, [intermediate]);
  bareLeaf = identityOf(leaf);
  strangersLeaf = identityOf(issue(dir, strangerRoot, 'Transfer Point Signer'));
  selfSigned = await makeIdentity('rsa2048', { commonName: 'local transfer point' });
  shortLived = identityOf(issue(dir, root, 'Short Lived', { days: 1 }));
});

let files = 0;
/** An FS of a fresh answer file, signed with `material`: the FS content and the file's path. */
async function signedAnswer(material: SigningMaterial): Promise<{ fs: Buffer; fi: string }> {
  files += 1;
  const fi = join(dir, `FO.ACRF.999999.20261125.${String(files).padStart(5, '0')}.T`);
  writeFileSync(fi, `<ACRF><Form>${files}</Form></ACRF>`);
  return { fs: Buffer.from((await signFile(fi, material, { format: 'line' })).fs), fi };
}

const pinned = (...identities: Identity[]): AnswerTrust =>
  makeAnswerTrust({
    fingerprints: identities.map((id) => certificateFingerprint(id.material.certificate)),
  }) as AnswerTrust;
const bundle = (...cas: Array<{ certPem: string }>): AnswerTrust =>
  makeAnswerTrust({
    caBundle: { pem: cas.map((ca) => ca.certPem).join('\n'), source: 'bundle.pem' },
  }) as AnswerTrust;

describe('checkAnswerSigner', () => {
  it('accepts a pinned signer, any of several pins (a certificate being replaced)', async () => {
    const { fs } = await signedAnswer(selfSigned.material);
    expect(checkAnswerSigner(fs, pinned(direct, selfSigned))).toEqual({
      subject: 'CN=local transfer point',
      fingerprint: certificateFingerprint(selfSigned.material.certificate),
      via: 'fingerprint',
    });
  });

  it("refuses a stranger's signature under a pin, naming the signer and its fingerprint", async () => {
    const { fs } = await signedAnswer(strangersLeaf.material);
    const fingerprint = certificateFingerprint(strangersLeaf.material.certificate);
    expect(() => checkAnswerSigner(fs, pinned(selfSigned))).toThrow(UntrustedSignerError);
    expect(() => checkAnswerSigner(fs, pinned(selfSigned))).toThrow(
      `the signer CN=Transfer Point Signer (SHA-256 ${fingerprint}) is not a pinned certificate`,
    );
    try {
      checkAnswerSigner(fs, pinned(selfSigned));
    } catch (error) {
      expect(error).toMatchObject({ code: 'ANSWER_SIGNER_UNTRUSTED' });
    }
  });

  it('accepts a signer issued by a CA of the bundle', async () => {
    const { fs } = await signedAnswer(direct.material);
    expect(checkAnswerSigner(fs, bundle(strangerRoot, root))).toMatchObject({
      subject: 'CN=Transfer Point Signer',
      via: 'ca-bundle',
      anchor: 'CN=Answers Root',
    });
  });

  it('follows an intermediate the signature carries up to the bundle, not without it', async () => {
    const carried = await signedAnswer(viaIntermediate.material);
    expect(checkAnswerSigner(carried.fs, bundle(root))).toMatchObject({
      via: 'ca-bundle',
      anchor: 'CN=Answers Root',
    });
    const bare = await signedAnswer(bareLeaf.material);
    expect(() => checkAnswerSigner(bare.fs, bundle(root))).toThrow(
      /CN=Transfer Point Signer 2 .* does not chain to the CA bundle$/,
    );
    // The intermediate in the bundle is enough on its own.
    expect(checkAnswerSigner(bare.fs, bundle(intermediate))).toMatchObject({
      anchor: 'CN=Answers Intermediate',
    });
  });

  it("refuses a signer of a stranger's CA, with the same name as the trusted one", async () => {
    const { fs } = await signedAnswer(strangersLeaf.material);
    expect(() => checkAnswerSigner(fs, bundle(root))).toThrow(
      /^the signer CN=Transfer Point Signer \(SHA-256 [0-9A-F:]{95}\) does not chain to the CA bundle$/,
    );
  });

  it('refuses a chain through a certificate that is no CA, in the bundle or carried', async () => {
    const { fs } = await signedAnswer(byALeaf.material);
    expect(() => checkAnswerSigner(fs, bundle({ certPem: direct.certPem }))).toThrow(
      /CN=Issued By A Leaf .* does not chain to the CA bundle$/,
    );
    expect(() => checkAnswerSigner(fs, bundle(root))).toThrow(UntrustedSignerError);
  });

  it('trusts a self-signed signer given as its own CA, as openssl cms -verify -CAfile does', async () => {
    const { fs, fi } = await signedAnswer(selfSigned.material);
    expect(checkAnswerSigner(fs, bundle({ certPem: selfSigned.certPem }))).toMatchObject({
      via: 'ca-bundle',
      anchor: 'CN=local transfer point',
    });
    const caFile = join(dir, 'self-signed.pem');
    writeFileSync(caFile, selfSigned.certPem);
    expect(opensslVerifies(fi, fs, caFile)).toBe(true);
  });

  it('OpenSSL agrees: the chain through the intermediate verifies, a stranger does not', async () => {
    const carried = await signedAnswer(viaIntermediate.material);
    const stranger = await signedAnswer(strangersLeaf.material);
    expect(opensslVerifies(carried.fi, carried.fs, root.certFile)).toBe(true);
    expect(opensslVerifies(stranger.fi, stranger.fs, root.certFile)).toBe(false);
  });

  it('holds every certificate of the trust to its validity at the time of the check', async () => {
    const later = new Date(Date.now() + 2 * DAY_MS);
    const { fs } = await signedAnswer(shortLived.material);
    expect(checkAnswerSigner(fs, bundle(root))).toMatchObject({ via: 'ca-bundle' });
    expect(() => checkAnswerSigner(fs, bundle(root), later)).toThrow(
      /the signer CN=Short Lived .*: CN=Short Lived expired on /,
    );
    expect(() => checkAnswerSigner(fs, pinned(shortLived), later)).toThrow(/expired on/);
    // A CA of the bundle that expired: the chain it ended is not trusted any more.
    const oldRoot = makeCa(dir, 'Old Root', 1);
    const underOld = await signedAnswer(identityOf(issue(dir, oldRoot, 'Under Old')).material);
    expect(checkAnswerSigner(underOld.fs, bundle(oldRoot))).toMatchObject({ via: 'ca-bundle' });
    expect(() => checkAnswerSigner(underOld.fs, bundle(oldRoot), later)).toThrow(
      /does not chain to the CA bundle \(CN=Old Root expired on /,
    );
  });

  it('with pins and a bundle, either one is enough', async () => {
    const trust = makeAnswerTrust({
      fingerprints: [certificateFingerprint(selfSigned.material.certificate)],
      caBundle: { pem: root.certPem, source: 'bundle.pem' },
    }) as AnswerTrust;
    expect(answerTrustKind(trust)).toBe('fingerprints-or-ca-bundle');
    const pinnedOne = await signedAnswer(selfSigned.material);
    const issuedOne = await signedAnswer(direct.material);
    const strangerOne = await signedAnswer(strangersLeaf.material);
    expect(checkAnswerSigner(pinnedOne.fs, trust).via).toBe('fingerprint');
    expect(checkAnswerSigner(issuedOne.fs, trust).via).toBe('ca-bundle');
    expect(() => checkAnswerSigner(strangerOne.fs, trust)).toThrow(
      /is neither pinned nor chained to the CA bundle$/,
    );
  });
});

describe('making a trust', () => {
  const fingerprint = 'ab'.repeat(32);
  const colons = fingerprint.toUpperCase().match(/../g)?.join(':') ?? '';

  it('reads fingerprints with or without colons, in any case, listed or comma-separated', () => {
    expect(parseFingerprints([fingerprint, ` ${colons} `], 'x')).toEqual([colons]);
    expect(parseFingerprints([`${fingerprint},${'CD'.repeat(32)}`, ''], 'x')).toHaveLength(2);
    expect(makeAnswerTrust({ fingerprints: [` , `] })).toBeUndefined();
    expect(makeAnswerTrust({})).toBeUndefined();
    expect(answerTrustKind(undefined)).toBe('none');
    expect(answerTrustKind(makeAnswerTrust({ fingerprints: [fingerprint] }))).toBe('fingerprints');
    expect(answerTrustKind(makeAnswerTrust({ caBundle: { pem: root.certPem, source: 'f' } }))).toBe(
      'ca-bundle',
    );
  });

  it.each([
    ['not hex', 'xyz', '"xyz"'],
    ['63 hex digits', 'a'.repeat(63), `"${'a'.repeat(63)}"`],
    ['an OpenSSH host key fingerprint', `SHA256:${'A'.repeat(43)}`, '"SHA256:'],
  ])(
    'refuses a fingerprint that is %s, naming where it came from and what it is',
    (_, bad, quoted) => {
      const make = () =>
        makeAnswerTrust({
          fingerprints: [fingerprint, bad],
          fingerprintSource: '--answer-fingerprint',
        });
      expect(make).toThrow(AnswerTrustError);
      expect(make).toThrow(`--answer-fingerprint: ${quoted}`);
      expect(make).toThrow(
        /is not a SHA-256 certificate fingerprint \(64 hex digits, colons optional\)/,
      );
    },
  );

  it('reads a PEM bundle, comments between the certificates ignored', () => {
    const text = `# answers\n${root.certPem}\nsome comment\n${intermediate.certPem}`;
    expect(readCaBundle(text, 'ca.pem').map((cert) => cert.subject)).toEqual([
      'CN=Answers Root',
      'CN=Answers Intermediate',
    ]);
  });

  it.each([
    ['no certificate', 'hello', /^ca\.pem holds no PEM certificate/],
    [
      'a private key only',
      '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      /holds no PEM certificate/,
    ],
    [
      'a block with no END line',
      `${'-----BEGIN CERTIFICATE-----'}\nMIIB\n`,
      /holds no PEM certificate/,
    ],
    [
      'a second block with no END line',
      () => `${root.certPem}-----BEGIN CERTIFICATE-----\nMIIB\n`,
      /^ca\.pem: a certificate block has no END CERTIFICATE line$/,
    ],
    [
      'a block that is not a certificate',
      () =>
        `${root.certPem}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n`,
      /^ca\.pem: certificate 2 of 2 cannot be read$/,
    ],
    [
      'more than 1 MiB',
      () => `${root.certPem}${' '.repeat(1024 * 1024)}`,
      /too large for a CA bundle/,
    ],
  ])('refuses a bundle with %s, naming it', (_, content, message) => {
    const pem = typeof content === 'function' ? content() : content;
    const make = () => makeAnswerTrust({ caBundle: { pem, source: 'ca.pem' } });
    expect(make).toThrow(AnswerTrustError);
    expect(make).toThrow(message);
    try {
      make();
    } catch (error) {
      expect(error).toMatchObject({ code: 'ANSWER_TRUST_INVALID' });
    }
  });
});

/** `openssl cms -verify -binary` of a detached FS against `fi`, trusting the CAs of `caFile`. */
function opensslVerifies(fi: string, fs: Buffer, caFile: string): boolean {
  const der = `${fi}.fs.der`;
  writeFileSync(der, Buffer.from(fs.toString('latin1').replace(/\r/g, ''), 'base64'));
  const result = spawnSync(
    'openssl',
    [
      ...['cms', '-verify', '-binary', '-inform', 'DER', '-in', der, '-content', fi],
      ...['-CAfile', caFile, '-purpose', 'any', '-out', '/dev/null'],
    ],
    { encoding: 'utf8' },
  );
  return result.status === 0;
}

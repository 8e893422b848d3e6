/**
 * Hostile corpus, boundary 4: the signing material. PEM keys and certificates that are cut,
 * garbage or do not belong together, a certificate out of date, keys too weak, PKCS#12 files
 * with the wrong password, damaged or holding no key, an encrypted key with no password, and
 * signing secrets (the JSON kept in Secrets Manager) of the wrong shape. Each is refused with a
 * typed signing or secret error naming the problem, before anything is sent; no message
 * carries a password or key bytes; the material files are left as they are, and the send
 * function's message comes back for a retry once the secret is fixed.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { processSendBatch } from '../../functions/send/process';
import { openSqliteLedger, createMemoryLedger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { memoryNotifier } from '../../shared/notify';
import type { DeclarationSource } from '../../shared/send';
import {
  formatSigningSecret,
  loadSigningSecret,
  SecretFormatError,
  type SigningSecret,
} from '../../shared/secrets';
import {
  CertificateValidityError,
  checkMaterial,
  KeyMismatchError,
  KeyPasswordRequiredError,
  KeyPasswordWrongError,
  loadPemMaterial,
  loadPkcs12Material,
  MaterialUnreadableError,
  WeakKeyError,
  type SigningError,
} from '../../shared/signing';
import { startSimulator, type Simulator } from '../../transfer-point';
import {
  recordingLog,
  recordingMetrics,
  s3CreatedBody,
  sqsBatch,
} from '../functions/helpers/emulated-aws';
import { cli } from '../helpers/cli';
import { makeIdentity, scratchDir, writeP12, type Identity } from '../helpers/pki';
import { declarationXml } from '../transfer-point/helpers';
import {
  expectPrintable,
  fingerprint,
  simulatorConnector,
  simulatorFiles,
  typedFailure,
  serverFlags,
} from './helpers/corpus';

const SENDER = '123456';
const today = todayInBrussels();
// Made up for the corpus: each must never appear in an error, a log line or an output.
const P12_PASSWORD = 'Corpus-p12-Secret-7f3a';
const WRONG_PASSWORD = 'Corpus-wrong-Secret-91bd';
const KEY_PASSWORD = 'Corpus-pem-Secret-c0de';

const scratch = scratchDir('onss-hostile-keys-');
let simulator: Simulator;
let good: Identity;
let other: Identity;
let expired: Identity;
let weak: Identity;

beforeAll(async () => {
  [simulator, good, other, expired, weak] = await Promise.all([
    startSimulator({ sender: SENDER }),
    makeIdentity('rsa2048'),
    makeIdentity('rsa2048'),
    makeIdentity('rsa2048', {
      notBefore: new Date(Date.now() - 400 * 86_400_000),
      notAfter: new Date(Date.now() - 30 * 86_400_000),
    }),
    makeIdentity('rsa1024'),
  ]);
});
afterAll(async () => {
  await simulator?.stop();
  scratch.cleanup();
});

let counter = 0;
function file(name: string, content: string | Buffer): string {
  counter += 1;
  const path = join(scratch.dir, `${counter}-${name}`);
  writeFileSync(path, content);
  return path;
}

/** A PEM block with its base64 body cut in the middle. */
function truncated(pem: string): string {
  return pem.slice(0, Math.floor(pem.length / 2));
}

/** A PKCS#12 holding only the certificate (`openssl pkcs12 -export -nokeys`). */
function p12WithoutKey(identity: Identity): string {
  const cert = file('nokey.cert.pem', identity.certPem);
  const out = join(scratch.dir, `nokey-${counter}.p12`);
  execFileSync(
    'openssl',
    ['pkcs12', '-export', '-nokeys', '-in', cert, '-out', out, '-passout', 'env:P12_PASS'],
    { env: { ...process.env, P12_PASS: P12_PASSWORD }, stdio: 'pipe' },
  );
  return out;
}

/** Secrets that must never show: the passwords, and the body of every key PEM in play. */
function secretsOf(): string[] {
  const bodies = [good, other, expired, weak].map((identity) =>
    identity.keyPem.split('\n').slice(5, 6).join(''),
  );
  return [P12_PASSWORD, WRONG_PASSWORD, KEY_PASSWORD, ...bodies].filter(Boolean);
}

function expectNoSecret(text: string): void {
  for (const secret of secretsOf()) expect(text).not.toContain(secret);
}

/**
 * One hostile piece of signing material. `load` reads it with the core's loaders and checks
 * (the typed error); `flags` give the same to `onss-transfer send` (the end-to-end refusal).
 */
interface HostileMaterial {
  title: string;
  type: abstract new (...args: never[]) => SigningError;
  code: string;
  names: RegExp;
  load: () => unknown;
  flags: () => { args: string[]; env?: Record<string, string> };
}

const pem = (
  keyPem: () => string,
  certPem: () => string,
): Pick<HostileMaterial, 'load' | 'flags'> => ({
  load: () => checkMaterial(loadPemMaterial({ keyPem: keyPem(), certPem: certPem() })),
  flags: () => ({
    args: ['--key', file('key.pem', keyPem()), '--cert', file('cert.pem', certPem())],
  }),
});

const p12 = (
  bytes: () => Buffer,
  password: string | undefined,
): Pick<HostileMaterial, 'load' | 'flags'> => ({
  load: () => checkMaterial(loadPkcs12Material(bytes(), password)),
  flags: () => ({
    args: [
      '--p12',
      file('signer.p12', bytes()),
      ...(password === undefined ? [] : ['--key-password-env', 'KEY_PASSWORD']),
    ],
    ...(password === undefined ? {} : { env: { KEY_PASSWORD: password } }),
  }),
});

const goodP12 = () => readFileSync(writeP12(good, scratch.dir, 'modern', P12_PASSWORD));

const MATERIAL: HostileMaterial[] = [
  {
    title: 'a PEM key cut in half',
    type: MaterialUnreadableError,
    code: 'MATERIAL_UNREADABLE',
    names: /the private key is not a readable PEM private key/,
    ...pem(
      () => truncated(good.keyPem),
      () => good.certPem,
    ),
  },
  {
    title: 'garbage between the PEM key lines',
    type: MaterialUnreadableError,
    code: 'MATERIAL_UNREADABLE',
    names: /the private key is not a readable PEM private key/,
    ...pem(
      () => `-----BEGIN PRIVATE KEY-----\n${'QUJD'.repeat(200)}\n-----END PRIVATE KEY-----\n`,
      () => good.certPem,
    ),
  },
  {
    title: 'a certificate file holding a key, not a certificate',
    type: MaterialUnreadableError,
    code: 'MATERIAL_UNREADABLE',
    names: /the certificate file holds no PEM certificate/,
    ...pem(
      () => good.keyPem,
      () => other.keyPem,
    ),
  },
  {
    title: 'a certificate cut in half',
    type: MaterialUnreadableError,
    code: 'MATERIAL_UNREADABLE',
    names: /holds no PEM certificate|unreadable certificate/,
    ...pem(
      () => good.keyPem,
      () => `${truncated(good.certPem)}\n-----END CERTIFICATE-----\n`,
    ),
  },
  {
    title: 'a certificate that is not the key’s',
    type: KeyMismatchError,
    code: 'KEY_CERT_MISMATCH',
    names: /the private key does not match the certificate/,
    ...pem(
      () => good.keyPem,
      () => other.certPem,
    ),
  },
  {
    title: 'an expired certificate',
    type: CertificateValidityError,
    code: 'CERT_EXPIRED',
    names: /the certificate of .* expired on/,
    ...pem(
      () => expired.keyPem,
      () => expired.certPem,
    ),
  },
  {
    title: 'an RSA key of 1024 bits',
    type: WeakKeyError,
    code: 'KEY_TOO_WEAK',
    names: /the RSA key has 1024 bits: at least 2048 are required/,
    ...pem(
      () => weak.keyPem,
      () => weak.certPem,
    ),
  },
  {
    title: 'an ed25519 key with its own certificate',
    type: WeakKeyError,
    code: 'KEY_TOO_WEAK',
    names: /a ed25519 key cannot sign for the transfer point/,
    ...pem(
      () => edwards().key,
      () => edwards().cert,
    ),
  },
  {
    title: 'an encrypted PEM key and no password',
    type: KeyPasswordRequiredError,
    code: 'KEY_PASSWORD_REQUIRED',
    names: /the private key is encrypted: give its password/,
    ...pem(
      () => encryptedKeyPem(),
      () => good.certPem,
    ),
  },
  {
    title: 'a PKCS#12 with the wrong password',
    type: KeyPasswordWrongError,
    code: 'KEY_PASSWORD_WRONG',
    names: /the PKCS#12 file: the password is wrong/,
    ...p12(goodP12, WRONG_PASSWORD),
  },
  {
    title: 'a PKCS#12 cut short',
    type: MaterialUnreadableError,
    code: 'MATERIAL_UNREADABLE',
    names: /the PKCS#12 file is not valid DER|the PKCS#12 file cannot be opened/,
    ...p12(() => goodP12().subarray(0, 700), P12_PASSWORD),
  },
  {
    title: 'a PKCS#12 with a byte flipped in its sealed content',
    type: KeyPasswordWrongError,
    code: 'KEY_PASSWORD_WRONG',
    names: /the password is wrong \(or the file is damaged\)/,
    ...p12(() => {
      const bytes = Buffer.from(goodP12());
      const middle = Math.floor(bytes.length / 2);
      bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
      return bytes;
    }, P12_PASSWORD),
  },
  {
    title: 'a PKCS#12 holding no key',
    type: MaterialUnreadableError,
    code: 'MATERIAL_UNREADABLE',
    names: /must hold exactly one private key \(it holds 0\)/,
    ...p12(() => readFileSync(p12WithoutKey(good)), P12_PASSWORD),
  },
  {
    title: 'random bytes named .p12',
    type: MaterialUnreadableError,
    code: 'MATERIAL_UNREADABLE',
    names: /the PKCS#12 file is not valid DER|the PKCS#12 file cannot be opened/,
    ...p12(() => Buffer.from('this is not DER at all, just text in a .p12 file'), P12_PASSWORD),
  },
];

let edwardsPem: { key: string; cert: string } | undefined;
/** A self-signed ed25519 identity made by OpenSSL (the helpers sign ed25519 with RSA). */
function edwards(): { key: string; cert: string } {
  if (edwardsPem === undefined) {
    const key = join(scratch.dir, 'ed25519.key.pem');
    const cert = join(scratch.dir, 'ed25519.cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ed25519',
        '-nodes',
        '-subj',
        '/CN=ed25519',
        '-days',
        '30',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'pipe', input: '' },
    );
    edwardsPem = { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  }
  return edwardsPem;
}

let encrypted: string | undefined;
function encryptedKeyPem(): string {
  encrypted ??= generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({
      format: 'pem',
      type: 'pkcs8',
      cipher: 'aes-256-cbc',
      passphrase: KEY_PASSWORD,
    })
    .toString();
  return encrypted;
}

describe('hostile signing material', () => {
  it.each(MATERIAL)('$title: $code, nothing sent', async (hostile) => {
    // (1) the core's loaders and checks: a typed error naming the problem, no secret in it
    const error = await typedFailure(hostile.load, hostile.type, hostile.code, hostile.names);
    expectNoSecret(error.message);
    expectPrintable(error.message);

    // the same material given to `send` for a production (R) declaration, which is signed
    const declaration = file('declaration.xml', declarationXml());
    const ledgerPath = join(scratch.dir, `ledger-${counter}.sqlite`);
    const { args, env } = hostile.flags();
    const materialFiles = args.filter((arg) => arg.startsWith(scratch.dir));
    const before = [declaration, ...materialFiles].map(fingerprint);
    const judged = simulator.judgements.length;
    const run = await cli(
      [
        'send',
        declaration,
        '--app',
        'DMFA',
        '--sender',
        SENDER,
        '--env',
        'R',
        '--date',
        today,
        ...args,
        ...serverFlags(simulator, ledgerPath),
      ],
      { FTP_PASSWORD: simulator.password, ...env },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(hostile.code);
    expect(run.stderr).toMatch(hostile.names);
    expectNoSecret(run.stdout + run.stderr);
    expect(run.stderr).not.toContain(simulator.password);

    // (2) nothing reached the transfer point
    expect(simulator.judgements).toHaveLength(judged);
    expect(simulatorFiles(simulator)).toEqual([]);
    // (3) nothing lost or claimed: the files as they were, no set in the ledger
    expect([declaration, ...materialFiles].map(fingerprint)).toEqual(before);
    const ledger = openSqliteLedger(ledgerPath);
    try {
      expect(await ledger.list()).toEqual([]);
    } finally {
      await ledger.close();
    }
  });
});

describe('hostile signing secrets (the send function)', () => {
  const goodSecret = (): Record<string, unknown> =>
    JSON.parse(
      formatSigningSecret({
        format: 'pem',
        privateKeyPem: good.keyPem,
        certificatePem: good.certPem,
      }),
    ) as Record<string, unknown>;
  const p12Secret = (password: string): SigningSecret => ({
    format: 'pkcs12',
    pkcs12Base64: goodP12().toString('base64'),
    password,
  });

  it.each([
    {
      title: 'an extra field',
      value: () => JSON.stringify({ ...goodSecret(), note: KEY_PASSWORD }),
      names:
        /field "note" is not expected here \(allowed: format, privateKeyPem, certificatePem, keyPassword\)/,
    },
    {
      title: 'a missing certificate',
      value: () => JSON.stringify({ ...goodSecret(), certificatePem: undefined }),
      names: /field "certificatePem" is missing/,
    },
    {
      title: 'a key PEM pasted instead of the JSON',
      value: () => good.keyPem,
      names: /the value is not valid JSON/,
    },
    {
      title: 'a field that is a number',
      value: () => JSON.stringify({ ...goodSecret(), keyPassword: 1234 }),
      names: /field "keyPassword" must be a string/,
    },
    {
      title: 'a PKCS#12 secret with the wrong password',
      value: () => formatSigningSecret(p12Secret(WRONG_PASSWORD)),
      names: /field "password" is not usable: the PKCS#12 file: the password is wrong/,
    },
  ])(
    '$title: SECRET_INVALID, the message kept for a retry, nothing sent',
    async ({ value, names }) => {
      const secret = value();
      // (1) a typed secret error naming the field, quoting nothing of the value
      const error = await typedFailure(
        () => loadSigningSecret(secret),
        SecretFormatError,
        'SECRET_INVALID',
        names,
      );
      expectNoSecret(error.message);
      expect(error.message).not.toContain('BEGIN');

      // the send function with that secret, for a declaration named by the rules
      const key = `outbox/FI.DMFA.${SENDER}.${today}.00001.R.1.1`;
      const content = Buffer.from(declarationXml());
      const source: DeclarationSource = {
        identity: { kind: 'object', id: `s3://onss-outbox/${key}`, version: 'v1' },
        name: key.slice(key.lastIndexOf('/') + 1),
        size: content.length,
        openRange: (start, end) => Readable.from([content.subarray(start, end)]),
        assertUnchanged: async () => undefined,
      };
      let read = 0;
      let connections = 0;
      const ledger = createMemoryLedger();
      const notifier = memoryNotifier();
      const log = recordingLog();
      const judged = simulator.judgements.length;
      const response = await processSendBatch(
        sqsBatch([
          {
            id: 'm1',
            body: s3CreatedBody('onss-outbox', key, { eTag: '"1"', size: content.length }),
          },
        ]),
        {
          config: {
            bucket: 'onss-outbox',
            outboxPrefix: 'outbox/',
            signTest: false,
          },
          channels: [
            {
              sender: SENDER,
              maxSends: 1,
              signingMaterial: async () => loadSigningSecret(secret),
              connector: async () => {
                connections += 1;
                return simulatorConnector(simulator);
              },
            },
          ],
          ledger,
          notifier,
          openSource: async () => {
            read += 1;
            return source;
          },
          log,
          metrics: recordingMetrics(),
        },
      );
      // (1) logged as the secret error, with its code; no secret in any log line
      expect(log.lines).toContainEqual(
        expect.objectContaining({
          level: 'error',
          extra: expect.objectContaining({ error: 'SecretFormatError', code: 'SECRET_INVALID' }),
        }),
      );
      expectNoSecret(JSON.stringify(log.lines));
      // (2) no session opened, nothing judged, no file on the transfer point
      expect(connections).toBe(0);
      expect(simulator.judgements).toHaveLength(judged);
      expect(simulatorFiles(simulator)).toEqual([]);
      // (3) nothing lost: the message comes back (a fixed secret will send it), no set claimed,
      // no "failed" raised for a declaration that did nothing wrong
      expect(read).toBe(1);
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
      expect(await ledger.list()).toEqual([]);
      expect(notifier.events).toEqual([]);
    },
  );
});

/**
 * Issue 8: no secret ever leaves through a log, an error, the CLI's output, an event or the
 * ledger. Known secret values, fresh for each run (an FTP password, a key password, a PKCS#12
 * password, the signing key, an SSH user key and its passphrase, and wrong ones), are run
 * through the send and pull paths and their failures:
 *
 * - the send and pull functions' work, wired as their handlers wire it, with Powertools' real
 *   logger and metrics (stdout captured), EventBridge entries, SNS messages and the DynamoDB
 *   ledger's items, over FTP and SFTP, with secrets right and wrong;
 * - thrown errors, in every form a log or terminal can show them (message, stack, cause chain,
 *   `util.inspect`, `JSON.stringify`);
 * - the CLI (`sign`, `send`, `pull`, `import-key`), success and failure, with `--debug`;
 * - the JSON-lines and console notifiers' output and the ledgers' stored records (the SQLite
 *   files' bytes, the memory ledger's records).
 *
 * A password is looked for as it is, in base64 and in hex; a key as any 40-character slice of
 * its base64 bodies. Each capture is also checked for what it must hold (a set id, an error
 * code), so that the test cannot pass by capturing nothing, and the scanner itself is shown to
 * find planted secrets.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { runScheduledPull, type PullOutcome } from '../../functions/pull/process';
import { connectorLoader } from '../../functions/runtime';
import { processSendBatch } from '../../functions/send/process';
import { putSecretString } from '../../functions/aws/secrets-manager';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { createMemoryLedger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import {
  formatSigningSecret,
  loadSigningSecret,
  parseServerSecret,
  type SecretSource,
} from '../../shared/secrets';
import { openFileSource, sendDeclaration, type SendEvent } from '../../shared/send';
import { loadPkcs12Material } from '../../shared/signing';
import { certificateFingerprint, startSimulator, type Simulator } from '../../transfer-point';
import { ftpConnector, sftpConnector } from '../../shared/transport';
import { runCli } from '../../cli/program';
import { captureIo, cli, type CliRun } from '../helpers/cli';
import { makeIdentity, scratchDir, type Identity } from '../helpers/pki';
import {
  SENDER,
  s3CreatedBody,
  sqsBatch,
  startEmulators,
  type Emulators,
} from '../functions/helpers/emulated-aws';
import { leakPull, leakSend, type FunctionSecrets, type LeakSite } from './leak-helpers/aws';
import { capturedError, thrownBy, withCapturedOutput } from './leak-helpers/capture';
import { startFakeSecretsManager } from './leak-helpers/fake-secrets-manager';
import {
  leakScanner,
  makeKnownSecrets,
  pemBody,
  SLICE,
  type Captured,
  type KnownSecrets,
  type LeakScanner,
} from './leak-helpers/known-secrets';

const BUCKET = 'onss-leak';
const OUTBOX = 'outbox/';
const today = todayInBrussels();

let secrets: KnownSecrets;
let scanner: LeakScanner;
let emulators: Emulators;
let transferPoint: Identity;
const scratch = scratchDir('onss-leak-');
const cleanups: Array<() => Promise<void> | void> = [];
const savedLogLevel = process.env.POWERTOOLS_LOG_LEVEL;

beforeAll(async () => {
  // The most the logger would ever write.
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  [secrets, emulators, transferPoint] = await Promise.all([
    makeKnownSecrets(scratch.dir),
    startEmulators(BUCKET),
    makeIdentity('rsa2048', { commonName: 'Leak Test Transfer Point' }),
  ]);
  scanner = leakScanner(secrets);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  if (savedLogLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
  else process.env.POWERTOOLS_LOG_LEVEL = savedLogLevel;
  await emulators?.close();
  scratch.cleanup();
});

/** Asserts that none of the captured texts holds a secret; the report names, never quotes. */
function expectNoLeaks(captured: readonly Captured[]): void {
  expect(captured.length).toBeGreaterThan(0);
  expect(scanner.scan(captured)).toEqual([]);
}

/** A local transfer point: FTP with the known password, or SFTP with the known user key. */
async function transferPointFor(protocol: 'ftp' | 'sftp'): Promise<Simulator> {
  const simulator = await startSimulator({
    sender: SENDER,
    trustedCertificates: [certificateFingerprint(secrets.signer.material.certificate)],
    identity: transferPoint.material,
    notificationDelayMs: 50,
    ...(protocol === 'ftp'
      ? { password: secrets.ftpPassword }
      : { sftp: { authorizedKeys: [secrets.sshAuthorizedKey] } }),
  });
  cleanups.push(() => simulator.stop());
  return simulator;
}

const dmfa = (workers: number) => sampleDmfaXml({ quarter: '20263', date: today, workers });
const invalidXml = () => dmfa(2).replace('<Form>', '<Form');

/** The signing secret as a PKCS#12 container, with a password (right or not). */
function pkcs12Secret(password = secrets.p12Password): string {
  return formatSigningSecret({
    format: 'pkcs12',
    pkcs12Base64: secrets.p12.toString('base64'),
    password,
  });
}

/** The signing secret as an encrypted PEM key, with its password (right or not). */
function pemSecret(keyPassword = secrets.keyPassword): string {
  return formatSigningSecret({
    format: 'pem',
    privateKeyPem: secrets.encryptedKeyPem,
    certificatePem: secrets.signer.certPem,
    keyPassword,
  });
}

/** The server secret of a transfer point: its password, or the SSH key and pinned host key. */
function serverSecret(
  simulator: Simulator,
  credential: { password?: string; passphrase?: string } = {},
): string {
  if (simulator.protocol === 'sftp') {
    return JSON.stringify({
      user: simulator.user,
      privateKeyPem: secrets.sshKeyPem,
      passphrase: credential.passphrase ?? secrets.sshPassphrase,
      hostKeySha256: simulator.hostKeySha256,
    });
  }
  return JSON.stringify({
    user: simulator.user,
    password: credential.password ?? secrets.ftpPassword,
  });
}

let objects = 0;
/** Puts a declaration in the outbox; resolves with its key and the S3 event S3 would queue. */
async function dropInOutbox(content: string): Promise<{ key: string; body: string }> {
  objects += 1;
  const key = `${OUTBOX}DMFA/R/leak-${objects}.xml`;
  const bytes = Buffer.from(content);
  const output = await emulators.s3.client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }),
  );
  return { key, body: s3CreatedBody(BUCKET, key, { eTag: output.ETag ?? '', size: bytes.length }) };
}

/** A site for the functions: a transfer point and a fresh ledger table. */
async function site(simulator: Simulator): Promise<LeakSite> {
  return {
    emulators,
    bucket: BUCKET,
    table: await emulators.freshTable(),
    simulator,
    protocol: simulator.protocol === 'sftp' ? 'sftp' : 'ftp',
  };
}

/** The DynamoDB ledger table's items, raw, as JSON text. */
async function tableText(where: LeakSite): Promise<string> {
  const fn = leakSend(where, { signing: '{}', server: '{}' }, OUTBOX);
  try {
    const items = await fn.aws.clients.dynamodb.send(new ScanCommand({ TableName: where.table }));
    return JSON.stringify(items.Items ?? []);
  } finally {
    fn.aws.close();
  }
}

/** Resolves once `check` holds, polling; fails after `timeoutMs`. */
async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits for the transfer point's ACRF and NOTIFICATION of a launched set. */
async function answered(simulator: Simulator, go: string): Promise<void> {
  const judgement = await simulator.waitForJudgement((j) => j.goName === go);
  expect(judgement.accepted).toBe(true);
  await eventually(`the notification of ${go}`, () =>
    simulator.notifications.some((notification) => notification.goName === go),
  );
  await simulator.idle();
}

describe('the leak scanner', () => {
  it('finds each secret planted in text, as it is and encoded, and no public material', () => {
    const found = (text: string) => scanner.scan([{ source: 'planted', text }]);
    for (const { name, value } of secrets.passwords) {
      const bytes = Buffer.from(value);
      expect(found(`a message with ${value} in it`)).toEqual([
        expect.objectContaining({ secret: name, form: 'as is' }),
      ]);
      expect(found(`base64 ${bytes.toString('base64')}`)).toContainEqual(
        expect.objectContaining({ secret: name, form: 'base64' }),
      );
      expect(found(`hex ${bytes.toString('hex')}`)).toContainEqual(
        expect.objectContaining({ secret: name, form: 'hex' }),
      );
    }
    for (const key of secrets.keys) {
      for (const body of key.bodies) {
        const middle = Math.floor(body.length / 2);
        expect(found(`...${body.slice(middle, middle + SLICE)}...`)).toContainEqual(
          expect.objectContaining({ secret: key.name }),
        );
      }
    }
    // Through JSON and util.inspect, which escape or split the PEM's line breaks.
    expect(found(JSON.stringify({ pem: secrets.signer.keyPem }))).not.toEqual([]);
    expect(found(inspect({ pem: secrets.sshKeyPem }))).not.toEqual([]);
    expect(
      found(inspect(new Error(`key ${pemBody(secrets.signer.keyPem).slice(900, 900 + SLICE)}`))),
    ).not.toEqual([]);
    // One character short of a slice is not a leak; certificates and public keys are public.
    expect(found(pemBody(secrets.signer.keyPem).slice(100, 100 + SLICE - 1))).toEqual([]);
    expect(found(secrets.signer.certPem)).toEqual([]);
    expect(found(secrets.sshAuthorizedKey)).toEqual([]);
    expect(scanner.sliceCount).toBeGreaterThan(5000);
  });
});

describe('the functions, with the real Powertools logger', () => {
  it('sends (an upload cut, then retried) and pulls over FTP without a secret in logs, metrics, events or the ledger', async () => {
    // Prepare: a PKCS#12 signing secret for the send, the encrypted PEM one for the pull.
    const simulator = await transferPointFor('ftp');
    const where = await site(simulator);
    const send = leakSend(
      where,
      { signing: pkcs12Secret(), server: serverSecret(simulator) },
      OUTBOX,
    );
    cleanups.push(() => send.aws.close());
    const good = await dropInOutbox(dmfa(300));
    simulator.dropAfterBytes(4096);

    // Act
    const sent = await withCapturedOutput(async () => {
      const response = await processSendBatch(
        sqsBatch([{ id: 'm-ftp', body: good.body }]),
        send.deps,
      );
      send.flushMetrics();
      return response;
    });
    const launched = (await send.deps.ledger.list())[0];
    await answered(simulator, launched?.files.find((file) => file.role === 'GO')?.name ?? '');
    const pull = leakPull(
      where,
      { signing: pemSecret(), server: serverSecret(simulator) },
      { responsesPrefix: 'responses/', environments: 'R', owner: 'leak-pull-ftp' },
    );
    cleanups.push(() => pull.aws.close());
    const pulled = await withCapturedOutput(async () => {
      const outcome = await runScheduledPull(pull.deps);
      pull.flushMetrics();
      return outcome;
    });

    // Assess: the work happened and was captured...
    expect(sent.result).toEqual({ batchItemFailures: [] });
    expect(launched?.state).toBe('launched');
    expect(sent.output).toContain('"service":"onss-transfer"');
    expect(sent.output).toContain(`"declaration":"${launched?.id}"`);
    expect(sent.output).toContain('"message":"retrying"');
    expect(sent.output).toContain('"message":"launched"');
    expect(sent.output).toContain('"DeclarationsSent"');
    expect(send.aws.putEventsText()).toContain(launched?.id);
    expect(send.aws.publishedText()).toContain(launched?.id);
    expect(pulled.result.status).toBe('pulled');
    expect(pulled.output).toContain('"message":"pulled"');
    expect(pulled.output).toContain('"PullSuccess"');
    expect(pull.aws.putEventsText()).toContain('declaration.acknowledged');
    expect(pull.aws.putEventsText()).toContain(launched?.id);
    const table = await tableText(where);
    expect(table).toContain(launched?.id);

    // ...and no secret is in any of it.
    expectNoLeaks([
      { source: 'send logs and metrics', text: sent.output },
      { source: 'send EventBridge entries', text: send.aws.putEventsText() },
      { source: 'send SNS messages', text: send.aws.publishedText() },
      { source: 'send result', text: inspect(sent.result, { depth: 10 }) },
      { source: 'pull logs and metrics', text: pulled.output },
      { source: 'pull EventBridge entries', text: pull.aws.putEventsText() },
      { source: 'pull SNS messages', text: pull.aws.publishedText() },
      { source: 'pull outcome', text: JSON.stringify(pulled.result) },
      { source: 'DynamoDB ledger items', text: table },
      { source: 'ledger records', text: JSON.stringify(await send.deps.ledger.list()) },
      {
        source: 'ledger responses',
        text: JSON.stringify(await send.deps.ledger.listResponses()),
      },
    ]);
  });

  it('sends (one refused) and pulls over SFTP with an encrypted SSH key without a secret in logs, events or the ledger', async () => {
    // Prepare: the encrypted PEM signing secret for the send, the PKCS#12 one for the pull. The
    // refusal is sent over SFTP: over FTP it leaves the simulator's FTP server (ftp-srv) with
    // a passive listener whose 30 s timer outlives the test.
    const simulator = await transferPointFor('sftp');
    const where = await site(simulator);
    const send = leakSend(where, { signing: pemSecret(), server: serverSecret(simulator) }, OUTBOX);
    cleanups.push(() => send.aws.close());
    const good = await dropInOutbox(dmfa(5));
    const refused = await dropInOutbox(invalidXml());

    // Act
    const sent = await withCapturedOutput(async () => {
      const response = await processSendBatch(
        sqsBatch([
          { id: 'm-sftp', body: good.body },
          { id: 'm-refused', body: refused.body },
        ]),
        send.deps,
      );
      send.flushMetrics();
      return response;
    });
    const records = await send.deps.ledger.list();
    const launched = records.find((record) => record.source.id === `s3://${BUCKET}/${good.key}`);
    await answered(simulator, launched?.files.find((file) => file.role === 'GO')?.name ?? '');
    const pull = leakPull(
      where,
      { signing: pkcs12Secret(), server: serverSecret(simulator) },
      { responsesPrefix: 'responses/', environments: 'R', owner: 'leak-pull-sftp' },
    );
    cleanups.push(() => pull.aws.close());
    const pulled = await withCapturedOutput(() => runScheduledPull(pull.deps));

    // Assess
    expect(sent.result).toEqual({ batchItemFailures: [] });
    expect(launched?.state).toBe('launched');
    expect(records.find((r) => r.source.id === `s3://${BUCKET}/${refused.key}`)?.state).toBe(
      'failed',
    );
    expect(sent.output).toContain(`"declaration":"${launched?.id}"`);
    expect(sent.output).toContain('"message":"launched"');
    expect(sent.output).toContain('"message":"refused: not sent"');
    expect(send.aws.putEventsText()).toContain('declaration.failed');
    expect(send.aws.putEventsText()).toContain('ACRF-102');
    expect(pulled.result.status).toBe('pulled');
    expect(pull.aws.putEventsText()).toContain('declaration.notified');
    expect(pull.aws.putEventsText()).toContain(launched?.id);
    const table = await tableText(where);
    expect(table).toContain(launched?.id);
    expect(table).toContain('ACRF-102');
    expectNoLeaks([
      { source: 'SFTP send logs', text: sent.output },
      { source: 'SFTP send events', text: send.aws.putEventsText() + send.aws.publishedText() },
      { source: 'SFTP pull logs', text: pulled.output },
      { source: 'SFTP pull events', text: pull.aws.putEventsText() + pull.aws.publishedText() },
      { source: 'SFTP DynamoDB ledger items', text: table },
      { source: 'SFTP ledger records', text: JSON.stringify(records) },
    ]);
  });

  it('logs failures (wrong FTP password, wrong key passwords, a damaged key, a wrong SSH passphrase) without the secret', async () => {
    // Prepare: each case is a function container of its own (secrets are cached per container).
    const ftp = await transferPointFor('ftp');
    const sftp = await transferPointFor('sftp');
    const cases: Array<{
      title: string;
      simulator: Simulator;
      secrets: FunctionSecrets;
      says: string;
    }> = [
      {
        title: 'wrong FTP password',
        simulator: ftp,
        secrets: {
          signing: pkcs12Secret(),
          server: serverSecret(ftp, { password: secrets.wrongFtpPassword }),
        },
        says: 'TRANSPORT_AUTH',
      },
      {
        title: 'wrong PKCS#12 password',
        simulator: ftp,
        secrets: { signing: pkcs12Secret(secrets.wrongKeyPassword), server: serverSecret(ftp) },
        says: 'the PKCS#12 file: the password is wrong',
      },
      {
        title: 'wrong PEM key password',
        simulator: ftp,
        secrets: { signing: pemSecret(secrets.wrongKeyPassword), server: serverSecret(ftp) },
        says: 'the private key: the password is wrong',
      },
      {
        title: 'damaged key',
        simulator: ftp,
        secrets: {
          signing: formatSigningSecret({
            format: 'pem',
            privateKeyPem: secrets.corruptedKeyPem,
            certificatePem: secrets.signer.certPem,
          }),
          server: serverSecret(ftp),
        },
        says: 'not a readable PEM private key',
      },
      {
        title: 'wrong SSH passphrase',
        simulator: sftp,
        secrets: {
          signing: pemSecret(),
          server: serverSecret(sftp, { passphrase: secrets.wrongSshPassphrase }),
        },
        says: 'could not be decrypted',
      },
    ];
    const captured: Captured[] = [];

    // Act and assess each: the message comes back (retried), the log says why.
    for (const { title, simulator, secrets: values, says } of cases) {
      const send = leakSend(await site(simulator), values, OUTBOX);
      cleanups.push(() => send.aws.close());
      const { body } = await dropInOutbox(dmfa(3));
      const run = await withCapturedOutput(() =>
        processSendBatch(sqsBatch([{ id: `m-${title}`, body }]), send.deps),
      );
      expect(run.result).toEqual({ batchItemFailures: [{ itemIdentifier: `m-${title}` }] });
      expect(run.output).toContain('"message":"send failed: the message will be tried again"');
      expect(run.output).toContain(says);
      expect(send.aws.eventCount()).toBe(0);
      captured.push({ source: `send log, ${title}`, text: run.output });
    }

    // The pull: a wrong FTP password ends the run (thrown), a wrong key password is a warning.
    const pullSite = await site(ftp);
    const pull = leakPull(
      pullSite,
      {
        signing: pkcs12Secret(secrets.wrongKeyPassword),
        server: serverSecret(ftp, { password: secrets.wrongFtpPassword }),
      },
      { responsesPrefix: 'responses/', environments: 'R', owner: 'leak-pull-fail' },
    );
    cleanups.push(() => pull.aws.close());
    let thrown: unknown;
    const run = await withCapturedOutput(async (): Promise<PullOutcome | undefined> => {
      try {
        return await runScheduledPull(pull.deps);
      } catch (error) {
        thrown = error;
        return undefined;
      }
    });
    expect(run.result).toBeUndefined();
    expect(thrown).toMatchObject({ code: 'TRANSPORT_AUTH' });
    expect(run.output).toContain('the signing certificate could not be read');
    captured.push(
      { source: 'pull log, wrong passwords', text: run.output },
      capturedError('pull error, wrong FTP password', thrown),
    );
    expectNoLeaks(captured);
  });
});

describe('thrown errors, in every form', () => {
  it('hold no secret: transports, secrets, key material, a cut upload, Secrets Manager', async () => {
    // Prepare
    const ftp = await transferPointFor('ftp');
    const sftp = await transferPointFor('sftp');
    const fake = await startFakeSecretsManager();
    cleanups.push(() => fake.close());
    const errors: Array<{ title: string; error: unknown; code: string; expected: RegExp }> = [];
    const expectError = async (
      title: string,
      code: string,
      expected: RegExp,
      work: () => unknown,
    ) => {
      errors.push({ title, error: await thrownBy(work), code, expected });
    };
    const ftpOptions = { host: ftp.host, port: ftp.port, user: ftp.user };
    const sftpOptions = {
      host: sftp.host,
      port: sftp.port,
      user: sftp.user,
      hostKeySha256: sftp.hostKeySha256 ?? '',
      connectRetry: { attempts: 1 },
    };

    // Act: transports.
    await expectError('FTP login, wrong password', 'TRANSPORT_AUTH', /login refused/, () =>
      ftpConnector({ ...ftpOptions, password: secrets.wrongFtpPassword }).connect(),
    );
    await expectError(
      'SFTP key, wrong passphrase',
      'TRANSPORT_CONFIG',
      /could not be decrypted/,
      () =>
        sftpConnector({
          ...sftpOptions,
          privateKey: secrets.sshKeyPem,
          passphrase: secrets.wrongSshPassphrase,
        }),
    );
    await expectError(
      'SFTP key, no passphrase',
      'TRANSPORT_CONFIG',
      /encrypted: give its passphrase|cannot be read/,
      () => sftpConnector({ ...sftpOptions, privateKey: secrets.sshKeyPem }),
    );
    await expectError('SFTP damaged key', 'TRANSPORT_CONFIG', /cannot be read/, () =>
      sftpConnector({ ...sftpOptions, privateKey: secrets.corruptedKeyPem }),
    );
    await expectError(
      'SFTP login refused, key and password',
      'TRANSPORT_AUTH',
      /login refused/,
      () =>
        sftpConnector({
          ...sftpOptions,
          user: 'intruder',
          privateKey: secrets.sshKeyPem,
          passphrase: secrets.sshPassphrase,
          password: secrets.ftpPassword,
        }).connect(),
    );
    // Secrets and key material.
    await expectError(
      'signing secret, wrong PKCS#12 password',
      'SECRET_INVALID',
      /password is wrong/,
      () => loadSigningSecret(pkcs12Secret(secrets.wrongKeyPassword)),
    );
    await expectError(
      'signing secret, wrong PEM key password',
      'SECRET_INVALID',
      /password is wrong/,
      () => loadSigningSecret(pemSecret(secrets.wrongKeyPassword)),
    );
    await expectError('signing secret, damaged key', 'SECRET_INVALID', /privateKeyPem/, () =>
      loadSigningSecret(
        formatSigningSecret({
          format: 'pem',
          privateKeyPem: secrets.corruptedKeyPem,
          certificatePem: secrets.signer.certPem,
        }),
      ),
    );
    await expectError(
      'signing secret, encrypted key without password',
      'SECRET_INVALID',
      /encrypted/,
      () =>
        loadSigningSecret(
          formatSigningSecret({
            format: 'pem',
            privateKeyPem: secrets.encryptedKeyPem,
            certificatePem: secrets.signer.certPem,
          }),
        ),
    );
    await expectError(
      'signing secret, broken JSON around the key',
      'SECRET_INVALID',
      /not valid JSON/,
      () => loadSigningSecret(`${pemSecret().slice(0, -1)},}`),
    );
    await expectError(
      'server secret, broken JSON around the password',
      'SECRET_INVALID',
      /not valid JSON/,
      () => parseServerSecret(`{"user":"onss","password":"${secrets.ftpPassword}",}`),
    );
    await expectError(
      'server secret, password and key both',
      'SECRET_INVALID',
      /one of the two/,
      () =>
        parseServerSecret(
          JSON.stringify({
            user: 'onss',
            password: secrets.ftpPassword,
            privateKeyPem: secrets.sshKeyPem,
          }),
        ),
    );
    const damagedP12 = Buffer.from(secrets.p12);
    damagedP12.fill(0x41, 200, 260);
    await expectError('PKCS#12, damaged', 'KEY_PASSWORD_WRONG', /PKCS#12/, () =>
      loadPkcs12Material(damagedP12, secrets.p12Password),
    );
    const sftpSecretWithoutPin: SecretSource = {
      getSecretString: async () =>
        JSON.stringify({
          user: 'onss',
          privateKeyPem: secrets.sshKeyPem,
          passphrase: secrets.sshPassphrase,
        }),
    };
    const loader = connectorLoader(sftpSecretWithoutPin, {
      protocol: 'sftp',
      host: sftp.host,
      port: sftp.port,
      serverSecretId: 'onss-transfer/server',
    });
    await expectError(
      'functions: SFTP secret without a pinned host key',
      'CONFIGURATION',
      /hostKeySha256/,
      loader,
    );
    // Secrets Manager refusing the put of the signing secret.
    fake.answer({
      ok: false,
      status: 400,
      type: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
    const client = new SecretsManagerClient({
      endpoint: fake.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    cleanups.push(() => client.destroy());
    await expectError(
      'Secrets Manager put refused',
      'SECRET_NOT_FOUND',
      /cannot write secret/,
      () => putSecretString(client, 'onss-transfer/signing', pkcs12Secret()),
    );
    // A cut upload that outlasts the retries, on a memory ledger.
    const ledger = createMemoryLedger();
    const events: SendEvent[] = [];
    const path = join(scratch.dir, 'cut.xml');
    writeFileSync(path, dmfa(300));
    ftp.dropAfterBytes(4096);
    await expectError(
      'send, upload cut by the server',
      'TRANSPORT_CONNECT',
      /ECONNRESET|closed/,
      async () =>
        sendDeclaration(
          {
            source: await openFileSource(path),
            declaration: { app: 'DMFA', sender: SENDER, env: 'R' },
          },
          {
            ledger,
            connector: ftpConnector({ ...ftpOptions, password: secrets.ftpPassword }),
            material: loadSigningSecret(pkcs12Secret()),
            onEvent: (event) => events.push(event),
            retry: { attempts: 1 },
          },
        ),
    );

    // Assess: each failed as expected, and none holds a secret in any form.
    expect(fake.bodies.join('')).toContain(secrets.p12Password); // it did reach the service
    for (const { title, error, code, expected } of errors) {
      expect({ title, error }).toEqual({
        title,
        error: expect.objectContaining({ code, message: expect.stringMatching(expected) }),
      });
    }
    const records = await ledger.list();
    expect(records.map((record) => record.state)).toEqual(['uploading']);
    expectNoLeaks([
      ...errors.map(({ title, error }) => capturedError(title, error)),
      { source: 'memory ledger records', text: JSON.stringify(records) },
      { source: 'send events', text: JSON.stringify(events) },
    ]);
  });
});

describe('the CLI', () => {
  it('sign, send, pull and import-key print no secret, on success or failure, with --debug', async () => {
    // Prepare: a transfer point per channel, one ledger, the secrets in the environment only.
    const ftp = await transferPointFor('ftp');
    const sftp = await transferPointFor('sftp');
    const fake = await startFakeSecretsManager();
    cleanups.push(() => fake.close());
    const dir = scratchDir('onss-leak-cli-');
    cleanups.push(() => dir.cleanup());
    // A ledger per transfer point: each numbers its answers from 00001.
    const ledger = join(dir.dir, 'ledger.sqlite');
    const sftpLedger = join(dir.dir, 'ledger-sftp.sqlite');
    const env = {
      FTP_PW: secrets.ftpPassword,
      FTP_PW_WRONG: secrets.wrongFtpPassword,
      KEYPW: secrets.keyPassword,
      P12PW: secrets.p12Password,
      KEYPW_WRONG: secrets.wrongKeyPassword,
      SSHPW: secrets.sshPassphrase,
      SSHPW_WRONG: secrets.wrongSshPassphrase,
      ONSS_TRANSFER_HOME: dir.dir,
    };
    const files = (name: string, content: string) => {
      const path = join(dir.dir, name);
      writeFileSync(path, content);
      return path;
    };
    const fi = files(`FI.DMFA.${SENDER}.${today}.00077.R.1.1`, dmfa(2));
    const ftpFlags = [
      ...['--host', ftp.host, '--port', String(ftp.port), '--user', ftp.user],
      ...['--password-env', 'FTP_PW', '--ledger', ledger],
    ];
    const sftpFlags = [
      ...['--host', sftp.host, '--port', String(sftp.port), '--user', sftp.user],
      ...['--protocol', 'sftp', '--ssh-key', secrets.files.sshKey],
      ...['--ssh-key-password-env', 'SSHPW', '--host-key-sha256', sftp.hostKeySha256 ?? ''],
      ...['--ledger', sftpLedger],
    ];
    const declaration = ['--app', 'DMFA', '--sender', SENDER, '--env', 'R'];
    const p12 = ['--p12', secrets.p12Path, '--key-password-env', 'P12PW'];
    const pem = ['--key', secrets.files.encryptedKeyPem, '--cert', secrets.files.certPem];
    const runs: Array<{ title: string; run: CliRun }> = [];
    const run = async (title: string, args: string[], extraEnv: Record<string, string> = {}) => {
      const result = await cli(args, { ...env, ...extraEnv });
      runs.push({ title, run: result });
      return result;
    };
    const awsEnv: Record<string, string> = {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_CONFIG_FILE: join(dir.dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir.dir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };

    // Act: sign.
    const signed = await run('sign --p12', ['sign', fi, '--out', `${fi}.FS1`, ...p12]);
    await run('sign --key (encrypted)', [
      ...['sign', fi, '--out', `${fi}.FS2`, ...pem, '--key-password-env', 'KEYPW'],
    ]);
    const signWrongP12 = await run('sign --p12, wrong password', [
      ...['--debug', 'sign', fi, '--out', `${fi}.FS3`],
      ...['--p12', secrets.p12Path, '--key-password-env', 'KEYPW_WRONG'],
    ]);
    await run('sign --key, wrong password', [
      ...['--debug', 'sign', fi, '--out', `${fi}.FS4`, ...pem, '--key-password-env', 'KEYPW_WRONG'],
    ]);
    const signDamaged = await run('sign, damaged key', [
      ...['--debug', 'sign', fi, '--out', `${fi}.FS5`],
      ...['--key', secrets.files.corruptedKeyPem, '--cert', secrets.files.certPem],
    ]);
    await run('sign, encrypted key without password', [
      ...['--debug', 'sign', fi, '--out', `${fi}.FS6`, ...pem],
    ]);
    // send over FTP: launched, wrong FTP password, wrong key password.
    const ftpSent = await run('send FTP', [
      ...['send', files('ftp.xml', dmfa(4)), ...declaration, ...p12, ...ftpFlags],
    ]);
    const refused = await run('send SFTP, invalid XML', [
      ...['send', files('bad.xml', invalidXml()), ...declaration, ...p12, ...sftpFlags],
    ]);
    const wrongFtp = await run('send FTP, wrong FTP password', [
      ...['--debug', 'send', files('wrong-ftp.xml', dmfa(6)), ...declaration, ...p12],
      ...ftpFlags.map((flag) => (flag === 'FTP_PW' ? 'FTP_PW_WRONG' : flag)),
    ]);
    await run('send FTP, wrong key password', [
      ...['--debug', 'send', files('wrong-key.xml', dmfa(7)), ...declaration, ...pem],
      ...['--key-password-env', 'KEYPW_WRONG', ...ftpFlags],
    ]);
    // send over SFTP with the encrypted SSH key: launched, and a wrong passphrase.
    const sftpSent = await run('send SFTP', [
      ...['send', files('sftp.xml', dmfa(8)), ...declaration, ...pem],
      ...['--key-password-env', 'KEYPW', ...sftpFlags],
    ]);
    const wrongSsh = await run('send SFTP, wrong passphrase', [
      ...['--debug', 'send', files('wrong-ssh.xml', dmfa(9)), ...declaration, ...pem],
      ...['--key-password-env', 'KEYPW'],
      ...sftpFlags.map((flag) => (flag === 'SSHPW' ? 'SSHPW_WRONG' : flag)),
    ]);
    // pull: FTP to the console and events.jsonl, SFTP as JSON, and a wrong FTP password.
    const ftpGo = /launched (GO\.\S+):/.exec(ftpSent.stdout)?.[1] ?? '';
    const sftpGo = /launched (GO\.\S+):/.exec(sftpSent.stdout)?.[1] ?? '';
    await answered(ftp, ftpGo);
    await answered(sftp, sftpGo);
    const ftpDest = join(dir.dir, 'answers-ftp');
    const sftpDest = join(dir.dir, 'answers-sftp');
    const ftpPulled = await run('pull FTP', ['pull', '--env', 'R', '--dest', ftpDest, ...ftpFlags]);
    const sftpPulled = await run('pull SFTP --json', [
      ...['pull', '--env', 'R', '--dest', sftpDest, '--json', ...sftpFlags],
    ]);
    const wrongPull = await run('pull FTP, wrong password', [
      ...['--debug', 'pull', '--env', 'all', '--dest', join(dir.dir, 'answers-none')],
      ...ftpFlags.map((flag) => (flag === 'FTP_PW' ? 'FTP_PW_WRONG' : flag)),
    ]);
    // Misuse: the password itself where a variable name goes, or as a flag value.
    const typedPassword = await run('the password typed as the variable name', [
      ...['sign', fi, '--out', `${fi}.FS7`, ...pem, '--key-password-env', secrets.keyPassword],
    ]);
    const typedNameShaped = await run('a password shaped like a name typed as the variable', [
      ...['sign', fi, '--out', `${fi}.FS7`, '--p12', secrets.p12Path],
      ...['--key-password-env', secrets.p12Password],
    ]);
    const typedFtpPassword = await run('the FTP password typed as the variable name', [
      ...['pull', '--env', 'R', '--dest', join(dir.dir, 'answers-none')],
      ...ftpFlags.map((flag) => (flag === 'FTP_PW' ? secrets.ftpPassword : flag)),
    ]);
    const passwordFlag = await run('the password as a flag value', [
      ...['sign', fi, '--out', `${fi}.FS8`, '--p12', secrets.p12Path],
      `--key-password=${secrets.p12Password}`,
    ]);
    // import-key: to an owner-only file, to Secrets Manager (accepted, then refused), refused.
    const secretFile = join(dir.dir, 'signing-secret.json');
    const imported = await run('import-key --out', [
      ...['import-key', ...p12, '--out', secretFile],
    ]);
    // The SDK reads its endpoint and credentials from the process environment.
    const savedAws = Object.keys(awsEnv).map((name) => [name, process.env[name]] as const);
    Object.assign(process.env, awsEnv);
    let stored: CliRun | undefined;
    let storeRefused: CliRun | undefined;
    try {
      fake.answer({ ok: true, versionId: 'leak-version-1' });
      stored = await run('import-key --secret-id', [
        ...['import-key', ...pem, '--key-password-env', 'KEYPW'],
        ...['--secret-id', 'onss-transfer/signing', '--region', 'eu-west-1'],
      ]);
      fake.answer({
        ok: false,
        status: 400,
        type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
      storeRefused = await run('import-key --secret-id, refused', [
        ...['--debug', 'import-key', ...p12, '--secret-id', 'onss-transfer/missing'],
        ...['--region', 'eu-west-1'],
      ]);
    } finally {
      for (const [name, value] of savedAws) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    const importWrong = await run('import-key, wrong password', [
      ...['--debug', 'import-key', ...pem, '--key-password-env', 'KEYPW_WRONG', '--out'],
      join(dir.dir, 'never.json'),
    ]);
    const printed = await cli(['import-key', ...p12], env);
    // The local transfer point, its password given: it prints how to connect, not the password.
    const simulatorIo = captureIo(env, { waitForStop: () => Promise.resolve() });
    const simulatorCode = await runCli(
      ['simulator', '--port', '0', '--password-env', 'FTP_PW'],
      simulatorIo.io,
    );
    runs.push({
      title: 'simulator --password-env',
      run: { code: simulatorCode, stdout: simulatorIo.stdout(), stderr: simulatorIo.stderr() },
    });

    // Assess: each run did what it should (so the capture is real)...
    expect(signed).toMatchObject({ code: 0, stdout: expect.stringContaining('wrote') });
    expect(signWrongP12).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('KEY_PASSWORD_WRONG'),
    });
    expect(signWrongP12.stderr).toContain('caused by:'); // --debug printed the cause's stack
    expect(signDamaged).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('MATERIAL_UNREADABLE'),
    });
    expect(ftpSent).toMatchObject({ code: 0, stdout: expect.stringMatching(/^launched GO\./) });
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('ACRF-102') });
    expect(wrongFtp).toMatchObject({ code: 1, stderr: expect.stringContaining('TRANSPORT_AUTH') });
    expect(sftpSent).toMatchObject({ code: 0, stdout: expect.stringMatching(/^launched GO\./) });
    expect(wrongSsh).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('could not be decrypted'),
    });
    expect(ftpPulled).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('declaration.acknowledged:'),
    });
    expect(sftpPulled.code).toBe(0);
    expect(JSON.parse(sftpPulled.stdout)).toMatchObject({ sets: expect.any(Array) });
    expect(wrongPull).toMatchObject({ code: 1, stderr: expect.stringContaining('TRANSPORT_AUTH') });
    expect(typedPassword).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('not a password'),
    });
    expect(typedNameShaped).toMatchObject({ code: 2, stderr: expect.stringContaining('not set') });
    expect(typedFtpPassword).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--password-env'),
    });
    expect(passwordFlag).toMatchObject({ code: 2, stderr: expect.stringContaining('=<hidden>') });
    expect(simulatorCode).toBe(0);
    expect(simulatorIo.stdout()).toContain('local transfer point listening on ftp://onss@');
    expect(imported).toMatchObject({ code: 0, stdout: expect.stringContaining('mode 0600') });
    expect(stored).toMatchObject({ code: 0, stdout: expect.stringContaining('leak-version-1') });
    expect(storeRefused).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('SECRET_NOT_FOUND'),
    });
    expect(importWrong).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('KEY_PASSWORD_WRONG'),
    });
    expect(fake.targets).toEqual([
      'secretsmanager.PutSecretValue',
      'secretsmanager.PutSecretValue',
    ]);
    const ledgerFiles = readdirSync(dir.dir).filter((name) => name.startsWith('ledger'));
    const ledgerBytes = ledgerFiles
      .map((name) => readFileSync(join(dir.dir, name)).toString('latin1'))
      .join('\n');
    expect(ledgerBytes).toContain(ftpGo.slice(3, -2)); // the set id
    expect(ledgerBytes).toContain('ACRF-102');
    const ftpEvents = readFileSync(join(ftpDest, 'events.jsonl'), 'utf8');
    const sftpEvents = readFileSync(join(sftpDest, 'events.jsonl'), 'utf8');
    expect(ftpEvents).toContain('declaration.acknowledged');
    expect(sftpEvents).toContain('declaration.notified');
    // The places the secret is meant to go do hold it: the scanner sees it there.
    expect(
      scanner.scan([{ source: 'secret file', text: readFileSync(secretFile, 'utf8') }]),
    ).not.toEqual([]);
    expect(
      scanner.scan([{ source: 'Secrets Manager request', text: fake.bodies[0] ?? '' }]),
    ).not.toEqual([]);
    expect(printed.code).toBe(0);
    expect(scanner.scan([{ source: 'import-key stdout', text: printed.stdout }])).not.toEqual([]);

    // ...and nothing a person or a log would read holds a secret.
    expectNoLeaks([
      ...runs.map(({ title, run: { code, stdout, stderr } }) => ({
        source: `CLI ${title}`,
        text: `exit ${code}\n${stdout}\n${stderr}`,
      })),
      { source: 'CLI import-key (stdout) stderr', text: printed.stderr },
      { source: 'SQLite ledger files', text: ledgerBytes },
      { source: 'events.jsonl (FTP pull)', text: ftpEvents },
      { source: 'events.jsonl (SFTP pull)', text: sftpEvents },
      { source: 'FS written by sign', text: readFileSync(`${fi}.FS1`, 'latin1') },
    ]);
  });
});

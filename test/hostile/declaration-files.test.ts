/**
 * Hostile corpus, boundary 2: the bytes of a declaration. Empty and oversized files, a device
 * in place of a file, content that breaks the reception's content rules (bytes that are not
 * UTF-8, an encoding it does not read, XML that is not well-formed, entity bombs, nesting
 * bombs, the wrong form) and a source that changes while it is sent, as a local file and as an
 * S3 object. Each is refused with a typed error; no GO reaches the transfer point (parts
 * already uploaded are removed); nothing is lost: the source is untouched (or, when someone
 * else changed it, still there) and the ledger never claims a launch.
 */
import { appendFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { openS3Source } from '../../functions/aws/s3-source';
import { processSendBatch } from '../../functions/send/process';
import { ContentRuleError } from '../../shared/content';
import { NotARegularFileError } from '../../shared/io/regular-file';
import { createMemoryLedger, type DeclarationRecord, type Ledger } from '../../shared/ledger';
import { FileRuleError, todayInBrussels } from '../../shared/names';
import { memoryNotifier } from '../../shared/notify';
import {
  openFileSource,
  sendDeclaration,
  SourceChangedError,
  type DeclarationSource,
  type PlanOptions,
} from '../../shared/send';
import { startSimulator, type Simulator } from '../../transfer-point';
import { startLocalS3, type LocalS3 } from '../functions/aws/helpers/local-s3';
import {
  recordingLog,
  recordingMetrics,
  s3CreatedBody,
  sqsBatch,
} from '../functions/helpers/emulated-aws';
import { ftpConnector } from '../../shared/transport';
import { cli } from '../helpers/cli';
import { faultyConnector, type Fault } from '../helpers/faulty-transport';
import { makeIdentity, scratchDir, type Identity } from '../helpers/pki';
import { declarationXml } from '../transfer-point/helpers';
import { billionLaughs, externalEntity, nestingBomb } from './helpers/bombs';
import { startScriptedFtp, type ScriptedFtpServer } from './helpers/scripted-ftp';
import {
  fingerprint,
  QUICK_RETRY,
  simulatorConnector,
  simulatorFiles,
  typedFailure,
  serverFlags,
} from './helpers/corpus';

const today = todayInBrussels();
const SENDER = '123456';
const scratch = scratchDir('onss-hostile-files-');
let simulator: Simulator;
let signer: Identity;

beforeAll(async () => {
  [simulator, signer] = await Promise.all([
    startSimulator({ sender: SENDER }),
    makeIdentity('rsa2048'),
  ]);
});
afterAll(async () => {
  await simulator?.stop();
  scratch.cleanup();
});

let counter = 0;
/** Writes a declaration into the scratch folder and returns its path. */
function declaration(content: string | Buffer): string {
  counter += 1;
  const path = join(scratch.dir, `declaration-${counter}.xml`);
  writeFileSync(path, content);
  return path;
}

/** A sparse file of `size` bytes: as large as wanted, instantly, without using the disk. */
function sparse(size: number): string {
  const path = declaration('');
  truncateSync(path, size);
  return path;
}

/** What a send left behind, to assert on. */
interface Attempt {
  ledger: Ledger;
  /** Operations the transport was asked for (`put INTEST/FI...`), in order. */
  calls: string[];
  /** Sets the server judged since the send began. */
  judged: () => number;
  /** Files left on the server. */
  remaining: () => string[];
}

/**
 * Sends a source as a T declaration of DMFA, with faults, and lets it fail: to the simulator,
 * or to a scripted server (`to`). The content refusals go to the scripted one: they abandon an
 * upload before its data connection is used, and ftp-srv (under the simulator) then keeps an
 * idle 30 s timer of that passive port alive after it has stopped, holding jest up.
 */
async function send(
  source: DeclarationSource | string,
  options: { faults?: Fault[]; plan?: PlanOptions; to?: ScriptedFtpServer } = {},
): Promise<{ attempt: Attempt; failure: Promise<unknown> }> {
  const ledger = createMemoryLedger();
  const { to } = options;
  const target =
    to === undefined
      ? simulatorConnector(simulator)
      : ftpConnector({
          host: '127.0.0.1',
          port: to.port,
          user: to.user,
          password: to.password,
          connectRetry: { attempts: 1 },
          operationRetry: QUICK_RETRY,
        });
  const connector = faultyConnector(target, options.faults ?? []);
  const judged = simulator.judgements.length;
  const failure = (async () =>
    sendDeclaration(
      {
        source: typeof source === 'string' ? await openFileSource(source) : source,
        declaration: { app: 'DMFA', sender: SENDER, env: 'T' },
        ...(options.plan ? { plan: options.plan } : {}),
      },
      { ledger, connector, retry: QUICK_RETRY },
    ))();
  // Settled before the caller looks at what was left.
  await failure.catch(() => undefined);
  await simulator.idle();
  const attempt: Attempt = {
    ledger,
    calls: connector.calls,
    // a scripted server judges nothing: a GO stored there is what would have been judged
    judged: () =>
      to === undefined
        ? simulator.judgements.length - judged
        : to.stored().filter((path) => path.includes('/GO.')).length,
    remaining: () => (to === undefined ? simulatorFiles(simulator) : [...to.files.keys()]),
  };
  return { attempt, failure };
}

/**
 * (2) nothing was launched: no GO was put, the transfer point judged nothing and its folders
 * hold nothing; (3) the ledger claims no launch: no set, or one `failed` with `code`.
 */
async function expectNothingLaunched(attempt: Attempt, failed?: string): Promise<void> {
  expect(attempt.calls.filter((call) => call.includes('/GO.'))).toEqual([]);
  expect(attempt.judged()).toBe(0);
  expect(attempt.remaining()).toEqual([]);
  const records = await attempt.ledger.list();
  if (failed === undefined) {
    expect(records).toEqual([]);
  } else {
    expect(records.map((r: DeclarationRecord) => [r.state, r.failure?.code])).toEqual([
      ['failed', failed],
    ]);
  }
}

describe('hostile declaration files: sizes and kinds', () => {
  it('an empty file: ACRF-134 before any connection', async () => {
    const path = declaration('');
    const { attempt, failure } = await send(path);
    await typedFailure(failure, FileRuleError, 'ACRF-134', /has no data \(0 bytes\)/);
    expect(attempt.calls).toEqual([]);
    await expectNothingLaunched(attempt);
    expect(readFileSync(path)).toHaveLength(0);
  });

  it('a 1.8 GB file (more than 9 parts of 200 MB): ACRF-128, not a byte read', async () => {
    const path = sparse(9 * 200_000_000 + 1);
    const { attempt, failure } = await send(path);
    await typedFailure(failure, FileRuleError, 'ACRF-128', /needs 10 parts .* at most 9 parts/);
    expect(attempt.calls).toEqual([]);
    await expectNothingLaunched(attempt);
  });

  it('oversized for a small part size (10 bytes, 100-byte file): ACRF-128', async () => {
    const path = declaration('x'.repeat(100));
    const before = fingerprint(path);
    const { attempt, failure } = await send(path, { plan: { partSize: 10 } });
    await typedFailure(failure, FileRuleError, 'ACRF-128', /needs 10 parts of at most 10 bytes/);
    await expectNothingLaunched(attempt);
    expect(fingerprint(path)).toBe(before);
  });

  it('sign of a 200,000,001-byte file: ACRF-184, no FS written', async () => {
    const path = sparse(200_000_001);
    const key = join(scratch.dir, 'signer.key.pem');
    const cert = join(scratch.dir, 'signer.cert.pem');
    writeFileSync(key, signer.keyPem);
    writeFileSync(cert, signer.certPem);
    const out = join(scratch.dir, 'oversized.fs');
    const run = await cli(['sign', path, '--out', out, '--key', key, '--cert', cert]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /is 200000001 bytes, over the limit of 200000000 bytes \(ACRF-184\)/,
    );
    expect(fingerprint(out)).toBe('absent');
  });

  it('a device (/dev/zero) in place of a file: NOT_A_REGULAR_FILE, never read', async () => {
    await typedFailure(
      openFileSource('/dev/zero'),
      NotARegularFileError,
      'NOT_A_REGULAR_FILE',
      /\/dev\/zero is not a regular file/,
    );
    const run = await cli(
      [
        'send',
        '/dev/zero',
        '--app',
        'DMFA',
        '--sender',
        SENDER,
        '--env',
        'T',
        ...serverFlags(simulator, join(scratch.dir, 'dev-zero.sqlite')),
      ],
      { FTP_PASSWORD: simulator.password },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[NOT_A_REGULAR_FILE]');
    expect(simulatorFiles(simulator)).toEqual([]);
  });
});

/** A DmfA declaration of `workers` people, well-formed, as the start of hostile content. */
const dmfa = (workers = 3) => declarationXml('DMFA', workers);

describe('hostile declaration files: content the reception refuses', () => {
  it.each([
    {
      title: 'bytes that are not UTF-8 in a UTF-8 declaration',
      content: () =>
        Buffer.concat([
          Buffer.from(dmfa(2000).replace('</DmfAOriginal>', '')),
          Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
          Buffer.from('</DmfAOriginal>'),
        ]),
      code: 'ACRF-138',
      names: /bytes that are not valid utf-8/,
    },
    {
      title: 'an encoding the reception does not read (UTF-16 declared)',
      content: () => dmfa().replace('encoding="UTF-8"', 'encoding="UTF-16"'),
      code: 'ACRF-138',
      names: /encoding "UTF-16" is not supported/,
    },
    {
      title: 'XML cut short (no end tag)',
      content: () => dmfa(2000).replace('</DmfAOriginal>', ''),
      code: 'ACRF-102',
      names: /not well-formed XML/,
    },
    {
      title: 'a billion-laughs entity bomb',
      content: () => billionLaughs('DmfAOriginal'),
      code: 'ACRF-102',
      names: /not well-formed XML: .*undefined entity/,
    },
    {
      title: 'an external entity reading /etc/passwd',
      content: () => externalEntity('DmfAOriginal'),
      code: 'ACRF-102',
      names: /not well-formed XML: .*undefined entity/,
    },
    {
      title: 'elements nested a million levels deep (7 MB)',
      content: () => nestingBomb('DmfAOriginal', 1_000_000),
      code: 'CONTENT_TOO_DEEP',
      names: /nests elements deeper than 256 levels/,
    },
    {
      title: 'a DIMONA form in a DMFA declaration',
      content: () => declarationXml('DIMONA'),
      code: 'ACRF-158',
      names: /form identification "DIMONA" does not match application DMFA/,
    },
  ])('$title: $code, the parts removed, no GO', async ({ content, code, names }) => {
    const path = declaration(content());
    const before = fingerprint(path);
    const to = await startScriptedFtp();
    try {
      const { attempt, failure } = await send(path, { to });
      const error = await typedFailure(failure, ContentRuleError, code, names);
      expect(error.message).not.toMatch(/root:/); // nothing of /etc/passwd was read into it
      await expectNothingLaunched(attempt, code);
    } finally {
      await to.close();
    }
    expect(fingerprint(path)).toBe(before);
  });
});

describe('hostile declaration files: a source that changes while it is sent', () => {
  const SIZE_WORKERS = 20_000; // about 1 MB: the change lands in the middle of the upload

  it.each([
    {
      title: 'a local file rewritten (same size, other bytes)',
      change: (path: string) =>
        writeFileSync(path, readFileSync(path, 'latin1').replace('DMFA', 'DMFB'), 'latin1'),
    },
    { title: 'a local file that grows', change: (path: string) => appendFileSync(path, '<x/>') },
  ])('$title: SOURCE_CHANGED, the parts removed, no GO', async ({ change }) => {
    const path = declaration(dmfa(SIZE_WORKERS));
    await new Promise((resolve) => setTimeout(resolve, 20)); // a later mtime for the change
    const { attempt, failure } = await send(path, {
      faults: [
        { op: 'put', path: /\/FI\./, times: 1, afterBytes: 64 * 1024, act: () => change(path) },
      ],
    });
    await typedFailure(
      failure,
      SourceChangedError,
      'SOURCE_CHANGED',
      /changed while it was being sent/,
    );
    await expectNothingLaunched(attempt, 'SOURCE_CHANGED');
    expect(fingerprint(path)).not.toBe('absent'); // the (changed) file is still the user's
  });

  // Found by this corpus: a local file cut short while its part was read ended the part's
  // stream early without an error, and the short upload was blamed on the server
  // (REMOTE_SIZE_MISMATCH) after a round of retries. A part now fails as SOURCE_CHANGED when
  // its stream ends short.
  /** Sends a 6 MB declaration and cuts the file to 100 bytes once 64 KiB of it went out. */
  async function sendCutShort() {
    const path = declaration(dmfa(6 * SIZE_WORKERS));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cut = { op: 'put' as const, path: /\/FI\./, times: 1, afterBytes: 64 * 1024 };
    return send(path, { faults: [{ ...cut, act: () => truncateSync(path, 100) }] });
  }

  it('a local file cut short: SOURCE_CHANGED (not a server size mismatch), its part removed, no GO', async () => {
    const { attempt, failure } = await sendCutShort();
    await typedFailure(failure, SourceChangedError, 'SOURCE_CHANGED', /changed while/);
    await expectNothingLaunched(attempt, 'SOURCE_CHANGED');
  });

  describe('an S3 outbox object', () => {
    const BUCKET = 'onss-outbox';
    let s3: LocalS3;
    beforeAll(async () => {
      s3 = await startLocalS3(BUCKET);
    });
    afterAll(async () => {
      await s3?.close();
    });

    const put = async (key: string, body: Buffer): Promise<string> =>
      (await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))).ETag ??
      '';

    it.each([
      {
        title: 'replaced by another version of the same size (new ETag)',
        next: (bytes: Buffer) => Buffer.from(bytes.toString('latin1').replace('DMFA', 'DMFB')),
      },
      {
        title: 'replaced by a longer one (size and ETag change)',
        next: (bytes: Buffer) => Buffer.concat([bytes, Buffer.from('<x/>')]),
      },
    ])('$title: SOURCE_CHANGED, refused, the object kept', async ({ next }) => {
      const key = `outbox/FI.DMFA.${SENDER}.${today}.00001.T.1.1`;
      const original = Buffer.from(dmfa(SIZE_WORKERS));
      const eTag = await put(key, original);
      const replacement = next(original);
      let replacedTag = '';
      const ledger = createMemoryLedger();
      const notifier = memoryNotifier();
      const log = recordingLog();
      const connector = faultyConnector(simulatorConnector(simulator), [
        {
          op: 'put',
          path: /\/FI\./,
          times: 1,
          afterBytes: 64 * 1024,
          act: async () => {
            replacedTag = await put(key, replacement);
          },
        },
      ]);
      const judged = simulator.judgements.length;
      const response = await processSendBatch(
        sqsBatch([{ id: 'm1', body: s3CreatedBody(BUCKET, key, { eTag, size: original.length }) }]),
        {
          config: { bucket: BUCKET, outboxPrefix: 'outbox/', signTest: false },
          channels: [
            {
              sender: SENDER,
              maxSends: 1,
              signingMaterial: async () => signer.material,
              connector: async () => connector,
            },
          ],
          ledger,
          notifier,
          openSource: (ref) =>
            openS3Source({ client: s3.client, bucket: ref.bucket, key: ref.key }),
          log,
          metrics: recordingMetrics(),
          tuning: { retry: QUICK_RETRY },
        },
      );
      await simulator.idle();
      // (1) refused with the typed error's code, raised as declaration.failed, not retried
      expect(response.batchItemFailures).toEqual([]);
      expect(notifier.events).toEqual([
        expect.objectContaining({
          type: 'declaration.failed',
          errors: [
            expect.objectContaining({
              id: 'SOURCE_CHANGED',
              label: expect.stringMatching(/changed while it was being sent/),
            }),
          ],
        }),
      ]);
      // the class itself, as the function logged it
      expect(log.lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          extra: expect.objectContaining({
            error: SourceChangedError.name,
            code: 'SOURCE_CHANGED',
          }),
        }),
      );
      // (2) the part that went out was removed, no GO
      await expectNothingLaunched(
        {
          ledger,
          calls: connector.calls,
          judged: () => simulator.judgements.length - judged,
          remaining: () => simulatorFiles(simulator),
        },
        'SOURCE_CHANGED',
      );
      // (3) the object is still in the outbox, as its author left it (the replacement)
      const kept = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(kept).toMatchObject({ ETag: replacedTag, ContentLength: replacement.length });
    });
  });
});

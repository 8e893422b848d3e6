/**
 * Hostile corpus, boundary 5: the server itself. A scripted FTP server (helpers/scripted-ftp.ts)
 * meets the real client (`ftpConnector`, on basic-ftp) and lies: about the size of what was
 * uploaded (SIZE, then LIST), about what a download holds, with garbage or an endless body in
 * reply to LIST and MLSD, with names that climb out or hold control characters, and with
 * thousands of files. Each lie is refused with a typed error; no GO is ever uploaded on a lie;
 * nothing is lost: the declaration is not launched and its parts are removed, the answers stay
 * on the server until a copy of them is stored byte for byte.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMemoryLedger, type Ledger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { memoryNotifier } from '../../shared/notify';
import { pullResponses, StoreMismatchError, type PullReport } from '../../shared/pull';
import { copyToStore } from '../../shared/pull/download';
import { openFileSource, RemoteSizeMismatchError, sendDeclaration } from '../../shared/send';
import { localFolderStore } from '../../shared/store';
import { ftpConnector, TransportError, type TransportConnector } from '../../shared/transport';
import { cli } from '../helpers/cli';
import { scratchDir } from '../helpers/pki';
import { declarationXml } from '../transfer-point/helpers';
import {
  expectPrintable,
  fingerprint,
  QUICK_RETRY,
  sha256,
  typedFailure,
  serverFlags,
} from './helpers/corpus';
import {
  startScriptedFtp,
  type ScriptedFtpOptions,
  type ScriptedFtpServer,
} from './helpers/scripted-ftp';

const today = todayInBrussels();
const SENDER = '123456';
const scratch = scratchDir('onss-hostile-servers-');
const servers: ScriptedFtpServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(() => scratch.cleanup());

async function server(options: ScriptedFtpOptions = {}): Promise<ScriptedFtpServer> {
  const started = await startScriptedFtp(options);
  servers.push(started);
  return started;
}

function connector(ftp: ScriptedFtpServer): TransportConnector {
  return ftpConnector({
    host: '127.0.0.1',
    port: ftp.port,
    user: ftp.user,
    password: ftp.password,
    connectRetry: { attempts: 1 },
    operationRetry: QUICK_RETRY,
    timeoutMs: 5_000,
  });
}

/** A unix `ls -l` line, as servers answer LIST. */
const line = (name: string, size: number) =>
  `-rw-r--r-- 1 onss onss ${size} Jan 01 00:00 ${name}\r\n`;

describe('a server that lies to the sender', () => {
  let counter = 0;
  /** Sends a small T declaration to the server; returns the failure and what is left. */
  async function send(ftp: ScriptedFtpServer) {
    counter += 1;
    const path = join(scratch.dir, `declaration-${counter}.xml`);
    writeFileSync(path, declarationXml());
    const before = fingerprint(path);
    const ledger = createMemoryLedger();
    const failure = (async () =>
      sendDeclaration(
        {
          source: await openFileSource(path),
          declaration: { app: 'DMFA', sender: SENDER, env: 'T', date: today },
        },
        { ledger, connector: connector(ftp), retry: QUICK_RETRY },
      ))();
    await failure.catch(() => undefined);
    return { failure, ledger, path, before };
  }

  /** (2) no GO ever uploaded; (3) the source untouched, the set `failed` with `code`. */
  async function expectNotLaunched(
    ftp: ScriptedFtpServer,
    sent: { ledger: Ledger; path: string; before: string },
    code: string,
  ): Promise<void> {
    expect(ftp.stored().filter((path) => path.includes('/GO.'))).toEqual([]);
    expect([...ftp.files.keys()].filter((path) => path.includes('/GO.'))).toEqual([]);
    expect(fingerprint(sent.path)).toBe(sent.before);
    const records = await sent.ledger.list();
    expect(records.map((record) => [record.state, record.failure?.code])).toEqual([
      ['failed', code],
    ]);
  }

  it('SIZE reports one byte more than was uploaded: REMOTE_SIZE_MISMATCH, parts removed', async () => {
    const ftp = await server({
      size: (_path, actual) => (actual === undefined ? actual : actual + 1),
    });
    const sent = await send(ftp);
    await typedFailure(
      sent.failure,
      RemoteSizeMismatchError,
      'REMOTE_SIZE_MISMATCH',
      /is \d+ bytes on the server, \d+ were sent/,
    );
    await expectNotLaunched(ftp, sent, 'REMOTE_SIZE_MISMATCH');
    expect(ftp.deleted()).toEqual([expect.stringMatching(/^INTEST\/FI\./)]);
    expect(ftp.files.size).toBe(0);
  });

  it('SIZE says the file just uploaded is missing: REMOTE_SIZE_MISMATCH', async () => {
    const ftp = await server({ size: () => undefined });
    const sent = await send(ftp);
    await typedFailure(
      sent.failure,
      RemoteSizeMismatchError,
      'REMOTE_SIZE_MISMATCH',
      /is missing on the server, \d+ were sent/,
    );
    await expectNotLaunched(ftp, sent, 'REMOTE_SIZE_MISMATCH');
  });

  it('LIST shows other sizes than SIZE (checked before the GO): REMOTE_SIZE_MISMATCH', async () => {
    const ftp = await server({
      listing: (_folder, honest) =>
        honest.replace(/ (\d+) Jan/g, (_m, size: string) => ` ${Number(size) * 2} Jan`),
    });
    const sent = await send(ftp);
    await typedFailure(
      sent.failure,
      RemoteSizeMismatchError,
      'REMOTE_SIZE_MISMATCH',
      /is \d+ bytes on the server/,
    );
    await expectNotLaunched(ftp, sent, 'REMOTE_SIZE_MISMATCH');
    expect(ftp.files.size).toBe(0);
  });

  it('garbage in reply to LIST before the GO: TRANSPORT_FAILED, the leftover named', async () => {
    const ftp = await server({
      listing: () => 'total 3\r\nHello, this is not a listing\r\n\u0000\u0001\r\n',
    });
    const sent = await send(ftp);
    await typedFailure(
      sent.failure,
      TransportError,
      'TRANSPORT_FAILED',
      /list INTEST .*only supports MLSD, Unix- or DOS-style/,
    );
    await expectNotLaunched(ftp, sent, 'TRANSPORT_FAILED');
    // the part could not be found to remove: the record says so, for a person to clean up
    const [record] = await sent.ledger.list();
    expect(record?.failure?.message).toMatch(
      /could not be removed .* the folder could not be listed/,
    );
  });
});

describe('a server that lies to the puller', () => {
  const answer = (seq: string) => {
    const id = `ACRF.999999.20261120.${seq}.R`;
    return { id, fo: `OUT/FO.${id}`, go: `OUT/GO.${id}` };
  };
  const acrfXml = (seq: string) =>
    Buffer.from(
      `<ACRF><Form><Identification>ACRF001</Identification><TypeForm>${seq}</TypeForm></Form></ACRF>`,
    );

  /** Two answers on the server, each FO and GO. */
  const twoAnswers = (): Map<string, Buffer> => {
    const files = new Map<string, Buffer>();
    for (const seq of ['00001', '00002']) {
      files.set(answer(seq).fo, acrfXml(seq));
      files.set(answer(seq).go, Buffer.alloc(0));
    }
    return files;
  };

  async function pull(ftp: ScriptedFtpServer, ledger: Ledger = createMemoryLedger()) {
    const notifier = memoryNotifier();
    const store = join(scratch.dir, `store-${Math.random().toString(36).slice(2)}`);
    const result = pullResponses(
      { environments: ['R'] },
      { ledger, connector: connector(ftp), store: localFolderStore(store), notifier },
    );
    await result.catch(() => undefined);
    return { result, ledger, store, events: notifier.events };
  }

  /** (2)+(3): nothing downloaded, nothing deleted, every file as it was. */
  function expectUntouched(ftp: ScriptedFtpServer, files: Map<string, Buffer>): void {
    expect(ftp.commands.filter((command) => /^(RETR|DELE) /.test(command))).toEqual([]);
    expect([...ftp.files.entries()].map(([path, bytes]) => [path, sha256(bytes)]).sort()).toEqual(
      [...files.entries()].map(([path, bytes]) => [path, sha256(bytes)]).sort(),
    );
  }

  it.each([
    { title: 'garbage in reply to LIST', mlsd: false, body: 'Hello\r\nthis is not a listing\r\n' },
    {
      title: 'garbage in reply to MLSD',
      mlsd: true,
      body: 'type file size 10 FO.ACRF\r\n\u0007\r\n',
    },
    {
      title: 'bytes that are not text in reply to LIST',
      mlsd: false,
      body: Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0x0d, 0x0a]),
    },
  ])('$title: TRANSPORT_FAILED, nothing taken or deleted', async ({ mlsd, body }) => {
    const files = twoAnswers();
    const ftp = await server({ files, mlsd, listing: () => body });
    const { result, ledger } = await pull(ftp);
    await typedFailure(
      result,
      TransportError,
      'TRANSPORT_FAILED',
      /list OUT .*only supports MLSD, Unix- or DOS-style directory listing/,
    );
    expectUntouched(ftp, files);
    expect(await ledger.listResponses()).toEqual([]);
  });

  it('an endless listing (41 MiB): TRANSPORT_FAILED at the 40 MiB cap, nothing taken', async () => {
    const files = twoAnswers();
    const entry = line(`FO.${answer('00003').id}`, 10);
    const endless = Buffer.from(entry.repeat(Math.ceil((41 * 1024 * 1024) / entry.length)));
    const ftp = await server({ files, listing: () => endless });
    const started = Date.now();
    const { result } = await pull(ftp);
    await typedFailure(
      result,
      TransportError,
      'TRANSPORT_FAILED',
      /list OUT .*Maximum bytes exceeded, maxByteLength=41943040/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expectUntouched(ftp, files);
  });

  it('a download longer than listed: STORE_MISMATCH, kept on the server', async () => {
    const files = twoAnswers();
    const ftp = await server({
      files,
      download: (path, content) =>
        path.includes('00001') ? Buffer.concat([content, Buffer.from('<!-- more -->')]) : content,
    });
    const { result, ledger } = await pull(ftp);
    const report = await result;
    // (1) the set refused with the typed error's code and message
    expect(report.failed).toEqual([
      {
        id: answer('00001').id,
        code: 'STORE_MISMATCH',
        message: expect.stringMatching(/\d+ bytes read, the server listed \d+; kept on the server/),
      },
    ]);
    // the class behind that code, as the copy itself throws it
    const transport = await connector(ftp).connect();
    try {
      await typedFailure(
        copyToStore(
          transport,
          localFolderStore(join(scratch.dir, 'direct')),
          answer('00001').fo,
          `FO.${answer('00001').id}`,
          acrfXml('00001').length,
          'direct/FO',
        ),
        StoreMismatchError,
        'STORE_MISMATCH',
        /bytes read, the server listed/,
      );
    } finally {
      await transport.close();
    }
    // (2)+(3) that set never deleted, not recorded; the honest one taken as usual
    expect(ftp.deleted().filter((path) => path.includes('00001'))).toEqual([]);
    expect(ftp.files.has(answer('00001').fo)).toBe(true);
    expect(ftp.files.has(answer('00001').go)).toBe(true);
    expect(await ledger.getResponse(answer('00001').id)).toBeUndefined();
    expect(report.sets.map((set) => set.id)).toEqual([answer('00002').id]);
  });

  it('names that climb out, carry a path, a NUL or escapes: foreign, never taken, shown escaped', async () => {
    const files = twoAnswers();
    const hostile = [
      '../../etc/passwd',
      `elsewhere/FO.${answer('00009').id}`,
      `elsewhere/GO.${answer('00009').id}`,
      `FO.${answer('00008').id}\u0000.xml`,
      `GO.${answer('00007').id}\u001b[2J\u001b]0;owned\u0007`,
    ];
    const ftp = await server({
      files,
      listing: (_folder, honest) => `${honest}${hostile.map((name) => line(name, 10)).join('')}`,
    });
    const dest = join(scratch.dir, 'hostile-names');
    const run = await cli(
      [
        'pull',
        '--env',
        'R',
        '--dest',
        dest,
        ...serverFlags(
          { host: '127.0.0.1', port: ftp.port, user: ftp.user },
          join(dest, 'ledger.sqlite'),
        ),
        '--json',
      ],
      { FTP_PASSWORD: ftp.password },
    );
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as PullReport;
    // (1) each hostile name reported as foreign, as listed (not cut to its last part)
    expect(report.foreign.sort()).toEqual(hostile.map((name) => `OUT/${name}`).sort());
    // (2) none fetched or deleted; only the two genuine answers were taken
    const touched = ftp.commands.filter((command) => /^(RETR|DELE) /.test(command));
    expect(touched.every((command) => /ACRF\.999999\.20261120\.0000[12]\.R$/.test(command))).toBe(
      true,
    );
    expect(report.sets.map((set) => set.id).sort()).toEqual([
      answer('00001').id,
      answer('00002').id,
    ]);
    // (3) the events that name them are kept (JSON escapes every control character)
    const events = (await readFile(join(dest, 'events.jsonl'), 'utf8')).trim().split('\n');
    expect(events.filter((event) => event.includes('response.foreign-file'))).toHaveLength(
      hostile.length,
    );
    expectPrintable(events.join('\n'));
  });

  it('the same names printed to a terminal: every event line shown escaped', async () => {
    const ftp = await server({
      files: twoAnswers(),
      listing: (_folder, honest) =>
        `${honest}${line('evil\u001b[2J\u001b]0;owned\u0007\u009b1m', 10)}${line('rtl\u202etxt.exe', 10)}`,
    });
    const dest = join(scratch.dir, 'terminal');
    const run = await cli(
      [
        'pull',
        '--env',
        'R',
        '--dest',
        dest,
        ...serverFlags(
          { host: '127.0.0.1', port: ftp.port, user: ftp.user },
          join(dest, 'ledger.sqlite'),
        ),
      ],
      { FTP_PASSWORD: ftp.password },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/response\.foreign-file: OUT\/evil\\u\{1b\}\[2J/);
    expectPrintable(run.stdout);
    expectPrintable(run.stderr);
  });

  it('5,000 files in OUT: the pull finishes, bounded, and loses none', async () => {
    // 300 complete answers (FO + GO), 4,300 FOs still waiting for their GO, 100 foreign files.
    const files = new Map<string, Buffer>();
    for (let i = 1; i <= 300; i += 1) {
      const seq = String(i).padStart(5, '0');
      files.set(answer(seq).fo, acrfXml(seq));
      files.set(answer(seq).go, Buffer.alloc(0));
    }
    for (let i = 1; i <= 4_300; i += 1) {
      files.set(`OUT/FO.ACRF.999999.20261121.${String(i).padStart(5, '0')}.R`, acrfXml(String(i)));
    }
    for (let i = 1; i <= 100; i += 1) files.set(`OUT/readme-${i}.txt`, Buffer.from(`note ${i}`));
    expect(files.size).toBe(5_000);
    const original = new Map(files);
    const ftp = await server({ files });
    const started = Date.now();
    const { result, store, ledger } = await pull(ftp);
    const report = await result;
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeLessThan(30);
    expect(report.failed).toEqual([]);
    expect(report.sets).toHaveLength(300);
    expect(report.incomplete).toHaveLength(4_300);
    expect(report.foreign).toHaveLength(100);
    // nothing lost: every file is still on the server, or stored byte for byte and recorded
    for (const [path, bytes] of original) {
      if (ftp.files.has(path)) continue;
      const name = path.slice('OUT/'.length);
      const stored = await readFile(join(store, 'responses', 'R', '20261120', 'ACRF', name));
      expect(sha256(stored)).toBe(sha256(bytes));
    }
    expect(ftp.files.size).toBe(4_400);
    expect(await ledger.listResponses()).toHaveLength(300);
  });
});

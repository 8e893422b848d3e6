/**
 * Hostile corpus, boundary 3: what the transfer point (or whoever writes its OUT folders)
 * answers. XML bombs (entity expansion, external entities, any DOCTYPE, nesting), markup too
 * large to hold, bytes the parser does not read, answers whose names collide or try to leave
 * the store, and compressed (CO) answers whose entries climb out or explode. The parser refuses
 * each with a typed error, read in bounded memory; the pull keeps every answer (stored byte for
 * byte before anything is deleted, or left on the server) and raises what it could not read.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createMemoryLedger, openSqliteLedger, type Ledger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { memoryNotifier } from '../../shared/notify';
import { pullResponses, type PullReport } from '../../shared/pull';
import {
  parseResponseBuffer,
  parseResponseStream,
  ResponseParseError,
  ResponseTooLargeError,
  type AcrfDocument,
} from '../../shared/responses';
import { buildZip, startSimulator, type Simulator } from '../../transfer-point';
import { localFolderStore } from '../../shared/store';
import { cli } from '../helpers/cli';
import { scratchDir } from '../helpers/pki';
import { billionLaughs, externalEntity, nestingBomb } from './helpers/bombs';
import {
  expectPrintable,
  sha256,
  simulatorConnector,
  typedFailure,
  serverFlags,
} from './helpers/corpus';

const scratch = scratchDir('onss-hostile-responses-');
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator({});
});
afterAll(async () => {
  await simulator?.stop();
  scratch.cleanup();
});

const MIB = 1024 * 1024;
const today = todayInBrussels();

/** A complete, accepting ACRF Form answering `go`: what a lenient reader would act on. */
const acceptingForm = (go: string) =>
  '<Identification>ACRF001</Identification><TypeForm>FA</TypeForm>' +
  `<FileReference><FileName>${go}</FileName><ReferenceNbr>T0001</ReferenceNbr></FileReference>` +
  '<ReceptionResult><ResultCode>1</ResultCode></ReceptionResult>';
/** An ACRF document: the accepting Form, then `after` inside the root. */
const acrf = (form: string, after = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><ACRF><Form>${form}</Form>${after}</ACRF>`;

/** Feeds bytes to the streaming parser in 1 MiB chunks, as a download would. */
function streamed(bytes: Buffer): Readable {
  return Readable.from(
    (function* chunks() {
      for (let offset = 0; offset < bytes.length; offset += MIB) {
        yield bytes.subarray(offset, offset + MIB);
      }
    })(),
  );
}

/** The response set names of one answer of the transfer point. */
const responseSet = (type: string, seq: string, env: 'R' | 'T') => {
  const id = `${type}.999999.20261120.${seq}.${env}`;
  return { id, fo: `FO.${id}`, co: `CO.${id}`, go: `GO.${id}` };
};

interface Pulled {
  report: PullReport;
  events: ReturnType<typeof memoryNotifier>['events'];
}

async function pull(
  ledger: Ledger,
  store: string,
  environments: Array<'R' | 'T'>,
  copyForeign = false,
): Promise<Pulled> {
  const notifier = memoryNotifier();
  const report = await pullResponses(
    { environments, copyForeign },
    {
      ledger,
      connector: simulatorConnector(simulator),
      store: localFolderStore(store),
      notifier,
    },
  );
  return { report, events: notifier.events };
}

/** Every file under a folder, relative paths, recursively. */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .sort();
}

let stores = 0;
const freshStore = () => {
  stores += 1;
  return join(scratch.dir, `store-${stores}`, 'dest');
};

let sequence = 0;
/** A T declaration recorded as launched (its GO went out): the one a hostile answer names. */
async function launchedDeclaration(ledger: Ledger): Promise<{ id: string; go: string }> {
  sequence += 1;
  const key = {
    app: 'DMFA',
    sender: '123456',
    date: today,
    seq: String(sequence).padStart(5, '0'),
    env: 'T' as const,
  };
  const owner = 'hostile-corpus';
  const { record } = await ledger.claim(
    {
      key,
      nparts: 1,
      folder: 'INTEST',
      source: { kind: 'file', id: `/corpus/${sequence}`, version: '1' },
      files: [],
    },
    { owner },
  );
  await ledger.transition(record.id, 'planned', 'uploading', undefined, { owner });
  await ledger.transition(record.id, 'uploading', 'launching', undefined, { owner });
  await ledger.transition(record.id, 'launching', 'launched');
  return { id: record.id, go: `GO.${record.id}.1` };
}

describe('hostile responses', () => {
  it.each([
    {
      title: 'a billion-laughs entity bomb',
      bytes: (go: string) => Buffer.from(billionLaughs('ACRF', acceptingForm(go))),
      type: ResponseParseError,
      code: 'RESPONSE_MALFORMED',
      names: /a DOCTYPE is not allowed in a response/,
    },
    {
      title: 'an external entity (SYSTEM file:///etc/passwd)',
      bytes: (go: string) => Buffer.from(externalEntity('ACRF', acceptingForm(go))),
      type: ResponseParseError,
      code: 'RESPONSE_MALFORMED',
      names: /a DOCTYPE is not allowed in a response/,
    },
    {
      title: 'a DOCTYPE at all, with no entity',
      bytes: (go: string) =>
        Buffer.from(
          acrf(acceptingForm(go)).replace('<ACRF>', '<!DOCTYPE ACRF SYSTEM "a.dtd"><ACRF>'),
        ),
      type: ResponseParseError,
      code: 'RESPONSE_MALFORMED',
      names: /a DOCTYPE is not allowed in a response/,
    },
    {
      title: 'an entity reference with no DOCTYPE to declare it',
      bytes: (go: string) => Buffer.from(acrf(acceptingForm(go), '<x>&xxe;</x>')),
      type: ResponseParseError,
      code: 'RESPONSE_MALFORMED',
      names: /not well-formed XML: .*undefined entity/,
    },
    {
      title: 'elements nested a million levels deep (7 MB)',
      bytes: (go: string) => nestingBomb('ACRF', 1_000_000, acceptingForm(go)),
      type: ResponseTooLargeError,
      code: 'RESPONSE_TOO_LARGE',
      names: /nests elements deeper than 256 levels/,
    },
    {
      title: 'a 2 MiB attribute value',
      bytes: (go: string) =>
        Buffer.from(acrf(acceptingForm(go), `<x a="${'x'.repeat(2 * MIB)}"/>`)),
      type: ResponseTooLargeError,
      code: 'RESPONSE_TOO_LARGE',
      names: /a single tag, .* is longer than 1048576 characters/,
    },
    {
      title: 'a 2 MiB comment',
      bytes: (go: string) => Buffer.from(acrf(acceptingForm(go), `<!--${'-x'.repeat(MIB)}-->`)),
      type: ResponseTooLargeError,
      code: 'RESPONSE_TOO_LARGE',
      names: /is longer than 1048576 characters/,
    },
    {
      title: 'a response in UTF-16',
      bytes: (go: string) =>
        Buffer.from(`\ufeff${acrf(acceptingForm(go)).replace('UTF-8', 'UTF-16')}`, 'utf16le'),
      type: ResponseParseError,
      code: 'RESPONSE_MALFORMED',
      names: /UTF-16 or UTF-32, which is not read/,
    },
    {
      title: 'bytes that are not UTF-8 after the Form',
      bytes: (go: string) => {
        const [head = '', tail = ''] = acrf(acceptingForm(go), '<x>#</x>').split('#');
        return Buffer.concat([Buffer.from(head), Buffer.from([0xff, 0xfe]), Buffer.from(tail)]);
      },
      type: ResponseParseError,
      code: 'RESPONSE_MALFORMED',
      names: /bytes that are not valid utf-8/,
    },
  ])('$title: $code, kept, no declaration moved', async ({ bytes, type, code, names }) => {
    const ledger = createMemoryLedger();
    const declaration = await launchedDeclaration(ledger);
    const content = bytes(declaration.go);

    // (1) the parser: a typed error naming the problem, found early (bounded: never read, or
    // expanded, whole), quoting nothing it would have had to fetch
    const error = await typedFailure(parseResponseStream(streamed(content)), type, code, names);
    expect((error as ResponseParseError | ResponseTooLargeError).offset).toBeLessThanOrEqual(
      Math.min(content.length, 4 * MIB),
    );
    expect(error.message).not.toMatch(/root:/);
    expect(error.message.length).toBeLessThan(1_000);

    // the same answer in OUTTEST, pulled
    const set = responseSet('ACRF', '00001', 'T');
    writeFileSync(simulator.pathOf('OUTTEST', set.fo), content);
    writeFileSync(simulator.pathOf('OUTTEST', set.go), '');
    const store = freshStore();
    const { report, events } = await pull(ledger, store, ['T']);
    // (1) raised as malformed with the parser's reason
    expect(report.failed).toEqual([]);
    expect(report.sets).toEqual([
      expect.objectContaining({
        id: set.id,
        interpretation: expect.objectContaining({ kind: 'malformed' }),
      }),
    ]);
    const malformed = events.find((event) => event.type === 'response.malformed');
    expect(malformed?.message).toContain(error.message);
    // (2) nothing acted on: the declaration it claims to accept is still only launched
    expect(await ledger.get(declaration.id)).toMatchObject({ state: 'launched' });
    expect((await ledger.get(declaration.id))?.acknowledgement).toBeUndefined();
    // (3) nothing lost: deleted from the server only once stored, byte for byte
    expect(simulator.files('OUTTEST')).toEqual([]);
    const kept = readFileSync(join(store, 'responses', 'T', '20261120', 'ACRF', set.fo));
    expect(sha256(kept)).toBe(sha256(content));
    expect((await ledger.getResponse(set.id))?.files[0]?.sha256).toBe(sha256(content));
  });

  it('a 32 MiB text node in FileName: read in bounded memory and cut, not kept whole', () => {
    // Not refused: long text is legal XML. What matters is that it is never held whole.
    const huge = acrf(
      `<FileReference><FileName>${'A'.repeat(32 * MIB)}</FileName></FileReference>`,
    );
    const document = parseResponseBuffer(Buffer.from(huge)) as AcrfDocument;
    expect(document.kind).toBe('acrf');
    expect(document.forms[0]?.fileName).toHaveLength(1024);
    expect(document.forms[0]?.answered).toBeUndefined(); // matched to no declaration
  });
});

describe('hostile responses pulled from the transfer point', () => {
  it('files named to climb out of the store (--copy-foreign): kept inside, left on the server', async () => {
    const names = ['.profile', '-rf', 'evil\u001b]0;owned\u0007.txt', '%2e%2e%2fup'];
    // Written beside the simulator (its pathOf takes bare, tame names only).
    const outTest = simulator.pathOf('OUTTEST');
    for (const name of names) writeFileSync(join(outTest, name), `payload ${name}`);
    const parent = join(scratch.dir, 'climb');
    const dest = join(parent, 'dest');
    const run = await cli(
      [
        'pull',
        '--env',
        'T',
        '--dest',
        dest,
        '--copy-foreign',
        ...serverFlags(simulator, join(parent, 'ledger.sqlite')),
      ],
      { FTP_PASSWORD: simulator.password },
    );
    try {
      // (1) each is reported as a foreign file, shown escaped (no terminal escape obeyed)
      expect(run.code).toBe(0);
      expect(run.stdout.match(/response\.foreign-file/g)).toHaveLength(names.length);
      expectPrintable(run.stdout);
      expectPrintable(run.stderr);
      // (2) nothing escaped the store: the only files beside it are the ledger's
      expect(readdirSync(parent).sort()).toEqual(['dest', 'ledger.sqlite']);
      expect(filesUnder(dest)).toEqual(
        [
          'events.jsonl',
          'foreign/OUTTEST/_profile',
          'foreign/OUTTEST/-rf',
          'foreign/OUTTEST/_2e_2e_2fup',
          'foreign/OUTTEST/evil__0_owned_.txt',
        ].sort(),
      );
      // (3) nothing lost: never deleted from the server, the copies byte for byte
      expect(simulator.files('OUTTEST').sort()).toEqual([...names].sort());
      expect(readFileSync(join(dest, 'foreign/OUTTEST/-rf'), 'utf8')).toBe('payload -rf');
      const ledger = openSqliteLedger(join(parent, 'ledger.sqlite'));
      expect(await ledger.listResponses()).toEqual([]);
      await ledger.close();
    } finally {
      // the folder is shared with the other cases: leave it empty
      for (const name of names) rmSync(join(outTest, name), { force: true });
    }
  });
});

describe('a foreign file the transport will not fetch', () => {
  // Found by this corpus: with --copy-foreign, each foreign file was copied outside any try,
  // so one whose name the transport refuses to fetch (`..\\..\\evil.sh`, refused as
  // TRANSPORT_PATH) stopped the whole pull before any answer beside it was taken.
  it('a file named ..\\..\\evil.sh does not stop the answers beside it', async () => {
    const set = responseSet('ACRF', '00031', 'T');
    const outTest = simulator.pathOf('OUTTEST');
    const planted = '..\\..\\evil.sh';
    writeFileSync(join(outTest, planted), 'evil');
    writeFileSync(simulator.pathOf('OUTTEST', set.fo), acrf('<TypeForm>FA</TypeForm>'));
    writeFileSync(simulator.pathOf('OUTTEST', set.go), '');
    try {
      const { report } = await pull(createMemoryLedger(), freshStore(), ['T'], true);
      expect(report.foreign).toEqual([`OUTTEST/${planted}`]);
      expect(report.sets.map((pulled) => pulled.id)).toEqual([set.id]);
    } finally {
      for (const name of readdirSync(outTest)) rmSync(join(outTest, name));
    }
  });
});

describe('hostile compressed (CO) answers', () => {
  /** Puts a CO set holding `zip` in OUTTEST, pulls it, returns what the pull said. */
  async function pullZip(zip: Buffer, seq: string) {
    const set = responseSet('NOTI', seq, 'T');
    writeFileSync(simulator.pathOf('OUTTEST', set.co), zip);
    writeFileSync(simulator.pathOf('OUTTEST', set.go), '');
    const ledger = createMemoryLedger();
    const store = freshStore();
    const pulled = await pull(ledger, store, ['T']);
    const coKey = join(store, 'responses', 'T', '20261120', 'NOTI', set.co);
    return { ...pulled, set, store, coKey, ledger };
  }

  const xml = Buffer.from(
    '<NOTIFICATION><Form><Identification>NOTI001</Identification></Form></NOTIFICATION>',
  );

  it('zip-slip entries (../, absolute, drive letter, backslashes): refused, none written outside', async () => {
    const marker = `onss-zip-slip-${process.pid}`;
    const climbing = [
      `../../../../../../tmp/${marker}`,
      `/tmp/${marker}`,
      `C:\\Windows\\Temp\\${marker}`,
      `ok\\..\\..\\..\\${marker}`,
      `a/../../${marker}`,
    ];
    const zip = buildZip([
      ...climbing.map((name) => ({ name, data: Buffer.from('evil') })),
      { name: 'answer.xml', data: xml },
    ]);
    const { report, events, store, coKey } = await pullZip(zip, '00011');
    // (1) each climbing entry refused by name, the set's unpacking marked partial
    const unpacked = report.sets[0]?.interpretation?.unpacked;
    expect(unpacked?.outcome).toBe('partial');
    expect(unpacked?.problems).toHaveLength(climbing.length);
    for (const problem of unpacked?.problems ?? []) {
      expect(problem).toMatch(/refused: absolute or climbing out of its folder/);
    }
    expect(events.map((event) => event.type)).toContain('response.unpack-problem');
    // (2) nothing written outside the store, and inside only the one sane entry
    expect(existsSync(`/tmp/${marker}`)).toBe(false);
    expect(filesUnder(store).filter((path) => path.includes('.unpacked/'))).toEqual([
      'responses/T/20261120/NOTI/CO.NOTI.999999.20261120.00011.T.unpacked/answer.xml',
    ]);
    // (3) the CO itself kept byte for byte
    expect(sha256(readFileSync(coKey))).toBe(sha256(zip));
  });

  it('a zip bomb (an entry declaring 2 GiB): UNPACK_LIMIT, nothing inflated, the CO kept', async () => {
    const zip = buildZip([{ name: 'bomb.xml', data: xml, declaredSize: 2 * 1024 * MIB }]);
    const { report, events, store, coKey } = await pullZip(zip, '00012');
    const unpacked = report.sets[0]?.interpretation?.unpacked;
    expect(unpacked?.outcome).toBe('failed');
    expect(unpacked?.problems).toEqual([
      expect.stringMatching(/could not be unpacked: unpacks to more than 1073741824 bytes/),
    ]);
    expect(events.find((e) => e.type === 'response.unpack-problem')?.message).toMatch(
      /the original is kept/,
    );
    expect(filesUnder(store).filter((path) => path.includes('.unpacked/'))).toEqual([]);
    expect(sha256(readFileSync(coKey))).toBe(sha256(zip));
  });

  it('entries whose names collide once cleaned: the second refused, the first kept', async () => {
    const zip = buildZip([
      { name: 'a b.xml', data: xml },
      { name: 'a\u0000b.xml', data: Buffer.from('<other/>') },
    ]);
    const { report, store, coKey } = await pullZip(zip, '00013');
    const unpacked = report.sets[0]?.interpretation?.unpacked;
    expect(unpacked?.outcome).toBe('partial');
    expect(unpacked?.problems).toEqual([
      expect.stringMatching(/refused: same store key as an earlier entry \(a_b\.xml\)/),
    ]);
    const entry = join(
      store,
      'responses/T/20261120/NOTI/CO.NOTI.999999.20261120.00013.T.unpacked/a_b.xml',
    );
    expect(readFileSync(entry)).toEqual(xml);
    expect(sha256(readFileSync(coKey))).toBe(sha256(zip));
  });
});

describe('responses whose names collide', () => {
  // Found by this corpus: a set whose id the ledger held was "finished", its files deleted as
  // soon as their names and sizes matched the recorded ones. Right after a crash between store
  // and delete; but the id leaves the folder out, and a record already `deleted` means its
  // files are gone: files of that name later, or in another folder, are other answers, and
  // were deleted unstored. Now a set named for another environment than its folder is foreign,
  // and one whose record is `deleted` is kept on the server (RESPONSE_NAME_REUSED).
  it('a T-named set placed in OUT, same size as the one pulled from OUTTEST, is not deleted unstored', async () => {
    const set = responseSet('ACRF', '00021', 'T');
    const genuine = Buffer.from(acrf('<TypeForm>FA</TypeForm>'));
    const other = Buffer.from(acrf('<TypeForm>XX</TypeForm>')); // same size, other bytes
    expect(other.length).toBe(genuine.length);
    writeFileSync(simulator.pathOf('OUTTEST', set.fo), genuine);
    writeFileSync(simulator.pathOf('OUTTEST', set.go), '');
    const ledger = createMemoryLedger();
    const store = freshStore();
    try {
      await pull(ledger, store, ['T']);
      writeFileSync(simulator.pathOf('OUT', set.fo), other);
      writeFileSync(simulator.pathOf('OUT', set.go), '');
      await pull(ledger, store, ['R']);
      // the genuine answer is stored as recorded...
      const stored = readFileSync(join(store, 'responses/T/20261120/ACRF', set.fo));
      expect(sha256(stored)).toBe(sha256(genuine));
      // ...and the other one is on the server still, or somewhere in the store
      const onServer = simulator.files('OUT').includes(set.fo);
      const inStore = filesUnder(store).some(
        (path) => sha256(readFileSync(join(store, path))) === sha256(other),
      );
      expect(onServer || inStore).toBe(true);
    } finally {
      for (const name of simulator.files('OUT')) rmSync(simulator.pathOf('OUT', name));
    }
  });

  // The same cause, in one folder: the transfer point (or whoever writes there) reuses a name.
  it('a new answer reusing the name of one already pulled is not deleted unstored', async () => {
    const set = responseSet('ACRF', '00022', 'T');
    const first = Buffer.from(acrf('<TypeForm>FA</TypeForm>'));
    const second = Buffer.from(acrf('<TypeForm>PA</TypeForm>')); // same size, other bytes
    expect(second.length).toBe(first.length);
    const ledger = createMemoryLedger();
    const store = freshStore();
    writeFileSync(simulator.pathOf('OUTTEST', set.fo), first);
    writeFileSync(simulator.pathOf('OUTTEST', set.go), '');
    await pull(ledger, store, ['T']);
    writeFileSync(simulator.pathOf('OUTTEST', set.fo), second);
    writeFileSync(simulator.pathOf('OUTTEST', set.go), '');
    await pull(ledger, store, ['T']);
    // the second answer is on the server still, or somewhere in the store
    const onServer = simulator.files('OUTTEST').includes(set.fo);
    const inStore = filesUnder(store).some(
      (path) => sha256(readFileSync(join(store, path))) === sha256(second),
    );
    expect(onServer || inStore).toBe(true);
  });
});

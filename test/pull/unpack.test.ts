import { mkdirSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  PullOptionsError,
  UnpackLimitError,
  detectCompression,
  entryPath,
  resolveUnpackLimits,
  unpackResponse,
  type UnpackLimits,
  type UnpackResult,
} from '../../shared/pull';
import { buildZip, type ZipEntrySpec } from '../../transfer-point';
import { localFolderStore } from '../../shared/store';
import { scratchDir } from '../helpers/pki';

const { dir, cleanup } = scratchDir('onss-unpack-test-');
const store = localFolderStore(join(dir, 'store'));
const scratch = join(dir, 'tmp');
const savedTmp = process.env.TMPDIR;

beforeAll(() => {
  // os.tmpdir() reads TMPDIR on each call: the zip's temporary copy lands where we can see it.
  mkdirSync(scratch);
  mkdirSync(join(dir, 'store'));
  process.env.TMPDIR = scratch;
});
afterAll(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  cleanup();
});

const NOTI = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?><NOTIFICATION><Form><Identification>NOTI001</Identification></Form></NOTIFICATION>',
);
const ZEROS = Buffer.alloc(1024 * 1024);
const SMALL: Partial<UnpackLimits> = { maxEntries: 4, maxTotalBytes: 100_000 };

let counter = 0;
async function storeCo(parts: Buffer[]): Promise<{ keys: string[]; folder: string }> {
  counter += 1;
  const base = `responses/T/20261125/NOTI/CO.NOTI.999999.20261125.${String(counter).padStart(5, '0')}.T`;
  const keys =
    parts.length === 1 ? [base] : parts.map((_, i) => `${base}.${parts.length}.${i + 1}`);
  for (const [i, part] of parts.entries())
    await store.put(keys[i] as string, Readable.from([part]));
  return { keys, folder: `${keys[0]}.unpacked/` };
}

/** Every file under the store, as keys. */
function storeKeys(): string[] {
  const root = join(dir, 'store');
  return (readdirSync(root, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .sort();
}

interface Case {
  title: string;
  parts: () => Buffer[];
  limits?: Partial<UnpackLimits>;
  expected: {
    format: UnpackResult['format'];
    outcome: UnpackResult['outcome'];
    /** Path below the folder of each stored entry, with its content. */
    entries: Array<[path: string, content: Buffer]>;
    problems: RegExp[];
  };
}

const zip = (entries: ZipEntrySpec[]) => () => [buildZip(entries)];

const cases: Case[] = [
  {
    title: 'a stored (method 0) zip of one file',
    parts: zip([{ name: 'FO.NOTI.999999.20261125.00001.T', data: NOTI, method: 'store' }]),
    expected: {
      format: 'zip',
      outcome: 'unpacked',
      entries: [['FO.NOTI.999999.20261125.00001.T', NOTI]],
      problems: [],
    },
  },
  {
    title: 'a deflated zip with a folder, a nested file and a Windows path',
    parts: zip([
      { name: 'out/', data: Buffer.alloc(0), method: 'store' },
      { name: 'out/answer.xml', data: NOTI },
      { name: 'win\\answer.xml', data: Buffer.from('w') },
    ]),
    expected: {
      format: 'zip',
      outcome: 'unpacked',
      entries: [
        ['out/answer.xml', NOTI],
        ['win/answer.xml', Buffer.from('w')],
      ],
      problems: [],
    },
  },
  {
    title: 'a gzip stream, stored under the CO name',
    parts: () => [gzipSync(NOTI)],
    expected: { format: 'gzip', outcome: 'unpacked', entries: [['<CO>', NOTI]], problems: [] },
  },
  {
    title: 'a gzip stream cut in two parts, joined in order',
    parts: () => {
      const whole = gzipSync(NOTI);
      return [whole.subarray(0, 10), whole.subarray(10)];
    },
    expected: { format: 'gzip', outcome: 'unpacked', entries: [['<CO>', NOTI]], problems: [] },
  },
  {
    title: 'not compressed: kept as it came',
    parts: () => [NOTI],
    expected: {
      format: 'unknown',
      outcome: 'kept',
      entries: [],
      problems: [/neither zip nor gzip \(first bytes 3c3f786d\): kept as it came/],
    },
  },
  {
    title: 'an empty file: kept as it came',
    parts: () => [Buffer.alloc(0)],
    expected: { format: 'unknown', outcome: 'kept', entries: [], problems: [/first bytes none/] },
  },
  {
    title: 'an empty zip (end record only)',
    parts: zip([]),
    expected: { format: 'zip', outcome: 'unpacked', entries: [], problems: [/holds no file/] },
  },
  {
    title: 'a corrupt zip (the magic, then garbage)',
    parts: () => [Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 7)])],
    expected: {
      format: 'zip',
      outcome: 'failed',
      entries: [],
      problems: [/zip archive could not be unpacked: end of central directory/i],
    },
  },
  {
    title: 'a truncated zip',
    parts: () => [buildZip([{ name: 'a.xml', data: NOTI }]).subarray(0, 60)],
    expected: {
      format: 'zip',
      outcome: 'failed',
      entries: [],
      problems: [/could not be unpacked/],
    },
  },
  {
    title: 'a corrupt gzip stream',
    parts: () => [Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(50, 9)])],
    expected: {
      format: 'gzip',
      outcome: 'failed',
      entries: [],
      problems: [/gzip stream could not be unpacked/],
    },
  },
  {
    title: 'zip slip: climbing, absolute and drive names refused, the good entry kept',
    parts: zip([
      { name: '../../../../evil.txt', data: Buffer.from('x') },
      { name: '/etc/evil', data: Buffer.from('x') },
      { name: 'C:\\evil.txt', data: Buffer.from('x') },
      { name: 'a/../../evil.txt', data: Buffer.from('x') },
      { name: '..\\evil.txt', data: Buffer.from('x') },
      { name: 'ok.xml', data: NOTI },
    ]),
    limits: { maxEntries: 10 },
    expected: {
      format: 'zip',
      outcome: 'partial',
      entries: [['ok.xml', NOTI]],
      problems: [
        /"..\/..\/..\/..\/evil.txt" refused: absolute or climbing/,
        /"\/etc\/evil" refused/,
        /"C:\/evil.txt" refused/,
        /"a\/..\/..\/evil.txt" refused/,
        /"..\/evil.txt" refused/,
      ],
    },
  },
  {
    title: 'odd characters become _; a name that collides after that is refused',
    parts: zip([
      { name: 'réponse\t1 ;$(rm).xml', data: Buffer.from('1') },
      { name: './x y.xml', data: Buffer.from('2') },
      { name: 'x_y.xml', data: Buffer.from('3') },
      { name: Buffer.from([0x41, 0x00, 0xff, 0x2e, 0x78]), data: Buffer.from('4') },
    ]),
    expected: {
      format: 'zip',
      outcome: 'partial',
      entries: [
        ['r_ponse_1____rm_.xml', Buffer.from('1')],
        ['x_y.xml', Buffer.from('2')],
        ['A__.x', Buffer.from('4')],
      ],
      problems: [/"x_y.xml" refused: same store key as an earlier entry/],
    },
  },
  {
    title: 'too many entries: refused before any is unpacked',
    parts: zip(
      Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.xml`, data: Buffer.from('x') })),
    ),
    limits: SMALL,
    expected: {
      format: 'zip',
      outcome: 'failed',
      entries: [],
      problems: [/lists 5 entries, more than the 4 allowed/],
    },
  },
  {
    title: 'a zip bomb (1 MiB of zeros in 1 KiB): refused on its declared size',
    parts: zip([{ name: 'bomb.xml', data: ZEROS }]),
    limits: SMALL,
    expected: {
      format: 'zip',
      outcome: 'failed',
      entries: [],
      problems: [/more than 100000 bytes \(the limit\)/],
    },
  },
  {
    title: 'a zip bomb that lies about its size: stopped by the bytes, nothing kept of it',
    parts: zip([{ name: 'liar.xml', data: ZEROS, declaredSize: 10 }]),
    limits: SMALL,
    expected: {
      format: 'zip',
      outcome: 'failed',
      entries: [],
      problems: [/could not be unpacked/],
    },
  },
  {
    title: 'the byte cap counts every entry together',
    parts: zip([
      { name: 'a.xml', data: ZEROS.subarray(0, 60_000) },
      { name: 'b.xml', data: ZEROS.subarray(0, 60_000) },
    ]),
    limits: SMALL,
    expected: {
      format: 'zip',
      outcome: 'failed',
      entries: [['a.xml', ZEROS.subarray(0, 60_000)]],
      problems: [/more than 100000 bytes/],
    },
  },
  {
    title: 'a gzip bomb: stopped at the cap, nothing kept of it',
    parts: () => [gzipSync(ZEROS)],
    limits: SMALL,
    expected: {
      format: 'gzip',
      outcome: 'failed',
      entries: [],
      problems: [/gzip stream could not be unpacked: unpacks to more than 100000 bytes/],
    },
  },
  {
    title: 'an encrypted entry is refused, the others unpacked',
    parts: zip([
      { name: 'secret.xml', data: NOTI, flags: 0x0001 },
      { name: 'plain.xml', data: NOTI },
    ]),
    expected: {
      format: 'zip',
      outcome: 'partial',
      entries: [['plain.xml', NOTI]],
      problems: [/"secret.xml" refused: encrypted/],
    },
  },
];

describe('unpackResponse', () => {
  it.each(cases)('$title', async ({ parts, limits, expected }) => {
    // Prepare
    const before = storeKeys();
    const { keys, folder } = await storeCo(parts());
    const originals = keys.map((key) => readFileSync(join(dir, 'store', key)));

    // Act
    const result = await unpackResponse(store, keys, limits);

    // Assess
    expect(result).toMatchObject({ format: expected.format, outcome: expected.outcome, folder });
    const coName = (keys[0] as string).split('/').at(-1) as string;
    const wanted = expected.entries.map(([path]) => `${folder}${path === '<CO>' ? coName : path}`);
    expect(result.entries.map((e) => e.key)).toEqual(wanted);
    for (const [i, [, content]] of expected.entries.entries()) {
      const entry = result.entries[i];
      expect(readFileSync(join(dir, 'store', entry?.key as string))).toEqual(content);
      expect(entry?.size).toBe(content.length);
    }
    expect(result.problems).toHaveLength(expected.problems.length);
    for (const [i, problem] of expected.problems.entries()) {
      expect(result.problems[i]).toMatch(problem);
    }
    // Only the original and what is listed were written: nothing outside the folder, no
    // half-written object of a refused or stopped entry, no temporary copy left behind.
    expect(storeKeys()).toEqual([...before, ...keys, ...wanted].sort());
    keys.forEach((key, i) => expect(readFileSync(join(dir, 'store', key))).toEqual(originals[i]));
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('refuses limits that are not positive whole numbers', () => {
    expect(() => resolveUnpackLimits({ maxEntries: 0 })).toThrow(PullOptionsError);
    expect(() => resolveUnpackLimits({ maxTotalBytes: 1.5 })).toThrow(
      /unpack.maxTotalBytes must be a whole number/,
    );
    expect(resolveUnpackLimits({ maxEntries: 3 })).toEqual({
      maxEntries: 3,
      maxTotalBytes: 1024 * 1024 * 1024,
    });
  });

  it('the limit error is an UnpackLimitError with its code', () => {
    const error = new UnpackLimitError('too much');
    expect(error).toMatchObject({ code: 'UNPACK_LIMIT', name: 'UnpackLimitError' });
  });
});

describe('detectCompression', () => {
  it.each([
    { title: 'zip', input: [0x50, 0x4b, 0x03, 0x04, 0], expected: 'zip' },
    { title: 'empty zip', input: [0x50, 0x4b, 0x05, 0x06], expected: 'zip' },
    { title: 'gzip', input: [0x1f, 0x8b, 8], expected: 'gzip' },
    { title: 'xml', input: [0x3c, 0x3f], expected: 'unknown' },
    { title: 'PK alone', input: [0x50, 0x4b], expected: 'unknown' },
    { title: 'nothing', input: [], expected: 'unknown' },
  ])('$title', ({ input, expected }) => {
    expect(detectCompression(Uint8Array.from(input))).toBe(expected);
  });
});

describe('entryPath', () => {
  it.each([
    { input: 'a/b.xml', expected: { path: 'a/b.xml' } },
    { input: './a//b.xml', expected: { path: 'a/b.xml' } },
    { input: 'a\\b.xml', expected: { path: 'a/b.xml' } },
    { input: '.hidden', expected: { path: '.hidden' } },
    { input: 'é ü.xml', expected: { path: '___.xml' } },
    { input: '...', expected: { path: '...' } },
    { input: '../x', expected: { refused: 'absolute or climbing out of its folder' } },
    { input: 'a/..', expected: { refused: 'absolute or climbing out of its folder' } },
    { input: '/x', expected: { refused: 'absolute or climbing out of its folder' } },
    { input: 'c:x', expected: { refused: 'absolute or climbing out of its folder' } },
    { input: './', expected: { refused: 'an empty name' } },
  ])('$input', ({ input, expected }) => {
    expect(entryPath(input)).toEqual(expected);
  });
});

/**
 * Unpacking compressed responses (CO). The transfer point may answer with a compressed data
 * file instead of an FO; it is kept as it came and, when it is a zip or a gzip stream, its
 * content is written beside it in the store:
 *
 * - zip: `<key of the CO>.unpacked/<entry path>`, each `/`-separated segment of the entry's
 *   name reduced to the store's key characters (anything but `A-Z a-z 0-9 . _ -` becomes `_`);
 * - gzip: `<key of the CO>.unpacked/<name of the CO>` (the optional name in the gzip header
 *   is not trusted, and not needed: a gzip stream holds one file).
 *
 * The format is told by magic bytes, never by the name (CO names carry no extension). A set
 * cut into parts is unpacked from its parts joined in order, as FO parts are read, beside
 * part 1. Archives are hostile input: an entry whose name climbs out (`..`), is absolute or
 * would make an invalid key is refused; an encrypted entry is refused; more entries or more
 * unpacked bytes than the limits stop the unpacking (zip bombs). None of this throws: the
 * problems are returned for the caller to record and raise, and the original stays stored,
 * so a bad archive is never a reason to lose an answer or to leave it on the server.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as yauzl from 'yauzl';
import { checkStoreKey, type ObjectStore, type StoredObject } from '../store';
import { PullOptionsError, UnpackLimitError } from './errors';

/** What the first bytes of a compressed response say it is. */
export type CompressionFormat = 'zip' | 'gzip' | 'unknown';

/** How far a compressed response may unpack. */
export interface UnpackLimits {
  /** Most entries an archive may list; with more, nothing is unpacked. Default 100. */
  maxEntries: number;
  /** Most bytes unpacked from one response, all entries together. Default 1 GiB. */
  maxTotalBytes: number;
}

/** Defaults of UnpackLimits: far above any answer the transfer point writes (one file). */
export const UNPACK_DEFAULTS: Readonly<UnpackLimits> = Object.freeze({
  maxEntries: 100,
  maxTotalBytes: 1024 * 1024 * 1024,
});

/** One file unpacked into the store. */
export interface UnpackedEntry {
  /** The entry's name in the archive, as given (cut at 200 characters), for people. */
  name: string;
  key: string;
  size: number;
  sha256: string;
}

/**
 * What unpacking a compressed response did:
 * - `unpacked`: every entry stored (an empty archive too, with a problem saying so);
 * - `partial`: some entries refused (unsafe name, encrypted, unsupported method), the others
 *   stored;
 * - `failed`: stopped (corrupt archive, a limit passed, the store refused); entries stored
 *   before the stop are listed;
 * - `kept`: neither zip nor gzip: kept as it came, nothing unpacked.
 */
export interface UnpackResult {
  format: CompressionFormat;
  outcome: 'unpacked' | 'partial' | 'failed' | 'kept';
  /** The key prefix the content goes under: `<key of the CO>.unpacked/`. */
  folder: string;
  entries: UnpackedEntry[];
  /** What was refused or went wrong, one sentence each, for people; empty when all is well. */
  problems: string[];
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04] as const;
// An archive with no entry starts with its end-of-central-directory record.
const EMPTY_ZIP_MAGIC = [0x50, 0x4b, 0x05, 0x06] as const;
const GZIP_MAGIC = [0x1f, 0x8b] as const;
const SAFE_CHARACTER = /[^A-Za-z0-9._-]/g;
const SHOWN_NAME_CHARS = 200;

/**
 * Merges `limits` over UNPACK_DEFAULTS and checks them once.
 *
 * @throws PullOptionsError when a limit is not a positive whole number
 */
export function resolveUnpackLimits(limits: Partial<UnpackLimits> = {}): UnpackLimits {
  const resolved = { ...UNPACK_DEFAULTS, ...limits };
  for (const option of ['maxEntries', 'maxTotalBytes'] as const) {
    const value = resolved[option];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new PullOptionsError(`unpack.${option}`, 'must be a whole number of at least 1');
    }
  }
  return resolved;
}

/** The store key folder an unpacked response goes under. */
export function unpackedFolder(dataKey: string): string {
  return `${dataKey}.unpacked/`;
}

/** The format a response's first bytes announce. */
export function detectCompression(head: Uint8Array): CompressionFormat {
  const startsWith = (magic: readonly number[]) => magic.every((byte, i) => head[i] === byte);
  if (startsWith(ZIP_MAGIC) || startsWith(EMPTY_ZIP_MAGIC)) return 'zip';
  if (startsWith(GZIP_MAGIC)) return 'gzip';
  return 'unknown';
}

/**
 * The store path (below the folder) of a zip entry's name, or why it is refused. Backslashes
 * count as separators (zips made on Windows); a name that is absolute, has a drive letter or
 * a `..` segment is refused outright (zip slip), not repaired; empty and `.` segments are
 * dropped; any other character outside the store's key set becomes `_`.
 */
export function entryPath(name: string): { path: string } | { refused: string } {
  const unix = name.replace(/\\/g, '/');
  const unsafe = yauzl.validateFileName(unix);
  if (unsafe !== null || /^[A-Za-z]:/.test(unix) || unix.startsWith('/')) {
    return { refused: 'absolute or climbing out of its folder' };
  }
  const segments = unix
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .map((segment) => segment.replace(SAFE_CHARACTER, '_'));
  if (segments.length === 0) return { refused: 'an empty name' };
  return { path: segments.join('/') };
}

/** Joins the parts of a response, in order, as one stream from the store. */
export function openJoined(store: ObjectStore, keys: readonly string[]): Readable {
  return Readable.from(
    (async function* parts() {
      for (const key of keys) yield* await store.open(key);
    })(),
    { objectMode: false },
  );
}

async function readHead(store: ObjectStore, keys: readonly string[]): Promise<Buffer> {
  const stream = openJoined(store, keys);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= 4) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, Math.min(size, 4)); // copies 4 bytes, not the chunks
}

function shown(name: string): string {
  return JSON.stringify(name.length > SHOWN_NAME_CHARS ? name.slice(0, SHOWN_NAME_CHARS) : name);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Counts what passes against a budget shared by every entry of the response. */
function budgetTap(budget: { left: number }, limit: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      budget.left -= chunk.length;
      if (budget.left < 0) {
        done(new UnpackLimitError(`unpacks to more than ${limit} bytes (the limit)`));
        return;
      }
      done(null, chunk);
    },
  });
}

/**
 * Streams `source` through `transforms` into the store under `key`. The decompressor's
 * failure (or the budget's) is reported in preference to the store's, which only echoes it.
 */
async function storeThrough(
  store: ObjectStore,
  key: string,
  source: Readable,
  transforms: Transform[],
): Promise<StoredObject> {
  const output = new PassThrough();
  const piping = pipeline([source, ...transforms, output]);
  const putting = store.put(key, output);
  // A store that gives up without draining its input must not leave the pipeline waiting.
  putting.catch((error: unknown) => output.destroy(error as Error));
  const [piped, put] = await Promise.allSettled([piping, putting]);
  if (piped.status === 'rejected' && !isPrematureClose(piped.reason)) throw piped.reason;
  if (put.status === 'rejected') throw put.reason;
  if (piped.status === 'rejected') throw piped.reason;
  return put.value;
}

function isPrematureClose(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

async function unpackGzip(
  store: ObjectStore,
  keys: readonly string[],
  folder: string,
  limits: UnpackLimits,
): Promise<UnpackResult> {
  const first = keys[0] as string;
  const name = first.slice(first.lastIndexOf('/') + 1);
  const budget = { left: limits.maxTotalBytes };
  try {
    const key = checkStoreKey(`${folder}${name}`);
    const stored = await storeThrough(store, key, openJoined(store, keys), [
      createGunzip(),
      budgetTap(budget, limits.maxTotalBytes),
    ]);
    return {
      format: 'gzip',
      outcome: 'unpacked',
      folder,
      entries: [{ name, key, size: stored.size, sha256: stored.sha256 }],
      problems: [],
    };
  } catch (error) {
    return {
      format: 'gzip',
      outcome: 'failed',
      folder,
      entries: [],
      problems: [`the gzip stream could not be unpacked: ${messageOf(error)}`],
    };
  }
}

/**
 * Unpacks a zip. yauzl needs random access (the central directory is at the end, entries are
 * read from their offsets) and the ObjectStore port only streams a whole object (S3 reads
 * would need ranged GETs the port does not offer), so the archive is first streamed from the
 * store into a private temporary folder under os.tmpdir() (mode 0700), read there, and
 * removed whatever happens. Disk use is the compressed size; memory stays a few chunks.
 */
async function unpackZip(
  store: ObjectStore,
  keys: readonly string[],
  folder: string,
  limits: UnpackLimits,
): Promise<UnpackResult> {
  const result: UnpackResult = {
    format: 'zip',
    outcome: 'unpacked',
    folder,
    entries: [],
    problems: [],
  };
  const scratch = await mkdtemp(join(tmpdir(), 'onss-unpack-'));
  let zip: yauzl.ZipFile | undefined;
  try {
    const path = join(scratch, 'archive.zip');
    await pipeline(openJoined(store, keys), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
    // decodeStrings off: yauzl would fail the whole archive on one unsafe name; we refuse
    // that entry alone, and decode the names ourselves.
    zip = await yauzl.openPromise(path, {
      autoClose: false,
      decodeStrings: false,
      validateEntrySizes: true,
    });
    if (zip.entryCount > limits.maxEntries) {
      throw new UnpackLimitError(
        `lists ${zip.entryCount} entries, more than the ${limits.maxEntries} allowed`,
      );
    }
    const budget = { left: limits.maxTotalBytes };
    const used = new Set<string>();
    for await (const entry of zip.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw,
        entry.extraFields,
        false,
      );
      if (name.endsWith('/') && entry.uncompressedSize === 0) continue; // a folder
      const refuse = (why: string) => {
        result.problems.push(`entry ${shown(name)} refused: ${why}`);
        result.outcome = 'partial';
      };
      if (entry.isEncrypted()) {
        refuse('encrypted');
        continue;
      }
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
        refuse(`compression method ${entry.compressionMethod} is not supported`);
        continue;
      }
      const path = entryPath(name);
      if ('refused' in path) {
        refuse(path.refused);
        continue;
      }
      let key: string;
      try {
        key = checkStoreKey(`${folder}${path.path}`);
      } catch {
        refuse('too long for a store key');
        continue;
      }
      if (used.has(key)) {
        refuse(`same store key as an earlier entry (${path.path})`);
        continue;
      }
      used.add(key);
      // The sizes in the directory are checked against the bytes by yauzl; refusing on them
      // first stops a bomb before a byte is inflated.
      if (entry.uncompressedSize > budget.left) {
        throw new UnpackLimitError(
          `unpacks to more than ${limits.maxTotalBytes} bytes (the limit)`,
        );
      }
      const stream = await zip.openReadStreamPromise(entry);
      const stored = await storeThrough(store, key, stream, [
        budgetTap(budget, limits.maxTotalBytes),
      ]);
      result.entries.push({
        name: name.slice(0, SHOWN_NAME_CHARS),
        key,
        size: stored.size,
        sha256: stored.sha256,
      });
    }
    if (result.entries.length === 0 && result.problems.length === 0) {
      result.problems.push('the archive holds no file');
    }
  } catch (error) {
    result.outcome = 'failed';
    result.problems.push(`the zip archive could not be unpacked: ${messageOf(error)}`);
  } finally {
    zip?.close();
    await rm(scratch, { recursive: true, force: true });
  }
  return result;
}

/**
 * Unpacks a stored compressed response (its data parts, joined in order) beside it in the
 * store; see the module comment for the layout and the guards. Never rejects for a bad
 * archive or a failed write: those come back as `failed` or `partial` with `problems`, for
 * the caller to record and raise. Only an invalid `limits` throws.
 *
 * @param store - where the response is and where its content goes
 * @param keys - the store keys of the data parts, in part order (one for most answers)
 * @param limits - entry count and byte caps, merged over UNPACK_DEFAULTS
 * @throws PullOptionsError when a limit is not a positive whole number
 */
export async function unpackResponse(
  store: ObjectStore,
  keys: readonly string[],
  limits: Partial<UnpackLimits> = {},
): Promise<UnpackResult> {
  const resolved = resolveUnpackLimits(limits);
  const first = keys[0];
  if (first === undefined) throw new PullOptionsError('keys', 'must name at least one part');
  const folder = unpackedFolder(first);
  let head: Buffer;
  try {
    head = await readHead(store, keys);
  } catch (error) {
    const problem = `the stored response could not be read: ${messageOf(error)}`;
    return { format: 'unknown', outcome: 'failed', folder, entries: [], problems: [problem] };
  }
  const format = detectCompression(head);
  if (format === 'zip') return unpackZip(store, keys, folder, resolved);
  if (format === 'gzip') return unpackGzip(store, keys, folder, resolved);
  return {
    format,
    outcome: 'kept',
    folder,
    entries: [],
    problems: [
      `neither zip nor gzip (first bytes ${head.toString('hex') || 'none'}): kept as it came`,
    ],
  };
}

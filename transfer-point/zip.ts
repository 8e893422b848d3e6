/**
 * A minimal ZIP writer: Node has a zip reader in no module and a writer in none, and the local
 * transfer point only needs to wrap one small answer (a compressed CO response). Entries are
 * stored (method 0) or deflated (method 8, raw deflate from node:zlib) with their CRC-32; no
 * ZIP64, no data descriptors, no encryption. The tests of the unpacker also build hostile
 * archives with it (odd names, a forged encryption flag, a size that lies), hence `flags` and
 * `declaredSize`.
 */
import { crc32, deflateRawSync } from 'node:zlib';

/** One file to put in an archive. */
export interface ZipEntrySpec {
  /** The entry's name as written: a string (written as UTF-8, flag bit 11 set) or raw bytes. */
  name: string | Buffer;
  data: Buffer;
  /** Default `deflate`. */
  method?: 'store' | 'deflate';
  /** Extra general-purpose flag bits (bit 0: encrypted), for tests of hostile archives. */
  flags?: number;
  /** The uncompressed size written in the headers; default the real one (tests of lies). */
  declaredSize?: number;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const UTF8_NAME = 0x0800;
// 1 January 2026 00:00 in MS-DOS form: a fixed time keeps the archives byte-for-byte stable.
const DOS_TIME = 0;
const DOS_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1;

/** Builds a ZIP archive of `entries`, in order, in memory (for small answers and tests). */
export function buildZip(entries: readonly ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = typeof entry.name === 'string' ? Buffer.from(entry.name, 'utf8') : entry.name;
    const method = entry.method === 'store' ? 0 : 8;
    const body = method === 0 ? entry.data : deflateRawSync(entry.data);
    const flags = (entry.flags ?? 0) | (typeof entry.name === 'string' ? UTF8_NAME : 0);
    const size = entry.declaredSize ?? entry.data.length;
    const crc = crc32(entry.data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // no extra field
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL_HEADER, 0);
    central.writeUInt16LE(20, 4); // version made by: 2.0, MS-DOS attributes
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    // extra, comment, disk number, internal and external attributes: all zero
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

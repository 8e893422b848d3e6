/**
 * Writing an answer as the transfer point does: the data (FO, or CO when compressed: a zip of
 * one entry or a gzip stream), its signature (FS, over the bytes of the data file as written),
 * then the empty GO that tells the sender the set is complete. Each file is written under a temporary
 * name and renamed, so a listing never shows half a file under a final name, and the GO comes
 * last, so a sender that waits for it never reads an FO without its FS.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeFileAtomic } from '../shared/local/atomic-file';
import { buildResponseName } from '../shared/names';
import type { Environment } from '../shared/names';
import { signFile } from '../shared/signing';
import type { SigningMaterial } from '../shared/signing';
import type { SimulatorResponseType } from './constants';
import { buildZip } from './zip';

/** One answer to write. */
export interface ResponseSet {
  /** Response folder on disk. */
  folderPath: string;
  type: SimulatorResponseType;
  /** Sender number of the author, the transfer point's own. */
  sender: string;
  /** Date of the names, YYYYMMDD. */
  date: string;
  /** 5-character sequence of the names. */
  seq: string;
  env: Environment;
  /** The document. */
  xml: string;
  /** Signs the data file. */
  identity: SigningMaterial;
  /** Compress the document into a CO data file; default none, an FO. */
  compression?: 'zip' | 'gzip';
}

/** The names of an answer's data (FO or CO), FS and GO files, in the order they are written. */
export function responseNames(
  set: Pick<ResponseSet, 'type' | 'sender' | 'date' | 'seq' | 'env' | 'compression'>,
): [data: string, fs: string, go: string] {
  const fields = { type: set.type, sender: set.sender, date: set.date, seq: set.seq, env: set.env };
  return [
    buildResponseName({ prefix: set.compression ? 'CO' : 'FO', ...fields }),
    buildResponseName({ prefix: 'FS', ...fields }),
    buildResponseName({ prefix: 'GO', ...fields }),
  ];
}

/** Whether any file of that answer already exists in `folderPath`. */
export function responseExists(
  folderPath: string,
  set: Pick<ResponseSet, 'type' | 'sender' | 'date' | 'seq' | 'env'>,
): boolean {
  const names = [...responseNames(set), responseNames({ ...set, compression: 'zip' })[0]];
  return names.some((name) => existsSync(join(folderPath, name)));
}

function dataOf(set: ResponseSet, entryName: string): string | Buffer {
  if (set.compression === 'gzip') return gzipSync(set.xml);
  if (set.compression === 'zip') return buildZip([{ name: entryName, data: Buffer.from(set.xml) }]);
  return set.xml;
}

/**
 * Writes the data file (FO, or CO with the document as the zip's one entry, named as the FO
 * would be, or as a gzip stream), then its FS (one base64 line), then the empty GO; returns
 * the three names.
 */
export async function writeResponseSet(set: ResponseSet): Promise<string[]> {
  const [data, fs, go] = responseNames(set);
  const foPath = join(set.folderPath, data);
  await writeFileAtomic(foPath, dataOf(set, responseNames({ ...set, compression: undefined })[0]));
  const signature = await signFile(foPath, set.identity, { format: 'line' });
  await writeFileAtomic(join(set.folderPath, fs), signature.fs);
  await writeFileAtomic(join(set.folderPath, go), '');
  return [data, fs, go];
}

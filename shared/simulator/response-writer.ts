/**
 * Writing an answer as the transfer point does: the data (FO), its signature (FS), then the
 * empty GO that tells the sender the set is complete. Each file is written under a temporary
 * name and renamed, so a listing never shows half a file under a final name, and the GO comes
 * last, so a sender that waits for it never reads an FO without its FS.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../local/atomic-file';
import { buildResponseName } from '../names';
import type { Environment } from '../names';
import { signFile } from '../signing';
import type { SigningMaterial } from '../signing';
import type { SimulatorResponseType } from './constants';

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
  /** The FO content. */
  xml: string;
  /** Signs the FO. */
  identity: SigningMaterial;
}

/** The names of an answer's FO, FS and GO files, in the order they are written. */
export function responseNames(
  set: Pick<ResponseSet, 'type' | 'sender' | 'date' | 'seq' | 'env'>,
): [fo: string, fs: string, go: string] {
  const fields = { type: set.type, sender: set.sender, date: set.date, seq: set.seq, env: set.env };
  return [
    buildResponseName({ prefix: 'FO', ...fields }),
    buildResponseName({ prefix: 'FS', ...fields }),
    buildResponseName({ prefix: 'GO', ...fields }),
  ];
}

/** Whether any file of that answer already exists in `folderPath`. */
export function responseExists(
  folderPath: string,
  set: Pick<ResponseSet, 'type' | 'sender' | 'date' | 'seq' | 'env'>,
): boolean {
  return responseNames(set).some((name) => existsSync(join(folderPath, name)));
}

/** Writes FO, then its FS (one base64 line), then the empty GO; returns the three names. */
export async function writeResponseSet(set: ResponseSet): Promise<string[]> {
  const [fo, fs, go] = responseNames(set);
  const foPath = join(set.folderPath, fo);
  await writeFileAtomic(foPath, set.xml);
  const signature = await signFile(foPath, set.identity, { format: 'line' });
  await writeFileAtomic(join(set.folderPath, fs), signature.fs);
  await writeFileAtomic(join(set.folderPath, go), '');
  return [fo, fs, go];
}

/**
 * Finding the files of one set in an upload folder. The files of a set share fields 2 to 7 of
 * their names (APP to NPARTS); this is matched on the text alone, so that a set whose names
 * break a reception rule can still be found, judged and removed.
 */
import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileChunks } from '../shared/io/read-file-chunks';
import { DECLARATION_FIELD_COUNT } from '../shared/names';
import type { DeclarationPrefix } from '../shared/names';

/** The prefix and set key of a name shaped like a declaration name, read from its text. */
export interface SetMember {
  prefix: DeclarationPrefix;
  /** Fields 2 to 7, joined by dots: `DMFA.123456.20260105.00001.T.1`. */
  setKey: string;
}

/**
 * Reads the prefix and the set key of `name` when it has the field count of its prefix (8
 * for FI and FS, 7 for GO and TD) and no empty field; undefined otherwise. No other rule is
 * applied: judging the name is the judge's work.
 */
export function setMemberOf(name: string): SetMember | undefined {
  const fields = name.split('.');
  const prefix = fields[0];
  const expected = Object.entries(DECLARATION_FIELD_COUNT).find(([known]) => known === prefix);
  if (expected === undefined || fields.length !== expected[1]) return undefined;
  if (fields.some((field) => field.length === 0)) return undefined;
  return { prefix: prefix as DeclarationPrefix, setKey: fields.slice(1, 7).join('.') };
}

/** Names in `folderPath` that belong to set `setKey` and carry one of `prefixes`, sorted. */
export async function findSetFiles(
  folderPath: string,
  setKey: string,
  prefixes: readonly DeclarationPrefix[],
): Promise<string[]> {
  const names = await readdir(folderPath);
  return names
    .filter((name) => {
      const member = setMemberOf(name);
      return member !== undefined && member.setKey === setKey && prefixes.includes(member.prefix);
    })
    .sort();
}

/** Removes `names` from `folderPath`; a file already gone is no error (a client may delete it). */
export async function removeFiles(folderPath: string, names: readonly string[]): Promise<void> {
  await Promise.all(names.map((name) => rm(join(folderPath, name), { force: true })));
}

/** What a set's FI parts held, joined in part order: what the reception received. */
export interface ReceivedContent {
  /** SHA-256 of the parts' bytes in part order, lower-case hex. */
  sha256: string;
  /** Their total size in bytes. */
  size: number;
  /** The FI part names, in part order. */
  parts: readonly string[];
}

/**
 * Hashes the FI parts among `names` (a set's files) in the order of their part number, or
 * undefined when the set has none. Streamed, so a 200 MB part is not held in memory.
 */
export async function receivedContent(
  folderPath: string,
  names: readonly string[],
): Promise<ReceivedContent | undefined> {
  const partNumber = (name: string): number => Number(name.split('.').at(-1));
  const parts = names.filter((name) => name.startsWith('FI.'));
  if (parts.length === 0) return undefined;
  parts.sort((a, b) => partNumber(a) - partNumber(b));
  const hash = createHash('sha256');
  let size = 0;
  for (const part of parts) {
    size += await readFileChunks(join(folderPath, part), (chunk) => hash.update(chunk));
  }
  return { sha256: hash.digest('hex'), size, parts };
}

import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { OnssTransferError } from '../errors';

/** A path that is not a regular file (a folder, a device, a pipe): never read or sent. */
export class NotARegularFileError extends OnssTransferError {
  constructor(path: string) {
    super(`${path} is not a regular file`, { code: 'NOT_A_REGULAR_FILE' });
  }
}

/**
 * Stats a path and refuses anything but a regular file, before a byte is
 * read: `/dev/zero` or a folder would otherwise be read forever or fail late.
 */
export async function statRegularFile(path: string): Promise<Stats> {
  const info = await stat(path);
  if (!info.isFile()) throw new NotARegularFileError(path);
  return info;
}

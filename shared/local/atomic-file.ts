import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OnssTransferError } from '../errors';

/** A file could not be written; the message names the file the user asked for. */
export class OutputWriteError extends OnssTransferError {
  constructor(path: string, cause: unknown) {
    const reason = (cause as { code?: unknown } | undefined)?.code;
    super(`cannot write ${path}${typeof reason === 'string' ? ` (${reason})` : ''}`, {
      code: 'OUTPUT_WRITE',
      cause,
    });
  }
}

/**
 * Writes a file so that it either appears whole or not at all: a temporary
 * file beside it, flushed to disk, then renamed over the target. A reader
 * never sees half an FS file, and a refused operation leaves nothing behind.
 */
export async function writeFileAtomic(path: string, content: string | Buffer): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(temporary, 'wx', 0o644);
  } catch (cause) {
    throw new OutputWriteError(path, cause);
  }
  try {
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true });
    throw new OutputWriteError(path, cause);
  }
}

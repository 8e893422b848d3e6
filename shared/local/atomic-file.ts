import { randomBytes } from 'node:crypto';
import { link, open, rename, rm } from 'node:fs/promises';
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

/** The file to write already exists and the caller asked never to replace one. */
export class OutputExistsError extends OnssTransferError {
  constructor(path: string) {
    super(`${path} already exists: it is never replaced`, { code: 'OUTPUT_EXISTS' });
  }
}

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Permissions of the new file; default 0o644 (0o600 for a file holding a secret). */
  mode?: number;
  /** Refuse to replace an existing file (OutputExistsError) instead of replacing it. */
  exclusive?: boolean;
}

/**
 * Writes a file so that it either appears whole or not at all: a temporary
 * file beside it, flushed to disk, then renamed over the target (or, with
 * `exclusive`, linked to it, which fails rather than replace a file that
 * appeared meanwhile). A reader never sees half an FS file, and a refused
 * operation leaves nothing behind.
 */
export async function writeFileAtomic(
  path: string,
  content: string | Buffer,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(temporary, 'wx', options.mode ?? 0o644);
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
    if (options.exclusive) await link(temporary, path);
    else await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true });
    if ((cause as { code?: unknown }).code === 'EEXIST') throw new OutputExistsError(path);
    throw new OutputWriteError(path, cause);
  }
  if (options.exclusive) await rm(temporary, { force: true });
}

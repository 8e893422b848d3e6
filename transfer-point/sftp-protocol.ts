/**
 * The SFTP protocol as the local transfer point answers it: status codes, open flags, the
 * largest READ, client paths mapped onto the served folder, and file attributes and `ls -l`
 * lines as OpenSSH gives them.
 */
import type { Stats as FsStats } from 'node:fs';
import { posix, resolve, join } from 'node:path';
import type { Attributes } from 'ssh2';

/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
export const STATUS = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  OP_UNSUPPORTED: 8,
} as const;

/** SSH_FXF_* open flags. */
export const OPEN_FLAG = {
  READ: 0x01,
  WRITE: 0x02,
  APPEND: 0x04,
  CREAT: 0x08,
  TRUNC: 0x10,
  EXCL: 0x20,
};

/** Largest READ answered at once: OpenSSH's limit, which every client accepts. */
export const MAX_READ_BYTES = 256 * 1024 - 1024;

/** The path on disk of a client path: relative to `/`, normalised so `..` never leaves root. */
export function diskPath(root: string, clientPath: string): string {
  const normalized = posix.normalize(posix.join('/', clientPath.replace(/\\/g, '/')));
  return resolve(join(root, normalized));
}

/** A client path, normalised under `/`. */
export function clientPathOf(clientPath: string): string {
  return posix.normalize(posix.join('/', clientPath.replace(/\\/g, '/')));
}

/** The SFTP status for a file-system error. */
export function statusOfError(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return STATUS.NO_SUCH_FILE;
  if (code === 'EACCES' || code === 'EPERM') return STATUS.PERMISSION_DENIED;
  return STATUS.FAILURE;
}

/** SFTP attributes of a file on disk. */
export function attributesOf(stats: FsStats): Attributes {
  return {
    mode: stats.mode,
    uid: stats.uid,
    gid: stats.gid,
    size: stats.size,
    atime: Math.floor(stats.atimeMs / 1000),
    mtime: Math.floor(stats.mtimeMs / 1000),
  };
}

const MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');

/** An `ls -l` line, as servers put in the `longname` of a listing entry. */
export function longName(name: string, stats: FsStats): string {
  const type = stats.isDirectory()
    ? 'd'
    : stats.isFile()
      ? '-'
      : stats.isSymbolicLink()
        ? 'l'
        : '?';
  const bits = 'rwxrwxrwx'
    .split('')
    .map((letter, i) => (stats.mode & (0o400 >> i) ? letter : '-'))
    .join('');
  const date = stats.mtime;
  const when = `${MONTHS[date.getMonth()]} ${String(date.getDate()).padStart(2)} ${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  return `${type}${bits} 1 ${stats.uid} ${stats.gid} ${String(stats.size).padStart(10)} ${when} ${name}`;
}

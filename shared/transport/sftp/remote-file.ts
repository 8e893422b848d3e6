/** What the server says about a remote file: its size (sizeOf) and its listing entry's type. */
import type { FileEntryWithStats } from 'ssh2';
import { TransportNotFoundError } from '../errors';
import type { RemoteEntry } from '../port';
import type { SshSession } from './session';

export function entryType(entry: FileEntryWithStats): RemoteEntry['type'] {
  const { attrs } = entry;
  if (attrs.mode !== undefined && attrs.mode !== null) {
    if (attrs.isFile()) return 'file';
    if (attrs.isDirectory()) return 'directory';
    return 'other';
  }
  // No permissions in the attributes: the `ls -l` line still tells.
  const first = entry.longname.charAt(0);
  return first === '-' ? 'file' : first === 'd' ? 'directory' : 'other';
}

/** The size of a regular file, or undefined when there is none (or it is a folder). */
export async function sizeOf(
  session: SshSession,
  path: string,
  context: string,
): Promise<number | undefined> {
  try {
    const stats = await session.request<FileEntryWithStats['attrs']>(context, (done) =>
      session.sftp.stat(path, done),
    );
    if (stats.mode !== undefined && stats.mode !== null && !stats.isFile()) return undefined;
    return stats.size;
  } catch (error) {
    if (error instanceof TransportNotFoundError) return undefined;
    throw error;
  }
}

/** What the server says about a remote file: its size, its listing entry, its absence. */
import { FileType, type Client, type FileInfo } from 'basic-ftp';
import { TransportNotFoundError } from '../errors';
import type { RemoteEntry } from '../port';
import { isPermanentReply, isReply } from './errors';

/**
 * A listing entry of `folder`. A server may name entries by their path (`OUT/FO...`): that
 * folder part is dropped. Any other slash is kept: `../../etc/passwd` or `x/FO.ACRF...` is not
 * a file of this folder, and cut to its last part it would pass for one (another file's name).
 */
export function toEntry(info: FileInfo, folder: string): RemoteEntry {
  const slash = info.name.lastIndexOf('/');
  const parent = info.name.slice(0, Math.max(slash, 0));
  const inFolder = slash === -1 || parent === folder || parent.endsWith(`/${folder}`);
  const name = inFolder ? info.name.slice(slash + 1) : info.name;
  const type =
    info.type === FileType.File ? 'file' : info.type === FileType.Directory ? 'directory' : 'other';
  return { name, size: info.size, type };
}

/**
 * A download refused with 5xx because the file is missing becomes a
 * {@link TransportNotFoundError}; any other failure is returned as it is.
 * Servers answer a missing file with 550 (vsftpd) or 551 (ftp-srv), and a
 * 5xx may also be a refusal: SIZE tells which.
 */
export async function missingOr(
  error: unknown,
  client: Client,
  path: string,
  context: string,
): Promise<unknown> {
  if (!isPermanentReply(error)) return error;
  try {
    if ((await sizeOf(client, path)) !== undefined) return error;
  } catch (sizeError) {
    return sizeError;
  }
  return new TransportNotFoundError(`${context}: no such file (${error.message})`, {
    ftpCode: error.code,
    cause: error,
  });
}

/**
 * SIZE of a file, or undefined when the server says 550 (no such file).
 * basic-ftp's own `size()` is not used: ftp-srv 4 answers a zero-byte file
 * with a bare "213 File status", which it cannot parse. A 213 without a
 * number falls back to the file's listing entry.
 */
export async function sizeOf(client: Client, path: string): Promise<number | undefined> {
  let reply: string;
  try {
    reply = (await client.send(`SIZE ${await client.protectWhitespace(path)}`)).message;
  } catch (error) {
    if (isReply(error, 550)) return undefined;
    throw error;
  }
  const stated = /^213[ -](\d+)\s*$/.exec(reply.trim());
  if (stated?.[1] !== undefined) return Number(stated[1]);
  const name = path.slice(path.lastIndexOf('/') + 1);
  const entries = await client.list(path);
  const entry = entries.find((info) => info.name.slice(info.name.lastIndexOf('/') + 1) === name);
  if (entry === undefined || entry.type === FileType.Directory) {
    throw new Error(`cannot read the size of ${path} from the reply ${JSON.stringify(reply)}`);
  }
  return entry.size;
}

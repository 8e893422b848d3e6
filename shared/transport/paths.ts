import { TransportPathError } from './errors';

// A NUL, CR or LF in a path could inject protocol commands.
const CONTROL_CHARACTERS = /[\0\r\n]/;

/**
 * Checks a remote path before anything is sent and returns it unchanged.
 * Paths stay relative to the login folder (`INTEST/FI...`): an absolute path,
 * a `..` (a way out of the folders the transfer point gives us), or a NUL, CR
 * or LF (a way to inject FTP commands) is refused with TRANSPORT_PATH.
 */
export function checkRemotePath(remotePath: string, what = 'remote path'): string {
  const shown = JSON.stringify(remotePath);
  if (typeof remotePath !== 'string' || remotePath === '') {
    throw new TransportPathError(`${what} is empty`);
  }
  if (CONTROL_CHARACTERS.test(remotePath)) {
    throw new TransportPathError(`${what} ${shown} contains a NUL, CR or LF character`);
  }
  if (remotePath.startsWith('/')) {
    throw new TransportPathError(
      `${what} ${shown} is absolute: give it relative to the login folder, e.g. INTEST/FI...`,
    );
  }
  if (remotePath.includes('..')) {
    throw new TransportPathError(
      `${what} ${shown} contains "..": paths stay inside the login folder`,
    );
  }
  return remotePath;
}

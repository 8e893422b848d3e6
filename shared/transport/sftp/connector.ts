/** sftpConnector: the SFTP TransportConnector; each connect() opens an SftpTransport. */
import type { Transport, TransportConnector } from '../port';
import type { ConnectorMemory } from './open-session';
import { describeSftpServer, resolveSftpOptions, type SftpConnectorOptions } from './options';
import { SftpTransport } from './transport';

/**
 * An SFTP {@link TransportConnector} on ssh2: options are merged over
 * {@link DEFAULT_SFTP_OPTIONS} and checked here, once, the private key read and decrypted
 * (a {@link TransportConfigError} says what to fix). Each `connect()` opens one SSH session
 * with an SFTP channel, retrying transient failures with backoff, and reuses it for every
 * operation, reopening it transparently after a drop.
 *
 * Host key: checked during the key exchange, before any authentication is sent, against
 * `hostKeySha256` (OpenSSH's `SHA256:...` form); a mismatch, or no pin without
 * `trustOnFirstUse`, is a permanent {@link TransportHostKeyError} naming the fingerprints.
 * Login: the key (RSA signatures by server-sig-algs, falling back to `ssh-rsa` when the
 * server refuses the rsa-sha2 one it listed), then the password if given.
 *
 * Transfers keep about {@link SFTP_TRANSFER}.inFlightBytes in flight; a stalled server (no answer
 * for `timeoutMs` while requests wait) or a dropped connection fails the transfer at once.
 * `size`, `list`, `delete`, `rename` and `get` are retried on transient failures (`get`
 * resumes at the byte where it stopped), `put` only while its stream was never read. Same
 * stream rules as the FTP adapter: `put` destroys its source on failure; `get` ends its
 * destination when the whole file arrived and destroys it on failure; a failure of the
 * caller's own stream is rethrown unchanged.
 */
export function sftpConnector(options: SftpConnectorOptions): TransportConnector {
  const resolved = resolveSftpOptions(options);
  const where = describeSftpServer(resolved);
  const memory: ConnectorMemory = { trusted: undefined, reported: false, forceSshRsa: false };
  return {
    async connect(): Promise<Transport> {
      const transport = new SftpTransport(resolved, where, memory);
      await transport.open();
      return transport;
    },
    describe: () => where,
  };
}

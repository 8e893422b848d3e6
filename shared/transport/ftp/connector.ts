/** ftpConnector: the FTP and FTPS TransportConnector; each connect() opens an FtpTransport. */
import type { Transport, TransportConnector } from '../port';
import { describeFtpServer, resolveFtpOptions, type FtpConnectorOptions } from './options';
import { FtpTransport } from './transport';

/**
 * An FTP {@link TransportConnector}: options are merged over
 * {@link DEFAULT_FTP_OPTIONS} and checked here, once (a
 * {@link TransportConfigError} says what to fix). Each `connect()` opens one
 * session on one basic-ftp Client in passive mode (the client sits behind
 * NAT; basic-ftp only does passive, and refuses a data address other than the
 * server's), retrying transient failures with backoff. The session is reused
 * for every operation and reopened transparently after a drop; `size`,
 * `list`, `delete`, `rename` and `get` (while nothing was written) are retried
 * on transient failures, `put` only while its stream was never read.
 * Operations called at once run one after the other.
 *
 * FTPS (`secure: true`) is explicit TLS: AUTH TLS, the login, then PBSZ 0 /
 * PROT P, every data connection resuming the control connection's session
 * (basic-ftp passes that session, and the newest TLS 1.3 ticket, to each data
 * socket). The certificate is checked against the system's CAs, or `ca` /
 * `caFile`, and the host name; `insecure` skips that. With `serverCertSha256`
 * the certificate must also be the pinned one, checked in the handshake before
 * the login: another is a `TransportServerCertificateError` naming both
 * fingerprints (permanent, never retried). A certificate refused,
 * AUTH TLS or PROT P refused, or a failed handshake when opening a session, is
 * a `TransportTlsError`: permanent, never retried.
 *
 * Streams: when `put` fails, its source is destroyed (the caller opens a
 * fresh one to try again). `get` ends its destination once the server has
 * confirmed the whole file, and destroys it (without an 'error' event) when
 * it fails. A failure of the caller's own stream (a content check aborting
 * the source, a full disk under the destination) is rethrown unchanged.
 */
export function ftpConnector(options: FtpConnectorOptions): TransportConnector {
  const resolved = resolveFtpOptions(options);
  const where = describeFtpServer(resolved);
  return {
    async connect(): Promise<Transport> {
      const transport = new FtpTransport(resolved, where);
      await transport.open();
      return transport;
    },
    describe: () => where,
  };
}

/** FTPS: the TLS settings, and the upload source that waits for the data handshake. */
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import { pinnedCertificateCheck } from './certificate-pin';
import type { ResolvedFtpOptions } from './options';

/** The oldest TLS version accepted: 1.0 and 1.1 are broken and disabled by current servers. */
const MIN_TLS_VERSION = 'TLSv1.2';

/**
 * The TLS settings of the control connection, which basic-ftp reuses for every data
 * connection (with the control connection's session). `host` is kept there on purpose: a
 * data connection whose session was not resumed checks the certificate against it again.
 * With `serverCertSha256`, the certificate is also held to that pin in the handshake (see
 * pinnedCertificateCheck); `where` names the server in that refusal.
 */
export function tlsOptions(options: ResolvedFtpOptions, where: string): ConnectionOptions {
  return {
    host: options.host,
    minVersion: MIN_TLS_VERSION,
    rejectUnauthorized: !options.insecure,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.serverCertSha256 === undefined
      ? {}
      : {
          checkServerIdentity: pinnedCertificateCheck(options.serverCertSha256, `connect ${where}`),
        }),
  };
}

/** Resolves once a TLS data socket has finished its handshake; at once for a plain socket. */
function handshakeFinished(socket: Socket | undefined): Promise<void> {
  if (socket === undefined || !('getFinished' in socket)) return Promise.resolve();
  const tls = socket as Socket & { getFinished(): Buffer | undefined };
  if (tls.getFinished() !== undefined) return Promise.resolve();
  if (tls.destroyed) {
    return Promise.reject(new Error('the data connection closed during its TLS handshake'));
  }
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      tls.off('secureConnect', onSecure);
      tls.off('error', onError);
      tls.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onSecure = (): void => settle();
    const onError = (error: Error): void => settle(error);
    const onClose = (): void =>
      settle(new Error('the data connection closed during its TLS handshake'));
    tls.once('secureConnect', onSecure);
    tls.once('error', onError);
    tls.once('close', onClose);
  });
}

/**
 * The source of an FTPS upload, passed through byte for byte, ending only once the data
 * connection's TLS handshake has finished. basic-ftp starts sending as soon as the data socket
 * has a cipher, which a resumed session has before its handshake is over: an empty source (a
 * GO file) then closes the socket mid-handshake, and vsftpd with require_ssl_reuse answers with
 * a TLS alert and ends the session (20 of 20 uploads under TLS 1.3, most under TLS 1.2). The
 * source is read only when basic-ftp reads, as before: never before the server's "150".
 */
export function endingAfterHandshake(
  source: Readable,
  dataSocket: () => Socket | undefined,
): Readable {
  async function* relay(): AsyncGenerator<unknown> {
    for await (const chunk of source) yield chunk;
    await handshakeFinished(dataSocket());
  }
  return Readable.from(relay(), { objectMode: false });
}

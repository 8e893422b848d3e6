/** Opening an FTP session: connect, AUTH TLS (FTPS), login, binary mode, PROT P (FTPS). */
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import type { Client } from 'basic-ftp';
import { tlsError, type TlsProblem } from '../errors';
import { isPermanentReply } from './errors';
import type { ResolvedFtpOptions } from './options';
import { fingerprintOf, pinMismatch } from './certificate-pin';
import { tlsOptions } from './tls';

/**
 * Opens a session: connect, AUTH TLS (FTPS), login, binary mode and, for FTPS, encrypted data
 * connections. A certificate other than the pinned one (`serverCertSha256`) ends the session
 * right after the TLS handshake, before USER and PASS. basic-ftp's access() does the same in one
 * call; done step by step here so that a refused AUTH TLS or PROT P is told apart from a refused
 * login, and the pin is checked before the login.
 */
export async function openSession(client: Client, options: ResolvedFtpOptions, where: string) {
  /** Runs a TLS step; a 5xx reply to it means the server will not do what FTPS needs. */
  const insist = async (problem: TlsProblem, step: () => Promise<unknown>): Promise<void> => {
    try {
      await step();
    } catch (error) {
      if (!isPermanentReply(error)) throw error;
      throw tlsError(problem, `connect ${where}`, error.message, {
        ftpCode: error.code,
        cause: error,
      });
    }
  };
  await client.connect(options.host, options.port);
  // A server without FTPS refuses AUTH TLS: vsftpd says 530, pure-ftpd 500, ftp-srv 502.
  if (options.secure && options.serverCertSha256 !== undefined) {
    await useTlsHeldToPin(
      client,
      options.serverCertSha256,
      tlsOptions(options, where),
      where,
      insist,
    );
  } else if (options.secure) {
    await insist('no-auth-tls', () => client.useTLS(tlsOptions(options, where)));
  }
  // Before login, for a user name or password outside ASCII; some servers want it after.
  await client.sendIgnoringError('OPTS UTF8 ON');
  await client.login(options.user, options.password);
  await client.useDefaultSettings();
  // useDefaultSettings() sends PBSZ 0 and PROT P but ignores a refusal, and a server that
  // refused would expect clear data connections: ask again and insist.
  if (options.secure) await insist('no-data-protection', () => client.send('PROT P'));
}

/**
 * AUTH TLS with the certificate held to a pin, the pin checked first: the control handshake is
 * let through whatever the chain, so that a certificate other than the pinned one is refused
 * as such (TransportServerCertificateError, both fingerprints) even when no CA vouches for it
 * (a new CA, or someone posing as the server), not only as an untrusted certificate. Then the
 * chain and the host name (Node's verdict, `authorized`) must hold as without a pin. Nothing is
 * sent before both checks; the data connections are verified in their handshake as before.
 */
async function useTlsHeldToPin(
  client: Client,
  pin: string,
  strict: ConnectionOptions,
  where: string,
  insist: (problem: TlsProblem, step: () => Promise<unknown>) => Promise<void>,
): Promise<void> {
  await insist('no-auth-tls', () => client.useTLS({ ...strict, rejectUnauthorized: false }));
  const socket = client.ftp.socket as TLSSocket;
  const actual = fingerprintOf(socket.getPeerCertificate(true));
  const refusal =
    actual !== pin
      ? pinMismatch(pin, actual, `connect ${where}`, true)
      : socket.authorized
        ? undefined
        : unverified(socket);
  // Data connections take the control connection's options: held to the chain and the pin.
  client.ftp.tlsOptions = strict;
  if (refusal !== undefined) {
    client.close();
    throw refusal;
  }
}

/**
 * Node's verdict on a certificate it let through, as the error it would have ended the
 * handshake with: `authorizationError` holds the verification code (OpenSSL's X509 name, or
 * the host name check's), which classifyFtpError turns into the TLS problem to fix.
 */
function unverified(socket: TLSSocket): Error {
  const found: unknown = socket.authorizationError;
  const code =
    typeof found === 'string' ? found : ((found as { code?: string } | undefined)?.code ?? '');
  return Object.assign(
    new Error(`the certificate was not verified (${code || 'no reason given'})`),
    {
      code,
    },
  );
}

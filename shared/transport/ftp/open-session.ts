/** Opening an FTP session: connect, AUTH TLS (FTPS), login, binary mode, PROT P (FTPS). */
import type { Client } from 'basic-ftp';
import { tlsError, type TlsProblem } from '../errors';
import { isPermanentReply } from './errors';
import type { ResolvedFtpOptions } from './options';
import { tlsOptions } from './tls';

/**
 * Opens a session: connect, AUTH TLS (FTPS), login, binary mode and, for FTPS, encrypted data
 * connections. A certificate other than the pinned one (`serverCertSha256`) ends the TLS
 * handshake, so the session fails before USER and PASS. basic-ftp's access() does the same in one call; done step by step here so that
 * a refused AUTH TLS or PROT P is told apart from a refused login.
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
  if (options.secure) await insist('no-auth-tls', () => client.useTLS(tlsOptions(options, where)));
  // Before login, for a user name or password outside ASCII; some servers want it after.
  await client.sendIgnoringError('OPTS UTF8 ON');
  await client.login(options.user, options.password);
  await client.useDefaultSettings();
  // useDefaultSettings() sends PBSZ 0 and PROT P but ignores a refusal, and a server that
  // refused would expect clear data connections: ask again and insist.
  if (options.secure) await insist('no-data-protection', () => client.send('PROT P'));
}

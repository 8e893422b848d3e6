/** Opening an SSH session and its SFTP channel: host key, login, the ssh-rsa fallback. */
import { Client, type ConnectConfig } from 'ssh2';
import { TransportAuthError, TransportTimeoutError } from '../errors';
import { classifySshError } from './errors';
import { property } from './fields';
import {
  checkHostKey,
  HOST_KEY_ALGORITHMS,
  hostKeyError,
  type HostKeyMemory,
  type HostKeyVerdict,
} from './host-key';
import type { ResolvedSftpOptions } from './options';
import { hookServerSigAlgs } from './server-sig-algs';
import { SshSession } from './session';

/** What a connector remembers between sessions. */
export interface ConnectorMemory extends HostKeyMemory {
  /** The server refuses rsa-sha2 user signatures although it lists them: sign with ssh-rsa. */
  forceSshRsa: boolean;
}

/** What one connection attempt tells the caller besides its session. */
interface AttemptReport {
  /** The server listed rsa-sha2-* in server-sig-algs (so ssh2 signed with one). */
  listedRsaSha2: boolean;
}

/**
 * Opens one SSH connection and its SFTP channel. The host key is checked by ssh2's
 * `hostVerifier` during the key exchange, before any authentication is sent; a refused key
 * ends the handshake. Rejects with a TransportError.
 */
function openSession(
  options: ResolvedSftpOptions,
  where: string,
  memory: ConnectorMemory,
  forceSshRsa: boolean,
  report: AttemptReport,
): Promise<SshSession> {
  const context = `connect ${where}`;
  return new Promise<SshSession>((resolve, reject) => {
    const client = new Client();
    let verdict: HostKeyVerdict | undefined;
    let settled = false;
    // Belt and braces beside readyTimeout: opening the SFTP channel is not covered by it.
    const timer = setTimeout(
      () =>
        fail(new TransportTimeoutError(`${context}: no session within ${options.timeoutMs} ms`)),
      options.timeoutMs + 1000,
    );

    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners('ready');
      client.destroy();
      if (verdict !== undefined && !verdict.accepted) {
        reject(hostKeyError(verdict, context));
        return;
      }
      reject(classifySshError(error, context));
    };
    // Swallow late errors of an abandoned client: it is being destroyed.
    client.on('error', fail);
    client.once('close', () => fail(new Error('the server closed the connection during login')));

    client.once('connect', () => {
      // Nagle's algorithm with the server's delayed ACKs costs ~40 ms per request (PERF-NOTES).
      client.setNoDelay(true);
    });
    client.once('ready', () => {
      client.sftp((error, sftp) => {
        if (error) {
          fail(error);
          return;
        }
        if (settled) {
          sftp.end();
          return;
        }
        settled = true;
        clearTimeout(timer);
        client.off('error', fail);
        client.removeAllListeners('close');
        // ssh2 fills the server's extensions in from its VERSION packet, before this callback.
        const extensions = property(sftp, '_extensions');
        const posixRename = property(extensions, 'posix-rename@openssh.com') === '1';
        resolve(new SshSession(client, sftp, options.timeoutMs, posixRename));
      });
    });

    const hostVerifier = (key: Buffer): boolean => {
      verdict = checkHostKey(key, options, where, memory);
      return verdict.accepted;
    };

    const config: ConnectConfig = {
      host: options.host,
      port: options.port,
      username: options.user,
      readyTimeout: options.timeoutMs,
      // A dead peer is found within about 3 intervals even when no request is waiting.
      keepaliveInterval: Math.min(10_000, Math.max(1000, Math.floor(options.timeoutMs / 3))),
      keepaliveCountMax: 3,
      hostVerifier,
      algorithms: { serverHostKey: [...HOST_KEY_ALGORITHMS] },
      // The key first (the transfer point's way), then a password if one is given.
      authHandler: [
        ...(options.privateKey ? (['publickey'] as const) : []),
        ...(options.password !== undefined ? (['password'] as const) : []),
      ],
      ...(options.privateKey ? { privateKey: options.privateKey.pem } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
    };
    try {
      client.connect(config);
    } catch (error) {
      fail(error);
      return;
    }
    hookServerSigAlgs(client, (algs) => {
      report.listedRsaSha2 = algs.some((alg) => alg.startsWith('rsa-sha2-'));
      if (!forceSshRsa) return algs;
      return [
        'ssh-rsa',
        ...algs.filter((alg) => alg !== 'ssh-rsa' && !alg.startsWith('rsa-sha2-')),
      ];
    });
  });
}

/**
 * One attempt at a session, with the ssh-rsa fallback: when an RSA key is refused after ssh2
 * signed with rsa-sha2 because the server listed it, the login is tried again on a new
 * connection signing with ssh-rsa (SHA-1), the only algorithm the transfer point accepts.
 * What works is remembered for the connector's later sessions.
 */
export async function openWithFallback(
  options: ResolvedSftpOptions,
  where: string,
  memory: ConnectorMemory,
): Promise<SshSession> {
  const report: AttemptReport = { listedRsaSha2: false };
  try {
    return await openSession(options, where, memory, memory.forceSshRsa, report);
  } catch (error) {
    const retryWithSshRsa =
      error instanceof TransportAuthError &&
      !memory.forceSshRsa &&
      options.privateKey?.type === 'ssh-rsa' &&
      report.listedRsaSha2;
    if (!retryWithSshRsa) throw error;
    try {
      const session = await openSession(options, where, memory, true, report);
      memory.forceSshRsa = true;
      return session;
    } catch (second) {
      if (second instanceof TransportAuthError) {
        second.message += ' (the key was tried with rsa-sha2 and with ssh-rsa signatures)';
      }
      throw second;
    }
  }
}

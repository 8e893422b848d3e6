/**
 * A small SFTP server on ssh2's `Server`, serving one folder to one user who logs in with a
 * key (the transfer point's way) or, when one is set, a password. Clients see the folder as
 * `/`, their login folder. It speaks what a sender needs (open, read, write, close, stat,
 * list, remove, rename, mkdir, realpath) with OpenSSH's answers: a missing file is
 * NO_SUCH_FILE, RENAME refuses an existing target. It offers no extension, so clients use
 * plain SFTP (no posix-rename).
 *
 * Uploads go through the simulator's UploadSink (scripted slowness and cuts), and each
 * completed upload or rename is reported, so the local transfer point judges sets received
 * over SFTP exactly as over FTP. Used by the simulator (`protocol: 'sftp'`) and by the tests
 * of the SFTP adapter.
 */
import { timingSafeEqual } from 'node:crypto';
import { Socket } from 'node:net';
import { resolve } from 'node:path';
import {
  Server,
  utils,
  type AuthContext,
  type Connection,
  type ParsedKey,
  type ServerHostKeyAlgorithm,
} from 'ssh2';
import { sshFingerprint } from '../shared/transport/ssh-keys';
import { SftpSession, type SftpUploadHooks } from './sftp-session';

export { diskPath } from './sftp-protocol';
export type { SftpUploadHooks } from './sftp-session';

/** Where and how to listen, and who may log in. */
export interface SftpServerSettings {
  /** Address to listen on, e.g. 127.0.0.1. */
  host: string;
  /** Port; 0 for a free one. */
  port: number;
  /** The folder served as the login folder `/`. */
  root: string;
  /** Host private keys (PEM or OpenSSH, unencrypted). */
  hostKeys: readonly (string | Buffer)[];
  /**
   * Host key signature algorithms offered; default ssh2's. `['ssh-rsa']` mimics the transfer
   * point, which offers nothing else.
   */
  hostKeyAlgorithms?: readonly ServerHostKeyAlgorithm[];
  /** The one user name accepted. */
  user: string;
  /** Public keys accepted for it: `authorized_keys` lines (`ssh-rsa AAAA... comment`). */
  authorizedKeys: readonly (string | Buffer)[];
  /** A password accepted for it too; default none (key only). */
  password?: string;
  /** Upload observation and scripting; default none. */
  hooks?: SftpUploadHooks;
}

/** A listening SFTP server. */
export interface SftpServerHandle {
  /** The port actually bound. */
  readonly port: number;
  /** Fingerprint of the (first) host key, as OpenSSH prints it: `SHA256:...`. */
  readonly hostKeySha256: string;
  /** Logins accepted so far. */
  readonly logins: number;
  /** Authentication requests seen so far (any method, accepted or not). */
  readonly authAttempts: number;
  /** Cuts every open connection at once, without a goodbye, as a crash or a network cut would. */
  dropConnections(): void;
  /** Stops listening, cuts every connection, and resolves once closed. */
  close(): Promise<void>;
}

function parsePublicKeys(keys: readonly (string | Buffer)[]): ParsedKey[] {
  return keys.map((key, index) => {
    const parsed = utils.parseKey(key);
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (first === undefined || first instanceof Error) {
      throw new Error(`authorized key ${index + 1} cannot be read as an SSH public key`);
    }
    return first;
  });
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Compares secrets in constant time for equal lengths. */
function sameText(given: string, expected: string): boolean {
  return sameBytes(Buffer.from(given), Buffer.from(expected));
}

function socketOf(client: Connection): Socket | undefined {
  const socket: unknown = Reflect.get(client, '_sock');
  return socket instanceof Socket ? socket : undefined;
}

/**
 * Starts the SFTP server and resolves once it listens. Key login compares the key offered
 * with the authorized ones and checks its signature; the host key offered is the first of
 * `hostKeys` the client accepts (with `hostKeyAlgorithms: ['ssh-rsa']`, an RSA key signed
 * with SHA-1 only, like the transfer point).
 */
export async function listenSftp(settings: SftpServerSettings): Promise<SftpServerHandle> {
  const authorized = parsePublicKeys(settings.authorizedKeys);
  const root = resolve(settings.root);
  const firstHostKey = settings.hostKeys[0];
  if (firstHostKey === undefined) throw new Error('the SFTP server needs a host key');
  const parsedHostKey = utils.parseKey(firstHostKey);
  const hostKey = Array.isArray(parsedHostKey) ? parsedHostKey[0] : parsedHostKey;
  if (hostKey === undefined || hostKey instanceof Error || !hostKey.isPrivateKey()) {
    throw new Error('the SFTP host key cannot be read as an unencrypted private key');
  }
  const hostKeySha256 = sshFingerprint(hostKey.getPublicSSH());
  const connections = new Set<Connection>();
  let logins = 0;
  let authAttempts = 0;

  const authenticate = (context: AuthContext): void => {
    authAttempts += 1;
    const methods: ('publickey' | 'password')[] = ['publickey'];
    if (settings.password !== undefined) methods.push('password');
    if (!sameText(context.username, settings.user)) {
      context.reject(methods);
      return;
    }
    if (context.method === 'publickey') {
      const key = authorized.find((candidate) =>
        sameBytes(candidate.getPublicSSH(), context.key.data),
      );
      if (key === undefined) {
        context.reject(methods);
        return;
      }
      // Without a signature the client only asks whether the key would do.
      if (context.signature === undefined || context.blob === undefined) {
        context.accept();
        return;
      }
      if (key.verify(context.blob, context.signature, context.hashAlgo) !== true) {
        context.reject(methods);
        return;
      }
      logins += 1;
      context.accept();
      return;
    }
    if (
      context.method === 'password' &&
      settings.password !== undefined &&
      sameText(context.password, settings.password)
    ) {
      logins += 1;
      context.accept();
      return;
    }
    context.reject(methods);
  };

  const server = new Server(
    {
      hostKeys: [...settings.hostKeys],
      ...(settings.hostKeyAlgorithms
        ? { algorithms: { serverHostKey: [...settings.hostKeyAlgorithms] } }
        : {}),
      ident: 'onss-transfer-local-sftp',
    },
    (client) => {
      connections.add(client);
      // Answers are small packets: Nagle's algorithm would hold each one ~40 ms (PERF-NOTES).
      socketOf(client)?.setNoDelay(true);
      const sessions: SftpSession[] = [];
      const cut = (): void => {
        const socket = socketOf(client);
        if (socket) socket.destroy();
        else client.end();
      };
      client.on('authentication', authenticate);
      client.on('ready', () => {
        client.on('session', (acceptSession) => {
          const session = acceptSession();
          session.on('sftp', (acceptSftp) => {
            sessions.push(new SftpSession(acceptSftp(), root, settings.hooks, cut));
          });
        });
      });
      // A client that goes away mid-handshake is not the server's failure.
      client.on('error', () => undefined);
      client.on('close', () => {
        connections.delete(client);
        for (const session of sessions) session.dispose();
      });
    },
  );

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;

  const dropConnections = (): void => {
    for (const client of connections) {
      const socket = socketOf(client);
      if (socket) socket.destroy();
      else client.end();
    }
  };
  let closing: Promise<void> | undefined;
  return {
    port,
    hostKeySha256,
    get logins() {
      return logins;
    },
    get authAttempts() {
      return authAttempts;
    },
    dropConnections,
    close: () => {
      closing ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        dropConnections();
      });
      return closing;
    },
  };
}

/** Options of the SFTP adapter: their types, defaults and checks (resolveSftpOptions). */
import { TransportConfigError } from '../errors';
import type { RetryOptions } from '../retry';
import {
  checkHost,
  checkPort,
  checkRetry,
  checkTimeout,
  checkUser,
  describeServer,
  type Channel,
} from '../server-options';
import {
  loadPrivateKey,
  normalizeSshFingerprint,
  PrivateKeyError,
  type LoadedPrivateKey,
} from '../ssh-keys';

/** What {@link SftpOptions.onHostKey} is told when a session accepts a server's host key. */
export interface HostKeyEvent {
  /** The server, `sftp://user@host:port`. */
  where: string;
  /** The key's fingerprint as OpenSSH prints it: `SHA256:` and base64 without padding. */
  fingerprint: string;
  /** The key's type: `ssh-rsa`, `ssh-ed25519`... */
  keyType: string;
  /** `pinned`: it matched hostKeySha256; `first-use`: accepted because trustOnFirstUse is on. */
  trust: 'pinned' | 'first-use';
}

/**
 * Options of the SFTP adapter. Give host, user, a private key (or a password) and the
 * server's host key fingerprint; the rest has defaults.
 */
export interface SftpOptions {
  /** Server host name or IP address; required (the transfer point: sftp.socialsecurity.be). */
  host: string;
  /** SSH port; default 8022, the transfer point's. */
  port: number;
  /** Technical user name; required. */
  user: string;
  /**
   * Private key, the transfer point's way in: OpenSSH (`ssh-keygen`), PKCS#1 or PKCS#8 PEM,
   * RSA or ed25519 (ECDSA works too), as a string or a Buffer. Read and decrypted once, at
   * start; never logged and never put in a message.
   */
  privateKey?: string | Buffer;
  /** Passphrase of an encrypted private key; never logged. */
  passphrase?: string;
  /** Password, for servers that take one; tried after the key. Never logged. */
  password?: string;
  /**
   * The server's host key fingerprint as OpenSSH prints it (`SHA256:` and base64 without
   * padding, e.g. from `ssh-keyscan -p 8022 HOST | ssh-keygen -lf -`). A server showing another
   * key is refused before logging in. Default none: then see trustOnFirstUse.
   */
  hostKeySha256?: string;
  /**
   * Without a pin, accept the key the server shows first (and report it through onHostKey),
   * then hold every later session of this connector to it. Default false: without a pin the
   * connection is refused with an error that prints the server's fingerprint, to pin.
   */
  trustOnFirstUse: boolean;
  /** Told once per connector when a host key is first accepted, so a CLI can print it. */
  onHostKey?: (event: HostKeyEvent) => void;
  /**
   * Limit for connecting (handshake and login) and for any request the server leaves
   * unanswered while others wait (a stalled transfer), in ms; default 30,000.
   */
  timeoutMs: number;
  /** Backoff for opening a session (transient failures only); default 4 attempts, 500 ms, 8 s cap. */
  connectRetry: Partial<RetryOptions>;
  /** Backoff for operations safe to repeat (size, list, delete, rename, get, put before any byte); default as connectRetry. */
  operationRetry: Partial<RetryOptions>;
}

/** What {@link sftpConnector} takes: host and user, a key or password, and any other option. */
export type SftpConnectorOptions = Partial<SftpOptions> & Pick<SftpOptions, 'host' | 'user'>;

/** SftpOptions after defaults and checks: the key is read and decrypted. */
export interface ResolvedSftpOptions extends Omit<
  SftpOptions,
  'privateKey' | 'passphrase' | 'hostKeySha256' | 'connectRetry' | 'operationRetry'
> {
  /** The private key, decrypted; undefined when only a password is given. */
  privateKey: LoadedPrivateKey | undefined;
  /** The pin in canonical form (no padding), or undefined. */
  hostKeySha256: string | undefined;
  connectRetry: RetryOptions;
  operationRetry: RetryOptions;
  /** Secrets to blank out of any message (password, passphrase). */
  secrets: readonly string[];
}

/** Defaults of every optional {@link SftpOptions} field. */
export const DEFAULT_SFTP_OPTIONS = Object.freeze({
  port: 8022,
  timeoutMs: 30_000,
  trustOnFirstUse: false,
});

/** How option messages name this channel. */
const SFTP: Channel = { label: 'SFTP', exampleHost: 'sftp.socialsecurity.be', port: 8022 };

function checkSecret(name: string, value: unknown): string | undefined {
  // Never quote the value: it is a secret even when it is wrong.
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new TransportConfigError(`SFTP ${name} must be a non-empty string when given`);
  }
  return value;
}

function checkPin(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const pin = typeof value === 'string' ? normalizeSshFingerprint(value) : undefined;
  if (pin === undefined) {
    throw new TransportConfigError(
      `SFTP hostKeySha256 must be an OpenSSH SHA-256 fingerprint such as SHA256:${'A'.repeat(43)} (ssh-keygen -lf prints it), got ${JSON.stringify(value)}`,
    );
  }
  return pin;
}

function checkKey(key: unknown, passphrase: string | undefined): LoadedPrivateKey | undefined {
  if (key === undefined) {
    if (passphrase !== undefined) {
      throw new TransportConfigError('SFTP passphrase is given without a privateKey');
    }
    return undefined;
  }
  if (typeof key !== 'string' && !Buffer.isBuffer(key)) {
    throw new TransportConfigError('SFTP privateKey must be the key itself, a string or a Buffer');
  }
  try {
    return loadPrivateKey(key, passphrase);
  } catch (error) {
    const reason = error instanceof PrivateKeyError ? error.message : 'it cannot be read';
    throw new TransportConfigError(`SFTP privateKey: ${reason}`, error);
  }
}

/**
 * Merges `options` over {@link DEFAULT_SFTP_OPTIONS} and checks every field, throwing a
 * {@link TransportConfigError} that says what to fix (never quoting a key, passphrase or
 * password). The private key is read and decrypted here, once. Called by {@link sftpConnector}.
 */
export function resolveSftpOptions(options: SftpConnectorOptions): ResolvedSftpOptions {
  const password = checkSecret('password', options.password);
  const passphrase = checkSecret('passphrase', options.passphrase);
  const privateKey = checkKey(options.privateKey, passphrase);
  if (privateKey === undefined && password === undefined) {
    throw new TransportConfigError(
      'SFTP needs a privateKey (the transfer point logs in with an SSH key) or a password',
    );
  }
  const trustOnFirstUse = options.trustOnFirstUse ?? DEFAULT_SFTP_OPTIONS.trustOnFirstUse;
  if (typeof trustOnFirstUse !== 'boolean') {
    throw new TransportConfigError('SFTP trustOnFirstUse must be true or false');
  }
  if (options.onHostKey !== undefined && typeof options.onHostKey !== 'function') {
    throw new TransportConfigError('SFTP onHostKey must be a function');
  }
  return {
    host: checkHost(SFTP, options.host),
    port: checkPort(SFTP, options.port ?? DEFAULT_SFTP_OPTIONS.port),
    user: checkUser(SFTP, options.user),
    privateKey,
    ...(password === undefined ? {} : { password }),
    hostKeySha256: checkPin(options.hostKeySha256),
    trustOnFirstUse,
    ...(options.onHostKey === undefined ? {} : { onHostKey: options.onHostKey }),
    timeoutMs: checkTimeout(SFTP, options.timeoutMs ?? DEFAULT_SFTP_OPTIONS.timeoutMs),
    connectRetry: checkRetry(SFTP, 'connectRetry', options.connectRetry),
    operationRetry: checkRetry(SFTP, 'operationRetry', options.operationRetry),
    // Short secrets would blank out ordinary words; no message holds them anyway.
    secrets: [password, passphrase].filter(
      (secret): secret is string => secret !== undefined && secret.length >= 4,
    ),
  };
}

/** `sftp://user@host:port`, never a secret. */
export function describeSftpServer(options: Pick<SftpOptions, 'host' | 'port' | 'user'>): string {
  return describeServer('sftp', options);
}

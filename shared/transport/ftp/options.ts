/** Options of the FTP and FTPS adapter: their types, defaults and checks (resolveFtpOptions). */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { normalizeFingerprint } from '../../signing/fingerprint';
import { TransportConfigError } from '../errors';
import type { RetryOptions } from '../retry';
import {
  checkFlag,
  checkHost,
  checkPort,
  checkRetry,
  checkTimeout,
  checkUser,
  CONTROL_CHARACTERS,
  describeServer,
  type Channel,
} from '../server-options';

/** Options of the FTP adapter. Give host, user and password; the rest has defaults. */
export interface FtpOptions {
  /** Server host name or IP address; required. */
  host: string;
  /** Control connection port; default 21. */
  port: number;
  /** Technical user name; required. */
  user: string;
  /** Its password; required; never logged and never put in a message. */
  password: string;
  /** Limit for connecting, for each server reply and for a stalled transfer, in ms; default 30,000. */
  timeoutMs: number;
  /** Backoff for opening a session (transient failures only); default 4 attempts, 500 ms, 8 s cap. */
  connectRetry: Partial<RetryOptions>;
  /** Backoff for operations safe to repeat (size, list, delete, rename, get before any byte); default as connectRetry. */
  operationRetry: Partial<RetryOptions>;
  /** Prints the FTP dialogue on the console (basic-ftp masks the password); default false. */
  verbose: boolean;
  /**
   * Explicit FTPS: AUTH TLS on the control port, then PBSZ 0 / PROT P so that every data
   * connection is encrypted too (and resumes the control connection's TLS session, which
   * servers such as vsftpd with `require_ssl_reuse` demand); default false, plain FTP.
   */
  secure: boolean;
  /**
   * A PEM file of the CA certificate(s) to trust instead of the system's (a private CA, or a
   * self-signed server certificate to pin); read once, when the connector is made. FTPS only.
   */
  caFile?: string;
  /** The same as caFile, as PEM text already in memory; give one or the other. FTPS only. */
  ca?: string;
  /**
   * Encrypts without checking the server's certificate (no CA, no host name check): anyone
   * on the way can pose as the server. For a test server only; default false. FTPS only.
   */
  insecure: boolean;
  /**
   * Pins the server's certificate: its SHA-256 fingerprint, 64 hex digits with or without
   * colons (`openssl x509 -fingerprint -sha256`), in any case. Checked first after the TLS
   * handshake, then the CA and the host name, before the user name or password is sent; another
   * certificate is refused with a TransportServerCertificateError naming both fingerprints.
   * Kept as upper-case pairs joined by colons (`AB:CD:...`). FTPS only, not with `insecure`.
   */
  serverCertSha256?: string;
}

/** What {@link ftpConnector} takes: host, user and password, and any other option to override. */
export type FtpConnectorOptions = Partial<FtpOptions> &
  Pick<FtpOptions, 'host' | 'user' | 'password'>;

/** FtpOptions after defaults and checks; a caFile has been read into `ca`. */
export interface ResolvedFtpOptions extends Omit<
  FtpOptions,
  'connectRetry' | 'operationRetry' | 'caFile'
> {
  connectRetry: RetryOptions;
  operationRetry: RetryOptions;
}

/** Defaults of every optional {@link FtpOptions} field. */
export const DEFAULT_FTP_OPTIONS = Object.freeze({
  port: 21,
  timeoutMs: 30_000,
  verbose: false,
  secure: false,
  insecure: false,
});

/** How option messages name this channel. */
const FTP: Channel = { label: 'FTP', exampleHost: 'ftp.socialsecurity.be', port: 21 };

function checkPassword(value: unknown): string {
  // Never quote the value: it is a secret even when it is wrong.
  if (typeof value !== 'string' || value === '') {
    throw new TransportConfigError('FTP password is missing or empty');
  }
  if (CONTROL_CHARACTERS.test(value)) {
    throw new TransportConfigError('FTP password contains a line break or NUL character');
  }
  return value;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Checks that `pem` holds certificates, and only readable ones; returns it unchanged. */
function checkCaPem(pem: string, origin: string): string {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new TransportConfigError(
      `FTP ${origin} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new TransportConfigError(
        `FTP ${origin}: certificate ${index + 1} cannot be read (${(error as Error).message})`,
        error,
      );
    }
  });
  return pem;
}

/** The CA to trust, read from caFile or taken from ca; undefined: the system's CAs. */
function resolveCa(options: FtpConnectorOptions): string | undefined {
  const { ca, caFile } = options;
  if (ca !== undefined && caFile !== undefined) {
    throw new TransportConfigError('FTP ca and caFile are both given: give one or the other');
  }
  if (caFile !== undefined) {
    if (typeof caFile !== 'string' || caFile === '') {
      throw new TransportConfigError('FTP caFile must be the path of a PEM file');
    }
    let pem: string;
    try {
      pem = readFileSync(caFile, 'utf8');
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new TransportConfigError(
        `FTP caFile ${caFile} cannot be read (${typeof code === 'string' ? code : String(error)})`,
        error,
      );
    }
    return checkCaPem(pem, `caFile ${caFile}`);
  }
  if (ca === undefined) return undefined;
  if (typeof ca !== 'string') throw new TransportConfigError('FTP ca must be PEM text');
  return checkCaPem(ca, 'ca');
}

/** The pinned certificate fingerprint, normalised; undefined when none is given. */
function resolvePin(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const fingerprint = typeof value === 'string' ? normalizeFingerprint(value) : undefined;
  if (fingerprint === undefined) {
    throw new TransportConfigError(
      "FTP serverCertSha256 must be the SHA-256 fingerprint of the server's certificate: 64 hex digits, colons optional (openssl x509 -fingerprint -sha256)",
    );
  }
  return fingerprint;
}

/** The TLS settings: FTPS on or off, what to trust; refuses TLS options without FTPS. */
function resolveTls(
  options: FtpConnectorOptions,
): Pick<ResolvedFtpOptions, 'secure' | 'ca' | 'insecure' | 'serverCertSha256'> {
  const given: Record<string, unknown> = { ...options };
  if (given.secure === 'implicit') {
    // Refuse rather than downgrade: a caller asking for TLS must never get plain FTP.
    throw new TransportConfigError(
      'FTP secure "implicit" (FTPS on port 990) is not supported: the transfer point uses explicit TLS (secure: true)',
    );
  }
  const secure = checkFlag(FTP, 'secure', given.secure, DEFAULT_FTP_OPTIONS.secure);
  const insecure = checkFlag(FTP, 'insecure', given.insecure, DEFAULT_FTP_OPTIONS.insecure);
  const tlsSetting = insecure
    ? 'insecure'
    : options.caFile !== undefined
      ? 'caFile'
      : options.ca !== undefined
        ? 'ca'
        : options.serverCertSha256 !== undefined
          ? 'serverCertSha256'
          : undefined;
  if (!secure && tlsSetting !== undefined) {
    throw new TransportConfigError(
      `FTP ${tlsSetting} is a TLS setting: it needs secure: true (FTPS)`,
    );
  }
  const ca = resolveCa(options);
  if (insecure && ca !== undefined) {
    throw new TransportConfigError(
      'FTP insecure skips the certificate check, so a CA would never be used: give one or the other',
    );
  }
  const serverCertSha256 = resolvePin(options.serverCertSha256);
  if (insecure && serverCertSha256 !== undefined) {
    throw new TransportConfigError(
      'FTP insecure skips the certificate check, so the pinned serverCertSha256 would never be checked: give one or the other',
    );
  }
  return {
    secure,
    insecure,
    ...(ca === undefined ? {} : { ca }),
    ...(serverCertSha256 === undefined ? {} : { serverCertSha256 }),
  };
}

/**
 * Merges `options` over {@link DEFAULT_FTP_OPTIONS} and checks every field,
 * throwing a {@link TransportConfigError} that says what to fix (never quoting
 * the password). Called once by {@link ftpConnector}.
 */
export function resolveFtpOptions(options: FtpConnectorOptions): ResolvedFtpOptions {
  const verbose = checkFlag(FTP, 'verbose', options.verbose, DEFAULT_FTP_OPTIONS.verbose);
  return {
    host: checkHost(FTP, options.host),
    port: checkPort(FTP, options.port ?? DEFAULT_FTP_OPTIONS.port),
    user: checkUser(FTP, options.user),
    password: checkPassword(options.password),
    timeoutMs: checkTimeout(FTP, options.timeoutMs ?? DEFAULT_FTP_OPTIONS.timeoutMs),
    connectRetry: checkRetry(FTP, 'connectRetry', options.connectRetry),
    operationRetry: checkRetry(FTP, 'operationRetry', options.operationRetry),
    verbose,
    ...resolveTls(options),
  };
}

/** The URL-like name of a server for messages: `ftp[s]://user@host:port`, never a password. */
export function describeFtpServer(
  options: Pick<FtpOptions, 'host' | 'port' | 'user' | 'secure'>,
): string {
  return describeServer(options.secure ? 'ftps' : 'ftp', options);
}

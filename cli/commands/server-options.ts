import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { normalizeFingerprint } from '../../shared/signing/fingerprint';
import type { sftpConnector as SftpConnector, TransportConnector } from '../../shared/transport';
import { DEFAULT_PASSWORD_ENV } from '../defaults';
import { secretFromEnv, UsageError, type CliIo } from '../io';

/** The server and ledger flags shared by `send` and `pull`. */
export interface ServerFlags {
  host: string;
  port?: string;
  user: string;
  passwordEnv: string;
  /** ftp (default) or ftps (explicit TLS on the same port). */
  protocol: string;
  /** PEM file of the CA to trust for FTPS (a private CA, a pinned self-signed certificate). */
  caFile?: string;
  /** FTPS: the pinned SHA-256 fingerprint of the server's certificate (64 hex digits). */
  serverCertSha256?: string;
  /** FTPS without any certificate check: loudly warned about. */
  insecure?: boolean;
  /** SFTP: the private key file (OpenSSH or PEM). */
  sshKey?: string;
  /** SFTP: the environment variable holding the key's passphrase. */
  sshKeyPasswordEnv?: string;
  /** SFTP: the server's host key fingerprint, `SHA256:...` as OpenSSH prints it. */
  hostKeySha256?: string;
  /** SFTP without a pin: accept the key the server shows, and print it. */
  trustOnFirstUse?: boolean;
  ledger?: string;
}

/** What `--insecure` prints on stderr, each time it is used. */
export const INSECURE_WARNING =
  "onss-transfer: WARNING: --insecure: the server's certificate is not checked\n";

/** Protocols `--protocol` names. */
const PROTOCOLS = ['ftp', 'ftps', 'sftp'] as const;

/** Default ports: FTP and explicit FTPS share 21; the transfer point's SFTP listens on 8022. */
const DEFAULT_PORTS = { ftp: 21, ftps: 21, sftp: 8022 } as const;

/** Adds the server flags (host, port, user, password, channel and its trust) and --ledger. */
export function withServerFlags(command: Command): Command {
  return command
    .requiredOption('--host <host>', 'the transfer point server (ftp.socialsecurity.be)')
    .option('--port <port>', 'server port (default 21 for ftp and ftps, 8022 for sftp)')
    .requiredOption('--user <user>', 'the technical user name')
    .option(
      '--password-env <var>',
      'environment variable holding the FTP password',
      DEFAULT_PASSWORD_ENV,
    )
    .option(
      '--protocol <ftp|ftps|sftp>',
      'ftp; ftps: explicit TLS (AUTH TLS), data encrypted; sftp: SSH key and pinned host key',
      'ftp',
    )
    .option(
      '--ca-file <pem>',
      "FTPS: trust this CA (PEM) for the server's certificate instead of the system's",
    )
    .option(
      '--server-cert-sha256 <fp>',
      "FTPS: pin the server's certificate: its SHA-256 fingerprint (64 hex digits, colons optional)",
    )
    .option('--insecure', "FTPS: do not check the server's certificate (test servers only)")
    .option('--ssh-key <file>', 'SFTP: the private key (OpenSSH or PEM; RSA or ed25519)')
    .option(
      '--ssh-key-password-env <var>',
      "SFTP: environment variable holding the key's passphrase",
    )
    .option('--host-key-sha256 <fp>', "SFTP: the server's host key fingerprint (SHA256:...)")
    .option(
      '--trust-on-first-use',
      'SFTP without --host-key-sha256: accept the key shown, print it',
    )
    .option('--ledger <path>', 'the ledger file (default ~/.onss-transfer/ledger.sqlite)');
}

/** The first FTPS-only flag given, for the message that refuses it without FTPS. */
function ftpsFlag(flags: ServerFlags): string | undefined {
  if (flags.caFile !== undefined) return '--ca-file';
  if (flags.serverCertSha256 !== undefined) return '--server-cert-sha256';
  if (flags.insecure === true) return '--insecure';
  return undefined;
}

/** `--server-cert-sha256`, normalised (`AB:CD:...`); a UsageError when it is not a fingerprint. */
function certificatePin(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const fingerprint = normalizeFingerprint(value);
  if (fingerprint === undefined) {
    throw new UsageError(
      `--server-cert-sha256 ${JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value)} is not a SHA-256 certificate fingerprint (64 hex digits, colons optional)`,
    );
  }
  return fingerprint;
}

function protocolOf(value: string): (typeof PROTOCOLS)[number] {
  const protocol = PROTOCOLS.find((known) => known === value);
  if (protocol === undefined) {
    throw new UsageError(`--protocol must be ftp, ftps or sftp, not "${value}"`);
  }
  return protocol;
}

/**
 * The connector the flags describe; the password comes from the named variable. `--insecure`
 * is announced on stderr every time, so that it never goes unnoticed in a log.
 */
export async function connectorFromFlags(
  io: CliIo,
  flags: ServerFlags,
): Promise<TransportConnector> {
  // Loaded when a command connects: --help and the commands that do not stay fast to start.
  const { ftpConnector, sftpConnector } = await import('../../shared/transport');
  const protocol = protocolOf(flags.protocol);
  const port = flags.port === undefined ? DEFAULT_PORTS[protocol] : Number(flags.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--port ${flags.port ?? ''} is not a port`);
  }
  const sshFlag = [
    flags.sshKey !== undefined && '--ssh-key',
    flags.sshKeyPasswordEnv !== undefined && '--ssh-key-password-env',
    flags.hostKeySha256 !== undefined && '--host-key-sha256',
    flags.trustOnFirstUse === true && '--trust-on-first-use',
  ].find((flag): flag is string => typeof flag === 'string');
  if (protocol === 'sftp') return sftpConnectorFromFlags(io, flags, port, sftpConnector);
  if (sshFlag !== undefined) {
    throw new UsageError(`${sshFlag} is for SFTP: add --protocol sftp`);
  }
  const secure = protocol === 'ftps';
  const tlsFlag = ftpsFlag(flags);
  if (!secure && tlsFlag !== undefined) {
    throw new UsageError(`${tlsFlag} is for FTPS: add --protocol ftps`);
  }
  if (flags.caFile !== undefined && flags.insecure === true) {
    throw new UsageError('--ca-file and --insecure contradict each other: give one or the other');
  }
  if (flags.serverCertSha256 !== undefined && flags.insecure === true) {
    throw new UsageError(
      '--server-cert-sha256 and --insecure contradict each other (--insecure checks no certificate): give one or the other',
    );
  }
  const serverCertSha256 = certificatePin(flags.serverCertSha256);
  const password = secretFromEnv(io, flags.passwordEnv, '--password-env') ?? '';
  // An unreadable CA file is the connector's TransportConfigError: it names the file and why.
  const connector = ftpConnector({
    host: flags.host,
    port,
    user: flags.user,
    password,
    secure,
    ...(flags.caFile === undefined ? {} : { caFile: flags.caFile }),
    ...(serverCertSha256 === undefined ? {} : { serverCertSha256 }),
    ...(flags.insecure === true ? { insecure: true } : {}),
  });
  if (flags.insecure === true) io.stderr(INSECURE_WARNING);
  return connector;
}

/**
 * The SFTP connector the flags describe: the key from its file, its passphrase and an optional
 * password from the named variables, the host key pinned or, with --trust-on-first-use,
 * accepted and printed so it can be pinned next time.
 */
function sftpConnectorFromFlags(
  io: CliIo,
  flags: ServerFlags,
  port: number,
  sftpConnector: typeof SftpConnector,
): TransportConnector {
  const tlsFlag = ftpsFlag(flags);
  if (tlsFlag !== undefined) throw new UsageError(`${tlsFlag} is for FTPS, not SFTP`);
  if (flags.hostKeySha256 !== undefined && flags.trustOnFirstUse === true) {
    throw new UsageError('--host-key-sha256 and --trust-on-first-use: give one or the other');
  }
  if (flags.sshKeyPasswordEnv !== undefined && flags.sshKey === undefined) {
    throw new UsageError('--ssh-key-password-env needs --ssh-key');
  }
  let privateKey: Buffer | undefined;
  if (flags.sshKey !== undefined) {
    try {
      privateKey = readFileSync(flags.sshKey);
    } catch (cause) {
      const code = (cause as { code?: unknown }).code;
      throw new UsageError(
        `--ssh-key ${flags.sshKey} cannot be read${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    }
  }
  const passphrase = secretFromEnv(io, flags.sshKeyPasswordEnv, '--ssh-key-password-env');
  // With a key, a password is optional: taken only when its variable is set.
  const password =
    privateKey === undefined || io.env[flags.passwordEnv] !== undefined
      ? secretFromEnv(io, flags.passwordEnv, '--password-env')
      : undefined;
  return sftpConnector({
    host: flags.host,
    port,
    user: flags.user,
    ...(privateKey === undefined ? {} : { privateKey }),
    ...(passphrase === undefined ? {} : { passphrase }),
    ...(password === undefined ? {} : { password }),
    ...(flags.hostKeySha256 === undefined ? {} : { hostKeySha256: flags.hostKeySha256 }),
    trustOnFirstUse: flags.trustOnFirstUse === true,
    onHostKey: (event) => {
      if (event.trust === 'first-use') {
        io.stderr(
          `onss-transfer: trusting ${event.where}'s ${event.keyType} host key ${event.fingerprint} ` +
            `on first use; pin it with --host-key-sha256 ${event.fingerprint}\n`,
        );
      }
    },
  });
}

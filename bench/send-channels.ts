/**
 * bench:send's servers, one per protocol, each with how the reference command and our CLI
 * reach it: vsftpd for FTP and FTPS (curl as the reference), OpenSSH for SFTP (`sftp -b`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOpenSsh } from '../test/interop/openssh';
import { startVsftpd } from '../test/interop/vsftpd';

export const PROTOCOLS = ['ftp', 'ftps', 'sftp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** One protocol's local server, and how each column (the reference, our CLI) reaches it. */
export interface Channel {
  protocol: Protocol;
  /** The reference command, as the table names it. */
  reference: string;
  /** The reference command uploading `file`: program and arguments. */
  referenceCommand(file: string): [string, string[]];
  /** Our CLI's server flags. */
  flags: string[];
  /** What both columns add to the environment. */
  env: NodeJS.ProcessEnv;
  /** The upload folder on disk, emptied after every run. */
  uploads: string;
  /** For FTP: what the S3 row's child needs (port, user, password). */
  ftp?: { port: number; user: string; password: string; netrc: string };
}

/** What to undo at the end: each server started is pushed here. */
export type Cleanups = (() => Promise<void> | void)[];

/** FTP or FTPS (TLS 1.3, logins and data in TLS, data sessions resuming the control's) to vsftpd. */
async function vsftpdChannel(dir: string, tls: boolean, cleanups: Cleanups): Promise<Channel> {
  const server = await startVsftpd({ tls });
  cleanups.push(() => server.stop());
  const protocol = tls ? 'ftps' : 'ftp';
  // curl reads the credentials from a netrc file: nothing secret on a command line.
  const netrc = join(dir, `${protocol}.netrc`);
  writeFileSync(netrc, `machine 127.0.0.1 login ${server.user} password ${server.password}\n`, {
    mode: 0o600,
  });
  const ca = join(dir, 'ftps-ca.pem');
  if (tls) writeFileSync(ca, server.caPem ?? '');
  const curl = ['--netrc-file', netrc, ...(tls ? ['--ssl-reqd', '--tlsv1.3', '--cacert', ca] : [])];
  const url = `ftp://127.0.0.1:${server.port}/INTEST/reference-upload`;
  return {
    protocol,
    reference: tls ? '`curl --ssl-reqd --tlsv1.3 --cacert CA -T`' : '`curl -T`',
    referenceCommand: (file) => ['curl', ['-sS', ...curl, '-T', file, url]],
    flags: [
      ...['--protocol', protocol, '--port', String(server.port), '--user', server.user],
      ...['--password-env', 'BENCH_FTP_PASSWORD', ...(tls ? ['--ca-file', ca] : [])],
    ],
    env: { BENCH_FTP_PASSWORD: server.password },
    uploads: join(server.root, 'INTEST'),
    ...(tls
      ? {}
      : { ftp: { port: server.port, user: server.user, password: server.password, netrc } }),
  };
}

// The cipher ssh2 picks against OpenSSH: the reference runs with the same one.
const SFTP_CIPHER = 'aes128-gcm@openssh.com';

/** SFTP to OpenSSH (internal-sftp, ssh-rsa as the transfer point): key login, pinned host key. */
async function opensshChannel(dir: string, cleanups: Cleanups): Promise<Channel> {
  const server = await startOpenSsh();
  cleanups.push(() => server.stop());
  const key = join(dir, 'sftp-key');
  writeFileSync(key, server.keys.rsa, { mode: 0o600 });
  return {
    protocol: 'sftp',
    reference: `OpenSSH \`sftp -b\` (${SFTP_CIPHER})`,
    referenceCommand: (file) => {
      const batch = join(dir, 'sftp-batch');
      writeFileSync(batch, `put ${file} /INTEST/reference-upload\n`);
      return [
        'sftp',
        [
          ...['-q', '-b', batch, '-i', key, '-P', String(server.port), '-c', SFTP_CIPHER],
          // The server offers only the legacy ssh-rsa, as the transfer point; the reference
          // trusts it blindly (our column pins its fingerprint).
          ...['-o', 'HostKeyAlgorithms=+ssh-rsa', '-o', 'PubkeyAcceptedAlgorithms=ssh-rsa'],
          ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'],
          `${server.user}@127.0.0.1`,
        ],
      ];
    },
    flags: [
      ...['--protocol', 'sftp', '--port', String(server.port), '--user', server.user],
      ...['--ssh-key', key, '--host-key-sha256', server.hostKeySha256],
    ],
    env: { HOME: dir },
    uploads: join(server.root, 'INTEST'),
  };
}

/** Starts each protocol's server, its stop pushed onto `cleanups`. */
export const SETUPS: Record<Protocol, (dir: string, cleanups: Cleanups) => Promise<Channel>> = {
  ftp: (dir, cleanups) => vsftpdChannel(dir, false, cleanups),
  ftps: (dir, cleanups) => vsftpdChannel(dir, true, cleanups),
  sftp: opensshChannel,
};

/** BENCH_PROTOCOLS, checked before anything starts. */
export function protocols(): Protocol[] {
  const wanted = (process.env.BENCH_PROTOCOLS ?? PROTOCOLS.join(','))
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const unknown = wanted.filter((name) => !PROTOCOLS.some((known) => known === name));
  if (unknown.length || !wanted.length) {
    throw new Error(
      `BENCH_PROTOCOLS: ${unknown.join(',') || '(none)'}: use ${PROTOCOLS.join(',')}`,
    );
  }
  return PROTOCOLS.filter((known) => wanted.includes(known));
}

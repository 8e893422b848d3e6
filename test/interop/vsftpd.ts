import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ensureInteropUser,
  freePort,
  freePortRange,
  makeLoginFolder,
  startServerProcess,
  writeTlsFiles,
  type InteropServer,
} from './harness';

export {
  ensureInteropUser,
  INTEROP_HOME,
  INTEROP_USER,
  TRANSFER_POINT_FOLDERS,
  type InteropServer,
} from './harness';

/**
 * Debian's vsftpd, started by the test itself on 127.0.0.1, as a second
 * opinion on our FTP adapter: a real, widely deployed server rather than the
 * in-process one. Needs root (to create the test user and to run vsftpd)
 * and /usr/sbin/vsftpd (`.ci/install-interop.sh` installs it).
 */

export const VSFTPD = '/usr/sbin/vsftpd';

/** A running vsftpd. */
export type Vsftpd = InteropServer;

/** How to run it. */
export interface VsftpdOptions {
  /**
   * Explicit FTPS as strict as vsftpd allows: logins and data in TLS only, and every data
   * connection must resume the control connection's TLS session (`require_ssl_reuse`). vsftpd
   * 3.0.3 has no TLS version settings: it negotiates TLS 1.3 with OpenSSL 3. Default false.
   */
  tls?: boolean;
  binary?: string;
}

/** The FTPS part of vsftpd.conf, with a fresh certificate for 127.0.0.1. */
function tlsLines(certFile: string, keyFile: string): string[] {
  return [
    'ssl_enable=YES',
    `rsa_cert_file=${certFile}`,
    `rsa_private_key_file=${keyFile}`,
    'allow_anon_ssl=NO',
    'force_local_logins_ssl=YES',
    'force_local_data_ssl=YES',
    'require_ssl_reuse=YES',
    // vsftpd 3.0.3's default list (DES-CBC3-SHA) is refused by OpenSSL 3 for TLS 1.2.
    'ssl_ciphers=HIGH',
    'debug_ssl=YES',
  ];
}

/**
 * Starts `/usr/sbin/vsftpd <conf>` in the foreground on 127.0.0.1 (a free
 * control port, passive ports in a small free range, plain FTP or FTPS), logging in
 * the dedicated local user chrooted into a fresh login folder that holds
 * the transfer point's folders. Fails, never skips, when vsftpd is missing.
 */
export async function startVsftpd(options: VsftpdOptions = {}): Promise<Vsftpd> {
  const name = options.tls ? 'vsftpd FTPS' : 'vsftpd';
  const { uid, gid, password } = ensureInteropUser();
  // vsftpd enters the login folder as the user: the way there must be traversable.
  const { dir, root } = makeLoginFolder('onss-vsftpd-', uid, gid);
  const empty = join(dir, 'empty');
  mkdirSync(empty, { mode: 0o755 });
  const tls = options.tls ? await writeTlsFiles(dir) : undefined;

  const port = await freePort();
  const [pasvMin, pasvMax] = await freePortRange(10);
  const logFile = join(dir, 'vsftpd.log');
  const conf = join(dir, 'vsftpd.conf');
  writeFileSync(
    conf,
    [
      'listen=YES',
      'listen_ipv6=NO',
      'listen_address=127.0.0.1',
      `listen_port=${port}`,
      'background=NO',
      'anonymous_enable=NO',
      'local_enable=YES',
      'write_enable=YES',
      'local_umask=022',
      'chroot_local_user=YES',
      'allow_writeable_chroot=YES',
      // One login folder per instance: runs never see each other's files.
      `local_root=${root}`,
      'pasv_enable=YES',
      'pasv_address=127.0.0.1',
      `pasv_min_port=${pasvMin}`,
      `pasv_max_port=${pasvMax}`,
      'port_enable=NO',
      'connect_from_port_20=NO',
      'seccomp_sandbox=NO',
      // Namespaces are often refused inside containers.
      'isolate=NO',
      'isolate_network=NO',
      `secure_chroot_dir=${empty}`,
      'pam_service_name=vsftpd',
      'userlist_enable=NO',
      ...(tls ? tlsLines(tls.certFile, tls.keyFile) : ['ssl_enable=NO']),
      'syslog_enable=NO',
      // PAM already makes a failed login wait about 2 s; no need for vsftpd's extra second.
      'delay_failed_login=0',
      'xferlog_enable=YES',
      'xferlog_std_format=NO',
      'log_ftp_protocol=YES',
      `vsftpd_log_file=${logFile}`,
      '',
    ].join('\n'),
  );

  return startServerProcess({
    name,
    binary: options.binary ?? VSFTPD,
    args: [conf],
    port,
    logFiles: [logFile],
    dir,
    login: { root, uid, gid, password },
    caPem: tls?.caPem,
  });
}

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cryptPassword,
  ensureInteropUser,
  freePort,
  freePortRange,
  INTEROP_USER,
  makeLoginFolder,
  setupFailure,
  startServerProcess,
  writeTlsFiles,
  type InteropServer,
} from './harness';

/**
 * Debian's pure-ftpd, a third opinion beside ftp-srv and vsftpd: started by the test itself
 * on 127.0.0.1, in the foreground. Its package conflicts with vsftpd's, so
 * `.ci/install-interop.sh` unpacks it into /opt/onss-interop/pure-ftpd. The test user logs in
 * as a pure-ftpd virtual user (a PureDB file per instance) mapped to the interop user's uid,
 * chrooted into a fresh login folder: parallel test files never share one.
 */

const PREFIX = '/opt/onss-interop/pure-ftpd/usr';
export const PURE_FTPD = `${PREFIX}/sbin/pure-ftpd`;
const PURE_PW = `${PREFIX}/bin/pure-pw`;

/** How to run it. */
export interface PureFtpdOptions {
  /**
   * Explicit FTPS only (`--tls=3`: no login and no data connection in clear), with a fresh
   * certificate for 127.0.0.1 (`--certfile`); default false: plain FTP, AUTH TLS refused
   * (`--tls=0`).
   */
  tls?: boolean;
}

/**
 * Writes the PureDB of one virtual user: the interop user's name, a SHA-512 crypt hash of its
 * password (pure-pw's own default, argon2id with 511 passes, takes seconds per login), its
 * uid and gid, and `root/./`, which chroots the user there.
 */
function writeUserDb(dir: string, root: string, uid: number, gid: number, password: string) {
  const passwd = join(dir, 'pureftpd.passwd');
  const db = join(dir, 'pureftpd.pdb');
  const hash = cryptPassword(password);
  writeFileSync(passwd, `${INTEROP_USER}:${hash}:${uid}:${gid}::${root}/./::::::::::::\n`, {
    mode: 0o600,
  });
  try {
    execFileSync(PURE_PW, ['mkdb', db, '-f', passwd], { stdio: 'pipe' });
  } catch (error) {
    setupFailure('pure-ftpd', `pure-pw mkdb failed: ${String(error)}`);
  }
  return db;
}

/** Starts pure-ftpd on 127.0.0.1, plain or FTPS; `stop()` it in afterAll. */
export async function startPureFtpd(options: PureFtpdOptions = {}): Promise<InteropServer> {
  const name = options.tls ? 'pure-ftpd FTPS' : 'pure-ftpd';
  const { uid, gid, password } = ensureInteropUser();
  const { dir, root } = makeLoginFolder('onss-pure-ftpd-', uid, gid);
  const db = writeUserDb(dir, root, uid, gid, password);
  const tls = options.tls ? await writeTlsFiles(dir) : undefined;
  const port = await freePort();
  const [pasvMin, pasvMax] = await freePortRange(10);
  const transfers = join(dir, 'transfers.log');

  return startServerProcess({
    name,
    binary: PURE_FTPD,
    args: [
      `--bind=127.0.0.1,${port}`,
      `--login=puredb:${db}`,
      '--noanonymous',
      '--chrooteveryone',
      `--passiveportrange=${pasvMin}:${pasvMax}`,
      '--forcepassiveip=127.0.0.1',
      '--dontresolve',
      '--umask=133:022',
      '--maxclientsnumber=50',
      '--syslogfacility=none',
      `--altlog=clf:${transfers}`,
      `--tls=${tls ? 3 : 0}`,
      ...(tls ? [`--certfile=${tls.certFile},${tls.keyFile}`] : []),
    ],
    port,
    logFiles: [transfers],
    dir,
    login: { root, uid, gid, password },
    caPem: tls?.caPem,
  });
}

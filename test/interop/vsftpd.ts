import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian's vsftpd, started by the test itself on 127.0.0.1, as a second
 * opinion on our FTP adapter: a real, widely deployed server rather than the
 * in-process one. Needs root (to create the test user and to run vsftpd)
 * and /usr/sbin/vsftpd (`.ci/install-interop.sh` installs it).
 */

export const VSFTPD = '/usr/sbin/vsftpd';
/** The dedicated local user the tests log in as. */
export const INTEROP_USER = 'onss-interop';
/** Its Unix home; each server instance gets its own login folder (see {@link startVsftpd}). */
export const INTEROP_HOME = '/home/onss-interop';
/** The transfer point's folders, created in the login folder. */
export const TRANSFER_POINT_FOLDERS = ['IN', 'INTEST', 'INTEST-S', 'OUT', 'OUTTEST', 'OUTTEST-S'];
/**
 * Where the test user's password is kept (root only). It is random, made
 * once per machine, and the same for every run: test files running at the
 * same time would otherwise reset it under each other's feet.
 */
const SECRET_DIR = '/var/lib/onss-interop';
const SECRET_FILE = join(SECRET_DIR, 'password');

/** A running vsftpd. */
export interface Vsftpd {
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  /** The login folder on disk (the FTP root after chroot): holds IN, INTEST... */
  root: string;
  /** The uid and gid uploaded files belong to. */
  uid: number;
  gid: number;
  /** vsftpd's own log of this instance (protocol lines included), for failure messages. */
  log(): string;
  /** Stops the server and removes its folders; safe to call twice. */
  stop(): Promise<void>;
}

function fail(message: string): never {
  throw new Error(`vsftpd interop setup: ${message}`);
}

function run(command: string, args: string[], input?: string): string {
  try {
    return execFileSync(command, args, {
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    fail(
      `${command} ${args.join(' ')} failed: ${typeof stderr === 'string' ? stderr.trim() : String(error)}`,
    );
  }
}

/** uid, gid and home of a local user, or undefined when there is none. */
function lookupUser(name: string): { uid: number; gid: number; home: string } | undefined {
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  } catch {
    return undefined; // getent exits 2 for an unknown user
  }
  const [, , uid, gid, , home] = line.split(':');
  if (uid === undefined || gid === undefined || home === undefined) fail(`cannot read ${line}`);
  return { uid: Number(uid), gid: Number(gid), home };
}

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    fail(`${what} needs root; run the interop tests as root (CI does)`);
  }
}

/** The shared random password, made on first use. */
function interopPassword(): string {
  requireRoot('reading the test user password');
  mkdirSync(SECRET_DIR, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(SECRET_FILE, randomBytes(18).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
  }
  return readFileSync(SECRET_FILE, 'utf8').trim();
}

/**
 * Makes sure the test user exists and has the shared password. Creates it
 * when missing (`useradd -m -d /home/onss-interop`): CI runs on a fresh
 * machine. Its shell stays /bin/sh because Debian's PAM stack for vsftpd
 * (pam_shells) refuses users without a listed shell.
 */
export function ensureInteropUser(): { uid: number; gid: number; password: string } {
  requireRoot('creating the test user');
  if (!lookupUser(INTEROP_USER)) {
    run('useradd', ['-m', '-d', INTEROP_HOME, '-s', '/bin/sh', INTEROP_USER]);
  }
  const user = lookupUser(INTEROP_USER) ?? fail(`user ${INTEROP_USER} was not created`);
  const password = interopPassword();
  run('chpasswd', [], `${INTEROP_USER}:${password}\n`);
  return { uid: user.uid, gid: user.gid, password };
}

/** True when `port` can be bound on 127.0.0.1 right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') fail('no free port');
  return address.port;
}

/** A window of `size` free ports below Linux's ephemeral range (32768+), for passive data. */
async function freePortRange(size: number): Promise<[number, number]> {
  for (let tries = 0; tries < 50; tries += 1) {
    const first = 20_000 + Math.floor(Math.random() * (12_000 - size));
    const ports = Array.from({ length: size }, (_, i) => first + i);
    const free = await Promise.all(ports.map(portIsFree));
    if (free.every(Boolean)) return [first, first + size - 1];
  }
  return fail(`no window of ${size} free ports in 20000-31999`);
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
async function waitForPort(port: number, child: ChildProcess, deadline: number, log: () => string) {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      fail(`vsftpd exited (${child.exitCode ?? child.signalCode}) before listening:\n${log()}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline)
      fail(`vsftpd did not listen on 127.0.0.1:${port} within 5 s:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Starts `/usr/sbin/vsftpd <conf>` in the foreground on 127.0.0.1 (a free
 * control port, passive ports in a small free range, plain FTP), logging in
 * the dedicated local user chrooted into a fresh login folder that holds
 * the transfer point's folders. Fails, never skips, when vsftpd is missing.
 */
export async function startVsftpd(binary: string = VSFTPD): Promise<Vsftpd> {
  if (!existsSync(binary)) {
    fail(
      `${binary} is missing: install Debian's vsftpd (as root: .ci/install-interop.sh, or apt-get install -y vsftpd)`,
    );
  }
  const { uid, gid, password } = ensureInteropUser();

  const dir = mkdtempSync(join(tmpdir(), 'onss-vsftpd-'));
  // vsftpd enters the login folder as the user: the way there must be traversable.
  chmodSync(dir, 0o711);
  const root = join(dir, 'root');
  const empty = join(dir, 'empty');
  mkdirSync(empty, { mode: 0o755 });
  mkdirSync(root, { mode: 0o755 });
  for (const folder of TRANSFER_POINT_FOLDERS) mkdirSync(join(root, folder));
  for (const path of [root, ...TRANSFER_POINT_FOLDERS.map((folder) => join(root, folder))]) {
    chownSync(path, uid, gid);
  }

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
      'ssl_enable=NO',
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

  let stderr = '';
  const child = spawn(binary, [conf], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = (): string => {
    const file = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    return [stderr.trim(), file.trim()].filter(Boolean).join('\n') || '(no output)';
  };

  /** Ends vsftpd and the session processes it forked: its own process group. */
  const kill = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    await waitForPort(port, child, Date.now() + 5000, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host: '127.0.0.1', port, user: INTEROP_USER, password, root, uid, gid, log, stop };
}

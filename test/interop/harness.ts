import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTlsIdentity } from '../../transfer-point';

/**
 * What the interop harnesses (Debian's vsftpd and pure-ftpd, started by the tests themselves
 * on 127.0.0.1) share: the dedicated local user, free loopback ports, a fresh login folder
 * holding the transfer point's folders, a throwaway TLS certificate, and a server process run
 * in the foreground and stopped with everything it forked. Needs root, as CI runs.
 */

/** The dedicated local user the tests log in as. */
export const INTEROP_USER = 'onss-interop';
/** Its Unix home; each server instance gets its own login folder (see {@link makeLoginFolder}). */
export const INTEROP_HOME = '/home/onss-interop';
/** The transfer point's folders, created in the login folder. */
export const TRANSFER_POINT_FOLDERS = ['IN', 'INTEST', 'INTEST-S', 'OUT', 'OUTTEST', 'OUTTEST-S'];
/**
 * Where the test user's password is kept (root only). It is random, made once per machine,
 * and the same for every run: test files running at the same time would otherwise reset it
 * under each other's feet.
 */
const SECRET_DIR = '/var/lib/onss-interop';
const SECRET_FILE = join(SECRET_DIR, 'password');

/** A running server of an interop test, plain FTP or explicit FTPS. */
export interface InteropServer {
  /** `vsftpd`, `vsftpd FTPS`, `pure-ftpd`..., for test titles and messages. */
  name: string;
  /** True when the server speaks explicit FTPS (and refuses logins in clear). */
  secure: boolean;
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  /** The server's certificate, PEM, for clients to pin (FTPS only). */
  caPem?: string;
  /** The login folder on disk (the FTP root after chroot): holds IN, INTEST... */
  root: string;
  /** The uid and gid uploaded files belong to. */
  uid: number;
  gid: number;
  /** The server's own output and log of this instance, for failure messages. */
  log(): string;
  /**
   * Kills every session process at once, as a server crash would, and resolves once they are
   * dead (their sockets closed): clients see the connections cut. The server keeps listening.
   */
  dropSessions(): Promise<void>;
  /** Stops the server and removes its folders; safe to call twice. */
  stop(): Promise<void>;
}

/** Throws an Error that names the harness. */
export function setupFailure(server: string, message: string): never {
  throw new Error(`${server} interop setup: ${message}`);
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
    return setupFailure(
      'interop',
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
  if (uid === undefined || gid === undefined || home === undefined) {
    setupFailure('interop', `cannot read ${line}`);
  }
  return { uid: Number(uid), gid: Number(gid), home };
}

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    setupFailure('interop', `${what} needs root; run the interop tests as root (CI does)`);
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
 * Makes sure the test user exists and has the shared password. Creates it when missing
 * (`useradd -m -d /home/onss-interop`): CI runs on a fresh machine. Its shell stays /bin/sh
 * because Debian's PAM stack for vsftpd (pam_shells) refuses users without a listed shell.
 */
export function ensureInteropUser(): { uid: number; gid: number; password: string } {
  requireRoot('creating the test user');
  if (!lookupUser(INTEROP_USER)) {
    run('useradd', ['-m', '-d', INTEROP_HOME, '-s', '/bin/sh', INTEROP_USER]);
  }
  const user = lookupUser(INTEROP_USER) ?? setupFailure('interop', `${INTEROP_USER} not created`);
  const password = interopPassword();
  run('chpasswd', [], `${INTEROP_USER}:${password}\n`);
  return { uid: user.uid, gid: user.gid, password };
}

/** A SHA-512 crypt(3) hash of a password, from OpenSSL (the password goes through stdin). */
export function cryptPassword(password: string): string {
  return run('openssl', ['passwd', '-6', '-stdin'], `${password}\n`).trim();
}

/** True when `port` can be bound on 127.0.0.1 right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A port free on 127.0.0.1 now, chosen by the system. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') setupFailure('interop', 'no free port');
  return address.port;
}

/** A window of `size` free ports below Linux's ephemeral range (32768+), for passive data. */
export async function freePortRange(size: number): Promise<[number, number]> {
  for (let tries = 0; tries < 50; tries += 1) {
    const first = 20_000 + Math.floor(Math.random() * (12_000 - size));
    const ports = Array.from({ length: size }, (_, i) => first + i);
    const free = await Promise.all(ports.map(portIsFree));
    if (free.every(Boolean)) return [first, first + size - 1];
  }
  return setupFailure('interop', `no window of ${size} free ports in 20000-31999`);
}

/**
 * A fresh scratch folder (`dir`, mode 0711 so that a server entering the login folder as the
 * user can pass) holding `root`, the login folder, with the transfer point's folders, all
 * owned by the test user.
 */
export function makeLoginFolder(
  prefix: string,
  uid: number,
  gid: number,
): { dir: string; root: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o711);
  const root = join(dir, 'root');
  mkdirSync(root, { mode: 0o755 });
  for (const folder of TRANSFER_POINT_FOLDERS) mkdirSync(join(root, folder));
  for (const path of [root, ...TRANSFER_POINT_FOLDERS.map((folder) => join(root, folder))]) {
    chownSync(path, uid, gid);
  }
  return { dir, root };
}

/** A server certificate for 127.0.0.1 written to `dir` (root only), and its PEM for clients. */
export async function writeTlsFiles(
  dir: string,
): Promise<{ certFile: string; keyFile: string; caPem: string }> {
  const identity = await createTlsIdentity('127.0.0.1', 'onss-transfer interop FTPS server');
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  writeFileSync(certFile, identity.cert, { mode: 0o600 });
  writeFileSync(keyFile, identity.key, { mode: 0o600 });
  return { certFile, keyFile, caPem: identity.cert };
}

/** The pids of every process below `pid`, read from /proc (children of children first). */
function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // The name (2nd field) is in parentheses and may hold spaces: the ppid follows the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const visit = (parent: number): void => {
    for (const child of children.get(parent) ?? []) {
      visit(child);
      found.push(child);
    }
  };
  visit(pid);
  return found;
}

/** True while `pid` runs: not gone, not a zombie waiting for its parent. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Kills every process below `pid` (a server's session processes, which may have left its
 * process group) and waits, two seconds at most, until they are gone.
 */
export async function killDescendants(pid: number): Promise<void> {
  const pids = descendantsOf(pid);
  for (const child of pids) {
    try {
      process.kill(child, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + 2000;
  while (pids.some(isRunning) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
async function waitForPort(
  name: string,
  port: number,
  exited: () => string | undefined,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const status = exited();
    if (status !== undefined) setupFailure(name, `exited (${status}) before listening:\n${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) {
      setupFailure(name, `did not listen on 127.0.0.1:${port} within 5 s:\n${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** What {@link startServerProcess} runs. */
export interface ServerProcessSpec {
  /** For messages: `vsftpd`, `pure-ftpd`. */
  name: string;
  binary: string;
  args: string[];
  /** The control port the server was told to listen on. */
  port: number;
  /** Log files the server writes, shown with its output on failure. */
  logFiles: string[];
  /** The scratch folder of the instance, removed on stop. */
  dir: string;
  /** The login folder it serves and the user's uid, gid and password. */
  login: { root: string; uid: number; gid: number; password: string };
  /** Its certificate, PEM, when it speaks FTPS; undefined: plain FTP. */
  caPem: string | undefined;
}

/**
 * Runs a server in the foreground, in its own process group, and resolves once it accepts
 * connections. `stop()` ends the group (the server and every session it forked) and removes
 * the scratch folder; `dropSessions()` kills the session processes only, by pid.
 */
export async function startServerProcess(spec: ServerProcessSpec): Promise<InteropServer> {
  if (!existsSync(spec.binary)) {
    setupFailure(
      spec.name,
      `${spec.binary} is missing: as root, run .ci/install-interop.sh (vsftpd, pure-ftpd, sshd)`,
    );
  }
  let output = '';
  const child = spawn(spec.binary, spec.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const status = (): string | undefined =>
    child.exitCode !== null || child.signalCode !== null
      ? String(child.exitCode ?? child.signalCode)
      : undefined;
  const log = (): string => {
    const files = spec.logFiles.map((file) => (existsSync(file) ? readFileSync(file, 'utf8') : ''));
    return (
      [output, ...files]
        .map((text) => text.trim())
        .filter(Boolean)
        .join('\n') || '(no output)'
    );
  };

  /** Ends the server and the session processes it forked: its own process group. */
  const kill = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined || status() !== undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };

  const dropSessions = async (): Promise<void> => {
    if (child.pid !== undefined) await killDescendants(child.pid);
  };

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
      rmSync(spec.dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    await waitForPort(spec.name, spec.port, status, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: spec.name,
    secure: spec.caPem !== undefined,
    host: '127.0.0.1',
    port: spec.port,
    user: INTEROP_USER,
    ...spec.login,
    ...(spec.caPem === undefined ? {} : { caPem: spec.caPem }),
    log,
    dropSessions,
    stop,
  };
}

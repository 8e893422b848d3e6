import { execFileSync, spawn } from 'node:child_process';
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
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  ensureInteropUser,
  freePort,
  INTEROP_USER,
  killDescendants,
  TRANSFER_POINT_FOLDERS,
} from './harness';

/**
 * Debian's OpenSSH server, started by the test itself on 127.0.0.1 (`sshd -D -e -f
 * <config>`), as the reference SFTP server: `internal-sftp` chrooted into a fresh login
 * folder holding the transfer point's folders, key login only, a fresh RSA host key. The
 * `legacy` variant offers and accepts `ssh-rsa` (SHA-1) signatures only, as the transfer
 * point does. Keys are made by ssh-keygen, not by our code. Needs root (sshd, chroot, the
 * test user) and /usr/sbin/sshd (`.ci/install-interop.sh` installs it).
 */

export const SSHD = '/usr/sbin/sshd';
/** Passphrase of the encrypted test keys. */
export const KEY_PASSPHRASE = 'interop pass phrase';

/**
 * Chroot needs every folder on the way root-owned and not writable by group or others:
 * /tmp (1777) will not do, so instances live under this root-only folder.
 */
const BASE = '/var/lib/onss-interop-sshd';

/** Private keys made for the run (file contents); all authorized except `stranger`. */
export interface OpenSshKeys {
  /** RSA, OpenSSH format, unencrypted. */
  rsa: string;
  /** RSA, OpenSSH format, encrypted with KEY_PASSPHRASE (bcrypt). */
  rsaEncrypted: string;
  /** RSA, PKCS#1 PEM (`-m PEM`), encrypted with KEY_PASSPHRASE (legacy PEM encryption). */
  rsaPemEncrypted: string;
  /** ed25519, OpenSSH format, encrypted with KEY_PASSPHRASE. */
  ed25519Encrypted: string;
  /** RSA, not authorized. */
  stranger: string;
}

/** A running sshd. */
export interface OpenSsh {
  host: '127.0.0.1';
  port: number;
  user: string;
  /** The chroot on disk: the login folder, holding IN, INTEST... */
  root: string;
  /** The host key fingerprint as `ssh-keygen -lf` prints it. */
  hostKeySha256: string;
  keys: OpenSshKeys;
  /** sshd's log (LogLevel VERBOSE, on stderr), for assertions and failure messages. */
  log(): string;
  /** Kills every session process at once (the listener stays): clients see the connections cut. */
  dropSessions(): Promise<void>;
  /** Stops sshd and every session, removes the instance's folder; safe to call twice. */
  stop(): Promise<void>;
}

/** What kind of server to mimic. */
export interface OpenSshOptions {
  /** `ssh-rsa` only, for the host key and for user keys, like the transfer point; default true. */
  legacy?: boolean;
}

function fail(message: string): never {
  throw new Error(`OpenSSH interop setup: ${message}`);
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    fail(`${command} ${args.join(' ')}: ${typeof stderr === 'string' ? stderr.trim() : error}`);
  }
}

/** Makes a key pair with ssh-keygen; returns the private key's text and the public line. */
function keygen(
  dir: string,
  name: string,
  args: string[],
  passphrase = '',
): { key: string; pub: string } {
  const file = join(dir, name);
  run('ssh-keygen', ['-q', ...args, '-N', passphrase, '-C', `onss-interop ${name}`, '-f', file]);
  return { key: readFileSync(file, 'utf8'), pub: readFileSync(`${file}.pub`, 'utf8').trim() };
}

/**
 * Starts sshd on a free loopback port. Each instance has its own folder under
 * /var/lib/onss-interop-sshd: host key, authorized_keys, config, and the chroot `root`
 * (root-owned, as sshd demands) holding the transfer point's folders, owned by the test user.
 * Fails, never skips, when sshd is missing.
 */
export async function startOpenSsh(options: OpenSshOptions = {}): Promise<OpenSsh> {
  const legacy = options.legacy ?? true;
  if (!existsSync(SSHD)) {
    fail(
      `${SSHD} is missing: as root, run .ci/install-interop.sh (or apt-get install openssh-server)`,
    );
  }
  const { uid, gid } = ensureInteropUser();
  // sshd's privilege separation folder; Debian's service creates it, the package does not.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  mkdirSync(BASE, { recursive: true, mode: 0o755 });
  chmodSync(BASE, 0o755);
  const dir = mkdtempSync(join(BASE, 'run-'));
  chmodSync(dir, 0o755);
  const root = join(dir, 'root');
  mkdirSync(root, { mode: 0o755 });
  for (const folder of TRANSFER_POINT_FOLDERS) {
    mkdirSync(join(root, folder));
    chownSync(join(root, folder), uid, gid);
  }

  keygen(dir, 'host_rsa', ['-t', 'rsa', '-b', '2048']);
  const hostKeySha256 =
    /\b(SHA256:[A-Za-z0-9+/]{43})\b/.exec(
      run('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'host_rsa.pub')]),
    )?.[1] ?? fail('ssh-keygen -l printed no SHA256 fingerprint');
  const made = {
    rsa: keygen(dir, 'user_rsa', ['-t', 'rsa', '-b', '2048']),
    rsaEncrypted: keygen(dir, 'user_rsa_enc', ['-t', 'rsa', '-b', '2048'], KEY_PASSPHRASE),
    rsaPemEncrypted: keygen(
      dir,
      'user_rsa_pem',
      ['-t', 'rsa', '-b', '2048', '-m', 'PEM'],
      KEY_PASSPHRASE,
    ),
    ed25519Encrypted: keygen(dir, 'user_ed25519_enc', ['-t', 'ed25519'], KEY_PASSPHRASE),
    stranger: keygen(dir, 'stranger_rsa', ['-t', 'rsa', '-b', '2048']),
  };
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(
    authorizedKeys,
    [made.rsa, made.rsaEncrypted, made.rsaPemEncrypted, made.ed25519Encrypted]
      .map((pair) => pair.pub)
      .join('\n') + '\n',
    { mode: 0o644 },
  );

  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${join(dir, 'host_rsa')}`,
      ...(legacy ? ['HostKeyAlgorithms ssh-rsa', 'PubkeyAcceptedAlgorithms ssh-rsa'] : []),
      'PidFile none',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'AuthenticationMethods publickey',
      `AuthorizedKeysFile ${authorizedKeys}`,
      `AllowUsers ${INTEROP_USER}`,
      `ChrootDirectory ${root}`,
      // The session starts in the chroot's / (the login folder), whatever the user's home.
      'ForceCommand internal-sftp -d /',
      'Subsystem sftp internal-sftp',
      'AllowTcpForwarding no',
      'AllowAgentForwarding no',
      'X11Forwarding no',
      'PermitTTY no',
      'LoginGraceTime 30',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  run(SSHD, ['-t', '-f', config]);

  let output = '';
  const child = spawn(SSHD, ['-D', '-e', '-f', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = (): string => output.trim() || '(no output)';

  // sshd's sessions call setsid(): they leave its process group, so they are found by parent.
  const dropSessions = async (): Promise<void> => {
    if (child.pid !== undefined) await killDescendants(child.pid);
  };

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await dropSessions();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    const deadline = Date.now() + 5000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        fail(`sshd exited (${child.exitCode ?? child.signalCode}) before listening:\n${log()}`);
      }
      // A probe that sends nothing: sshd logs it as a lost connection, nothing more.
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect({ port, host: '127.0.0.1' });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (open) break;
      if (Date.now() > deadline)
        fail(`sshd did not listen on 127.0.0.1:${port} within 5 s:\n${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    host: '127.0.0.1',
    port,
    user: INTEROP_USER,
    root,
    hostKeySha256,
    keys: {
      rsa: made.rsa.key,
      rsaEncrypted: made.rsaEncrypted.key,
      rsaPemEncrypted: made.rsaPemEncrypted.key,
      ed25519Encrypted: made.ed25519Encrypted.key,
      stranger: made.stranger.key,
    },
    log,
    dropSessions,
    stop,
  };
}

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm test`'s pretest step. The interop tests (test/interop) start Debian's vsftpd, OpenSSH
 * server and pure-ftpd themselves, as root; OpenSSL judges every signature. On a fresh machine
 * this installs what is missing when it can (root on Debian, as CI does with
 * `.ci/install-interop.sh`), and otherwise stops before the run with one line naming what is
 * missing and the one command that installs it: never a silent skip, never fifteen failures.
 */

/** What the run needs from the machine, each with where it is looked for. */
export const NEEDED: readonly { name: string; path: string }[] = [
  { name: 'vsftpd', path: '/usr/sbin/vsftpd' },
  { name: 'OpenSSH server (sshd)', path: '/usr/sbin/sshd' },
  { name: 'pure-ftpd', path: '/opt/onss-interop/pure-ftpd/usr/sbin/pure-ftpd' },
  { name: 'pure-pw', path: '/opt/onss-interop/pure-ftpd/usr/bin/pure-pw' },
];

/** The one command that installs every interop server, from the checkout's root. */
export const INSTALL_COMMAND = 'sudo bash .ci/install-interop.sh';

/** What the machine offers, as the preflight sees it. */
export interface Machine {
  /** Names of NEEDED entries not found. */
  missing: string[];
  /** Whether OpenSSL is on the PATH. */
  openssl: boolean;
  /** Whether this process runs as root. */
  root: boolean;
  /** Whether the machine is Debian or a derivative with apt-get. */
  debian: boolean;
}

/** What the preflight does about it. */
export type Decision = { action: 'run' } | { action: 'install' } | { action: 'stop'; line: string };

/** Decides from what the machine offers; pure, so it is tested on every branch. */
export function decide(machine: Machine): Decision {
  if (!machine.openssl) {
    return {
      action: 'stop',
      line: 'npm test: OpenSSL is missing (it checks every signature); install it: sudo apt-get install -y openssl',
    };
  }
  if (machine.missing.length > 0) {
    if (machine.root && machine.debian) return { action: 'install' };
    return {
      action: 'stop',
      line: `npm test: the interop tests need ${machine.missing.join(', ')}, not installed; install them: ${INSTALL_COMMAND}`,
    };
  }
  if (!machine.root) {
    return {
      action: 'stop',
      line: 'npm test: the interop tests start vsftpd, sshd and pure-ftpd under a local user they create, which needs root; run: sudo npm test',
    };
  }
  return { action: 'run' };
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Looks at this machine. */
export function inspectMachine(): Machine {
  return {
    missing: NEEDED.filter((entry) => !existsSync(entry.path)).map((entry) => entry.name),
    openssl: onPath('openssl'),
    root: process.getuid?.() === 0,
    debian: existsSync('/etc/debian_version') && onPath('apt-get'),
  };
}

function main(): number {
  const decision = decide(inspectMachine());
  if (decision.action === 'install') {
    const script = join(__dirname, '..', '..', '.ci', 'install-interop.sh');
    process.stderr.write('npm test: installing the interop servers (.ci/install-interop.sh)\n');
    try {
      execFileSync('bash', [script], { stdio: 'inherit' });
    } catch {
      process.stderr.write(
        `npm test: installing the interop servers failed (see above); run: ${INSTALL_COMMAND}\n`,
      );
      return 1;
    }
    const after = decide(inspectMachine());
    if (after.action !== 'run') {
      process.stderr.write(`${after.action === 'stop' ? after.line : 'npm test: still missing'}\n`);
      return 1;
    }
    return 0;
  }
  if (decision.action === 'stop') {
    process.stderr.write(`${decision.line}\n`);
    return 1;
  }
  return 0;
}

if (require.main === module) process.exitCode = main();

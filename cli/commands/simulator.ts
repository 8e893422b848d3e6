import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { SimulatorOptions } from '../../transfer-point';
import { EXIT, secretFromEnv, UsageError, type CliIo } from '../io';
import { loadMaterialFromOptions } from './signing-material';

interface SimulatorFlags {
  port: string;
  host: string;
  root?: string;
  user: string;
  passwordEnv?: string;
  sender?: string;
  signTest?: boolean;
  notiDelay?: string;
  answerDelay?: string;
  protocol: string;
  caOut?: string;
  sshKeyOut?: string;
  answerKey?: string;
  answerCert?: string;
  answerCertOut?: string;
}

/**
 * Writes a file clients need (the FTPS certificate, the SFTP client key) where they can read
 * it: the path the user chose, or a temporary file. Returns its path and what removes it at
 * the end (nothing for a file the user chose).
 */
function writeClientFile(content: string, chosen: string | undefined, name: string, mode: number) {
  if (chosen !== undefined) {
    writeFileSync(chosen, content, { mode });
    return { path: resolve(chosen), remove: () => undefined };
  }
  const dir = mkdtempSync(join(tmpdir(), 'onss-simulator-'));
  const path = join(dir, name);
  writeFileSync(path, content, { mode });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `simulator`: a local transfer point on loopback until Ctrl-C. */
export function registerSimulator(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('simulator')
    .description(
      'run a local transfer point (FTP, FTPS or SFTP) that answers declarations with ACRF files',
    )
    .option('--port <port>', 'control (or SSH) port (0: any free port)', '2121')
    .option(
      '--protocol <ftp|ftps|sftp>',
      'ftp; ftps: explicit TLS with a throwaway certificate; sftp: a throwaway host and client key',
      'ftp',
    )
    .option(
      '--ca-out <file>',
      'FTPS: write the certificate clients pin there (default a temporary file, removed at the end)',
    )
    .option(
      '--ssh-key-out <file>',
      'SFTP: write the client key there (default a temporary file, removed at the end)',
    )
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--root <dir>', 'home folder on disk (default a temporary one, removed at the end)')
    .option('--user <user>', 'technical user name', 'onss')
    .option(
      '--password-env <var>',
      'environment variable holding its password (default: a random one, printed)',
    )
    .option('--sender <N>', 'sender number of the channel (others get ACRF-108)')
    .option('--sign-test', 'require an FS for T and S declarations too')
    .option(
      '--noti-delay <ms>',
      'answer accepted declarations with a NOTIFICATION after this delay',
    )
    .option(
      '--answer-delay <ms>',
      'write each ACRF this long after judging its set (default at once): a late answer',
    )
    .option(
      '--answer-key <pem>',
      'sign the answers with this private key (PEM, unencrypted; with --answer-cert)',
    )
    .option(
      '--answer-cert <pem>',
      'the certificate of --answer-key, and any chain (default: a throwaway one)',
    )
    .option(
      '--answer-cert-out <file>',
      'write the certificate the answers are signed with there (PEM), to pin or give as a CA',
    )
    .action(async (flags: SimulatorFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port ${flags.port} is not a port`);
      if (flags.protocol !== 'ftp' && flags.protocol !== 'ftps' && flags.protocol !== 'sftp') {
        throw new UsageError(`--protocol must be ftp, ftps or sftp, not "${flags.protocol}"`);
      }
      const secure = flags.protocol === 'ftps';
      const overSsh = flags.protocol === 'sftp';
      if (!secure && flags.caOut !== undefined) {
        throw new UsageError('--ca-out is for FTPS: add --protocol ftps');
      }
      if (!overSsh && flags.sshKeyOut !== undefined) {
        throw new UsageError('--ssh-key-out is for SFTP: add --protocol sftp');
      }
      if ((flags.answerKey === undefined) !== (flags.answerCert === undefined)) {
        throw new UsageError('--answer-key and --answer-cert go together: give both, or neither');
      }
      const password = secretFromEnv(io, flags.passwordEnv, '--password-env');
      const identity =
        flags.answerKey === undefined
          ? undefined
          : await loadMaterialFromOptions(io, { key: flags.answerKey, cert: flags.answerCert });
      const options: Partial<SimulatorOptions> = {
        host: flags.host,
        port,
        ...(secure ? { tls: true as const } : {}),
        ...(overSsh ? { sftp: true as const } : {}),
        user: flags.user,
        ...(password !== undefined ? { password } : {}),
        ...(flags.root ? { root: flags.root } : {}),
        ...(flags.sender ? { sender: flags.sender } : {}),
        ...(flags.signTest ? { signatureRequiredFor: { T: true, S: true } } : {}),
        ...(flags.notiDelay ? { notificationDelayMs: Number(flags.notiDelay) } : {}),
        ...(flags.answerDelay ? { answerDelayMs: Number(flags.answerDelay) } : {}),
        ...(identity === undefined ? {} : { identity }),
      };
      const { startSimulator } = await import('../../transfer-point');
      const simulator = await startSimulator(options);
      simulator.on('judged', (judgement) => {
        io.stdout(
          `${judgement.accepted ? 'accepted' : 'rejected'} ${judgement.goName}` +
            `${judgement.accepted ? '' : ` (${judgement.codes.map((c) => `ACRF-${String(c).padStart(3, '0')}`).join(', ')})`}` +
            ` ticket ${judgement.ticket}\n`,
        );
      });
      const certificate = secure
        ? writeClientFile(simulator.caPem ?? '', flags.caOut, 'simulator-ca.pem', 0o644)
        : undefined;
      const clientKey = overSsh
        ? writeClientFile(simulator.privateKeyPem ?? '', flags.sshKeyOut, 'client-key.pem', 0o600)
        : undefined;
      if (flags.answerCertOut !== undefined) {
        writeFileSync(flags.answerCertOut, simulator.answerCertificatePem, { mode: 0o644 });
      }
      const channelFlags = certificate
        ? ` --protocol ftps --ca-file ${certificate.path}`
        : clientKey
          ? ` --protocol sftp --ssh-key ${clientKey.path} --host-key-sha256 ${simulator.hostKeySha256 ?? ''}`
          : '';
      io.stdout(
        `local transfer point listening on ${simulator.url}, home ${simulator.root}\n` +
          (certificate ? `FTPS certificate (pin it with --ca-file): ${certificate.path}\n` : '') +
          (clientKey
            ? `SFTP client key: ${clientKey.path}; host key ${simulator.hostKeySha256 ?? ''}\n`
            : '') +
          (password === undefined ? `password (a local throwaway): ${simulator.password}\n` : '') +
          `answers signed with the certificate SHA-256 ${simulator.certificateFingerprint}` +
          `${flags.answerCertOut === undefined ? '' : ` (certificate in ${resolve(flags.answerCertOut)})`}` +
          `; pull with --answer-fingerprint ${simulator.certificateFingerprint}\n` +
          `send with: onss-transfer send FILE --host ${simulator.host} --port ${simulator.port} --user ${simulator.user}${channelFlags} ...\n` +
          'Ctrl-C stops it.\n',
      );
      try {
        await (io.waitForStop ?? waitForSignal)();
      } finally {
        await simulator.stop();
        certificate?.remove();
        clientKey?.remove();
      }
      setExit(EXIT.ok);
    });
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

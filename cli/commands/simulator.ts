import type { Command } from 'commander';
import { startSimulator, type SimulatorOptions } from '../../shared/simulator';
import { EXIT, secretFromEnv, UsageError, type CliIo } from '../io';

interface SimulatorFlags {
  port: string;
  host: string;
  root?: string;
  user: string;
  passwordEnv?: string;
  sender?: string;
  signTest?: boolean;
  notiDelay?: string;
}

/** `simulator`: a local transfer point on loopback until Ctrl-C. */
export function registerSimulator(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('simulator')
    .description('run a local transfer point (FTP) that answers declarations with ACRF files')
    .option('--port <port>', 'FTP control port (0: any free port)', '2121')
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
    .action(async (flags: SimulatorFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port ${flags.port} is not a port`);
      const password = secretFromEnv(io, flags.passwordEnv, '--password-env');
      const options: Partial<SimulatorOptions> = {
        host: flags.host,
        port,
        user: flags.user,
        ...(password !== undefined ? { password } : {}),
        ...(flags.root ? { root: flags.root } : {}),
        ...(flags.sender ? { sender: flags.sender } : {}),
        ...(flags.signTest ? { signatureRequiredFor: { T: true, S: true } } : {}),
        ...(flags.notiDelay ? { notificationDelayMs: Number(flags.notiDelay) } : {}),
      };
      const simulator = await startSimulator(options);
      simulator.on('judged', (judgement) => {
        io.stdout(
          `${judgement.accepted ? 'accepted' : 'rejected'} ${judgement.goName}` +
            `${judgement.accepted ? '' : ` (${judgement.codes.map((c) => `ACRF-${String(c).padStart(3, '0')}`).join(', ')})`}` +
            ` ticket ${judgement.ticket}\n`,
        );
      });
      io.stdout(
        `local transfer point listening on ${simulator.url}, home ${simulator.root}\n` +
          (password === undefined ? `password (a local throwaway): ${simulator.password}\n` : '') +
          `send with: onss-transfer send FILE --host ${simulator.host} --port ${simulator.port} --user ${simulator.user} ...\n` +
          'Ctrl-C stops it.\n',
      );
      try {
        await (io.waitForStop ?? waitForSignal)();
      } finally {
        await simulator.stop();
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

import type { Command } from 'commander';
import { ftpConnector, type TransportConnector } from '../../shared/transport';
import { DEFAULT_PASSWORD_ENV } from '../defaults';
import { secretFromEnv, UsageError, type CliIo } from '../io';

/** The server and ledger flags shared by `send` and `pull`. */
export interface ServerFlags {
  host: string;
  port: string;
  user: string;
  passwordEnv: string;
  ledger?: string;
}

/** Adds --host, --port, --user, --password-env and --ledger to a command. */
export function withServerFlags(command: Command): Command {
  return command
    .requiredOption('--host <host>', 'the transfer point server (ftp.socialsecurity.be)')
    .option('--port <port>', 'FTP port', '21')
    .requiredOption('--user <user>', 'the technical user name')
    .option(
      '--password-env <var>',
      'environment variable holding the FTP password',
      DEFAULT_PASSWORD_ENV,
    )
    .option('--ledger <path>', 'the ledger file (default ~/.onss-transfer/ledger.sqlite)');
}

/** The FTP connector the flags describe; the password comes from the named variable. */
export function connectorFromFlags(io: CliIo, flags: ServerFlags): TransportConnector {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--port ${flags.port} is not a port`);
  }
  const password = secretFromEnv(io, flags.passwordEnv, '--password-env') ?? '';
  return ftpConnector({ host: flags.host, port, user: flags.user, password });
}

import type { Command } from 'commander';
import { openSqliteLedger } from '../../shared/ledger';
import { openFileSource } from '../../shared/send/source';
import { sendDeclaration } from '../../shared/send/send-declaration';
import { parseDigestAlgorithm, parseFsFormat, type SigningMaterial } from '../../shared/signing';
import { ftpConnector } from '../../shared/transport';
import { defaultLedgerPath, DEFAULT_PASSWORD_ENV } from '../defaults';
import { asUsage, EXIT, printJson, secretFromEnv, UsageError, type CliIo } from '../io';
import { sendProgress } from '../progress';
import {
  declarationFrom,
  planOptionsFrom,
  withDeclarationFlags,
  type DeclarationFlags,
} from './declaration-options';
import { loadMaterialFromOptions, type KeyOptions } from './signing-material';

interface SendFlags extends DeclarationFlags, KeyOptions {
  host: string;
  port: string;
  user: string;
  passwordEnv: string;
  ledger?: string;
  resend?: boolean;
  digest: string;
  format: string;
  json?: boolean;
}

/** `send FILE`: plan, sign, upload FI/FS parts and the GO last, record it in the ledger. */
export function registerSend(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withDeclarationFlags(
    program
      .command('send')
      .description('send a declaration: check, split, sign, upload FI and FS parts, then GO')
      .argument('<file>', 'the declaration file'),
  )
    .option('--key <pem>', 'private key, PEM')
    .option('--cert <pem>', 'signer certificate, PEM')
    .option('--p12 <file>', 'PKCS#12 / .pfx holding key and certificate')
    .option('--key-password-env <var>', 'environment variable holding the key or PKCS#12 password')
    .requiredOption('--host <host>', 'the transfer point server (ftp.socialsecurity.be)')
    .option('--port <port>', 'FTP port', '21')
    .requiredOption('--user <user>', 'the technical user name')
    .option(
      '--password-env <var>',
      'environment variable holding the FTP password',
      DEFAULT_PASSWORD_ENV,
    )
    .option('--ledger <path>', 'the ledger file (default ~/.onss-transfer/ledger.sqlite)')
    .option('--resend', 'send even if this source or name was sent before')
    .option('--digest <alg>', 'sha256 or sha1', 'sha256')
    .option('--format <layout>', 'FS layout: line or cr76', 'line')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, flags: SendFlags) => {
      const declaration = declarationFrom(file, flags);
      const plan = planOptionsFrom(flags);
      const digest = asUsage('--digest', () => parseDigestAlgorithm(flags.digest));
      const format = asUsage('--format', () => parseFsFormat(flags.format));
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new UsageError(`--port ${flags.port} is not a port`);
      const password = secretFromEnv(io, flags.passwordEnv, '--password-env') ?? '';
      const material: SigningMaterial | undefined =
        flags.key || flags.cert || flags.p12 ? loadMaterialFromOptions(io, flags) : undefined;
      const ledger = openSqliteLedger(flags.ledger ?? defaultLedgerPath(io.env));
      const progress = sendProgress(!flags.json && io.isTerminal === true, (line) =>
        io.stderr(`onss-transfer: ${line}`),
      );
      try {
        const source = await openFileSource(file);
        const result = await sendDeclaration(
          { source, declaration, plan, digest, fsFormat: format, resend: flags.resend ?? false },
          {
            ledger,
            connector: ftpConnector({ host: flags.host, port, user: flags.user, password }),
            ...(material ? { material } : {}),
            onEvent: progress.onEvent,
          },
        );
        progress.stop();
        const seconds = result.durationMs / 1000;
        if (flags.json) {
          printJson(io, {
            launched: true,
            set: result.plan.setId,
            resumed: result.resumed,
            sha256: result.sha256,
            bytes: result.plan.size,
            seconds,
            files: result.record.files,
          });
        } else {
          io.stdout(
            `launched ${result.plan.go}: ${result.plan.nparts} part(s), ${result.plan.size} bytes in ` +
              `${seconds.toFixed(1)} s (${(result.plan.size / 1e6 / Math.max(seconds, 0.001)).toFixed(1)} MB/s)` +
              `${result.resumed ? ', resumed' : ''}\n`,
          );
        }
        setExit(EXIT.ok);
      } finally {
        progress.stop();
        await ledger.close();
      }
    });
}

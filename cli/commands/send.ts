import type { Command } from 'commander';
import type { SigningMaterial } from '../../shared/signing';
import { defaultLedgerPath } from '../defaults';
import { asUsage, EXIT, printJson, type CliIo } from '../io';
import { sendProgress } from '../progress';
import { connectorFromFlags, withServerFlags, type ServerFlags } from './server-options';
import {
  declarationFrom,
  planOptionsFrom,
  withDeclarationFlags,
  type DeclarationFlags,
} from './declaration-options';
import { loadMaterialFromOptions, type KeyOptions } from './signing-material';

interface SendFlags extends DeclarationFlags, KeyOptions, ServerFlags {
  resend?: boolean;
  digest: string;
  format: string;
  json?: boolean;
}

/** `send FILE`: plan, sign, upload FI/FS parts and the GO last, record it in the ledger. */
export function registerSend(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withServerFlags(
    withDeclarationFlags(
      program
        .command('send')
        .description('send a declaration: check, split, sign, upload FI and FS parts, then GO')
        .argument('<file>', 'the declaration file'),
    ),
  )
    .option('--key <pem>', 'private key, PEM')
    .option('--cert <pem>', 'signer certificate, PEM')
    .option('--p12 <file>', 'PKCS#12 / .pfx holding key and certificate')
    .option('--key-password-env <var>', 'environment variable holding the key or PKCS#12 password')
    .option('--resend', 'send even if this source or name was sent before')
    .option('--digest <alg>', 'sha256 or sha1', 'sha256')
    .option('--format <layout>', 'FS layout: line or cr76', 'line')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, flags: SendFlags) => {
      const declaration = declarationFrom(file, flags);
      const plan = planOptionsFrom(flags);
      const [{ openSqliteLedger }, { openFileSource }, { sendDeclaration }, signing] =
        await Promise.all([
          import('../../shared/ledger'),
          import('../../shared/send/source'),
          import('../../shared/send/send-declaration'),
          import('../../shared/signing'),
        ]);
      const { parseDigestAlgorithm, parseFsFormat } = signing;
      const digest = asUsage('--digest', () => parseDigestAlgorithm(flags.digest));
      const format = asUsage('--format', () => parseFsFormat(flags.format));
      const connector = await connectorFromFlags(io, flags);
      const material: SigningMaterial | undefined =
        flags.key || flags.cert || flags.p12 ? await loadMaterialFromOptions(io, flags) : undefined;
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
            connector,
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

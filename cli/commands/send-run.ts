/**
 * What `send` and `resend` share: their signing and output flags, and the run itself (sign,
 * upload FI and FS parts, then the GO, recorded in the ledger), with progress and the result.
 */
import type { Command } from 'commander';
import type { SigningMaterial } from '../../shared/signing';
import type { PlanOptions } from '../../shared/send/plan';
import type { DeclarationParams, SendResult } from '../../shared/send/send-types';
import { defaultLedgerPath } from '../defaults';
import { asUsage, EXIT, printJson, type CliIo } from '../io';
import { sendProgress } from '../progress';
import { connectorFromFlags, type ServerFlags } from './server-options';
import { loadMaterialFromOptions, type KeyOptions } from './signing-material';

/** The signing and output flags of `send` and `resend`. */
export interface SendRunFlags extends KeyOptions, ServerFlags {
  digest: string;
  format: string;
  json?: boolean;
}

/** Adds the signing and output flags to a command. */
export function withSendRunFlags(command: Command): Command {
  return command
    .option('--key <pem>', 'private key, PEM')
    .option('--cert <pem>', 'signer certificate, PEM')
    .option('--p12 <file>', 'PKCS#12 / .pfx holding key and certificate')
    .option('--key-password-env <var>', 'environment variable holding the key or PKCS#12 password');
}

/** Adds the FS and output flags, after the command's own. */
export function withSendOutputFlags(command: Command): Command {
  return command
    .option('--digest <alg>', 'sha256 or sha1', 'sha256')
    .option('--format <layout>', 'FS layout: line or cr76', 'line')
    .option('--json', 'print the result as JSON');
}

/** One send to run: the file, its name fields and plan, and the resend choices. */
export interface SendRun {
  file: string;
  declaration: DeclarationParams;
  plan: PlanOptions;
  resend: boolean;
  resendOf?: string;
  /** The channel it goes through (`--channel`): recorded, and its sender checked. */
  channel?: { name: string; sender: string };
}

/**
 * Runs one send from the flags: opens the ledger, the connector and the signing material, sends
 * `run.file`, prints the outcome (a line, or JSON with `extra` merged in) and sets exit 0.
 */
export async function runSend(
  io: CliIo,
  setExit: (code: number) => void,
  run: SendRun,
  flags: SendRunFlags,
  describe: (result: SendResult) => { line: string; extra: Record<string, unknown> } = () => ({
    line: '',
    extra: {},
  }),
): Promise<void> {
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
    const source = await openFileSource(run.file);
    const result = await sendDeclaration(
      {
        source,
        declaration: run.declaration,
        plan: run.plan,
        digest,
        fsFormat: format,
        resend: run.resend,
        ...(run.resendOf === undefined ? {} : { resendOf: run.resendOf }),
        ...(run.channel === undefined ? {} : { channel: run.channel }),
      },
      { ledger, connector, ...(material ? { material } : {}), onEvent: progress.onEvent },
    );
    progress.stop();
    const seconds = result.durationMs / 1000;
    const { line, extra } = describe(result);
    if (flags.json) {
      printJson(io, {
        launched: true,
        set: result.plan.setId,
        resumed: result.resumed,
        sha256: result.sha256,
        bytes: result.plan.size,
        seconds,
        files: result.record.files,
        ...extra,
      });
    } else {
      io.stdout(
        `launched ${result.plan.go}: ${result.plan.nparts} part(s), ${result.plan.size} bytes in ` +
          `${seconds.toFixed(1)} s (${(result.plan.size / 1e6 / Math.max(seconds, 0.001)).toFixed(1)} MB/s)` +
          `${result.resumed ? ', resumed' : ''}${line}\n`,
      );
    }
    setExit(EXIT.ok);
  } finally {
    progress.stop();
    await ledger.close();
  }
}

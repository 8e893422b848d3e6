import type { Command } from 'commander';
import { withServerFlags } from './server-options';
import {
  declarationFrom,
  planOptionsFrom,
  withDeclarationFlags,
  type DeclarationFlags,
} from './declaration-options';
import { runSend, withSendOutputFlags, withSendRunFlags, type SendRunFlags } from './send-run';
import type { CliIo } from '../io';

interface SendFlags extends DeclarationFlags, SendRunFlags {
  resend?: boolean;
}

/** `send FILE`: plan, sign, upload FI/FS parts and the GO last, record it in the ledger. */
export function registerSend(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSendOutputFlags(
    withSendRunFlags(
      withServerFlags(
        withDeclarationFlags(
          program
            .command('send')
            .description('send a declaration: check, split, sign, upload FI and FS parts, then GO')
            .argument('<file>', 'the declaration file'),
        ),
      ),
    ).option('--resend', 'send even if this source or name was sent before'),
  ).action(async (file: string, flags: SendFlags) => {
    const declaration = declarationFrom(file, flags);
    const plan = planOptionsFrom(flags);
    await runSend(io, setExit, { file, declaration, plan, resend: flags.resend ?? false }, flags);
  });
}

import type { Command } from 'commander';
import { defaultLedgerPath } from '../defaults';
import type { CliIo } from '../io';
import { channelOf, withChannelFlags, type ChannelFlags } from './channel-options';
import { resolveDeclarationArg } from './declaration-arg';
import { planOptionsFrom, type DeclarationFlags } from './declaration-options';
import { withServerFlags } from './server-options';
import { runSend, withSendOutputFlags, withSendRunFlags, type SendRunFlags } from './send-run';

type ResendFlags = SendRunFlags &
  ChannelFlags &
  Pick<DeclarationFlags, 'partSize' | 'signTest' | 'apps'>;

/**
 * `resend DECLARATION`: a rejected or refused declaration's file sent again under a new
 * sequence, the link to the first recorded in the ledger.
 */
export function registerResend(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSendOutputFlags(
    withChannelFlags(
      withSendRunFlags(
        withServerFlags(
          program
            .command('resend')
            .description(
              'send a rejected or refused declaration again under a new sequence, linked to the first',
            )
            .argument(
              '<declaration>',
              'the set key (APP.SENDER.DATE.SEQ.ENV) or a file name of the set',
            ),
        ),
      )
        .option('--part-size <bytes>', 'largest FI part, at most 200000000 (the default)')
        .option('--sign-test', 'also sign T and S declarations (R always is)')
        .option('--apps <list>', 'extra application prefixes to accept, comma-separated'),
    ),
  ).action(async (arg: string, flags: ResendFlags) => {
    const [{ openSqliteLedger }, { planResend }] = await Promise.all([
      import('../../shared/ledger'),
      import('../../shared/operations'),
    ]);
    const channel = channelOf(io, flags);
    const ledger = openSqliteLedger(flags.ledger ?? defaultLedgerPath(io.env));
    let resend: Awaited<ReturnType<typeof planResend>>;
    try {
      resend = await planResend(ledger, await resolveDeclarationArg(ledger, arg), channel?.name);
    } finally {
      await ledger.close();
    }
    const { first, path, request } = resend;
    await runSend(
      io,
      setExit,
      {
        file: path,
        declaration: request.declaration,
        plan: planOptionsFrom(flags),
        resend: true,
        resendOf: first.id,
        ...(channel ? { channel: { name: channel.name, sender: channel.sender } } : {}),
      },
      flags,
      () => ({ line: `, resend of ${first.id}`, extra: { resendOf: first.id } }),
    );
  });
}

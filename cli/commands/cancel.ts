import type { Command } from 'commander';
import { defaultLedgerPath } from '../defaults';
import { EXIT, printJson, type CliIo } from '../io';
import { channelOf, withChannelFlags, type ChannelFlags } from './channel-options';
import { resolveDeclarationArg } from './declaration-arg';
import { connectorFromFlags, withServerFlags, type ServerFlags } from './server-options';

interface CancelFlags extends ServerFlags, ChannelFlags {
  json?: boolean;
}

/** `cancel DECLARATION`: the TD of a set uploaded but not launched; refuses a launched one. */
export function registerCancel(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withChannelFlags(
    withServerFlags(
      program
        .command('cancel')
        .description(
          'cancel a declaration uploaded but not launched: record it cancelled, then send its TD',
        )
        .argument(
          '<declaration>',
          'the set key (APP.SENDER.DATE.SEQ.ENV) or a file name of the set',
        ),
    ),
  )
    .option('--json', 'print the result as JSON')
    .action(async (arg: string, flags: CancelFlags) => {
      const [{ openSqliteLedger }, { cancelDeclaration }] = await Promise.all([
        import('../../shared/ledger'),
        import('../../shared/operations'),
      ]);
      const channel = channelOf(io, flags);
      const connector = await connectorFromFlags(io, flags);
      const ledger = openSqliteLedger(flags.ledger ?? defaultLedgerPath(io.env));
      try {
        const id = await resolveDeclarationArg(ledger, arg);
        const result = await cancelDeclaration(id, {
          ledger,
          connector,
          ...(channel ? { channel: channel.name } : {}),
        });
        if (flags.json) {
          printJson(io, {
            cancelled: true,
            set: result.record.id,
            td: result.td ?? null,
            repeated: result.repeated,
            cancelledAt: result.record.cancelledAt,
          });
        } else {
          const td = result.td ? `${result.td} sent` : 'nothing of it was uploaded, no TD needed';
          io.stdout(
            `cancelled ${result.record.id}${result.repeated ? ' (again)' : ''}: ${td}; it will never be launched\n`,
          );
        }
        setExit(EXIT.ok);
      } finally {
        await ledger.close();
      }
    });
}

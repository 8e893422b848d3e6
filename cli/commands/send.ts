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
import { channelOf, withChannelFlags, type ChannelFlags } from './channel-options';

interface SendFlags extends DeclarationFlags, SendRunFlags, ChannelFlags {
  resend?: boolean;
}

/** `send FILE`: plan, sign, upload FI/FS parts and the GO last, record it in the ledger. */
export function registerSend(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSendOutputFlags(
    withChannelFlags(
      withSendRunFlags(
        withServerFlags(
          withDeclarationFlags(
            program
              .command('send')
              .description(
                'send a declaration: check, split, sign, upload FI and FS parts, then GO',
              )
              .argument('<file>', 'the declaration file'),
          ),
        ),
      ).option('--resend', 'send even if this source or name was sent before'),
    ),
  ).action(async (file: string, flags: SendFlags) => {
    const channel = channelOf(io, flags);
    // Named by flags, a declaration takes its sender from its channel unless --sender is given.
    const naming = flags.app !== undefined || flags.env !== undefined;
    const withSender =
      channel && naming && !flags.sender ? { ...flags, sender: channel.sender } : flags;
    const declaration = declarationFrom(file, withSender);
    const plan = planOptionsFrom(flags);
    await runSend(
      io,
      setExit,
      {
        file,
        declaration,
        plan,
        resend: flags.resend ?? false,
        ...(channel ? { channel: { name: channel.name, sender: channel.sender } } : {}),
      },
      flags,
    );
  });
}

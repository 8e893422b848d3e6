/**
 * The operator's resend: a declaration the transfer point refused (an ACRF rejection, or a
 * notification that refused it) sent again under a new sequence, with the link to the first
 * kept in the ledger (`resendOf`). Only a refused set is resent: one still waiting for its answer,
 * or accepted, would be filed twice; one never launched is simply sent again with `send`.
 */
import { DeclarationNotFoundError, type DeclarationRecord, type Ledger } from '../ledger';
import type { SendRequest } from '../send/send-types';
import { OtherChannelError, ResendRefusedError, ResendSourceError } from './errors';

/** What a resend sends: the first set's source, under the same application, sender and env. */
export interface ResendPlan {
  /** The refused set. */
  first: DeclarationRecord;
  /** The path of its source file. */
  path: string;
  /** The request fields of the new send: a new sequence, today's date, the link, `resend`. */
  request: Pick<SendRequest, 'declaration' | 'resend' | 'resendOf'>;
}

const WHY_NOT: Partial<Record<DeclarationRecord['state'], string>> = {
  planned: 'it was never launched: send it with `send`, or cancel it',
  uploading: 'it was never launched: send it with `send`, or cancel it',
  failed: 'it failed before its GO and was never launched: send the file again with `send`',
  cancelled: 'it was cancelled before its GO: send the file again with `send`',
  launching: 'its answer has not come yet: wait for its ACRF (`pull`)',
  launched: 'its answer has not come yet: wait for its ACRF (`pull`)',
  acknowledged: 'the transfer point accepted it: sending it again would file it twice',
  notified: 'the transfer point accepted it: sending it again would file it twice',
};

/**
 * Plans the resend of set `id` from its own source file (the CLI), through `channel` (undefined
 * for an unnamed one): throws as checkResendable, OtherChannelError for a set of another
 * channel, and ResendSourceError for a source that is not a file.
 */
export async function planResend(
  ledger: Ledger,
  id: string,
  channel?: string,
): Promise<ResendPlan> {
  const first = await checkResendable(ledger, id);
  checkResendChannel(first, channel);
  if (first.source.kind !== 'file') {
    throw new ResendSourceError(
      first,
      `it came from ${first.source.id}, not a local file: put the object again under resend/ ` +
        'for the send function to resend it',
    );
  }
  return {
    first,
    path: first.source.id,
    request: {
      declaration: { app: first.key.app, sender: first.key.sender, env: first.key.env },
      resend: true,
      resendOf: id,
    },
  };
}

/**
 * Refuses (OtherChannelError) the resend of `first` through `channel` (undefined for an unnamed
 * one) when it was sent through another. A set sent through a channel is resent through it; one
 * sent with bare flags (perhaps with the wrong account, ACRF-108) may be resent through the
 * channel of its sender.
 */
export function checkResendChannel(first: DeclarationRecord, channel: string | undefined): void {
  if (first.channel !== undefined && first.channel !== channel) {
    throw new OtherChannelError(first, 'resend', channel);
  }
}

/**
 * The refused set `id`, checked for a resend wherever its new content comes from: throws
 * DeclarationNotFoundError for an unknown id, ResendRefusedError for a set that was not
 * rejected or refused or that was already resent (the newest of the chain is the one to resend).
 */
export async function checkResendable(ledger: Ledger, id: string): Promise<DeclarationRecord> {
  const first = await ledger.get(id);
  if (first === undefined) throw new DeclarationNotFoundError(id);
  const why = WHY_NOT[first.state];
  if (why !== undefined) throw new ResendRefusedError(first, why);
  const later = (await ledger.list()).find((record) => record.resendOf === id);
  if (later !== undefined) {
    throw new ResendRefusedError(
      first,
      `it was already resent as ${later.id} (state ${later.state}): resend that one if it was refused too`,
    );
  }
  return first;
}

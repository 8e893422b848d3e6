import { OnssTransferError } from '../errors';
import type { DeclarationRecord } from '../ledger';

/** Why a declaration was not sent, beyond the name, content and transport rules. */
export class SendError extends OnssTransferError {}

/** A production (or signed test) declaration needs signing material and none was given. */
export class SigningMaterialRequiredError extends SendError {
  constructor(setId: string) {
    super(`${setId} must be signed (an FS per part): give a key and certificate or a PKCS#12`, {
      code: 'SIGNING_MATERIAL_REQUIRED',
    });
  }
}

/** The same bytes were already launched under another name. */
export class DuplicateContentError extends SendError {
  constructor(setId: string, earlier: string) {
    super(
      `${setId} has the same content as ${earlier}, already launched: not sent again (use --resend to send it anyway)`,
      { code: 'DUPLICATE_CONTENT' },
    );
  }
}

/** A source whose latest set failed, asked again by a sender that does not retry refusals. */
export class EarlierFailureError extends SendError {
  /** The failed set. */
  readonly record: DeclarationRecord;

  constructor(record: DeclarationRecord) {
    const why = record.failure ? `${record.failure.code}: ${record.failure.message}` : 'failed';
    super(`${record.id} of this source already failed (${why}): not sent again unless resent`, {
      code: 'EARLIER_FAILURE',
    });
    this.record = record;
  }
}

/**
 * The set was cancelled by an operator while this run was sending it: the run stopped before its
 * GO, as the cancel meant. Not a failure of the declaration: nothing to retry, nothing to report
 * but this.
 */
export class SetCancelledError extends SendError {
  readonly record: DeclarationRecord;

  constructor(record: DeclarationRecord, cause?: unknown) {
    super(
      `${record.id} was cancelled${record.cancelledAt ? ` at ${record.cancelledAt}` : ''} while ` +
        'it was being sent: stopped before its GO, it will never be launched',
      { code: 'CANCELLED', cause },
    );
    this.record = record;
  }
}

/** A declaration of another sender than its channel's: the transfer point would refuse it. */
export class ChannelSenderError extends SendError {
  constructor(sender: string, channel: { name?: string; sender: string }) {
    super(
      `the declaration is for sender ${sender}, but ` +
        `${channel.name === undefined ? "this deployment's channel" : `channel ${channel.name}`} ` +
        `files for sender ${channel.sender} (ACRF-108: the sender must be the one of the ` +
        "account's folder)",
      { code: 'ACRF-108' },
    );
  }
}

/** A file on the server does not have the size that was sent. */
export class RemoteSizeMismatchError extends SendError {
  constructor(name: string, expected: number, actual: number | undefined) {
    super(
      `${name} is ${actual === undefined ? 'missing' : `${actual} bytes`} on the server, ${expected} were sent`,
      { code: 'REMOTE_SIZE_MISMATCH' },
    );
  }
}

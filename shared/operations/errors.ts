/** Why an operator's cancel or resend was refused: the set is in a state that does not allow it. */
import { OnssTransferError } from '../errors';
import type { DeclarationRecord } from '../ledger';

/** The operator's request does not fit the set's state; nothing was sent or changed. */
export class OperationRefusedError extends OnssTransferError {
  /** The set as the ledger holds it. */
  readonly record: DeclarationRecord;

  constructor(
    record: DeclarationRecord,
    operation: 'cancel' | 'resend',
    why: string,
    code: string,
  ) {
    super(`cannot ${operation} ${record.id} (state ${record.state}): ${why}`, { code });
    this.record = record;
  }
}

/** A cancel of a set whose GO went out (or may have): the transfer point already has it. */
export class CancelTooLateError extends OperationRefusedError {
  constructor(record: DeclarationRecord) {
    const when = record.launchedAt ? ` at ${record.launchedAt}` : '';
    super(
      record,
      'cancel',
      `its GO went out${when}, so the transfer point is processing it; a TD cancels only a set ` +
        'that was not launched (to correct it, wait for its answer and resend)',
      'CANCEL_TOO_LATE',
    );
  }
}

/** A cancel of a set that never reached the server: it failed before its GO. */
export class CancelNothingError extends OperationRefusedError {
  constructor(record: DeclarationRecord) {
    const why = record.failure ? ` (${record.failure.code}: ${record.failure.message})` : '';
    super(
      record,
      'cancel',
      `it failed before its GO${why}: it will never be launched, there is nothing to cancel`,
      'CANCEL_NOTHING',
    );
  }
}

/**
 * A cancel or resend asked through another channel than the set's: its TD or its new set would
 * go out with another account's credentials.
 */
export class OtherChannelError extends OperationRefusedError {
  constructor(record: DeclarationRecord, operation: 'cancel' | 'resend', channel?: string) {
    super(
      record,
      operation,
      `it was sent through ${record.channel ? `channel ${record.channel}` : 'no named channel'}, ` +
        `not ${channel ? `channel ${channel}` : 'without one'}: ${operation} it ` +
        `${record.channel ? `with --channel ${record.channel}` : 'without --channel'}`,
      'OTHER_CHANNEL',
    );
  }
}

/** A resend of a set that was not refused by the transfer point. */
export class ResendRefusedError extends OperationRefusedError {
  constructor(record: DeclarationRecord, why: string) {
    super(record, 'resend', why, 'RESEND_REFUSED');
  }
}

/** A resend whose source cannot be read from here (an S3 object, or a file gone). */
export class ResendSourceError extends OperationRefusedError {
  constructor(record: DeclarationRecord, why: string) {
    super(record, 'resend', why, 'RESEND_SOURCE');
  }
}

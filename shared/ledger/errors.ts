/**
 * Failures of the ledger: one base class, one subclass per kind, each with a stable code. The
 * refusals (duplicate source, name already sent) carry the record that caused them, so a caller
 * can report it or decide to resend without a second look-up.
 */
import { acrfCode, OnssTransferError } from '../errors';
import type { Environment } from '../names';
import { STATE_STAGES } from './types';
import type { DeclarationRecord, DeclarationState, SourceIdentity } from './types';

/**
 * Stable codes of the ledger's errors. Their values are part of the contract (logs, CLI exit
 * reports, alarms): never rename one.
 */
export const LEDGER_ERROR_CODES = {
  /** The same source is already launched (or may be). */
  DUPLICATE_SOURCE: 'DUPLICATE_SOURCE',
  /** The transfer point's own code for "name already sent". */
  NAME_ALREADY_SENT: acrfCode(133),
  /** A state change whose expected state does not hold, or that the table does not allow. */
  STATE_CONFLICT: 'STATE_CONFLICT',
  /** No sequence left for a sender, date and environment. */
  SEQUENCE_EXHAUSTED: 'SEQUENCE_EXHAUSTED',
  /** A state change for a set the ledger does not know. */
  DECLARATION_NOT_FOUND: 'DECLARATION_NOT_FOUND',
  /** A request the ledger cannot record as given (a caller bug). */
  LEDGER_REQUEST_INVALID: 'LEDGER_REQUEST_INVALID',
  /** A call on a closed ledger. */
  LEDGER_CLOSED: 'LEDGER_CLOSED',
  /** The ledger file was written by a newer version of this product. */
  LEDGER_SCHEMA_UNSUPPORTED: 'LEDGER_SCHEMA_UNSUPPORTED',
  /** The store itself failed (file unreadable, locked past the timeout, disk full...). */
  LEDGER_STORE_FAILED: 'LEDGER_STORE_FAILED',
  /** An update of a response set the ledger does not know. */
  RESPONSE_NOT_FOUND: 'RESPONSE_NOT_FOUND',
  /** A response set already tied to one declaration, asked to be tied to another. */
  RESPONSE_CONFLICT: 'RESPONSE_CONFLICT',
  /** The source is being sent right now by another run, which holds the set's lease. */
  SEND_IN_PROGRESS: 'SEND_IN_PROGRESS',
  /** The caller no longer holds the lease of the set it was sending. */
  LEASE_LOST: 'LEASE_LOST',
} as const;

/** A source as people read it: `file /data/dmfa.xml (version 1700000000000-5120)`. */
export function describeSource(source: SourceIdentity): string {
  const version = source.version === undefined ? '' : ` (version ${source.version})`;
  return `${source.kind} ${source.id}${version}`;
}

/** Base class of every error the ledger throws on purpose. */
export class LedgerError extends OnssTransferError {}

/**
 * The source was already launched (or its GO may have gone out): sending it again would file the
 * same declaration twice. Only an explicit resend goes past it.
 */
export class DuplicateSourceError extends LedgerError {
  /** The earlier record of the same source. */
  readonly existing: DeclarationRecord;

  constructor(existing: DeclarationRecord) {
    super(
      `${describeSource(existing.source)} was already sent as ${existing.id} ` +
        `(state ${existing.state}); send it again only on purpose, with resend`,
      { code: LEDGER_ERROR_CODES.DUPLICATE_SOURCE },
    );
    this.existing = existing;
  }
}

/**
 * The set key is already used by another record: the transfer point would reject the set as a
 * duplicate name (ACRF-133), or two uploads of one name would overwrite each other.
 */
export class NameAlreadySentError extends LedgerError {
  /** The record that holds the name. */
  readonly existing: DeclarationRecord;

  constructor(existing: DeclarationRecord, live: boolean) {
    const why = live
      ? `is being uploaded from ${describeSource(existing.source)} (state ${existing.state}); ` +
        'one name is never uploaded twice at once'
      : `was already used (state ${existing.state}, ${describeSource(existing.source)}); ` +
        'use a new sequence, or reuse the name only on purpose, with resend';
    super(`${existing.id} ${why}`, { code: LEDGER_ERROR_CODES.NAME_ALREADY_SENT });
    this.existing = existing;
  }
}

/**
 * A state change refused: the set is not in the expected state (another process moved it, or the
 * caller is wrong about it), or the change is not in the transition table.
 */
export class StateConflictError extends LedgerError {
  /** The set key. */
  readonly id: string;
  /** The states the caller expected. */
  readonly expected: readonly DeclarationState[];
  /** The state the set is in. */
  readonly actual: DeclarationState;
  /** The state the caller asked for. */
  readonly to: DeclarationState;

  constructor(args: {
    id: string;
    expected: readonly DeclarationState[];
    actual: DeclarationState;
    to: DeclarationState;
    /** Set when the change itself is not allowed: the state it was asked from. */
    notAllowedFrom?: DeclarationState;
  }) {
    const { id, expected, actual, to, notAllowedFrom } = args;
    const message =
      notAllowedFrom === undefined
        ? `${id}: expected state ${expected.join(' or ')} to move to ${to}, but it is ${actual}`
        : `${id}: a set in state ${notAllowedFrom} cannot move to ${to} (it is ${actual})`;
    super(message, { code: LEDGER_ERROR_CODES.STATE_CONFLICT });
    this.id = id;
    this.expected = expected;
    this.actual = actual;
    this.to = to;
  }
}

/** Every sequence from 00001 to 99999 is used for this sender, date and environment. */
export class SequenceExhaustedError extends LedgerError {
  constructor(sender: string, date: string, env: Environment) {
    super(
      `no sequence left for sender ${sender}, date ${date}, environment ${env}: ` +
        '00001 to 99999 are all used; use another date',
      { code: LEDGER_ERROR_CODES.SEQUENCE_EXHAUSTED },
    );
  }
}

/** A state change for a set key the ledger has no record of. */
export class DeclarationNotFoundError extends LedgerError {
  /** The set key asked for. */
  readonly id: string;

  constructor(id: string) {
    super(`no declaration ${id} in the ledger`, {
      code: LEDGER_ERROR_CODES.DECLARATION_NOT_FOUND,
    });
    this.id = id;
  }
}

/** A request the ledger cannot record as given: a malformed key, file list or patch. */
export class LedgerRequestError extends LedgerError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: LEDGER_ERROR_CODES.LEDGER_REQUEST_INVALID, cause });
  }
}

/** A call made after `close()`. */
export class LedgerClosedError extends LedgerError {
  constructor() {
    super('the ledger is closed', { code: LEDGER_ERROR_CODES.LEDGER_CLOSED });
  }
}

/** The ledger file has a schema version this product does not know (written by a newer one). */
export class LedgerSchemaError extends LedgerError {
  constructor(location: string, found: number, supported: number) {
    super(
      `${location}: ledger schema version ${found} is newer than this version of ` +
        `onss-transfer supports (${supported}); upgrade onss-transfer`,
      { code: LEDGER_ERROR_CODES.LEDGER_SCHEMA_UNSUPPORTED },
    );
  }
}

/** The store failed underneath: the original error is kept as `cause`. */
export class LedgerStoreError extends LedgerError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: LEDGER_ERROR_CODES.LEDGER_STORE_FAILED, cause });
  }
}

/** An update of a response set id the ledger has no record of. */
export class ResponseNotFoundError extends LedgerError {
  /** The response set id asked for. */
  readonly id: string;

  constructor(id: string) {
    super(`no response set ${id} in the ledger`, { code: LEDGER_ERROR_CODES.RESPONSE_NOT_FOUND });
    this.id = id;
  }
}

/**
 * A response set already tied to a declaration, asked to be tied to another: the first tie
 * moved that declaration's state, so a second one would leave two sets claiming one answer.
 */
export class ResponseConflictError extends LedgerError {
  /** The response set id. */
  readonly id: string;
  /** The declaration it is tied to. */
  readonly declarationId: string;
  /** The declaration the caller asked for. */
  readonly requested: string;

  constructor(id: string, declarationId: string, requested: string) {
    super(
      `response set ${id} is tied to ${declarationId}; it cannot be tied to ${requested} as well`,
      { code: LEDGER_ERROR_CODES.RESPONSE_CONFLICT },
    );
    this.id = id;
    this.declarationId = declarationId;
    this.requested = requested;
  }
}

/**
 * The source's live set is held by another run whose lease has not ended: that run may be
 * uploading its parts right now, so a second run would overwrite them. Try again once the
 * other run is done, or once its lease ends (a run that died stops renewing it).
 */
export class SendInProgressError extends LedgerError {
  /** The live set of the source, with the other run's lease. */
  readonly existing: DeclarationRecord;
  /** When the other run's lease ends, ISO 8601 UTC. */
  readonly leaseUntil: string;

  constructor(existing: DeclarationRecord, leaseUntil: string) {
    super(
      `${existing.id} is being sent by another run from ${describeSource(existing.source)} ` +
        `(state ${existing.state}); its lease ends at ${leaseUntil}: wait for that run to ` +
        'finish, or send again after the lease ends',
      { code: LEDGER_ERROR_CODES.SEND_IN_PROGRESS },
    );
    this.existing = existing;
    this.leaseUntil = leaseUntil;
  }
}

/**
 * The caller no longer holds the lease of a set: another run took it over after the lease
 * ended, the lease was released, or the set left the live stages (committed or failed). The
 * caller must stop at once without touching the set's files: they may be another run's now.
 */
export class LeaseLostError extends LedgerError {
  /** The set as it is now. */
  readonly existing: DeclarationRecord;

  constructor(existing: DeclarationRecord) {
    const why =
      existing.leaseUntil !== undefined
        ? `another run holds it (lease until ${existing.leaseUntil})`
        : STATE_STAGES[existing.state] === 'live'
          ? 'its lease was released or it has none'
          : `it is ${existing.state} now`;
    super(`${existing.id}: this run no longer holds the set's lease: ${why}; stop sending it`, {
      code: LEDGER_ERROR_CODES.LEASE_LOST,
    });
    this.existing = existing;
  }
}

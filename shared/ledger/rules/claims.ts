/** Send claims: the decision to resume a live set, refuse, or record a new one. */
import { declarationKeyOf } from '../../names';
import {
  DuplicateSourceError,
  LedgerRequestError,
  NameAlreadySentError,
  SendInProgressError,
} from '../errors';
import { DECLARATION_STATES } from '../types';
import type { ClaimOptions, ClaimRequest, DeclarationRecord, SourceIdentity } from '../types';
import { sameSource, validateClaimRequest } from './declarations';
import { isLeaseRunning, leaseEndOf, validateLeaseMs, validateOwner } from './leases';
import { stageOf } from './states';

/** What an adapter must write for a claim. */
export type ClaimDecision =
  /**
   * Save `record` (attempt and updatedAt bumped, the lease the caller's) over the live record
   * of the same source.
   */
  | { kind: 'resume'; record: DeclarationRecord }
  /**
   * Insert `record`; when `supersede` is set, first save it (marked superseded) over the
   * current record of the same key, in the same atomic write.
   */
  | { kind: 'insert'; record: DeclarationRecord; supersede?: DeclarationRecord };

/** What an adapter reads before deciding a claim. */
export interface ClaimInput {
  request: ClaimRequest;
  /** Required: the claiming run's owner token at least. */
  options: ClaimOptions;
  /** Now, as an ISO string. */
  now: string;
  /** Every record of the request's source, superseded ones included, oldest first. */
  sourceRecords: readonly DeclarationRecord[];
  /** The current (not superseded) record holding the request's key, if any. */
  keyRecord: DeclarationRecord | undefined;
}

/**
 * Decides a claim by the rules, in order:
 * 1. a live record (planned, uploading) of the same source is resumed, whatever key was asked,
 *    when its lease has ended (`leaseUntil <= now`), it has none, or its owner is the caller;
 *    the caller takes the lease over in the same write (owner, `now + leaseMs`). While another
 *    run's lease is running the claim is refused with SendInProgressError, resend or not: that
 *    run may be uploading the parts right now;
 * 2. a committed record (GO may be out) of the same source refuses with DuplicateSourceError,
 *    unless resend;
 * 3. a current record holding the key refuses with NameAlreadySentError: always when it is live
 *    (two live uploads of one name would overwrite each other), otherwise unless resend;
 * 4. otherwise a new record, planned, attempt 1, leased to the caller until `now + leaseMs`
 *    (superseding the key's record after rule 3 let a resend through).
 * Throws LedgerRequestError for a malformed request or options. Pure: the adapter writes the
 * outcome (DynamoDB: a resume is a write conditional on the owner and `leaseUntil` read, so two
 * runs taking over one ended lease cannot both win).
 */
export function decideClaim(input: ClaimInput): ClaimDecision {
  const { request, now, sourceRecords, keyRecord } = input;
  const options: unknown = input.options;
  if (typeof options !== 'object' || options === null) {
    throw new LedgerRequestError("a claim needs its options, with the run's lease owner token");
  }
  const owner = validateOwner(input.options.owner);
  const leaseUntil = leaseEndOf(now, validateLeaseMs(input.options.leaseMs));
  const resend = input.options.resend === true;
  const { id, files } = validateClaimRequest(request);
  // The key's record is this source's own when it came from the same source: an adapter that
  // reads the two apart (DynamoDB) may see it under the key before under the source, while
  // another delivery of the same source claims it. It is then the source's live or committed
  // set, never "another upload of that name".
  const ownKeyRecord =
    keyRecord !== undefined &&
    sameSource(keyRecord.source, request.source) &&
    !sourceRecords.some((record) => record.id === keyRecord.id);
  const ofSource = [...sourceRecords, ...(ownKeyRecord ? [keyRecord] : [])].filter((record) =>
    sameSource(record.source, request.source),
  );

  const live = ofSource.find((record) => stageOf(record.state) === 'live');
  if (live) {
    if (live.owner !== owner && live.leaseUntil !== undefined && isLeaseRunning(live, now)) {
      throw new SendInProgressError(live, live.leaseUntil);
    }
    return {
      kind: 'resume',
      record: { ...live, attempt: live.attempt + 1, updatedAt: now, owner, leaseUntil },
    };
  }

  const committed = ofSource.filter((record) => stageOf(record.state) === 'committed').at(-1);
  if (committed && !resend) throw new DuplicateSourceError(committed);

  let supersede: DeclarationRecord | undefined;
  if (keyRecord) {
    const keyStage = stageOf(keyRecord.state);
    // A failed set never had its GO sent: its name was never used at the transfer point and
    // may be taken again (a corrected file under the same sequence) without --resend.
    if (keyStage === 'live' || (keyStage === 'committed' && !resend)) {
      throw new NameAlreadySentError(keyRecord, keyStage === 'live');
    }
    supersede = { ...keyRecord, supersededAt: now, updatedAt: now };
  }

  const record: DeclarationRecord = {
    id,
    key: declarationKeyOf(request.key),
    nparts: request.nparts,
    source: copySource(request.source),
    folder: request.folder,
    files,
    state: DECLARATION_STATES.planned,
    attempt: 1,
    createdAt: now,
    updatedAt: now,
    owner,
    leaseUntil,
    ...(request.resendOf === undefined ? {} : { resendOf: request.resendOf }),
    ...(request.channel === undefined ? {} : { channel: request.channel }),
  };
  return supersede ? { kind: 'insert', record, supersede } : { kind: 'insert', record };
}

function copySource(source: SourceIdentity): SourceIdentity {
  return source.version === undefined
    ? { kind: source.kind, id: source.id }
    : { kind: source.kind, id: source.id, version: source.version };
}

/**
 * The ledger port: the record of every declaration we send, the guard of "exactly once", and
 * the record of every response set pulled back. Every method is async and every write is one
 * conditional, atomic step (a claim, a state change, a lease renewal, a counter increment, a
 * response put if absent, a response update), so the same interface fits SQLite transactions
 * and DynamoDB conditional writes with an atomic counter.
 *
 * A live set (planned, uploading) is leased to the run sending it: the owner token it claimed
 * with, until a time it renews. Another run of the same source is refused while the lease runs
 * and takes the set over once it has ended, so two runs never upload one set's parts at once.
 */
import type { Environment } from '../names';
import type {
  ClaimOptions,
  ClaimRequest,
  ClaimResult,
  DeclarationRecord,
  DeclarationState,
  ListFilter,
  MarkOverdueResult,
  NewResponse,
  OverdueWait,
  RecordResponseResult,
  ResponseListFilter,
  ResponsePatch,
  ResponseRecord,
  SourceIdentity,
  TransitionOptions,
  TransitionPatch,
} from './types';

/** The record of the declarations we send. */
export interface Ledger {
  /**
   * Allocates the next sequence (`00001`, `00002`...) for a sender, date and environment:
   * never the same twice, and never one a recorded declaration of that scope already uses.
   * Throws SequenceExhaustedError past 99999, LedgerRequestError for a malformed scope.
   */
  nextSequence(sender: string, date: string, env: Environment): Promise<string>;

  /**
   * Records the intent to send a set, atomically, and gives the caller (`options.owner`) its
   * lease until now + `options.leaseMs`. Resumes a live claim of the same source (`resumed`
   * true, attempt + 1, its own names kept, the lease taken over) when that set's lease has
   * ended, it has none, or the caller owns it; while another run's lease runs, refuses with
   * SendInProgressError and writes nothing. Refuses a source already launched
   * (DuplicateSourceError) or a name already used (NameAlreadySentError, ACRF-133) unless
   * `resend`; otherwise records a new set in state `planned`.
   */
  claim(request: ClaimRequest, options: ClaimOptions): Promise<ClaimResult>;

  /**
   * Moves a set from one of the `from` states to `to`, recording `patch` at the same time.
   * Throws StateConflictError when the set is in another state or the change is not allowed,
   * DeclarationNotFoundError for an unknown id. Resolves with the updated record.
   *
   * A move to acknowledged or rejected records `patch.acknowledgement`, a move to notified or refused
   * appends `patch.notification`; their tickets join `tickets`. An answer whose response id the
   * set already holds is a replay: the call resolves with the record unchanged and writes
   * nothing, whatever state the set reached since (DynamoDB: the condition also requires the
   * response id to be absent from the item).
   *
   * With `options.owner`, a live set moves only while that owner holds its lease, else
   * LeaseLostError and nothing written. A move to a committed or failed state removes the lease.
   */
  transition(
    id: string,
    from: DeclarationState | readonly DeclarationState[],
    to: DeclarationState,
    patch?: TransitionPatch,
    options?: TransitionOptions,
  ): Promise<DeclarationRecord>;

  /**
   * Extends the lease the caller holds on a live set to now + `leaseMs` (default 120,000), and
   * resolves with the record. Throws LeaseLostError when the caller does not hold it any more
   * (another run took it over, it was released, or the set is no longer live): the caller must
   * stop sending. DeclarationNotFoundError for an unknown id.
   */
  renewLease(id: string, owner: string, leaseMs?: number): Promise<DeclarationRecord>;

  /**
   * Ends the lease the caller holds on a live set at once, so the next claim of its source
   * resumes it without waiting: for a run that stops with its set still live. Throws as
   * renewLease.
   */
  releaseLease(id: string, owner: string): Promise<DeclarationRecord>;

  /**
   * Marks that the watchdog raised `declaration.overdue` for this wait of the set, once: the
   * first call records `{waitingFor, at}` in `overdue` and resolves `marked` true; any later
   * call for the same wait writes nothing and resolves `marked` false, so two watchdog runs
   * never raise the same wait twice. The state and `updatedAt` are left alone. Throws
   * DeclarationNotFoundError for an unknown id, LedgerRequestError for an unknown wait.
   */
  markOverdue(id: string, wait: OverdueWait): Promise<MarkOverdueResult>;

  /** The current record of a set key `APP.SENDER.DATE.SEQ.ENV`, if any. */
  get(id: string): Promise<DeclarationRecord | undefined>;

  /** The latest record of a source (same kind, id and version), if any. */
  findBySource(source: SourceIdentity): Promise<DeclarationRecord | undefined>;

  /**
   * The current record a file name belongs to: a FI, FS, GO or TD name (or the legacy 6-field
   * form), matched on fields 2 to 6 as answers are. Undefined for a name that cannot be read.
   */
  findByFileName(name: string): Promise<DeclarationRecord | undefined>;

  /**
   * The current record that holds a ticket number (from its ACRF or a notification), the
   * latest one if several do. A ticket of a superseded record finds nothing: `transition` acts
   * on a key's current record, so handing out the old one would tie its answer to the set that
   * replaced it. Throws LedgerRequestError for a value that cannot be a ticket.
   */
  findByTicket(ticket: string): Promise<DeclarationRecord | undefined>;

  /**
   * Records whose GO may have gone out (launching, launched, and the answer states) for a
   * source of this SHA-256, oldest first: the same bytes are never launched twice by accident.
   */
  findLaunchedBySha256(sha256: string): Promise<DeclarationRecord[]>;

  /** Records by creation time, oldest first, optionally filtered. */
  list(filter?: ListFilter): Promise<DeclarationRecord[]>;

  /**
   * Records a response set copied to our store, in state `stored`, atomically and at most once:
   * when a set with this id is already recorded, resolves with that record and `created` false
   * and changes nothing (DynamoDB: a put conditional on the id being absent). Throws
   * LedgerRequestError for a malformed set (id, folder, file names of another set...).
   */
  recordResponse(record: NewResponse): Promise<RecordResponseResult>;

  /**
   * Updates a response set: `stored -> deleted` (never back), the signature verdict, the kind,
   * the declaration it is tied to (once: another one throws ResponseConflictError) and the
   * orphan flag. Resolves with the record, unchanged and unwritten when nothing changes. Throws
   * ResponseNotFoundError for an unknown id, LedgerRequestError for a bad patch.
   */
  updateResponse(id: string, patch: ResponsePatch): Promise<ResponseRecord>;

  /** The record of a response set id, if any. */
  getResponse(id: string): Promise<ResponseRecord | undefined>;

  /** Response sets by the time they were stored, oldest first, optionally filtered. */
  listResponses(filter?: ResponseListFilter): Promise<ResponseRecord[]>;

  /**
   * Takes the run lease `name` (one per kind of scheduled job: `pull`) for `owner` until now +
   * `leaseMs`, in one conditional write: resolves true when it was free, its holder's lease had
   * ended, or `owner` already held it (the lease is renewed); false, writing nothing, while
   * another owner's lease runs. So two overlapping runs of a job never work at once. Throws
   * LedgerRequestError for a malformed name, owner or duration.
   */
  acquireRunLease(name: string, owner: string, leaseMs: number): Promise<boolean>;

  /** Ends the run lease `name` at once when `owner` holds it; otherwise changes nothing. */
  releaseRunLease(name: string, owner: string): Promise<void>;

  /** Releases the store; later calls throw LedgerClosedError. Safe to call twice. */
  close(): Promise<void>;
}

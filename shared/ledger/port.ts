/**
 * The ledger port: the record of every declaration we send and the guard of "exactly once".
 * Every method is async and every write is one conditional, atomic step (a claim, a state
 * change, a counter increment), so the same interface fits SQLite transactions and DynamoDB
 * conditional writes with an atomic counter.
 */
import type { Environment } from '../names';
import type {
  ClaimOptions,
  ClaimRequest,
  ClaimResult,
  DeclarationRecord,
  DeclarationState,
  ListFilter,
  SourceIdentity,
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
   * Records the intent to send a set, atomically. Resumes a live claim of the same source
   * (`resumed` true, attempt + 1, its own names kept); refuses a source already launched
   * (DuplicateSourceError) or a name already used (NameAlreadySentError, ACRF-133) unless
   * `resend`; otherwise records a new set in state `planned`.
   */
  claim(request: ClaimRequest, options?: ClaimOptions): Promise<ClaimResult>;

  /**
   * Moves a set from one of the `from` states to `to`, recording `patch` at the same time.
   * Throws StateConflictError when the set is in another state or the change is not allowed,
   * DeclarationNotFoundError for an unknown id. Resolves with the updated record.
   */
  transition(
    id: string,
    from: DeclarationState | readonly DeclarationState[],
    to: DeclarationState,
    patch?: TransitionPatch,
  ): Promise<DeclarationRecord>;

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
   * Records whose GO may have gone out (launching, launched, and later states) for a source
   * of this SHA-256, oldest first: the same bytes are never launched twice by accident.
   */
  findLaunchedBySha256(sha256: string): Promise<DeclarationRecord[]>;

  /** Records by creation time, oldest first, optionally filtered. */
  list(filter?: ListFilter): Promise<DeclarationRecord[]>;

  /** Releases the store; later calls throw LedgerClosedError. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The values the ledger records: one DeclarationRecord per set of files we send, identified by
 * its set key `APP.SENDER.DATE.SEQ.ENV`. Timestamps are ISO 8601 strings in UTC so records read
 * the same in SQLite, DynamoDB and JSON output.
 */
import type { DeclarationKey, UploadFolder } from '../names';

/**
 * The states of a declaration. A const object rather than a bare union so that later states
 * (answers such as acknowledged, rejected, notified) are added in one place, and every table
 * keyed by state (`STATE_STAGES`, the transition table) fails to compile until it covers them.
 */
export const DECLARATION_STATES = {
  /** Claimed in the ledger; nothing sent yet. */
  planned: 'planned',
  /** FI/FS parts may be on the server; no GO sent. Safe to resume: parts are overwritten. */
  uploading: 'uploading',
  /** The GO upload has started, so it MAY have reached the server: never sent again. */
  launching: 'launching',
  /** The GO file is confirmed on the server. */
  launched: 'launched',
  /** Refused before GO (parts removed), with a reason in `failure`. */
  failed: 'failed',
} as const;

/** A state of a declaration; see DECLARATION_STATES for the meaning of each. */
export type DeclarationState = (typeof DECLARATION_STATES)[keyof typeof DECLARATION_STATES];

/**
 * What a state means for "exactly once", the only thing the claim rules look at:
 * - `live`: no GO sent; the set may be resumed, and only by a claim of the same source.
 * - `committed`: a GO may have reached the server; the source and the name count as sent.
 * - `failed`: stopped before GO; the name was never launched.
 */
export type StateStage = 'live' | 'committed' | 'failed';

/**
 * The stage of every state. A later answer state (acknowledged, rejected...) is `committed`: its
 * GO went out, so its source and its name stay sent whatever the answer.
 */
export const STATE_STAGES = {
  planned: 'live',
  uploading: 'live',
  launching: 'committed',
  launched: 'committed',
  failed: 'failed',
} as const satisfies Record<DeclarationState, StateStage>;

/**
 * Where a declaration came from. Two claims with the same kind, id and version are the same
 * source: the ledger refuses to send it twice.
 */
export interface SourceIdentity {
  /** A local file, or an object in a store (S3). */
  kind: 'file' | 'object';
  /** The absolute path of the file, or `bucket/key` of the object. */
  id: string;
  /**
   * What tells two contents at the same id apart: mtime and size for a file, VersionId or ETag
   * for an object. Absent means "any content at this id" and matches only another absent one.
   */
  version?: string;
}

/** Role of a file in a set: an FI data part, its FS signature, or the GO launch file. */
export type SentFileRole = 'FI' | 'FS' | 'GO';

/** One file of a set, as planned and then as sent. */
export interface SentFile {
  /** The bare file name, e.g. `FI.DMFA.101380.20100920.00001.T.1.1`. */
  name: string;
  /** Size in bytes (planned, then as confirmed on the server). */
  size: number;
  /** SHA-256 of the file's bytes, lower-case hex, once known. */
  sha256?: string;
  role: SentFileRole;
}

/** Why a set was stopped before its GO. */
export interface DeclarationFailure {
  /** Stable code of the failure, e.g. `ACRF-102` or a project code. */
  code: string;
  /** One sentence for people. */
  message: string;
}

/** What the ledger knows about one set of files. */
export interface DeclarationRecord {
  /** The set key `APP.SENDER.DATE.SEQ.ENV` (formatDeclarationKey). */
  id: string;
  key: DeclarationKey;
  /** Number of FI parts, 1 to 9. */
  nparts: number;
  source: SourceIdentity;
  /** SHA-256 of the whole source, lower-case hex, once read. */
  sourceSha256?: string;
  /** Size of the whole source in bytes, once read. */
  sourceSize?: number;
  /** The upload folder of the environment (IN, INTEST, INTEST-S). */
  folder: UploadFolder;
  /** The files of the set, FI and FS parts then GO. */
  files: SentFile[];
  state: DeclarationState;
  /** Set only in state `failed`. */
  failure?: DeclarationFailure;
  /** 1 for the first claim, +1 each time a claim resumes the set. */
  attempt: number;
  createdAt: string;
  updatedAt: string;
  /** When the GO was confirmed on the server. */
  launchedAt?: string;
  /**
   * Set when a later claim with `resend` took over this set's key. The record is kept (it is
   * history, and its source stays known as sent) but `get(id)` returns its successor.
   */
  supersededAt?: string;
}

/** What a sender asks the ledger to record before sending anything. */
export interface ClaimRequest {
  key: DeclarationKey;
  nparts: number;
  folder: UploadFolder;
  source: SourceIdentity;
  /** The planned names (and sizes) of the set; may be empty when not planned yet. */
  files: SentFile[];
}

/** Options of a claim. */
export interface ClaimOptions {
  /**
   * Send again a source or a name the ledger counts as sent (an operator's explicit flag).
   * Never allows two live uploads of one name. Default false.
   */
  resend?: boolean;
}

/** Outcome of a successful claim. */
export interface ClaimResult {
  /** The record to send under: new, or the earlier live one of the same source. */
  record: DeclarationRecord;
  /** True when an earlier live claim of the same source was resumed (its names are kept). */
  resumed: boolean;
}

/** Fields a state change may record at the same time. */
export interface TransitionPatch {
  sourceSha256?: string;
  sourceSize?: number;
  /** Replaces the whole file list. */
  files?: SentFile[];
  /** Required when moving to `failed`, refused otherwise. */
  failure?: DeclarationFailure;
  /** ISO time the GO was confirmed; defaults to now when moving to `launched`. */
  launchedAt?: string;
}

/** Filter of `Ledger.list`. */
export interface ListFilter {
  /** Only records in this state (or one of these states). */
  state?: DeclarationState | readonly DeclarationState[];
  /** Only records created at or after this ISO time. */
  since?: string;
  /** Include records superseded by a resend under the same key. Default false. */
  includeSuperseded?: boolean;
}

/** Options shared by the ledger adapters. */
export interface LedgerOptions {
  /** The clock, for timestamps; default `() => new Date()`. Tests pin it. */
  now?: () => Date;
}

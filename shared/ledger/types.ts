/**
 * The values the ledger records: one DeclarationRecord per set of files we send, identified by
 * its set key `APP.SENDER.DATE.SEQ.ENV`. Timestamps are ISO 8601 strings in UTC so records read
 * the same in SQLite, DynamoDB and JSON output.
 */
import type { DeclarationKey, Environment, ResponseFolder, UploadFolder } from '../names';

/**
 * The states of a declaration. A const object rather than a bare union so that a state is added
 * in one place, and every table keyed by state (`STATE_STAGES`, the transition table) fails to
 * compile until it covers it.
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
  /** An ACRF accepted the set; the answer is in `acknowledgement`. */
  acknowledged: 'acknowledged',
  /** An ACRF refused the set, with its codes in `acknowledgement.errors`. Terminal. */
  rejected: 'rejected',
  /** The latest NOTIFICATION did not refuse the declaration (accepted, with anomalies, a proposal,
   * provisional, time-out); its outcome is the last of `notifications`. */
  notified: 'notified',
  /**
   * The latest NOTIFICATION refused the declaration (HandlingResult 0), with its anomalies in
   * `notifications`: accepted at reception, refused by the application. A later notification
   * may move it again.
   */
  refused: 'refused',
  /**
   * Cancelled before its GO by an operator (`onss-transfer cancel`): its TD file was or is to be
   * sent, and the set is never launched. Final; its source may be sent again under a new name.
   */
  cancelled: 'cancelled',
} as const;

/** A state of a declaration; see DECLARATION_STATES for the meaning of each. */
export type DeclarationState = (typeof DECLARATION_STATES)[keyof typeof DECLARATION_STATES];

/**
 * What a state means for "exactly once", the only thing the claim rules look at:
 * - `live`: no GO sent; the set may be resumed, and only by a claim of the same source.
 * - `committed`: a GO may have reached the server; the source and the name count as sent.
 * - `failed`: stopped before GO (failed, or cancelled); the name was never launched.
 */
export type StateStage = 'live' | 'committed' | 'failed';

/**
 * The stage of every state. The answer states (acknowledged, rejected, notified, refused) are
 * `committed`: the GO went out, so the source and the name stay sent whatever the answer (the
 * transfer point refuses a name it has seen, even one it rejected: ACRF-133).
 */
export const STATE_STAGES = {
  planned: 'live',
  uploading: 'live',
  launching: 'committed',
  launched: 'committed',
  failed: 'failed',
  acknowledged: 'committed',
  rejected: 'committed',
  notified: 'committed',
  refused: 'committed',
  cancelled: 'failed',
} as const satisfies Record<DeclarationState, StateStage>;

/**
 * Where a declaration came from. Two claims with the same kind, id and version are the same
 * source: the ledger refuses to send it twice.
 */
export interface SourceIdentity {
  /** A local file, or an object in a store (S3). */
  kind: 'file' | 'object';
  /** The absolute path of the file, or `s3://bucket/key` of the object. */
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

/**
 * The acknowledgement of receipt (ACRF) of a set, as recorded on the declaration. One per
 * set: the ACRF decides between `acknowledged` and `rejected`.
 */
export interface Acknowledgement {
  /** ReceptionResult/ResultCode 1; must agree with the state moved to. */
  accepted: boolean;
  /** The ReceptionResult/ErrorID values, e.g. `ACRF-129`; empty when accepted cleanly. */
  errors: string[];
  /** FileReference/ReferenceNbr: the ticket the transfer point gave the file. */
  ticket?: string;
  /** The id of the response set that carried the answer (see ResponseRecord.id). */
  response: string;
  /** When the answer was recorded or received, ISO 8601 UTC. */
  at: string;
}

/** One anomaly of a notification, as recorded on the declaration. */
export interface RecordedAnomaly {
  /** `ErrorID`, e.g. `00024-152`. */
  errorId: string;
  /** `AnomalyClass` as written (B, P, NP, D, W, I, or another value). */
  anomalyClass?: string;
  /** `TagName`: the element concerned, e.g. `INSS`. */
  tagName?: string;
  /** `Path`: the fields identifying the block, as `NAME=value` joined by `, `. */
  path?: string;
  /** `Value`: the value found. */
  value?: string;
}

/** The outcome of one NOTIFICATION about a set, as recorded on the declaration. */
export interface NotificationOutcome {
  /** HandlingResult/ResultCode as given (`0` to `4`), kept as text so unknown codes survive. */
  result: string;
  /** Only result 1 counts as accepted. */
  accepted: boolean;
  /** Accepted with non-blocking anomalies. */
  withAnomalies: boolean;
  /** Number of AnomalyReport elements. */
  anomalyCount: number;
  /** `Diagnosis` (0-9; 3 = rejected for blocking anomalies), when given. */
  diagnosis?: number;
  /**
   * The first anomalies as the notification gave them (at most MAX_RECORDED_ANOMALIES, each
   * field at most MAX_ANOMALY_FIELD_LENGTH characters), so that `status` can say what was wrong
   * without the answer file. Absent in records written before they were kept.
   */
  anomalies?: RecordedAnomaly[];
  /** HandledReference/ReferenceNbr (the declaration's ticket), when given. */
  ticket?: string;
  /** The id of the response set that carried the notification. */
  response: string;
  /** When the notification was recorded or received, ISO 8601 UTC. */
  at: string;
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
  /**
   * Ticket numbers the transfer point gave this set (the ACRF's and the notifications'), in the
   * order they arrived, each once. Absent until the first answer with a ticket.
   */
  tickets?: string[];
  /** The ACRF, once one moved the set to `acknowledged` or `rejected`. */
  acknowledgement?: Acknowledgement;
  /** Every notification recorded, oldest first. Absent until the first. */
  notifications?: NotificationOutcome[];
  /** When an operator cancelled the set (state `cancelled`), ISO 8601 UTC. */
  cancelledAt?: string;
  /**
   * The channel (sender number, technical user, credentials) the set is sent through, by its
   * name in the channels configuration. Absent for a deployment of one unnamed channel.
   */
  channel?: string;
  /**
   * The set key of the declaration this one sends again (`onss-transfer resend`, or an object
   * put under `resend/`): the link from a resend to the rejected or refused first.
   */
  resendOf?: string;
  /**
   * The watchdog's marks: each wait for which `declaration.overdue` was raised, once each
   * (see `Ledger.markOverdue`). Absent until the first.
   */
  overdue?: OverdueMark[];
  /**
   * The run that holds the set's lease: the token it claimed with (ClaimOptions.owner). Only a
   * live set has one; a move to a committed or failed state removes it, and so does
   * `releaseLease`. A live set without one (released, or recorded before leases existed) is
   * free for the next claim of its source to take.
   */
  owner?: string;
  /**
   * When the lease of `owner` ends, ISO 8601 UTC. From that instant on (`leaseUntil <= now`)
   * a claim of the same source by another run takes the set over; before it, such a claim is
   * refused with SendInProgressError. Present exactly when `owner` is.
   */
  leaseUntil?: string;
}

/** What an overdue declaration waits for: its ACRF, or the notification after it. */
export type OverdueWait = 'acknowledgement' | 'notification';

/** One wait the watchdog raised `declaration.overdue` for. */
export interface OverdueMark {
  waitingFor: OverdueWait;
  /** When it was raised, ISO 8601 UTC. */
  at: string;
}

/** Outcome of `Ledger.markOverdue`. */
export interface MarkOverdueResult {
  record: DeclarationRecord;
  /** True when this call made the mark; false when the wait was already marked. */
  marked: boolean;
}

/** What a sender asks the ledger to record before sending anything. */
export interface ClaimRequest {
  key: DeclarationKey;
  nparts: number;
  folder: UploadFolder;
  source: SourceIdentity;
  /** The planned names (and sizes) of the set; may be empty when not planned yet. */
  files: SentFile[];
  /** The set key of the declaration this claim sends again, recorded as `resendOf`. */
  resendOf?: string;
  /** The channel the set is sent through (its name in the channels configuration). */
  channel?: string;
}

/** Options of a claim. */
export interface ClaimOptions {
  /**
   * The claiming run's lease token: a random value the caller makes once per run (one
   * `crypto.randomUUID()` per send) and passes on every later call about the set
   * (`transition`, `renewLease`, `releaseLease`). 1 to 128 printable characters.
   */
  owner: string;
  /**
   * How long the lease lasts from the claim, in ms: a whole number from 1 to 86,400,000 (a
   * day). Default 120,000 (DEFAULT_LEASE_MS). The holder extends it with `renewLease`.
   */
  leaseMs?: number;
  /**
   * Send again a source or a name the ledger counts as sent (an operator's explicit flag).
   * Never allows two live uploads of one name, nor takes over a lease. Default false.
   */
  resend?: boolean;
}

/** Options of a state change. */
export interface TransitionOptions {
  /**
   * The lease token of the run making the change. While the set is live, the change is made
   * only if this run holds its lease (`owner` equal), else LeaseLostError: a run that another
   * took the set from must not move it. Once the set left the live stages it has no lease, and
   * the expected states alone guard the change. Without it, the lease is not looked at (the
   * receive path, an operator's repair).
   */
  owner?: string;
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
  /**
   * Required when moving to `acknowledged` (accepted true) or `rejected` (accepted false),
   * refused otherwise. Its ticket joins `tickets`. An acknowledgement whose response is already
   * recorded on the set makes the call a replay: it resolves with the record unchanged.
   */
  acknowledgement?: Acknowledgement;
  /**
   * Required when moving to `notified` or `refused` (a refusing notification, result 0, moves to
   * `refused`, any other to `notified`), refused otherwise; appended to `notifications`, its
   * ticket joins `tickets`. A notification whose response is already recorded on the set makes
   * the call a replay: it resolves with the record unchanged, nothing appended twice.
   */
  notification?: NotificationOutcome;
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

// ---------------------------------------------------------------------------------------------
// Response sets: what the transfer point wrote in an OUT folder, once copied to our store.
// ---------------------------------------------------------------------------------------------

/** Role of a file in a response set: FO/CO data, its FS signature, or the GO marker. */
export type ResponseFileRole = 'data' | 'signature' | 'go';

/** One file of a response set, as stored and verified. */
export interface ResponseFile {
  /** The server's file name, e.g. `FO.ACRF.999999.20261125.00001.T`. */
  name: string;
  /** Size in bytes of what was stored. */
  size: number;
  /** SHA-256 of what was stored, lower-case hex. */
  sha256: string;
  /** Where the object store keeps it (a path under the local folder, or an S3 key). */
  storeKey: string;
  role: ResponseFileRole;
}

/** Whether a response set is still on the server: `deleted` once removed from its OUT folder. */
export type ResponseState = 'stored' | 'deleted';

/** What the check of the transfer point's signature on a response found. */
export type ResponseSignatureStatus = 'unchecked' | 'valid' | 'invalid' | 'missing';

/** What a response set turned out to be once read. */
export type ResponseKind = 'acrf' | 'notification' | 'other' | 'malformed';

/** What the ledger knows about one response set. */
export interface ResponseRecord {
  /**
   * The set id: fields 2 to 6 of its names, plus NPARTS when the names carry it
   * (`ACRF.999999.20261125.00001.T`, `NOTI.999999.20261125.00002.R.1`).
   */
  id: string;
  env: Environment;
  /** The response folder it came from (OUT, OUTTEST, OUTTEST-S). */
  folder: ResponseFolder;
  /** The response type, field 2 (ACRF, NOTI...; unknown types are kept too). */
  type: string;
  files: ResponseFile[];
  state: ResponseState;
  signature: ResponseSignatureStatus;
  /** Why the signature is invalid or missing, for people. */
  signatureDetail?: string;
  kind?: ResponseKind;
  /** The declaration (set key) the answer was tied to. */
  declarationId?: string;
  /**
   * True when the answer (or one of its forms: a document may answer several files) matched no
   * declaration. Independent of `declarationId` for that reason.
   */
  orphan: boolean;
  storedAt: string;
  /** When the set was removed from the server. */
  deletedAt?: string;
  updatedAt: string;
}

/** A response set to record: state starts `stored`, the ledger sets the timestamps. */
export type NewResponse = Omit<ResponseRecord, 'state' | 'storedAt' | 'deletedAt' | 'updatedAt'>;

/** Outcome of `Ledger.recordResponse`. */
export interface RecordResponseResult {
  /** The record: new, or the one already held under this id (unchanged). */
  record: ResponseRecord;
  /** False when a set with this id was already recorded: a re-run never stores it twice. */
  created: boolean;
}

/** Changes `Ledger.updateResponse` may make. */
export interface ResponsePatch {
  /** Only ever `stored -> deleted`; sets `deletedAt` the first time. */
  state?: 'deleted';
  /** A new verdict; it replaces `signatureDetail` too (cleared when none is given). */
  signature?: ResponseSignatureStatus;
  signatureDetail?: string;
  kind?: ResponseKind;
  /** Set once: a response tied to one declaration is never moved to another. */
  declarationId?: string;
  orphan?: boolean;
}

/** Filter of `Ledger.listResponses`. */
export interface ResponseListFilter {
  /** Only sets stored at or after this ISO time. */
  since?: string;
  /** Only orphans (true) or only non-orphans (false). */
  orphan?: boolean;
  state?: ResponseState;
}

/**
 * The decisions of the ledger as pure functions: request validation, the claim rules, the
 * transition table with the answers it records, sequence allocation, and the rules of response
 * sets. Every adapter (memory, SQLite, later DynamoDB) reads what it needs, calls these, and
 * writes the outcome atomically, so "exactly once" means the same thing whatever the store.
 */
import {
  DECLARATION_FIELD_COUNT,
  ENVIRONMENTS,
  MAX_PARTS,
  NameRuleError,
  declarationKeyOf,
  formatDeclarationKey,
  isRealDate,
  parseAnsweredFileName,
  parseResponseName,
} from '../names';
import type { DeclarationKey, Environment, ResponseName, ResponsePrefix } from '../names';
import { LedgerRequestError, NameAlreadySentError, DuplicateSourceError } from './errors';
import { ResponseConflictError, SequenceExhaustedError, StateConflictError } from './errors';
import { LeaseLostError, SendInProgressError } from './errors';
import { DECLARATION_STATES, STATE_STAGES } from './types';
import type {
  Acknowledgement,
  ClaimOptions,
  ClaimRequest,
  DeclarationRecord,
  DeclarationState,
  ListFilter,
  NewResponse,
  NotificationOutcome,
  ResponseFile,
  ResponseFileRole,
  ResponseKind,
  ResponseListFilter,
  ResponsePatch,
  ResponseRecord,
  ResponseSignatureStatus,
  ResponseState,
  SentFile,
  SourceIdentity,
  StateStage,
  TransitionOptions,
  TransitionPatch,
} from './types';

/**
 * The state changes a set may go through. `uploading -> uploading` records progress (files,
 * hashes) without a change of meaning. An answer may find its set still `launching`: the
 * process crashed after starting the GO, and the answer proves the GO arrived. Only
 * notifications follow an acknowledgement, and `notified -> notified` records later ones;
 * `rejected` and `failed` are final. Keyed by every state so a new state does not compile until
 * it is placed here.
 */
export const ALLOWED_TRANSITIONS = {
  planned: ['uploading', 'failed'],
  uploading: ['uploading', 'launching', 'failed'],
  launching: ['launched', 'acknowledged', 'rejected', 'notified'],
  launched: ['acknowledged', 'rejected', 'notified'],
  failed: [],
  acknowledged: ['notified'],
  rejected: [],
  notified: ['notified'],
} as const satisfies Record<DeclarationState, readonly DeclarationState[]>;

/**
 * Longest ticket number the ledger records. The transfer point documents at most 20 characters;
 * the margin keeps an unexpected but real ticket, while a parser that hands over a whole
 * element's text by mistake is still refused.
 */
export const MAX_TICKET_LENGTH = 64;

/** How long a claim's lease lasts when the caller does not say, in ms: two minutes. */
export const DEFAULT_LEASE_MS = 120_000;

/**
 * Longest lease the ledger grants, in ms: a day. A longer one would keep the set of a run that
 * died locked past any real upload, and is most likely a unit mistake (seconds for ms...).
 */
export const MAX_LEASE_MS = 86_400_000;

/** Longest owner token the ledger records (a UUID is 36 characters). */
export const MAX_OWNER_LENGTH = 128;

/** Highest sequence the ledger allocates: five digits. */
export const MAX_SEQUENCE = 99_999;

const SEQUENCE_DIGITS = 5;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const SENDER = /^\d{6}$/;
const ROLES: ReadonlySet<string> = new Set(['FI', 'FS', 'GO']);
const STATES: ReadonlySet<string> = new Set(Object.values(DECLARATION_STATES));
// Control characters never belong in a ticket; they would also break the CLI's table output.
const CONTROL = /\p{Cc}/u;
// The role each response prefix plays in its set; CO is compressed data.
const RESPONSE_ROLES: Readonly<Record<ResponsePrefix, ResponseFileRole>> = {
  FO: 'data',
  CO: 'data',
  FS: 'signature',
  GO: 'go',
};
const RESPONSE_STATE_VALUES: ReadonlySet<string> = new Set<ResponseState>(['stored', 'deleted']);
const SIGNATURE_VALUES: ReadonlySet<string> = new Set<ResponseSignatureStatus>([
  'unchecked',
  'valid',
  'invalid',
  'missing',
]);
const KIND_VALUES: ReadonlySet<string> = new Set<ResponseKind>([
  'acrf',
  'notification',
  'other',
  'malformed',
]);

/** The stage of a state: live (resumable), committed (GO may be out) or failed. */
export function stageOf(state: DeclarationState): StateStage {
  return STATE_STAGES[state];
}

/** Whether a value is one of the known declaration states. */
export function isDeclarationState(value: unknown): value is DeclarationState {
  return typeof value === 'string' && STATES.has(value);
}

/** Whether two identities name the same source: same kind, id and version. */
export function sameSource(a: SourceIdentity, b: SourceIdentity): boolean {
  return a.kind === b.kind && a.id === b.id && (a.version ?? '') === (b.version ?? '');
}

/** A sequence number written as the five digits of a name: 7 -> `00007`. */
export function formatSequence(n: number): string {
  return String(n).padStart(SEQUENCE_DIGITS, '0');
}

// ---------------------------------------------------------------------------------------------
// Validation: the ledger guards its own keys, so a malformed request is refused before it is
// written rather than stored and matched wrongly later.
// ---------------------------------------------------------------------------------------------

/**
 * Checks the scope of a sequence (6-digit sender, real YYYYMMDD date, R/T/S) and throws a
 * LedgerRequestError naming the bad value.
 */
export function validateSequenceScope(sender: string, date: string, env: Environment): void {
  if (typeof sender !== 'string' || !SENDER.test(sender)) {
    throw new LedgerRequestError(`sender ${JSON.stringify(sender)} is not 6 digits`);
  }
  if (typeof date !== 'string' || !isRealDate(date)) {
    throw new LedgerRequestError(`date ${JSON.stringify(date)} is not a real YYYYMMDD date`);
  }
  if (!Object.prototype.hasOwnProperty.call(ENVIRONMENTS, env)) {
    throw new LedgerRequestError(`environment ${JSON.stringify(env)} is not R, T or S`);
  }
}

function validateSource(source: SourceIdentity): void {
  if (typeof source !== 'object' || source === null) {
    throw new LedgerRequestError('the source identity is missing');
  }
  if (source.kind !== 'file' && source.kind !== 'object') {
    throw new LedgerRequestError(
      `source kind ${JSON.stringify(source.kind)} is not file or object`,
    );
  }
  if (typeof source.id !== 'string' || source.id.length === 0) {
    throw new LedgerRequestError('the source id is empty');
  }
  // An empty version would match an absent one in stores that cannot keep "absent" apart from
  // "empty" (SQLite column, DynamoDB key), so it is refused rather than silently merged.
  if (source.version !== undefined && (typeof source.version !== 'string' || !source.version)) {
    throw new LedgerRequestError('the source version, when given, must be a non-empty string');
  }
}

function validateKey(key: DeclarationKey, nparts: number): string {
  if (!Number.isInteger(nparts) || nparts < 1 || nparts > MAX_PARTS) {
    throw new LedgerRequestError(
      `nparts ${String(nparts)} is not a whole number 1 to ${MAX_PARTS}`,
    );
  }
  if (typeof key !== 'object' || key === null) {
    throw new LedgerRequestError('the declaration key is missing');
  }
  const id = formatDeclarationKey(key);
  // The GO name of the set goes through the names module's grammar (the same check answers
  // get), so the ledger accepts exactly the keys a name can carry.
  try {
    parseAnsweredFileName(`GO.${id}.${nparts}`);
  } catch (error) {
    if (error instanceof NameRuleError) {
      throw new LedgerRequestError(`declaration key ${id} is malformed: ${error.message}`, error);
    }
    throw error;
  }
  return id;
}

/**
 * Checks a file list against its set: each name is a FI, FS or GO name of this very key and
 * part count, its role is its prefix, names are unique, sizes are whole bytes and hashes are
 * SHA-256 hex. Returns a copy with hashes in lower case. Answers are matched to sets by the key
 * inside these names, so a foreign name here would make the ledger lie.
 */
export function validateFiles(id: string, nparts: number, files: readonly SentFile[]): SentFile[] {
  if (!Array.isArray(files as unknown)) throw new LedgerRequestError('files must be an array');
  const seen = new Set<string>();
  return files.map((file) => {
    const name: unknown = file?.name;
    if (typeof name !== 'string') throw new LedgerRequestError('a file has no name');
    if (seen.has(name)) throw new LedgerRequestError(`${name} is listed twice`);
    seen.add(name);
    if (!ROLES.has(file.role)) {
      throw new LedgerRequestError(
        `${name}: role ${JSON.stringify(file.role)} is not FI, FS or GO`,
      );
    }
    const fields = name.split('.');
    if (
      fields[0] !== file.role ||
      fields.length !== DECLARATION_FIELD_COUNT[file.role] ||
      keyOfFileName(name) !== id ||
      fields[6] !== String(nparts)
    ) {
      throw new LedgerRequestError(`${name} is not the ${file.role} name of set ${id}.${nparts}`);
    }
    if (!Number.isSafeInteger(file.size) || file.size < 0) {
      throw new LedgerRequestError(`${name}: size ${String(file.size)} is not a whole byte count`);
    }
    const copy: SentFile = { name, size: file.size, role: file.role };
    if (file.sha256 !== undefined) copy.sha256 = normalizeSha256(file.sha256);
    return copy;
  });
}

/** A SHA-256 as 64 lower-case hex digits, or a LedgerRequestError. */
export function normalizeSha256(value: string): string {
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  if (!SHA256_HEX.test(lower)) {
    throw new LedgerRequestError(`${JSON.stringify(value)} is not a SHA-256 in hex`);
  }
  return lower;
}

/** An ISO time normalized to `toISOString()` form (so text order is time order), or throws. */
export function normalizeIso(value: string, what: string): string {
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new LedgerRequestError(`${what} ${JSON.stringify(value)} is not an ISO date and time`);
  }
  return new Date(time).toISOString();
}

/**
 * Validates a claim request: key grammar, part count, the folder of the environment, the
 * source identity and the planned files. Returns the set id and a normalized copy of the files.
 */
export function validateClaimRequest(request: ClaimRequest): { id: string; files: SentFile[] } {
  if (typeof request !== 'object' || request === null) {
    throw new LedgerRequestError('the claim request is missing');
  }
  const id = validateKey(request.key, request.nparts);
  const folder = ENVIRONMENTS[request.key.env].uploadFolder;
  if (request.folder !== folder) {
    throw new LedgerRequestError(
      `folder ${JSON.stringify(request.folder)} is not the upload folder of environment ` +
        `${request.key.env} (${folder})`,
    );
  }
  validateSource(request.source);
  return { id, files: validateFiles(id, request.nparts, request.files) };
}

/** Validates a source identity given to a look-up. */
export function validateSourceQuery(source: SourceIdentity): void {
  validateSource(source);
}

/**
 * The set key answered by a FI, FS, GO or TD name (8, 7 or legacy 6 fields), or undefined when
 * the name cannot be read. Only the grammar is checked, as for any name an answer refers to.
 */
export function keyOfFileName(name: string): string | undefined {
  if (typeof name !== 'string') return undefined;
  try {
    return formatDeclarationKey(parseAnsweredFileName(name));
  } catch (error) {
    if (error instanceof NameRuleError) return undefined;
    throw error;
  }
}

/**
 * Checks a ticket number (an answer's ReferenceNbr) and returns it: a non-empty string of at most
 * MAX_TICKET_LENGTH characters, without surrounding blanks or control characters. Tickets are a
 * look-up key (findByTicket), so a ticket with a stray space would never be found again.
 */
export function validateTicket(ticket: string): string {
  if (
    typeof ticket !== 'string' ||
    ticket.length === 0 ||
    ticket.length > MAX_TICKET_LENGTH ||
    ticket.trim() !== ticket ||
    CONTROL.test(ticket)
  ) {
    throw new LedgerRequestError(
      `ticket ${JSON.stringify(ticket)} is not 1 to ${MAX_TICKET_LENGTH} printable characters ` +
        'without surrounding blanks',
    );
  }
  return ticket;
}

/**
 * Checks a declaration set key given with an answer or a response (`APP.SENDER.DATE.SEQ.ENV`)
 * with the grammar of answered names, and returns it.
 */
export function validateDeclarationId(id: string): string {
  if (typeof id !== 'string' || keyOfFileName(`GO.${id}`) !== id) {
    throw new LedgerRequestError(
      `declaration id ${JSON.stringify(id)} is not a set key APP.SENDER.DATE.SEQ.ENV`,
    );
  }
  return id;
}

/** The fields of a response set id: fields 2 to 6 of its names, plus NPARTS when present. */
export interface ResponseSetFields {
  type: string;
  sender: string;
  date: string;
  seq: string;
  env: Environment;
  nparts?: number;
}

/**
 * The set id a response file name belongs to: fields 2 to 6, plus field 7 (NPARTS) when the name
 * has it (`FO.ACRF.999999.20261125.00001.T.2.1` -> `ACRF.999999.20261125.00001.T.2`). Undefined
 * when the name is outside the response grammar. Every file of one set gives the same id.
 */
export function responseSetIdOf(name: string): string | undefined {
  if (typeof name !== 'string') return undefined;
  try {
    return formatResponseSetId(parseResponseName(name));
  } catch (error) {
    if (error instanceof NameRuleError) return undefined;
    throw error;
  }
}

function formatResponseSetId(name: ResponseSetFields): string {
  const base = `${name.type}.${name.sender}.${name.date}.${name.seq}.${name.env}`;
  return name.nparts === undefined ? base : `${base}.${name.nparts}`;
}

/**
 * Reads a response set id (`TYPE.SENDER.DATE.SEQ.ENV[.NPARTS]`) with the grammar of response
 * names, the one shared/names applies to the files themselves, and returns its fields. Throws a
 * LedgerRequestError (the NameRuleError kept as cause) for anything else, a PART included:
 * a set id names the whole set.
 */
export function parseResponseSetId(id: string): ResponseSetFields {
  if (typeof id !== 'string') {
    throw new LedgerRequestError(`response set id ${JSON.stringify(id)} is not a string`);
  }
  // The GO of a set carries exactly the set's fields, so its name is the id behind `GO.`;
  // an id with a PART would make it an 8-field name, not a set.
  const fields = id.split('.');
  if (fields.length !== 5 && fields.length !== 6) {
    throw new LedgerRequestError(
      `response set id ${JSON.stringify(id)} is not TYPE.SENDER.DATE.SEQ.ENV[.NPARTS]`,
    );
  }
  let parsed: ResponseName;
  try {
    parsed = parseResponseName(`GO.${id}`);
  } catch (error) {
    if (error instanceof NameRuleError) {
      throw new LedgerRequestError(`response set id ${id} is malformed: ${error.message}`, error);
    }
    throw error;
  }
  const { type, sender, date, seq, env } = parsed;
  return parsed.nparts === undefined
    ? { type, sender, date, seq, env }
    : { type, sender, date, seq, env, nparts: parsed.nparts };
}

// ---------------------------------------------------------------------------------------------
// Leases: who is sending a live set right now
// ---------------------------------------------------------------------------------------------

/**
 * Checks a lease owner token and returns it: a string of 1 to MAX_OWNER_LENGTH characters
 * without surrounding blanks or control characters. It is compared for equality on every call
 * about the set, so a stray space would lose the lease on the first renewal.
 */
export function validateOwner(owner: string): string {
  if (
    typeof owner !== 'string' ||
    owner.length === 0 ||
    owner.length > MAX_OWNER_LENGTH ||
    owner.trim() !== owner ||
    CONTROL.test(owner)
  ) {
    throw new LedgerRequestError(
      `lease owner ${JSON.stringify(owner)} is not 1 to ${MAX_OWNER_LENGTH} printable ` +
        'characters without surrounding blanks',
    );
  }
  return owner;
}

/**
 * Checks a lease duration and returns it, DEFAULT_LEASE_MS when undefined: a whole number of
 * ms from 1 to MAX_LEASE_MS.
 */
export function validateLeaseMs(leaseMs: number | undefined): number {
  if (leaseMs === undefined) return DEFAULT_LEASE_MS;
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1 || leaseMs > MAX_LEASE_MS) {
    throw new LedgerRequestError(
      `lease duration ${String(leaseMs)} is not a whole number of ms from 1 to ${MAX_LEASE_MS}`,
    );
  }
  return leaseMs;
}

/** The end of a lease taken at `now` (ISO) for `leaseMs`, as ISO. */
export function leaseEndOf(now: string, leaseMs: number): string {
  return new Date(Date.parse(now) + leaseMs).toISOString();
}

/**
 * Whether a record's lease is still running at `now` (ISO): it has one and `leaseUntil > now`.
 * A lease ends at its `leaseUntil` exactly, and a record without a lease is held by nobody.
 */
export function isLeaseRunning(record: DeclarationRecord, now: string): boolean {
  return record.leaseUntil !== undefined && Date.parse(record.leaseUntil) > Date.parse(now);
}

/**
 * Throws LeaseLostError unless `owner` holds the lease of `record`: the set is live and its
 * owner is `owner`. An ended lease nobody took over still counts as held: only a claim takes a
 * set from its owner, in the same atomic write that gives it to the next one.
 */
export function checkLeaseHolder(record: DeclarationRecord, owner: string): void {
  if (stageOf(record.state) !== 'live' || record.owner !== owner) {
    throw new LeaseLostError(record);
  }
}

/**
 * Extends the lease of a live set its owner holds: `leaseUntil` becomes `now + leaseMs`
 * (default DEFAULT_LEASE_MS) and `updatedAt` now, so a conditional write on `updatedAt`
 * (DynamoDB) sees every change. Throws LeaseLostError when `owner` does not hold it (see
 * checkLeaseHolder), LedgerRequestError for a malformed owner or duration. Pure: returns the
 * record to write under the same condition as a transition.
 */
export function applyLeaseRenewal(
  current: DeclarationRecord,
  owner: string,
  leaseMs: number | undefined,
  now: string,
): DeclarationRecord {
  validateOwner(owner);
  const duration = validateLeaseMs(leaseMs);
  checkLeaseHolder(current, owner);
  return { ...current, leaseUntil: leaseEndOf(now, duration), updatedAt: now };
}

/**
 * Ends the lease of a live set its owner holds, at once: `owner` and `leaseUntil` are removed,
 * so the next claim of the source resumes the set without waiting for the lease to run out.
 * For a run that stops with its set still live (a network failure that outlasted the retries).
 * Throws as applyLeaseRenewal. Pure: returns the record to write.
 */
export function applyLeaseRelease(
  current: DeclarationRecord,
  owner: string,
  now: string,
): DeclarationRecord {
  validateOwner(owner);
  checkLeaseHolder(current, owner);
  return withoutLease({ ...current, updatedAt: now });
}

// A copy of the record without lease fields; the record given is not changed.
function withoutLease(record: DeclarationRecord): DeclarationRecord {
  const copy = { ...record };
  delete copy.owner;
  delete copy.leaseUntil;
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Claim
// ---------------------------------------------------------------------------------------------

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
  };
  return supersede ? { kind: 'insert', record, supersede } : { kind: 'insert', record };
}

function copySource(source: SourceIdentity): SourceIdentity {
  return source.version === undefined
    ? { kind: source.kind, id: source.id }
    : { kind: source.kind, id: source.id, version: source.version };
}

// ---------------------------------------------------------------------------------------------
// Transition
// ---------------------------------------------------------------------------------------------

/**
 * Checks the states of a transition call before anything is read: `from` is one or more known
 * states, `to` is known, and every `from` state may move to `to` by the table. A call that
 * breaks the table fails whatever the current state, so the bug shows on the first run.
 * Returns `from` as an array.
 */
export function checkTransitionCall(
  from: DeclarationState | readonly DeclarationState[],
  to: DeclarationState,
): readonly DeclarationState[] {
  const expected: readonly DeclarationState[] = typeof from === 'string' ? [from] : from;
  if (!Array.isArray(expected as unknown) || expected.length === 0) {
    throw new LedgerRequestError('transition needs at least one expected state');
  }
  for (const state of [...expected, to]) {
    if (!isDeclarationState(state)) {
      throw new LedgerRequestError(`${JSON.stringify(state)} is not a declaration state`);
    }
  }
  return expected;
}

/**
 * Applies a transition to the current record: throws StateConflictError when a `from` state may
 * not move to `to` or when the record is not in one of the `expected` states, and
 * LedgerRequestError for a bad patch. Returns the record to write, conditional on its state
 * still being `current.state` (SQLite: same transaction; DynamoDB: a condition expression on the
 * state and `updatedAt`, so two notifications appended at once cannot overwrite each other).
 *
 * An answer (acknowledgement or notification) whose response id is already recorded on the set
 * makes the call a replay, the receive path re-running after a crash: it returns `current`
 * itself, whatever state the set has reached since, and the adapter writes nothing.
 *
 * With `options.owner`, a set still live must be held by that owner (checkLeaseHolder), else
 * LeaseLostError; a set past the live stages has no lease and only `expected` guards it. A
 * move to a committed or failed state removes the lease (owner, leaseUntil): nobody sends the
 * set any more, and no later run should see one.
 */
export function applyTransition(
  current: DeclarationRecord,
  expected: readonly DeclarationState[],
  to: DeclarationState,
  patch: TransitionPatch | undefined,
  now: string,
  options?: TransitionOptions,
): DeclarationRecord {
  const owner = options?.owner === undefined ? undefined : validateOwner(options.owner);
  const allowed = (state: DeclarationState): boolean =>
    (ALLOWED_TRANSITIONS[state] as readonly DeclarationState[]).includes(to);
  const notAllowedFrom = expected.find((state) => !allowed(state));
  if (notAllowedFrom !== undefined) {
    throw new StateConflictError({
      id: current.id,
      expected,
      actual: current.state,
      to,
      notAllowedFrom,
    });
  }
  const changes: TransitionPatch = patch ?? {};
  // Checked before the state, so a malformed answer fails the same way on every run.
  const answer = checkAnswer(current.id, to, changes);
  if (answer !== undefined && isAnswerRecorded(current, answer.response)) return current;
  // Before the state: a run that lost the set learns that, not that someone moved it.
  if (owner !== undefined && stageOf(current.state) === 'live') {
    checkLeaseHolder(current, owner);
  }
  if (!expected.includes(current.state)) {
    throw new StateConflictError({ id: current.id, expected, actual: current.state, to });
  }

  const next: DeclarationRecord =
    stageOf(to) === 'live'
      ? { ...current, state: to, updatedAt: now }
      : withoutLease({ ...current, state: to, updatedAt: now });
  if (changes.sourceSha256 !== undefined) next.sourceSha256 = normalizeSha256(changes.sourceSha256);
  if (changes.sourceSize !== undefined) {
    if (!Number.isSafeInteger(changes.sourceSize) || changes.sourceSize < 0) {
      throw new LedgerRequestError(`sourceSize ${String(changes.sourceSize)} is not a byte count`);
    }
    next.sourceSize = changes.sourceSize;
  }
  if (changes.files !== undefined) {
    next.files = validateFiles(current.id, current.nparts, changes.files);
  }
  if (to === DECLARATION_STATES.failed) {
    const failure = changes.failure;
    if (!failure || typeof failure.code !== 'string' || typeof failure.message !== 'string') {
      throw new LedgerRequestError(`${current.id}: a move to failed needs failure {code, message}`);
    }
    next.failure = { code: failure.code, message: failure.message };
  } else if (changes.failure !== undefined) {
    throw new LedgerRequestError(`${current.id}: a failure is recorded only with a move to failed`);
  }
  if (to === DECLARATION_STATES.launched) {
    next.launchedAt =
      changes.launchedAt === undefined ? now : normalizeIso(changes.launchedAt, 'launchedAt');
  } else if (changes.launchedAt !== undefined) {
    throw new LedgerRequestError(
      `${current.id}: launchedAt is recorded only with a move to launched`,
    );
  }
  if (answer?.kind === 'acknowledgement') {
    next.acknowledgement = answer.value;
    next.tickets = withTicket(current.tickets, answer.value.ticket);
  } else if (answer?.kind === 'notification') {
    next.notifications = [...(current.notifications ?? []), answer.value];
    next.tickets = withTicket(current.tickets, answer.value.ticket);
  }
  if (next.tickets === undefined) delete next.tickets;
  return next;
}

/** Whether a response set id is already recorded on a set, as its ACRF or a notification. */
export function isAnswerRecorded(record: DeclarationRecord, response: string): boolean {
  return (
    record.acknowledgement?.response === response ||
    (record.notifications ?? []).some((notification) => notification.response === response)
  );
}

type CheckedAnswer =
  | { kind: 'acknowledgement'; response: string; value: Acknowledgement }
  | { kind: 'notification'; response: string; value: NotificationOutcome };

// The answer a move records: an ACRF decides acknowledged (accepted) or rejected (refused), a
// notification makes notified. Required with those moves and refused with any other, so a
// state never claims an answer the record does not hold.
function checkAnswer(
  id: string,
  to: DeclarationState,
  changes: TransitionPatch,
): CheckedAnswer | undefined {
  const acknowledging =
    to === DECLARATION_STATES.acknowledged || to === DECLARATION_STATES.rejected;
  if (!acknowledging && changes.acknowledgement !== undefined) {
    throw new LedgerRequestError(
      `${id}: an acknowledgement is recorded only with a move to acknowledged or rejected`,
    );
  }
  if (to !== DECLARATION_STATES.notified && changes.notification !== undefined) {
    throw new LedgerRequestError(`${id}: a notification is recorded only with a move to notified`);
  }
  if (acknowledging) {
    if (changes.acknowledgement === undefined) {
      throw new LedgerRequestError(`${id}: a move to ${to} needs the acknowledgement`);
    }
    const value = validateAcknowledgement(id, changes.acknowledgement);
    if (value.accepted !== (to === DECLARATION_STATES.acknowledged)) {
      throw new LedgerRequestError(
        `${id}: an acknowledgement with accepted ${String(value.accepted)} cannot move the set ` +
          `to ${to}`,
      );
    }
    return { kind: 'acknowledgement', response: value.response, value };
  }
  if (to === DECLARATION_STATES.notified) {
    if (changes.notification === undefined) {
      throw new LedgerRequestError(`${id}: a move to notified needs the notification`);
    }
    const value = validateNotification(id, changes.notification);
    return { kind: 'notification', response: value.response, value };
  }
  return undefined;
}

function withTicket(
  tickets: string[] | undefined,
  ticket: string | undefined,
): string[] | undefined {
  if (ticket === undefined || tickets?.includes(ticket)) return tickets;
  return [...(tickets ?? []), ticket];
}

function checkObject(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null) {
    throw new LedgerRequestError(`${what} is not an object`);
  }
}

function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') {
    throw new LedgerRequestError(`${what} ${JSON.stringify(value)} is not true or false`);
  }
  return value;
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new LedgerRequestError(`${what} ${JSON.stringify(value)} is not a non-empty string`);
  }
  return value;
}

/**
 * Checks an acknowledgement and returns a normalized copy (only the known fields, `at` as
 * `toISOString()`), so what is stored is exactly what the type says.
 */
export function validateAcknowledgement(id: string, value: Acknowledgement): Acknowledgement {
  checkObject(value, `${id}: the acknowledgement`);
  const errors: unknown = value.errors;
  if (!Array.isArray(errors) || errors.some((e) => typeof e !== 'string' || e.length === 0)) {
    throw new LedgerRequestError(`${id}: acknowledgement.errors is not a list of error ids`);
  }
  const copy: Acknowledgement = {
    accepted: checkBoolean(value.accepted, `${id}: acknowledgement.accepted`),
    errors: [...(errors as string[])],
    response: parseResponseSetIdOf(value.response, `${id}: acknowledgement.response`),
    at: normalizeIso(value.at, `${id}: acknowledgement.at`),
  };
  if (value.ticket !== undefined) copy.ticket = validateTicket(value.ticket);
  return copy;
}

/** Checks a notification outcome and returns a normalized copy, as validateAcknowledgement. */
export function validateNotification(id: string, value: NotificationOutcome): NotificationOutcome {
  checkObject(value, `${id}: the notification`);
  const count = value.anomalyCount;
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new LedgerRequestError(
      `${id}: notification.anomalyCount ${String(count)} is not a count`,
    );
  }
  const copy: NotificationOutcome = {
    result: checkText(value.result, `${id}: notification.result`),
    accepted: checkBoolean(value.accepted, `${id}: notification.accepted`),
    withAnomalies: checkBoolean(value.withAnomalies, `${id}: notification.withAnomalies`),
    anomalyCount: count,
    response: parseResponseSetIdOf(value.response, `${id}: notification.response`),
    at: normalizeIso(value.at, `${id}: notification.at`),
  };
  if (value.ticket !== undefined) copy.ticket = validateTicket(value.ticket);
  return copy;
}

// A response id carried by an answer: the same grammar as the response sets themselves.
function parseResponseSetIdOf(value: string, what: string): string {
  try {
    parseResponseSetId(value);
  } catch (error) {
    if (error instanceof LedgerRequestError) {
      throw new LedgerRequestError(`${what}: ${error.message}`, error.cause);
    }
    throw error;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Sequences
// ---------------------------------------------------------------------------------------------

/**
 * The next free sequence after the counter `last`: the first number above it that no recorded
 * declaration of the scope uses (`isUsed`), so a sequence given explicitly earlier is skipped.
 * Returns the sequence and the new counter value; throws SequenceExhaustedError past 99999.
 */
export function allocateSequence(
  scope: { sender: string; date: string; env: Environment },
  last: number,
  isUsed: (seq: string) => boolean,
): { seq: string; last: number } {
  for (let candidate = Math.max(0, last) + 1; candidate <= MAX_SEQUENCE; candidate += 1) {
    const seq = formatSequence(candidate);
    if (!isUsed(seq)) return { seq, last: candidate };
  }
  throw new SequenceExhaustedError(scope.sender, scope.date, scope.env);
}

// ---------------------------------------------------------------------------------------------
// List
// ---------------------------------------------------------------------------------------------

/** A list filter checked and normalized once. */
export interface NormalizedListFilter {
  states: readonly DeclarationState[] | undefined;
  since: string | undefined;
  includeSuperseded: boolean;
}

/** Checks a list filter: known states, a readable ISO `since`. */
export function normalizeListFilter(filter: ListFilter | undefined): NormalizedListFilter {
  const given = filter ?? {};
  let states: readonly DeclarationState[] | undefined;
  if (given.state !== undefined) {
    states = typeof given.state === 'string' ? [given.state] : given.state;
    for (const state of states) {
      if (!isDeclarationState(state)) {
        throw new LedgerRequestError(`${JSON.stringify(state)} is not a declaration state`);
      }
    }
  }
  return {
    states,
    since: given.since === undefined ? undefined : normalizeIso(given.since, 'since'),
    includeSuperseded: given.includeSuperseded === true,
  };
}

/** Whether a record passes a normalized list filter. */
export function matchesListFilter(
  record: DeclarationRecord,
  filter: NormalizedListFilter,
): boolean {
  if (!filter.includeSuperseded && record.supersededAt !== undefined) return false;
  if (filter.states && !filter.states.includes(record.state)) return false;
  return filter.since === undefined || record.createdAt >= filter.since;
}

// ---------------------------------------------------------------------------------------------
// Response sets
// ---------------------------------------------------------------------------------------------

/**
 * Checks the files of a response set: each name is read by the response grammar
 * (parseResponseName) and belongs to the set `id` (fields 2 to 6, plus NPARTS exactly when the
 * id has it), its role is its prefix's (FO/CO data, FS signature, GO go), names are unique,
 * sizes are whole bytes, hashes are SHA-256 and every file says where it is stored. Returns a
 * normalized copy.
 */
export function validateResponseFiles(id: string, files: readonly ResponseFile[]): ResponseFile[] {
  if (!Array.isArray(files as unknown) || files.length === 0) {
    throw new LedgerRequestError(`${id}: a response set needs at least one file`);
  }
  const seen = new Set<string>();
  return files.map((file) => {
    const name: unknown = file?.name;
    if (typeof name !== 'string') throw new LedgerRequestError(`${id}: a file has no name`);
    if (seen.has(name)) throw new LedgerRequestError(`${id}: ${name} is listed twice`);
    seen.add(name);
    let parsed: ResponseName;
    try {
      parsed = parseResponseName(name);
    } catch (error) {
      if (error instanceof NameRuleError) {
        throw new LedgerRequestError(`${id}: ${error.message}`, error);
      }
      throw error;
    }
    if (formatResponseSetId(parsed) !== id) {
      throw new LedgerRequestError(`${name} is not a file of response set ${id}`);
    }
    const role = RESPONSE_ROLES[parsed.prefix];
    if (file.role !== role) {
      throw new LedgerRequestError(
        `${name}: role ${JSON.stringify(file.role)} is not ${role}, the role of ${parsed.prefix}`,
      );
    }
    if (!Number.isSafeInteger(file.size) || file.size < 0) {
      throw new LedgerRequestError(`${name}: size ${String(file.size)} is not a whole byte count`);
    }
    return {
      name,
      size: file.size,
      sha256: normalizeSha256(file.sha256),
      storeKey: checkText(file.storeKey, `${name}: storeKey`),
      role,
    };
  });
}

function checkSignature(value: unknown): ResponseSignatureStatus {
  if (typeof value !== 'string' || !SIGNATURE_VALUES.has(value)) {
    throw new LedgerRequestError(
      `signature ${JSON.stringify(value)} is not unchecked, valid, invalid or missing`,
    );
  }
  return value as ResponseSignatureStatus;
}

function checkKind(value: unknown): ResponseKind {
  if (typeof value !== 'string' || !KIND_VALUES.has(value)) {
    throw new LedgerRequestError(
      `kind ${JSON.stringify(value)} is not acrf, notification, other or malformed`,
    );
  }
  return value as ResponseKind;
}

/**
 * Validates a response set to record and builds its record: state `stored`, stored and updated
 * `now`. The id must be a set id whose type and environment are the record's, the folder that
 * environment's response folder, and every file a file of that set. Throws LedgerRequestError.
 * Pure: whether a record with this id already exists is the adapter's look-up.
 */
export function buildResponseRecord(request: NewResponse, now: string): ResponseRecord {
  checkObject(request, 'the response set');
  const fields = parseResponseSetId(request.id);
  const { id } = request;
  if (request.env !== fields.env) {
    throw new LedgerRequestError(
      `${id}: env ${JSON.stringify(request.env)} is not the set's environment ${fields.env}`,
    );
  }
  if (request.type !== fields.type) {
    throw new LedgerRequestError(
      `${id}: type ${JSON.stringify(request.type)} is not the set's type ${fields.type}`,
    );
  }
  const folder = ENVIRONMENTS[fields.env].responseFolder;
  if (request.folder !== folder) {
    throw new LedgerRequestError(
      `${id}: folder ${JSON.stringify(request.folder)} is not the response folder of ` +
        `environment ${fields.env} (${folder})`,
    );
  }
  const record: ResponseRecord = {
    id,
    env: fields.env,
    folder,
    type: fields.type,
    files: validateResponseFiles(id, request.files),
    state: 'stored',
    signature: checkSignature(request.signature),
    orphan: checkBoolean(request.orphan, `${id}: orphan`),
    storedAt: now,
    updatedAt: now,
  };
  if (request.signatureDetail !== undefined) {
    record.signatureDetail = checkText(request.signatureDetail, `${id}: signatureDetail`);
  }
  if (request.kind !== undefined) record.kind = checkKind(request.kind);
  if (request.declarationId !== undefined) {
    record.declarationId = validateDeclarationId(request.declarationId);
  }
  return record;
}

const PATCHED_FIELDS = [
  'state',
  'deletedAt',
  'signature',
  'signatureDetail',
  'kind',
  'declarationId',
  'orphan',
] as const satisfies readonly (keyof ResponseRecord)[];

/**
 * Applies an update to a response record. State only moves `stored -> deleted` (deletedAt is
 * set the first time; deleting again keeps it); a new signature verdict replaces its detail; a
 * declarationId is set once (another one throws ResponseConflictError). Returns `current` itself when nothing changes, so the adapter writes
 * nothing; otherwise the record to write, conditional on `current.updatedAt` (DynamoDB) or
 * under the write lock (SQLite). Throws LedgerRequestError for a bad patch.
 */
export function applyResponsePatch(
  current: ResponseRecord,
  patch: ResponsePatch,
  now: string,
): ResponseRecord {
  checkObject(patch, `${current.id}: the update`);
  const next: ResponseRecord = { ...current };
  if (patch.state !== undefined) {
    if (patch.state !== 'deleted') {
      throw new LedgerRequestError(
        `${current.id}: state ${JSON.stringify(patch.state)}: a response set only moves ` +
          'from stored to deleted',
      );
    }
    if (current.state !== 'deleted') {
      next.state = 'deleted';
      next.deletedAt = now;
    }
  }
  if (patch.signature !== undefined) {
    next.signature = checkSignature(patch.signature);
    // The detail explains a verdict: a new verdict without one leaves no stale explanation.
    delete next.signatureDetail;
  }
  if (patch.signatureDetail !== undefined) {
    next.signatureDetail = checkText(patch.signatureDetail, `${current.id}: signatureDetail`);
  }
  if (patch.kind !== undefined) next.kind = checkKind(patch.kind);
  if (patch.declarationId !== undefined) {
    const declarationId = validateDeclarationId(patch.declarationId);
    if (current.declarationId !== undefined && current.declarationId !== declarationId) {
      throw new ResponseConflictError(current.id, current.declarationId, declarationId);
    }
    next.declarationId = declarationId;
  }
  if (patch.orphan !== undefined) next.orphan = checkBoolean(patch.orphan, `${current.id}: orphan`);
  if (PATCHED_FIELDS.every((field) => next[field] === current[field])) return current;
  next.updatedAt = now;
  return next;
}

/** A response list filter checked and normalized once. */
export interface NormalizedResponseListFilter {
  since: string | undefined;
  orphan: boolean | undefined;
  state: ResponseState | undefined;
}

/** Checks a response list filter: a readable ISO `since`, a boolean orphan, a known state. */
export function normalizeResponseListFilter(
  filter: ResponseListFilter | undefined,
): NormalizedResponseListFilter {
  const given = filter ?? {};
  if (given.state !== undefined && !RESPONSE_STATE_VALUES.has(given.state)) {
    throw new LedgerRequestError(
      `${JSON.stringify(given.state)} is not a response state (stored or deleted)`,
    );
  }
  return {
    since: given.since === undefined ? undefined : normalizeIso(given.since, 'since'),
    orphan: given.orphan === undefined ? undefined : checkBoolean(given.orphan, 'orphan'),
    state: given.state,
  };
}

/** Whether a response record passes a normalized response list filter. */
export function matchesResponseListFilter(
  record: ResponseRecord,
  filter: NormalizedResponseListFilter,
): boolean {
  if (filter.state !== undefined && record.state !== filter.state) return false;
  if (filter.orphan !== undefined && record.orphan !== filter.orphan) return false;
  return filter.since === undefined || record.storedAt >= filter.since;
}

// ---------------------------------------------------------------------------------------------
// Run leases
// ---------------------------------------------------------------------------------------------

/** A run lease as stored: who holds the job `name` and until when (ISO 8601 UTC). */
export interface RunLease {
  name: string;
  owner: string;
  until: string;
}

// Lower-case words joined by dashes: the name of a kind of job (`pull`), never user data.
const RUN_LEASE_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** Checks a run lease name: 1 to 64 lower-case letters, digits and dashes, a letter first. */
export function validateRunLeaseName(name: string): string {
  if (typeof name !== 'string' || !RUN_LEASE_NAME.test(name)) {
    throw new LedgerRequestError(
      `run lease name ${JSON.stringify(name)} is not 1 to 64 lower-case letters, digits or dashes`,
    );
  }
  return name;
}

/**
 * Decides a request for the run lease `name` at `now`: the lease to write when the caller gets
 * it (none held, the holder's ended, or the caller already holds it and renews), undefined when
 * another owner's lease still runs. Pure.
 */
export function decideRunLease(
  current: RunLease | undefined,
  request: { name: string; owner: string; leaseMs: number },
  now: string,
): RunLease | undefined {
  const name = validateRunLeaseName(request.name);
  const owner = validateOwner(request.owner);
  const duration = validateLeaseMs(request.leaseMs);
  if (
    current !== undefined &&
    current.owner !== owner &&
    Date.parse(current.until) > Date.parse(now)
  ) {
    return undefined;
  }
  return { name, owner, until: leaseEndOf(now, duration) };
}

/**
 * The decisions of the ledger as pure functions: request validation, the claim rules, the
 * transition table and sequence allocation. Every adapter (memory, SQLite, later DynamoDB) reads
 * what it needs, calls these, and writes the outcome atomically, so "exactly once" means the same
 * thing whatever the store.
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
} from '../names';
import type { DeclarationKey, Environment } from '../names';
import { LedgerRequestError, NameAlreadySentError, DuplicateSourceError } from './errors';
import { SequenceExhaustedError, StateConflictError } from './errors';
import { DECLARATION_STATES, STATE_STAGES } from './types';
import type {
  ClaimOptions,
  ClaimRequest,
  DeclarationRecord,
  DeclarationState,
  ListFilter,
  SentFile,
  SourceIdentity,
  StateStage,
  TransitionPatch,
} from './types';

/**
 * The state changes a set may go through. `uploading -> uploading` records progress (files,
 * hashes) without a change of meaning; nothing leaves `launched` or `failed` until the answer
 * states exist. Keyed by every state so a new state does not compile until it is placed here.
 */
export const ALLOWED_TRANSITIONS = {
  planned: ['uploading', 'failed'],
  uploading: ['uploading', 'launching', 'failed'],
  launching: ['launched'],
  launched: [],
  failed: [],
} as const satisfies Record<DeclarationState, readonly DeclarationState[]>;

/** Highest sequence the ledger allocates: five digits. */
export const MAX_SEQUENCE = 99_999;

const SEQUENCE_DIGITS = 5;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const SENDER = /^\d{6}$/;
const ROLES: ReadonlySet<string> = new Set(['FI', 'FS', 'GO']);
const STATES: ReadonlySet<string> = new Set(Object.values(DECLARATION_STATES));

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

// ---------------------------------------------------------------------------------------------
// Claim
// ---------------------------------------------------------------------------------------------

/** What an adapter must write for a claim. */
export type ClaimDecision =
  /** Save `record` (attempt and updatedAt bumped) over the live record of the same source. */
  | { kind: 'resume'; record: DeclarationRecord }
  /**
   * Insert `record`; when `supersede` is set, first save it (marked superseded) over the
   * current record of the same key, in the same atomic write.
   */
  | { kind: 'insert'; record: DeclarationRecord; supersede?: DeclarationRecord };

/** What an adapter reads before deciding a claim. */
export interface ClaimInput {
  request: ClaimRequest;
  options?: ClaimOptions;
  /** Now, as an ISO string. */
  now: string;
  /** Every record of the request's source, superseded ones included, oldest first. */
  sourceRecords: readonly DeclarationRecord[];
  /** The current (not superseded) record holding the request's key, if any. */
  keyRecord: DeclarationRecord | undefined;
}

/**
 * Decides a claim by the rules, in order:
 * 1. a live record (planned, uploading) of the same source is resumed, whatever key was asked;
 * 2. a committed record (GO may be out) of the same source refuses with DuplicateSourceError,
 *    unless resend;
 * 3. a current record holding the key refuses with NameAlreadySentError: always when it is live
 *    (two live uploads of one name would overwrite each other), otherwise unless resend;
 * 4. otherwise a new record, planned, attempt 1 (superseding the key's record after rule 3 let
 *    a resend through).
 * Throws LedgerRequestError for a malformed request. Pure: the adapter writes the outcome.
 */
export function decideClaim(input: ClaimInput): ClaimDecision {
  const { request, now, sourceRecords, keyRecord } = input;
  const resend = input.options?.resend === true;
  const { id, files } = validateClaimRequest(request);
  const ofSource = sourceRecords.filter((record) => sameSource(record.source, request.source));

  const live = ofSource.find((record) => stageOf(record.state) === 'live');
  if (live) {
    return {
      kind: 'resume',
      record: { ...live, attempt: live.attempt + 1, updatedAt: now },
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
 * Applies a transition to the current record: throws StateConflictError when the record is not
 * in one of the `expected` states or when a `from` state may not move to `to`, and
 * LedgerRequestError for a bad patch. Returns the record to write, conditional on its state
 * still being `current.state` (SQLite: same transaction; DynamoDB: a condition expression).
 */
export function applyTransition(
  current: DeclarationRecord,
  expected: readonly DeclarationState[],
  to: DeclarationState,
  patch: TransitionPatch | undefined,
  now: string,
): DeclarationRecord {
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
  if (!expected.includes(current.state)) {
    throw new StateConflictError({ id: current.id, expected, actual: current.state, to });
  }

  const next: DeclarationRecord = { ...current, state: to, updatedAt: now };
  const changes = patch ?? {};
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
  return next;
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

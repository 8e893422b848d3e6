/** Checks of a declaration set (key, source, files, claim request) and its list filter. */
import {
  DECLARATION_FIELD_COUNT,
  ENVIRONMENTS,
  MAX_PARTS,
  NameRuleError,
  formatDeclarationKey,
  parseAnsweredFileName,
} from '../../names';
import type { DeclarationKey } from '../../names';
import { LedgerRequestError } from '../errors';
import type {
  ClaimRequest,
  DeclarationRecord,
  DeclarationState,
  ListFilter,
  SentFile,
  SourceIdentity,
} from '../types';
import { isDeclarationState } from './states';
import { normalizeIso, normalizeSha256 } from './values';

// The ledger guards its own keys, so a malformed request is refused before it is written rather
// than stored and matched wrongly later.

const ROLES: ReadonlySet<string> = new Set(['FI', 'FS', 'GO']);

/** Whether two identities name the same source: same kind, id and version. */
export function sameSource(a: SourceIdentity, b: SourceIdentity): boolean {
  return a.kind === b.kind && a.id === b.id && (a.version ?? '') === (b.version ?? '');
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

/** The form of a channel name: lower case letters, digits and dashes, 1 to 32, a letter first. */
export const CHANNEL_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Checks a channel name (CHANNEL_NAME) and returns it; LedgerRequestError for anything else. The
 * name goes into run lease names, metric dimensions, store keys and response ids, so it is kept
 * to characters all of them take.
 */
export function validateChannelName(name: string): string {
  if (typeof name !== 'string' || !CHANNEL_NAME.test(name)) {
    throw new LedgerRequestError(
      `channel name ${JSON.stringify(name)} is not 1 to 32 lower-case letters, digits and ` +
        'dashes, starting with a letter',
    );
  }
  return name;
}

/**
 * Validates a claim request: key grammar, part count, the folder of the environment, the
 * source identity, the planned files, and the set key a resend links to (another set's).
 * Returns the set id and a normalized copy of the files.
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
  if (request.channel !== undefined) validateChannelName(request.channel);
  if (request.resendOf !== undefined) {
    validateDeclarationId(request.resendOf);
    if (request.resendOf === id) {
      throw new LedgerRequestError(`${id} cannot be a resend of itself: use a new sequence`);
    }
  }
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

/** Response sets: their ids, files, records and updates, and the response list filter. */
import { ENVIRONMENTS, NameRuleError, parseResponseName } from '../../names';
import type { Environment, ResponseName, ResponsePrefix } from '../../names';
import { LedgerRequestError, ResponseConflictError } from '../errors';
import type {
  NewResponse,
  ResponseFile,
  ResponseFileRole,
  ResponseKind,
  ResponseListFilter,
  ResponsePatch,
  ResponseRecord,
  ResponseSignatureStatus,
  ResponseState,
} from '../types';
import { validateChannelName, validateDeclarationId } from './declarations';
import { checkBoolean, checkObject, checkText, normalizeIso, normalizeSha256 } from './values';

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
 * The response set id a channel records a set under: `<channel>/<set id>`. Each channel is its
 * own account at the transfer point, which numbers its answers per account: two channels may
 * both get `ACRF.999999.20261125.00001.T` the same day, and must not take each other's for a
 * set already stored. Without a channel, the set id itself.
 */
export function qualifyResponseSetId(channel: string | undefined, setId: string): string {
  return channel === undefined ? setId : `${validateChannelName(channel)}/${setId}`;
}

/**
 * Splits a response set id into its channel (when qualified, see qualifyResponseSetId) and the
 * set id proper. Throws LedgerRequestError for a channel part that is not a channel name.
 */
export function splitResponseSetId(id: string): { channel?: string; setId: string } {
  const slash = id.indexOf('/');
  if (slash < 0) return { setId: id };
  return { channel: validateChannelName(id.slice(0, slash)), setId: id.slice(slash + 1) };
}

/**
 * Reads a response set id (`TYPE.SENDER.DATE.SEQ.ENV[.NPARTS]`, after a `<channel>/` when
 * qualified) with the grammar of response names, the one shared/names applies to the files
 * themselves, and returns its fields. Throws a LedgerRequestError (the NameRuleError kept as
 * cause) for anything else, a PART included: a set id names the whole set.
 */
export function parseResponseSetId(qualified: string): ResponseSetFields {
  if (typeof qualified !== 'string') {
    throw new LedgerRequestError(`response set id ${JSON.stringify(qualified)} is not a string`);
  }
  const id = splitResponseSetId(qualified).setId;
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
    if (formatResponseSetId(parsed) !== splitResponseSetId(id).setId) {
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

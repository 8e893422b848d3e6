/**
 * Names of the files the transfer point writes back (`FO|FS|GO|CO.TYPE.SENDER.DATE.SEQ.ENV`
 * with optional NPARTS and PART) and of the declarations its answers refer to. Only the
 * grammar is checked: these names are not ours to refuse, and an answer must be kept even
 * when it is late or of a type we do not know.
 */
import {
  KNOWN_RESPONSE_TYPES,
  MAX_PARTS,
  NAME_PROJECT_CODES,
  RESPONSE_PREFIXES,
} from './constants';
import {
  checkCodeField,
  checkDateField,
  checkEnvField,
  checkNpartsField,
  checkPartField,
  checkSenderField,
  checkSeqField,
  fieldViolation,
  splitName,
  structureViolation,
} from './field-checks';
import type { Violation } from './field-checks';
import { NameRuleError, RuleOptionsError } from './errors';
import type {
  DeclarationKey,
  DeclarationPrefix,
  Environment,
  NameCheck,
  ResponseName,
  ResponsePrefix,
} from './types';

/** Fields 1 to 6 always exist once the count is checked; NPARTS and PART may follow. */
type Fields = [string, string, string, string, string, string, ...string[]];

// Field counts allowed by prefix. Responses may come with 6, 7 or 8 fields; answers may name
// the legacy 6-field form (no NPARTS, no PART) of any declaration file.
const RESPONSE_FIELD_COUNTS: Readonly<Record<ResponsePrefix, readonly number[]>> = {
  FO: [6, 7, 8],
  FS: [6, 7, 8],
  GO: [6, 7, 8],
  CO: [6, 7, 8],
};
const ANSWERED_FIELD_COUNTS: Readonly<Record<DeclarationPrefix, readonly number[]>> = {
  FI: [8, 6],
  FS: [8, 6],
  GO: [7, 6],
  TD: [7, 6],
};

const KNOWN_TYPES: ReadonlySet<string> = new Set(KNOWN_RESPONSE_TYPES);

function orList(items: readonly (string | number)[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

// The fields from SENDER on have the same grammar in answers, in the names answers refer to
// and in our own names, so they share one check. No age, future or 00000 rule applies here.
function checkTail(fields: readonly string[]): Violation | undefined {
  const [, , sender = '', date = '', seq = '', env = '', nparts, part] = fields;
  return (
    checkSenderField(sender) ??
    checkDateField(date) ??
    checkSeqField(seq) ??
    checkEnvField(env) ??
    (nparts === undefined ? undefined : checkNpartsField(nparts, MAX_PARTS)) ??
    (part === undefined || nparts === undefined
      ? undefined
      : checkPartField(part, Number(nparts), null))
  );
}

/** Splits a name, then checks PREFIX and the number of fields, in that order. */
function split<P extends string>(
  name: string,
  counts: Readonly<Record<P, readonly number[]>>,
  kind: (prefix: P) => string,
): { prefix: P; fields: Fields } | { violation: Violation } {
  if (typeof name !== 'string') throw new RuleOptionsError('name', 'must be a string');
  const result = splitName(name);
  if ('violation' in result) return result;
  const { fields } = result;
  const prefix = fields[0] ?? '';
  const allowed: readonly number[] | undefined = Object.entries<readonly number[]>(counts).find(
    ([known]) => known === prefix,
  )?.[1];
  if (allowed === undefined) {
    const problem = `is not ${orList(Object.keys(counts))}`;
    return { violation: fieldViolation('prefix', prefix, problem, null) };
  }
  if (!allowed.includes(fields.length)) {
    const expected = `${kind(prefix as P)} has ${orList(allowed)}`;
    const problem = `has ${fields.length} dot-separated fields; ${expected}`;
    return { violation: structureViolation(problem) };
  }
  return { prefix: prefix as P, fields: fields as Fields };
}

function failure(name: string, violation: Violation, code: string): NameRuleError {
  return new NameRuleError({
    fileName: name,
    field: violation.field,
    rule: violation.rule,
    code,
    ...(violation.value === undefined ? {} : { value: violation.value }),
  });
}

function isResponsePrefix(value: string): value is ResponsePrefix {
  return (RESPONSE_PREFIXES as readonly string[]).includes(value);
}

function readResponse(name: string): NameCheck<ResponseName, NameRuleError> {
  const fail = (violation: Violation): { ok: false; error: NameRuleError } => ({
    ok: false,
    error: failure(name, violation, NAME_PROJECT_CODES.RESPONSE_NAME_MALFORMED),
  });
  const result = split(name, RESPONSE_FIELD_COUNTS, () => 'a response name');
  if ('violation' in result) return fail(result.violation);
  const { prefix, fields } = result;
  const [, type, sender, date, seq, env, nparts, part] = fields;
  const violation = checkCodeField('type', type, null) ?? checkTail(fields);
  if (violation) return fail(violation);

  const base = { prefix, type, sender, date, seq, env: env as Environment };
  const knownType = KNOWN_TYPES.has(type);
  if (nparts === undefined) return { ok: true, value: { ...base, knownType } };
  if (part === undefined) {
    return { ok: true, value: { ...base, nparts: Number(nparts), knownType } };
  }
  return { ok: true, value: { ...base, nparts: Number(nparts), part: Number(part), knownType } };
}

/**
 * Reads the name of a file found in an OUT folder, throwing a NameRuleError with code
 * RESPONSE_NAME_MALFORMED for the first broken rule. A TYPE that is 4 upper-case letters or
 * digits but not in KNOWN_RESPONSE_TYPES is accepted with `knownType` false: the file must
 * still be copied and kept. DATE is only checked to be a real day.
 */
export function parseResponseName(name: string): ResponseName {
  const result = readResponse(name);
  if (!result.ok) throw result.error;
  return result.value;
}

/**
 * Same as `parseResponseName` but returns the outcome instead of throwing, so that a listing
 * of an OUT folder can set aside the names it cannot read and go on with the others.
 */
export function checkResponseName(name: string): NameCheck<ResponseName, NameRuleError> {
  return readResponse(name);
}

/**
 * Writes the file name of a response, the inverse of `parseResponseName` (`knownType` is
 * ignored: it follows from the type). Every field is checked so that no value can carry a
 * dot or a path separator into the name; throws a NameRuleError otherwise.
 */
export function buildResponseName(value: Omit<ResponseName, 'knownType'>): string {
  // String() on every field: a JavaScript caller may hand in numbers or worse. Each field's
  // grammar excludes the dot, so no value can shift the others.
  const texts = [value.prefix, value.type, value.sender, value.date, value.seq, value.env]
    .concat(value.nparts === undefined ? [] : [String(value.nparts)])
    .concat(value.part === undefined ? [] : [String(value.part)])
    .map(String);
  const name = texts.join('.');
  const [prefix = '', type = ''] = texts;
  let violation: Violation | undefined;
  if (value.part !== undefined && value.nparts === undefined) {
    violation = structureViolation('has a PART without NPARTS');
  } else if (!isResponsePrefix(prefix)) {
    violation = fieldViolation('prefix', prefix, `is not ${orList(RESPONSE_PREFIXES)}`, null);
  } else {
    violation = checkCodeField('type', type, null) ?? checkTail(texts);
  }
  if (violation) throw failure(name, violation, NAME_PROJECT_CODES.RESPONSE_NAME_MALFORMED);
  return name;
}

/**
 * Reads the name an answer refers to (`FileReference/FileName` of an ACRF or a NOTIFICATION)
 * and returns its fields 2 to 6, the key the answer is matched on. Accepts 8-field FI and FS
 * names, 7-field GO and TD names, and the legacy 6-field form without parts
 * (`GO.AOAT.000001.20090728.30000.R`). Only the grammar is checked: an answer to an old
 * declaration or to an application missing from our list must still find its set. Throws a
 * NameRuleError with code ANSWERED_NAME_MALFORMED.
 */
export function parseAnsweredFileName(name: string): DeclarationKey {
  const code = NAME_PROJECT_CODES.ANSWERED_NAME_MALFORMED;
  const result = split(name, ANSWERED_FIELD_COUNTS, (prefix) => `an answered ${prefix} name`);
  if ('violation' in result) throw failure(name, result.violation, code);
  const { fields } = result;
  const [, app, sender, date, seq, env] = fields;
  const violation = checkCodeField('app', app, null) ?? checkTail(fields);
  if (violation) throw failure(name, violation, code);
  return { app, sender, date, seq, env: env as Environment };
}

/**
 * The grammar of the names we send (`FI|FS.APP.SENDER.DATE.SEQ.ENV.NPARTS.PART`,
 * `GO|TD.APP.SENDER.DATE.SEQ.ENV.NPARTS`) and the reception rules the transfer point applies
 * to them. Rules run in field order and the first broken one is reported, with the ACRF code
 * the reception would answer, so a name refused here would have been refused there.
 */
import { daysBetween, isRealDate, todayInBrussels } from './calendar';
import {
  DECLARATION_FIELD_COUNT,
  DECLARATION_PREFIXES,
  DEFAULT_MAX_AGE_DAYS,
  ENVIRONMENTS,
  KNOWN_APPLICATIONS,
  MALFORMED_NAME_ACRF,
  MAX_PARTS,
  NAME_PROJECT_CODES,
} from './constants';
import { acrfCode } from '../errors';
import { NameRuleError, RuleOptionsError, printableName } from './errors';
import type { NameField } from './errors';
import type {
  DeclarationKey,
  DeclarationName,
  DeclarationPrefix,
  Environment,
  NameCheck,
  NameRules,
  UploadFolder,
} from './types';

// ---------------------------------------------------------------------------------------------
// Field checks shared with response-name.ts. Each returns the broken rule or undefined; the
// code is attached by the caller because the same defect has different codes depending on
// the kind of name (a bad SENDER is 131 in an FI, 107 in a GO, a project code in a response).
// ---------------------------------------------------------------------------------------------

/**
 * A broken rule before it gets its code. `acrf` is the reception code when the rule has its
 * own, or null for "malformed name", whose code depends on the prefix. Internal to the folder.
 */
export interface Violation {
  field: NameField;
  value?: string;
  rule: string;
  acrf: number | null;
}

const FIELD_LABEL: Record<NameField, string> = {
  prefix: 'PREFIX',
  structure: 'the name',
  app: 'APP',
  sender: 'SENDER',
  date: 'DATE',
  seq: 'SEQ',
  env: 'ENV',
  nparts: 'NPARTS',
  part: 'PART',
  type: 'TYPE',
};

const CODE_FIELD = /^[A-Z0-9]{4}$/;
const SENDER_FIELD = /^\d{6}$/;
const DATE_FIELD = /^\d{8}$/;
const SEQ_CHARACTERS = /^[0-9A-Z]*$/;
const NAME_CHARACTER = /^[A-Z0-9.-]$/u;
const UPLOAD_FOLDERS: readonly UploadFolder[] = Object.values(ENVIRONMENTS).map(
  (environment) => environment.uploadFolder,
);

/** Builds the violation of `field` with a sentence naming the field and its value. */
export function fieldViolation(
  field: NameField,
  value: string,
  problem: string,
  acrf: number | null,
): Violation {
  return { field, value, rule: `${FIELD_LABEL[field]} "${printableName(value)}" ${problem}`, acrf };
}

/** Builds a violation about the name as a whole (characters, number of fields). */
export function structureViolation(problem: string): Violation {
  return { field: 'structure', rule: `the name ${problem}`, acrf: null };
}

/**
 * Checks the characters and the dot-separated layout common to every transfer point name and
 * returns its fields. Only A-Z, 0-9, dot and dash belong in a name: anything else (a path, a
 * space, a NUL) would be refused or, worse, change the meaning of a remote path. Lower-case
 * letters are left to the field checks, which refuse them with the field's own code.
 */
export function splitName(name: string): { fields: string[] } | { violation: Violation } {
  if (name.length === 0) return { violation: structureViolation('is empty') };
  for (const char of name) {
    // Lower-case letters pass here so that the field they stand in reports its own code
    // (367 for a sequence, 129 for an application...): the reception judges fields, not names.
    if (!NAME_CHARACTER.test(char) && !LOWER_CASE.test(char)) {
      return { violation: structureViolation(describe(char)) };
    }
  }
  const fields = name.split('.');
  if (fields.some((field) => field.length === 0)) {
    return {
      violation: structureViolation('has an empty field (two dots in a row, or a dot at an end)'),
    };
  }
  return { fields };
}

const LOWER_CASE = /^[a-z]$/;

function describe(char: string): string {
  if (char === '/' || char === '\\') {
    return 'has a path separator: give the bare file name, not a path';
  }
  if (char === ' ') return 'has a space';
  const point = char.codePointAt(0) ?? 0;
  if (point < 0x20 || point === 0x7f) {
    return `has a control character (${printableName(char)})`;
  }
  return `has the character "${printableName(char)}": only A-Z, 0-9, dot and dash are allowed`;
}

/** APP or TYPE: exactly 4 upper-case letters or digits. */
export function checkCodeField(
  field: 'app' | 'type',
  value: string,
  acrf: number | null,
): Violation | undefined {
  return CODE_FIELD.test(value)
    ? undefined
    : fieldViolation(field, value, 'is not 4 upper-case letters or digits', acrf);
}

/** SENDER: 6 digits; a bad one makes the whole name malformed. */
export function checkSenderField(value: string): Violation | undefined {
  return SENDER_FIELD.test(value)
    ? undefined
    : fieldViolation('sender', value, 'is not 6 digits', null);
}

/** DATE format only: 8 digits (109) naming a real day (110). */
export function checkDateField(value: string): Violation | undefined {
  if (!DATE_FIELD.test(value)) {
    return fieldViolation('date', value, 'is not 8 digits (YYYYMMDD)', 109);
  }
  if (!isRealDate(value)) {
    return fieldViolation('date', value, 'is not a real calendar date', 110);
  }
  return undefined;
}

/** SEQ format only: 5 characters (112) from 0-9 and A-Z (367). */
export function checkSeqField(value: string): Violation | undefined {
  if (value.length !== 5) return fieldViolation('seq', value, 'is not 5 characters long', 112);
  if (!SEQ_CHARACTERS.test(value)) {
    return fieldViolation('seq', value, 'has a character outside 0-9 and A-Z', 367);
  }
  return undefined;
}

/** ENV: one of R, T, S (117). */
export function checkEnvField(value: string): Violation | undefined {
  return isEnvironment(value) ? undefined : fieldViolation('env', value, 'is not R, T or S', 117);
}

/** NPARTS: one character (114), a digit (115), not 0 (116), at most `maxParts` (128). */
export function checkNpartsField(value: string, maxParts: number): Violation | undefined {
  if (value.length !== 1) return fieldViolation('nparts', value, 'is not one character', 114);
  if (!/^\d$/.test(value)) return fieldViolation('nparts', value, 'is not a digit', 115);
  if (value === '0') {
    return fieldViolation('nparts', value, 'is 0: a set has at least one part', 116);
  }
  if (Number(value) > maxParts) {
    return fieldViolation('nparts', value, `is above the maximum of ${maxParts} parts`, 128);
  }
  return undefined;
}

/** PART: a number from 1 to NPARTS written as one digit, so the name reads back the same. */
export function checkPartField(
  value: string,
  nparts: number,
  acrf: number | null,
): Violation | undefined {
  return /^[1-9]$/.test(value) && Number(value) <= nparts
    ? undefined
    : fieldViolation('part', value, `is not a number from 1 to ${nparts}`, acrf);
}

function isEnvironment(value: string): value is Environment {
  return Object.prototype.hasOwnProperty.call(ENVIRONMENTS, value);
}

function isDeclarationPrefix(value: string): value is DeclarationPrefix {
  return (DECLARATION_PREFIXES as readonly string[]).includes(value);
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

const RULE_KEYS: ReadonlySet<string> = new Set<keyof NameRules>([
  'today',
  'maxAgeDays',
  'extraApplications',
  'folder',
  'sender',
  'maxParts',
]);

/**
 * Merges `rules` over the defaults (today in Brussels, 90 days, no extra application, no
 * folder or sender check, 9 parts) and validates the result, throwing a RuleOptionsError
 * that says what to fix. Call it once at start-up to fail fast on a bad configuration; the
 * parse functions call it again, which is cheap. `today` defaults to the day of the call,
 * never of module load, so a long-running process does not keep yesterday.
 */
export function resolveNameRules(rules: Partial<NameRules> = {}): Readonly<NameRules> {
  if (typeof rules !== 'object' || rules === null) {
    throw new RuleOptionsError('rules', 'must be an object');
  }
  for (const key of Object.keys(rules)) {
    if (!RULE_KEYS.has(key)) throw new RuleOptionsError(`rules.${key}`, 'is not a known rule');
  }
  const today = rules.today ?? todayInBrussels();
  if (typeof today !== 'string' || !isRealDate(today)) {
    throw new RuleOptionsError('rules.today', 'must be a real date written YYYYMMDD');
  }
  const maxAgeDays = rules.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS;
  if (!Number.isSafeInteger(maxAgeDays) || maxAgeDays < 0) {
    throw new RuleOptionsError('rules.maxAgeDays', 'must be a whole number of days, 0 or more');
  }
  const extraApplications = rules.extraApplications ?? [];
  if (
    !Array.isArray(extraApplications) ||
    !extraApplications.every((app) => typeof app === 'string' && CODE_FIELD.test(app))
  ) {
    throw new RuleOptionsError(
      'rules.extraApplications',
      'must be a list of codes of 4 upper-case letters or digits',
    );
  }
  const { folder, sender } = rules;
  if (folder !== undefined && !UPLOAD_FOLDERS.includes(folder)) {
    throw new RuleOptionsError('rules.folder', `must be one of ${UPLOAD_FOLDERS.join(', ')}`);
  }
  if (sender !== undefined && (typeof sender !== 'string' || !SENDER_FIELD.test(sender))) {
    throw new RuleOptionsError('rules.sender', 'must be a sender number of 6 digits');
  }
  const maxParts = rules.maxParts ?? MAX_PARTS;
  if (!Number.isSafeInteger(maxParts) || maxParts < 1 || maxParts > MAX_PARTS) {
    throw new RuleOptionsError('rules.maxParts', `must be a whole number from 1 to ${MAX_PARTS}`);
  }
  return Object.freeze({
    today,
    maxAgeDays,
    extraApplications: Object.freeze([...extraApplications]),
    ...(folder === undefined ? {} : { folder }),
    ...(sender === undefined ? {} : { sender }),
    maxParts,
  });
}

/** The fields of a declaration name as text, before they are read as values. */
interface RawFields {
  app: string;
  sender: string;
  date: string;
  seq: string;
  env: string;
  nparts: string;
  part: string | undefined;
}

/** Resolved rules plus the application list they imply; absent when only the grammar counts. */
type Reception = Readonly<NameRules> & { applications: ReadonlySet<string> };

function checkFields(
  prefix: DeclarationPrefix,
  raw: RawFields,
  reception: Reception | undefined,
): Violation | undefined {
  const appFormat = checkCodeField('app', raw.app, 129);
  if (appFormat) return appFormat;
  if (reception && !reception.applications.has(raw.app)) {
    return fieldViolation('app', raw.app, 'is not a known application', 129);
  }

  const senderFormat = checkSenderField(raw.sender);
  if (senderFormat) return senderFormat;
  if (reception?.sender !== undefined && raw.sender !== reception.sender) {
    return fieldViolation('sender', raw.sender, 'is not the sender of this channel', 108);
  }

  const dateFormat = checkDateField(raw.date);
  if (dateFormat) return dateFormat;
  if (reception) {
    const age = daysBetween(raw.date, reception.today);
    if (age < 0) {
      return fieldViolation('date', raw.date, 'is in the future (after today in Brussels)', 111);
    }
    if (age > reception.maxAgeDays) {
      const limit = `is more than ${reception.maxAgeDays} days before today`;
      return fieldViolation('date', raw.date, limit, 126);
    }
  }

  const seqFormat = checkSeqField(raw.seq);
  if (seqFormat) return seqFormat;
  if (raw.seq === '00000') {
    return fieldViolation('seq', raw.seq, 'is not allowed: sequences start at 00001', 127);
  }

  const envFormat = checkEnvField(raw.env);
  if (envFormat) return envFormat;
  if (reception?.folder !== undefined && isEnvironment(raw.env)) {
    const expected = ENVIRONMENTS[raw.env];
    if (reception.folder !== expected.uploadFolder) {
      const problem =
        `does not match folder ${reception.folder}: ` +
        `${expected.label} files go to ${expected.uploadFolder}`;
      return fieldViolation('env', raw.env, problem, expected.wrongFolderAcrf);
    }
  }

  const npartsFormat = checkNpartsField(raw.nparts, reception?.maxParts ?? MAX_PARTS);
  if (npartsFormat) return npartsFormat;

  if (prefix === 'FI' || prefix === 'FS') {
    return checkPartField(raw.part ?? '', Number(raw.nparts), prefix === 'FI' ? 123 : 124);
  }
  if (raw.part !== undefined) {
    return fieldViolation('part', raw.part, `must be absent from a ${prefix} name`, null);
  }
  return undefined;
}

function codeFor(violation: Violation, prefix: string | undefined): string {
  if (violation.acrf !== null) return acrfCode(violation.acrf);
  const malformed = Object.entries(MALFORMED_NAME_ACRF).find(([known]) => known === prefix);
  return malformed ? acrfCode(malformed[1]) : NAME_PROJECT_CODES.NAME_MALFORMED;
}

function toError(fileName: string, violation: Violation, prefix: string | undefined) {
  return new NameRuleError({
    fileName,
    field: violation.field,
    rule: violation.rule,
    code: codeFor(violation, prefix),
    ...(violation.value === undefined ? {} : { value: violation.value }),
  });
}

function withArticle(prefix: DeclarationPrefix): string {
  return prefix === 'FI' || prefix === 'FS' ? `an ${prefix}` : `a ${prefix}`;
}

function read(name: string, reception: Reception): NameCheck<DeclarationName, NameRuleError> {
  if (typeof name !== 'string') throw new RuleOptionsError('name', 'must be a string');
  // The malformed-name code depends on the prefix even when the rest cannot be read.
  const prefixText = name.split('.', 1)[0];
  const fail = (violation: Violation): { ok: false; error: NameRuleError } => ({
    ok: false,
    error: toError(name, violation, prefixText),
  });

  const split = splitName(name);
  if ('violation' in split) return fail(split.violation);
  const prefix = split.fields[0] ?? '';
  if (!isDeclarationPrefix(prefix)) {
    const problem = isDeclarationPrefix(prefix.toUpperCase())
      ? 'is in lower case: transfer point names are upper case'
      : 'is not FI, FS, GO or TD';
    return fail(fieldViolation('prefix', prefix, problem, null));
  }
  const expected = DECLARATION_FIELD_COUNT[prefix];
  if (split.fields.length !== expected) {
    const problem =
      `has ${split.fields.length} dot-separated fields; ` +
      `${withArticle(prefix)} name has ${expected}`;
    return fail(structureViolation(problem));
  }
  // The count is checked: fields 1 to 6 exist, and the 7th (PART) exactly for FI and FS.
  const [, app, sender, date, seq, env, nparts, part] = split.fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  const violation = checkFields(prefix, { app, sender, date, seq, env, nparts, part }, reception);
  if (violation) return fail(violation);

  const key = { app, sender, date, seq, env: env as Environment };
  const value: DeclarationName =
    prefix === 'FI' || prefix === 'FS'
      ? { prefix, ...key, nparts: Number(nparts), part: Number(part) }
      : { prefix, ...key, nparts: Number(nparts) };
  return { ok: true, value };
}

function receptionOf(rules: Partial<NameRules> | undefined): Reception {
  const resolved = resolveNameRules(rules);
  const applications = new Set<string>([...KNOWN_APPLICATIONS, ...resolved.extraApplications]);
  return { ...resolved, applications };
}

/**
 * Reads a declaration file name and applies the reception rules, throwing a NameRuleError
 * for the first broken rule in field order (PREFIX and layout, APP, SENDER, DATE, SEQ, ENV,
 * NPARTS, PART). `rules` is merged over the defaults (see `resolveNameRules`); invalid rules
 * throw a RuleOptionsError.
 */
export function parseDeclarationName(name: string, rules?: Partial<NameRules>): DeclarationName {
  const result = read(name, receptionOf(rules));
  if (!result.ok) throw result.error;
  return result.value;
}

/**
 * Same as `parseDeclarationName` but returns the outcome instead of throwing, for callers
 * that check many names and report them all. Only invalid `rules` (a caller bug) throw.
 */
export function checkDeclarationName(
  name: string,
  rules?: Partial<NameRules>,
): NameCheck<DeclarationName, NameRuleError> {
  return read(name, receptionOf(rules));
}

/**
 * Writes the file name of `value`, the inverse of `parseDeclarationName`. It checks the
 * grammar of every field (so no field can smuggle a dot or a slash into the name) but not the
 * reception rules that depend on the day or the channel (date age, known applications,
 * sender, folder): those belong to the moment a name is checked for sending.
 */
export function buildDeclarationName(value: DeclarationName): string {
  const withPart = value.prefix === 'FI' || value.prefix === 'FS' || value.part !== undefined;
  // String() on every field: a JavaScript caller may hand in numbers or worse.
  const raw: RawFields = {
    app: String(value.app),
    sender: String(value.sender),
    date: String(value.date),
    seq: String(value.seq),
    env: String(value.env),
    nparts: String(value.nparts),
    part: withPart ? String(value.part) : undefined,
  };
  const prefix = String(value.prefix);
  const { app, sender, date, seq, env, nparts, part } = raw;
  const name = [prefix, app, sender, date, seq, env, nparts, ...(withPart ? [part] : [])].join('.');
  if (!isDeclarationPrefix(prefix)) {
    const violation = fieldViolation('prefix', prefix, 'is not FI, FS, GO or TD', null);
    throw toError(name, violation, prefix);
  }
  const violation = checkFields(prefix, raw, undefined);
  if (violation) throw toError(name, violation, prefix);
  return name;
}

/** Fields 2 to 6 (APP to ENV) of a declaration name: what an answer is matched on. */
export function declarationKeyOf(value: DeclarationKey): DeclarationKey {
  return { app: value.app, sender: value.sender, date: value.date, seq: value.seq, env: value.env };
}

/**
 * A declaration key as text, `APP.SENDER.DATE.SEQ.ENV`, for use as a map key when matching
 * answers to the sets we sent.
 */
export function formatDeclarationKey(key: DeclarationKey): string {
  return [key.app, key.sender, key.date, key.seq, key.env].join('.');
}

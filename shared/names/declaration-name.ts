/**
 * The grammar of the names we send (`FI|FS.APP.SENDER.DATE.SEQ.ENV.NPARTS.PART`,
 * `GO|TD.APP.SENDER.DATE.SEQ.ENV.NPARTS`) and the reception rules the transfer point applies
 * to them. Rules run in field order and the first broken one is reported, with the ACRF code
 * the reception would answer, so a name refused here would have been refused there.
 */
import { daysBetween } from './calendar';
import {
  DECLARATION_FIELD_COUNT,
  ENVIRONMENTS,
  KNOWN_APPLICATIONS,
  MALFORMED_NAME_ACRF,
  MAX_PARTS,
  NAME_PROJECT_CODES,
} from './constants';
import { acrfCode } from '../errors';
import { NameRuleError, RuleOptionsError } from './errors';
import {
  checkCodeField,
  checkDateField,
  checkEnvField,
  checkNpartsField,
  checkPartField,
  checkSenderField,
  checkSeqField,
  fieldViolation,
  isDeclarationPrefix,
  isEnvironment,
  splitName,
  structureViolation,
} from './field-checks';
import type { Violation } from './field-checks';
import { resolveNameRules } from './name-rules';
import type {
  DeclarationKey,
  DeclarationName,
  DeclarationPrefix,
  Environment,
  NameCheck,
  NameRules,
} from './types';

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

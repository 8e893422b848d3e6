/**
 * Field checks shared by the declaration and response name parsers. Each returns the broken
 * rule or undefined; the code is attached by the caller because the same defect has different
 * codes depending on the kind of name (a bad SENDER is 131 in an FI, 107 in a GO, a project code
 * in a response). Internal to the folder.
 */
import { isRealDate } from './calendar';
import { DECLARATION_PREFIXES, ENVIRONMENTS } from './constants';
import { printableName } from './errors';
import type { NameField } from './errors';
import type { DeclarationPrefix, Environment } from './types';

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

/** APP or TYPE: 4 upper-case letters or digits (also checks `rules.extraApplications`). */
export const CODE_FIELD = /^[A-Z0-9]{4}$/;
/** SENDER: 6 digits (also checks `rules.sender`). */
export const SENDER_FIELD = /^\d{6}$/;
const DATE_FIELD = /^\d{8}$/;
const SEQ_CHARACTERS = /^[0-9A-Z]*$/;
const NAME_CHARACTER = /^[A-Z0-9.-]$/u;

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

/** Whether `value` is an ENV field: R, T or S. */
export function isEnvironment(value: string): value is Environment {
  return Object.prototype.hasOwnProperty.call(ENVIRONMENTS, value);
}

/** Whether `value` is the prefix of a file we send: FI, FS, GO or TD. */
export function isDeclarationPrefix(value: string): value is DeclarationPrefix {
  return (DECLARATION_PREFIXES as readonly string[]).includes(value);
}

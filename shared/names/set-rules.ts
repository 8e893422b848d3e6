/**
 * Rules on a declaration as a whole: the FI, FS and GO files of one set, the size of each
 * file, and which environments take a signature. The transfer point refuses the whole set
 * for any of these, after the upload; checking before saves a round trip and a ticket.
 */
import { MAX_FILE_BYTES, NAME_PROJECT_CODES } from './constants';
import { buildDeclarationName, checkDeclarationName } from './declaration-name';
import { resolveNameRules } from './name-rules';
import { FileRuleError, RuleOptionsError, SetRuleError } from './errors';
import type { NameRuleError } from './errors';
import type { DeclarationName, Environment, NameRules } from './types';
import { acrfCode } from '../errors';

/** Options of `checkDeclarationSet`. */
export interface DeclarationSetOptions {
  /** Whether each FI part needs its FS (see `signatureRequired`); no FS is allowed otherwise. */
  signatureRequired: boolean;
  /** Whether the GO file must be in the set; default false, since GO is uploaded last. */
  requireGo?: boolean;
  /** Name rules applied to each name, merged over the defaults (see `resolveNameRules`). */
  rules?: Partial<NameRules>;
}

interface Parsed {
  name: string;
  value: DeclarationName;
}

/** Fields 2 to 7 (APP to NPARTS): the files of one set share them. */
function setKeyOf(value: DeclarationName): string {
  return [value.app, value.sender, value.date, value.seq, value.env, value.nparts].join('.');
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * Checks the part files of one set and returns their numbering problems: the count (120 or
 * 122) when parts are missing or extra, and the numbering (123 or 124) when a part number is
 * there twice. Each name is already known to carry a part from 1 to NPARTS.
 */
function checkParts(
  set: string,
  files: readonly Parsed[],
  nparts: number,
  kind: 'FI' | 'FS',
): SetRuleError[] {
  const errors: SetRuleError[] = [];
  const [countCode, numberingCode] = kind === 'FI' ? [120, 123] : [122, 124];
  const byPart = new Map<number, Parsed[]>();
  for (const file of files) {
    const part = file.value.part ?? 0;
    byPart.set(part, [...(byPart.get(part) ?? []), file]);
  }
  if (files.length !== nparts) {
    const missing = Array.from({ length: nparts }, (_, i) => i + 1).filter((n) => !byPart.has(n));
    const detail = missing.length === 0 ? '' : `; missing part ${missing.join(', ')}`;
    errors.push(
      new SetRuleError({
        set,
        names: files.map((file) => file.name),
        rule: `has ${plural(files.length, `${kind} file`)} for NPARTS ${nparts}${detail}`,
        code: acrfCode(countCode),
      }),
    );
  }
  for (const [part, same] of byPart) {
    if (same.length > 1) {
      errors.push(
        new SetRuleError({
          set,
          names: same.map((file) => file.name),
          rule: `has ${kind} part ${part} ${same.length} times`,
          code: acrfCode(numberingCode),
        }),
      );
    }
  }
  return errors;
}

/**
 * Checks the file names of one declaration set before it is uploaded and returns every
 * violation found (an empty array when the set is fine): a NameRuleError for each name that
 * breaks a name rule, SET_MIXED for a name of another set or a TD (a cancel file never
 * travels with a declaration), then the FI count (120) and numbering (123), the FS count
 * (122) and numbering (124) when signatures are required or any FS when they are not (121),
 * and the GO (130) when `requireGo`. With names from several sets the counts would be noise,
 * so only the name and SET_MIXED errors are returned. Invalid options throw a
 * RuleOptionsError.
 */
export function checkDeclarationSet(
  names: readonly string[],
  options: DeclarationSetOptions,
): Array<NameRuleError | SetRuleError> {
  if (!Array.isArray(names)) throw new RuleOptionsError('names', 'must be a list of file names');
  if (typeof options?.signatureRequired !== 'boolean') {
    throw new RuleOptionsError('options.signatureRequired', 'must be true or false');
  }
  if (options.requireGo !== undefined && typeof options.requireGo !== 'boolean') {
    throw new RuleOptionsError('options.requireGo', 'must be true or false');
  }
  // Resolved once so that every name is judged against the same "today".
  const rules = resolveNameRules(options.rules);
  if (names.length === 0) {
    const rule = 'has no file names';
    return [
      new SetRuleError({ set: '(empty)', names: [], rule, code: NAME_PROJECT_CODES.SET_EMPTY }),
    ];
  }

  const errors: Array<NameRuleError | SetRuleError> = [];
  const parsed: Parsed[] = [];
  for (const name of names) {
    const result = checkDeclarationName(name, rules);
    if (result.ok) parsed.push({ name, value: result.value });
    else errors.push(result.error);
  }
  const first = parsed[0];
  if (first === undefined) return errors;

  const set = setKeyOf(first.value);
  let mixed = false;
  for (const { name, value } of parsed) {
    let rule: string | undefined;
    if (value.prefix === 'TD') rule = `holds ${name}: a TD cancels a set and is sent alone`;
    else if (setKeyOf(value) !== set) {
      rule = `holds ${name}, whose fields 2 to 7 (APP to NPARTS) differ from ${first.name}`;
    }
    if (rule !== undefined) {
      mixed = true;
      errors.push(
        new SetRuleError({ set, names: [name], rule, code: NAME_PROJECT_CODES.SET_MIXED }),
      );
    }
  }
  if (mixed) return errors;

  const nparts = first.value.nparts;
  const ofPrefix = (prefix: DeclarationName['prefix']) =>
    parsed.filter((file) => file.value.prefix === prefix);
  errors.push(...checkParts(set, ofPrefix('FI'), nparts, 'FI'));
  const signatures = ofPrefix('FS');
  if (options.signatureRequired) {
    errors.push(...checkParts(set, signatures, nparts, 'FS'));
  } else if (signatures.length > 0) {
    errors.push(
      new SetRuleError({
        set,
        names: signatures.map((file) => file.name),
        rule: `has ${plural(signatures.length, 'FS file')} but this environment takes no signature`,
        code: acrfCode(121),
      }),
    );
  }
  if (options.requireGo === true && ofPrefix('GO').length === 0) {
    const { app, sender, date, seq, env } = first.value;
    const go = buildDeclarationName({ prefix: 'GO', app, sender, date, seq, env, nparts });
    errors.push(
      new SetRuleError({ set, names: [go], rule: `has no GO file (${go})`, code: acrfCode(130) }),
    );
  }
  return errors;
}

/**
 * Throws a FileRuleError when a file of `size` bytes would be refused: 0 bytes is "no data"
 * (134), more than `maxBytes` is over the size limit (184). `maxBytes` may be lowered (to cut
 * smaller parts) but never raised above the transfer point's 200,000,000 bytes; a bad size or
 * limit throws a RuleOptionsError. `fileName`, when given, names the file in the message.
 */
export function checkFileSize(
  size: number,
  maxBytes: number = MAX_FILE_BYTES,
  fileName?: string,
): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RuleOptionsError('size', 'must be a whole number of bytes, 0 or more');
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > MAX_FILE_BYTES) {
    throw new RuleOptionsError('maxBytes', `must be a whole number from 1 to ${MAX_FILE_BYTES}`);
  }
  const named = fileName === undefined ? {} : { fileName };
  if (size === 0) {
    throw new FileRuleError({
      size,
      maxBytes,
      ...named,
      rule: 'has no data (0 bytes)',
      code: acrfCode(134),
    });
  }
  if (size > maxBytes) {
    const rule = `is ${size} bytes, over the limit of ${maxBytes} bytes`;
    throw new FileRuleError({ size, maxBytes, ...named, rule, code: acrfCode(184) });
  }
}

/**
 * Whether a declaration for `env` must carry an FS for each FI part. Production (R) always
 * does. For T and S the sources disagree, and an FS where none is wanted is itself refused
 * (121), so each follows its setting with the FAQ's "no signature" as default.
 */
export function signatureRequired(
  env: Environment,
  settings: { T?: boolean; S?: boolean } = {},
): boolean {
  for (const key of ['T', 'S'] as const) {
    const setting = settings[key];
    if (setting !== undefined && typeof setting !== 'boolean') {
      throw new RuleOptionsError(`settings.${key}`, 'must be true or false');
    }
  }
  switch (env) {
    case 'R':
      return true;
    case 'T':
      return settings.T ?? false;
    case 'S':
      return settings.S ?? false;
    default:
      throw new RuleOptionsError('env', 'must be R, T or S');
  }
}

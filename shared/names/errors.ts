/**
 * Failures of the name, set and size rules. Each carries the transfer point's ACRF code when
 * one exists, so a problem found here reads exactly like the rejection it prevents.
 */
import { OnssTransferError } from '../errors';
import { NAME_PROJECT_CODES } from './constants';

/** The part of a name a rule is about; `structure` is the name as a whole. */
export type NameField =
  'prefix' | 'structure' | 'app' | 'sender' | 'date' | 'seq' | 'env' | 'nparts' | 'part' | 'type';

// Names come from directory listings and answers: a hostile or broken one may hold control
// characters, terminal escapes or megabytes of text. Messages show it escaped and cut.
const MAX_SHOWN = 120;

/**
 * A name as it may appear in a message or log line: printable ASCII kept, everything else
 * escaped as `\u{...}`, and anything past 120 characters cut with an ellipsis.
 */
export function printableName(value: string): string {
  let out = '';
  let count = 0;
  for (const char of value) {
    if (count === MAX_SHOWN) return `${out}...`;
    const point = char.codePointAt(0) ?? 0;
    out +=
      point >= 0x20 && point <= 0x7e && char !== '\\' && char !== '"'
        ? char
        : `\\u{${point.toString(16)}}`;
    count += 1;
  }
  return out;
}

/**
 * A file name broken against one rule of the name grammar or of the reception. The message
 * is one sentence naming the field, its value and what is wrong, e.g.
 * `FI.DMFA.101380.20100932.00001.T.1.1: DATE "20100932" is not a real calendar date
 * (ACRF-110)`, and holds nothing but the name itself. The checked name is kept in
 * `fileName`: `name` stays the class name, as for every error of the project.
 */
export class NameRuleError extends OnssTransferError {
  /** The file name checked, exactly as given. */
  readonly fileName: string;
  /** The field the broken rule is about. */
  readonly field: NameField;
  /** The value of that field, when the name could be cut into fields. */
  readonly value: string | undefined;
  /** The broken rule as a short sentence, without the name or the code. */
  readonly rule: string;

  constructor(args: {
    fileName: string;
    field: NameField;
    value?: string;
    rule: string;
    code: string;
    cause?: unknown;
  }) {
    super(`${printableName(args.fileName)}: ${args.rule} (${args.code})`, {
      code: args.code,
      cause: args.cause,
    });
    this.fileName = args.fileName;
    this.field = args.field;
    this.value = args.value;
    this.rule = args.rule;
  }
}

/**
 * A set of declaration files that would be refused as a whole: wrong FI or FS count (120,
 * 122), an FS where none is wanted (121), wrong numbering (123, 124), no GO (130), or names
 * from different sets (SET_MIXED). `names` lists the files concerned.
 */
export class SetRuleError extends OnssTransferError {
  /** The set, as fields 2 to 7 of its names (`DMFA.101380.20100920.00001.T.2`). */
  readonly set: string;
  /** The file names the rule is about (may be empty when a file is missing). */
  readonly names: readonly string[];
  /** The broken rule as a short sentence, without the set or the code. */
  readonly rule: string;

  constructor(args: {
    set: string;
    names: readonly string[];
    rule: string;
    code: string;
    cause?: unknown;
  }) {
    super(`set ${printableName(args.set)}: ${args.rule} (${args.code})`, {
      code: args.code,
      cause: args.cause,
    });
    this.set = args.set;
    this.names = [...args.names];
    this.rule = args.rule;
  }
}

/** A file the reception would refuse for its size: no data (134) or over the limit (184). */
export class FileRuleError extends OnssTransferError {
  /** The size checked, in bytes. */
  readonly size: number;
  /** The limit it was checked against, in bytes. */
  readonly maxBytes: number;
  /** The file name, when the caller gave one. */
  readonly fileName: string | undefined;

  constructor(args: {
    size: number;
    maxBytes: number;
    fileName?: string;
    rule: string;
    code: string;
  }) {
    const subject = args.fileName === undefined ? 'file' : printableName(args.fileName);
    super(`${subject}: ${args.rule} (${args.code})`, { code: args.code });
    this.size = args.size;
    this.maxBytes = args.maxBytes;
    this.fileName = args.fileName;
  }
}

/**
 * An option or argument of a rule check that cannot be used (a `today` that is not a date, a
 * size limit above 200,000,000...). It signals a caller bug or a bad configuration, never a
 * bad file, so the check functions that "never throw for a bad name" still throw it.
 */
export class RuleOptionsError extends OnssTransferError {
  /** The option or argument at fault. */
  readonly option: string;

  constructor(option: string, problem: string) {
    super(`${option}: ${problem}`, { code: NAME_PROJECT_CODES.RULE_OPTIONS_INVALID });
    this.option = option;
  }
}

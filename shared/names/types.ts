/**
 * The values behind transfer point file names. Strings stay strings where the name carries
 * leading zeros (sender, date, sequence) so that building a name gives back the exact text.
 */

/** Environment letter of a name: R production, T circuit test, S declaration test. */
export type Environment = 'R' | 'T' | 'S';

/** Folder a declaration is uploaded to; each environment has exactly one. */
export type UploadFolder = 'IN' | 'INTEST' | 'INTEST-S';

/** Folder the transfer point writes the answers of an environment to. */
export type ResponseFolder = 'OUT' | 'OUTTEST' | 'OUTTEST-S';

/** Prefix of a file we send: FI data, FS signature, GO launch, TD cancel. */
export type DeclarationPrefix = 'FI' | 'FS' | 'GO' | 'TD';

/** Prefix of a file the transfer point sends back: FO data, FS signature, GO ready, CO zipped. */
export type ResponsePrefix = 'FO' | 'FS' | 'GO' | 'CO';

/**
 * Fields 2 to 6 of a declaration name (APP to ENV). An answer names the file it answers,
 * sometimes the GO and sometimes an FI, so answers are matched on this key and never on the
 * whole name.
 */
export interface DeclarationKey {
  /** Application code, 4 upper-case letters or digits (e.g. `DMFA`). */
  app: string;
  /** Sender number, 6 digits. */
  sender: string;
  /** Creation date, `YYYYMMDD`. */
  date: string;
  /** Sequence, 5 characters from 0-9 and A-Z. */
  seq: string;
  /** Environment letter. */
  env: Environment;
}

/** Fields shared by every declaration name: the key plus the number of parts. */
interface DeclarationNameBase extends DeclarationKey {
  /** Number of FI parts in the set, 1 to 9. */
  nparts: number;
}

/**
 * A parsed declaration file name. FI and FS names carry the part number (8 fields); GO and TD
 * names stand for the whole set and have none (7 fields), which the union makes impossible to
 * get wrong at compile time.
 */
export type DeclarationName =
  | (DeclarationNameBase & {
      /** FI data part or its FS signature. */
      prefix: 'FI' | 'FS';
      /** Part number, 1 to `nparts`. */
      part: number;
    })
  | (DeclarationNameBase & {
      /** GO launch or TD cancel file for the whole set. */
      prefix: 'GO' | 'TD';
      part?: undefined;
    });

/** The optional trailing fields of a response name: 6, 7 or 8 fields in all. */
export type ResponseParts =
  | { nparts?: undefined; part?: undefined }
  | { nparts: number; part?: undefined }
  | { nparts: number; part: number };

/**
 * A parsed response file name, `PREFIX.TYPE.SENDER.DATE.SEQ.ENV[.NPARTS[.PART]]`. Unknown
 * types are kept (`knownType` false) because every answer must be copied and kept even when
 * this product cannot read it.
 */
export type ResponseName = {
  /** FO data, FS signature, GO ready marker, CO zipped data. */
  prefix: ResponsePrefix;
  /** Response type, 4 upper-case letters or digits (e.g. `ACRF`, `NOTI`). */
  type: string;
  /** Sender number of the author (999999 for the transfer point itself). */
  sender: string;
  /** Creation date, `YYYYMMDD`. */
  date: string;
  /** Sequence, 5 characters from 0-9 and A-Z. */
  seq: string;
  /** Environment letter. */
  env: Environment;
  /** Whether `type` is in KNOWN_RESPONSE_TYPES. */
  knownType: boolean;
} & ResponseParts;

/**
 * Reception rules applied when parsing a declaration name. Callers pass a `Partial` that is
 * merged over the defaults and validated; see `resolveNameRules`.
 */
export interface NameRules {
  /** Reference day `YYYYMMDD` for the future and too-old checks; default: today in Brussels. */
  today: string;
  /** A DATE more than this many days before `today` is too old (126); default 90. */
  maxAgeDays: number;
  /** Application codes accepted on top of KNOWN_APPLICATIONS; default none. */
  extraApplications: readonly string[];
  /** Upload folder the name is meant for; when set, ENV must match it (118, 119, 257). */
  folder?: UploadFolder;
  /** Sender number of the channel; when set, SENDER must equal it (108). */
  sender?: string;
  /** Highest NPARTS accepted (128); default 9, never above 9. */
  maxParts: number;
}

/** Outcome of a check that never throws for a bad name. */
export type NameCheck<T, E> = { ok: true; value: T } | { ok: false; error: E };

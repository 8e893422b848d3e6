/**
 * Facts about transfer point names, folders and limits, taken from the public documentation
 * (see shared/TRANSFER-POINT.md). Kept as `as const` data so that rules and messages read the
 * same source.
 */
import type {
  DeclarationPrefix,
  Environment,
  ResponseFolder,
  ResponsePrefix,
  UploadFolder,
} from './types';

/**
 * Application codes (field APP) the transfer point accepts: the official list plus the newer
 * FLEX and ATDO. The list grows over time, so parsing takes `extraApplications` on top of it.
 */
export const KNOWN_APPLICATIONS = [
  'AOAT',
  'DIMN',
  'DMFA',
  'DMRQ',
  'DMWA',
  'DUCN',
  'PFRQ',
  'TWCT',
  'VBLV',
  'WECH',
  'ZIMA',
  'FLEX',
  'ATDO',
] as const;

/** One of the application codes of KNOWN_APPLICATIONS. */
export type KnownApplication = (typeof KNOWN_APPLICATIONS)[number];

/**
 * Response types (field TYPE of an answer) the documentation names. Unknown types are still
 * accepted by the response parser: an answer we cannot read must be kept, not dropped.
 */
export const KNOWN_RESPONSE_TYPES = [
  'ACRF',
  'AOAT',
  'BEWA',
  'BEWL',
  'CDHG',
  'DDTN',
  'DEFI',
  'DIMN',
  'DMDB',
  'DMNO',
  'DMFA',
  'DMPI',
  'DMRQ',
  'DMWA',
  'ECAN',
  'ECOA',
  'ECOR',
  'ECRQ',
  'FINO',
  'FISI',
  'IDFL',
  'LIRE',
  'LOIC',
  'NOTI',
  'PFAN',
  'PFRQ',
  'PROA',
  'PUBL',
  'REAN',
  'RECO',
  'SIGN',
  'TWCT',
  'VBLV',
  'WECH',
  'ZIMA',
] as const;

/** One of the response types of KNOWN_RESPONSE_TYPES. */
export type KnownResponseType = (typeof KNOWN_RESPONSE_TYPES)[number];

/**
 * Folders of each environment, and the reception code for a file of that environment found
 * in another upload folder (an R file outside IN is 118, T outside INTEST 119, S outside
 * INTEST-S 257).
 */
export const ENVIRONMENTS = {
  R: { label: 'production', uploadFolder: 'IN', responseFolder: 'OUT', wrongFolderAcrf: 118 },
  T: {
    label: 'circuit test',
    uploadFolder: 'INTEST',
    responseFolder: 'OUTTEST',
    wrongFolderAcrf: 119,
  },
  S: {
    label: 'declaration test',
    uploadFolder: 'INTEST-S',
    responseFolder: 'OUTTEST-S',
    wrongFolderAcrf: 257,
  },
} as const satisfies Record<
  Environment,
  {
    label: string;
    uploadFolder: UploadFolder;
    responseFolder: ResponseFolder;
    wrongFolderAcrf: number;
  }
>;

/** Prefixes of the files we send, in the order a set is uploaded (TD only to cancel). */
export const DECLARATION_PREFIXES = [
  'FI',
  'FS',
  'GO',
  'TD',
] as const satisfies readonly DeclarationPrefix[];

/** Prefixes of the files the transfer point writes in the OUT folders. */
export const RESPONSE_PREFIXES = [
  'FO',
  'FS',
  'GO',
  'CO',
] as const satisfies readonly ResponsePrefix[];

/** Number of dot-separated fields of a declaration name: FI and FS carry the part number. */
export const DECLARATION_FIELD_COUNT = {
  FI: 8,
  FS: 8,
  GO: 7,
  TD: 7,
} as const satisfies Record<DeclarationPrefix, number>;

/**
 * Reception code for a malformed name, by prefix (131 FI, 132 FS, 107 GO). TD has no published
 * code, hence its absence: such names get the project code NAME_MALFORMED.
 */
export const MALFORMED_NAME_ACRF = { FI: 131, FS: 132, GO: 107 } as const satisfies Partial<
  Record<DeclarationPrefix, number>
>;

/**
 * Stable project codes for the failures the transfer point has no ACRF code for. Their values
 * are part of the contract (logs, CLI exit reports): never rename one.
 */
export const NAME_PROJECT_CODES = {
  /** A declaration name that cannot be read (unknown prefix, TD, or no ACRF code). */
  NAME_MALFORMED: 'NAME_MALFORMED',
  /** A response name that cannot be read. */
  RESPONSE_NAME_MALFORMED: 'RESPONSE_NAME_MALFORMED',
  /** The file name an answer refers to cannot be read. */
  ANSWERED_NAME_MALFORMED: 'ANSWERED_NAME_MALFORMED',
  /** Names of one set that do not share fields 2 to 7, or a TD among them. */
  SET_MIXED: 'SET_MIXED',
  /** A set check called with no names at all. */
  SET_EMPTY: 'SET_EMPTY',
  /** An option or argument given to a rule check is invalid (a caller bug or bad config). */
  RULE_OPTIONS_INVALID: 'RULE_OPTIONS_INVALID',
} as const;

/**
 * Form identification expected inside the file for each application, checked against the
 * name for reception code 158. A pattern rather than a string because some applications
 * cover a family of forms (WECH001 to WECH011, ZIMA00x, AOAT00x); `label` is for messages.
 */
export const FORM_IDENTIFICATION = {
  DMFA: { label: 'DMFA', pattern: /^DMFA$/ },
  DMWA: { label: 'DMFAUPD', pattern: /^DMFAUPD$/ },
  DMRQ: { label: 'DMFAREQ', pattern: /^DMFAREQ$/ },
  DIMN: { label: 'DIMONA', pattern: /^DIMONA$/ },
  PFRQ: { label: 'PFREQ', pattern: /^PFREQ$/ },
  TWCT: { label: 'TWCT001', pattern: /^TWCT001$/ },
  VBLV: { label: 'VBLV001', pattern: /^VBLV001$/ },
  WECH: { label: 'WECH001..WECH011', pattern: /^WECH0(?:0[1-9]|1[01])$/ },
  ZIMA: { label: 'ZIMA00x', pattern: /^ZIMA00\d$/ },
  AOAT: { label: 'AOAT00x', pattern: /^AOAT00\d$/ },
  FLEX: { label: 'FLXWAGE', pattern: /^FLXWAGE$/ },
} as const satisfies Partial<Record<KnownApplication, { label: string; pattern: RegExp }>>;

/** Most parts a declaration can be cut into: NPARTS is a single digit. */
export const MAX_PARTS = 9;

/** Largest file the transfer point takes (200 MB, a limit of its signature check). */
export const MAX_FILE_BYTES = 200_000_000;

/**
 * Age in days past which a DATE is refused as too old (reception code 126). The transfer point
 * does not publish its threshold; 90 days is our choice, wide enough for a late quarterly DmfA
 * and narrow enough to catch a stale or mistyped date. Callers can change it per check.
 */
export const DEFAULT_MAX_AGE_DAYS = 90;

/** The transfer point's clock: "today" and "in the future" are judged in this zone. */
export const TRANSFER_POINT_TIME_ZONE = 'Europe/Brussels';

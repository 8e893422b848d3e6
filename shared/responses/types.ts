/**
 * What the response parser reads from the transfer point's answers. Each Form of a document
 * is one entry; a field missing from the file stays undefined, never an empty string.
 */
import type { DeclarationKey } from '../names';
import type { NotificationResult, ReceptionError } from './codes';

export type { NotificationResult, ReceptionError } from './codes';

/** One Form of an acknowledgement of receipt (root `ACRF`). */
export interface AcrfForm {
  /** `Identification`, `ACRF001` in every known answer. */
  identification: string | undefined;
  /** `TypeForm`: FA (final answer) or PA (provisional answer). */
  typeForm: string | undefined;
  /** `FileReference/FileName`: the name of the file answered (usually the GO). */
  fileName?: string;
  /**
   * Fields 2 to 6 of `fileName`, the key an answer is matched on; undefined when the name
   * does not follow the grammar (the answer is still kept).
   */
  answered?: DeclarationKey;
  /** `FileReference/ReferenceNbr`: the ticket number of the file. */
  ticket?: string;
  /** `ReceptionResult/ResultCode` (1 accepted, 0 rejected); undefined when absent or not a number. */
  resultCode: number | undefined;
  /** True only for ResultCode 1. */
  accepted: boolean;
  /** The ErrorIDs in words, in document order; the first `maxAnomalies` of the document. */
  errors: ReceptionError[];
  /** How many ErrorIDs the form holds, kept or not. */
  errorCount: number;
}

/** An acknowledgement of receipt. */
export interface AcrfDocument {
  kind: 'acrf';
  /** Its Forms in document order; the first `maxForms`. */
  forms: AcrfForm[];
  /** How many Forms the document holds, kept or not. */
  formCount: number;
}

/** `AnomalyLocation` of an anomaly: where in the declaration the anomaly was found. */
export interface AnomalyLocation {
  /** `LineNbr`, when a number. */
  lineNbr?: number;
  /** `ColumnNbr`, when a number. */
  columnNbr?: number;
  /** `Location`: the position of the block in the declaration, e.g. `1,1,8,4,13,3,12,1`. */
  location?: string;
}

/** One child of an anomaly's `Path`: a field identifying the block, e.g. `INSS`. */
export interface AnomalyPathField {
  /** Local name of the child element. */
  name: string;
  /** Its text. */
  value: string;
}

/** One `AnomalyReport` of a notification. */
export interface Anomaly {
  /** `ErrorID`: a zone or block number, a dash and a 3-digit annex-30 code (`00024-152`). */
  errorId: string;
  /** The zone or block part of the ErrorID, as written (`00024`). */
  zone?: string;
  /** The annex-30 code part of the ErrorID (`152`). */
  code?: number;
  /** The code in words, when our sources name it. */
  label?: string;
  /** `AnomalyClass` as written (B, P, NP, D, W, I, or another value). */
  anomalyClass?: string;
  /** `TagName`: the element concerned. */
  tagName?: string;
  /** `Value`: the value found. */
  value?: string;
  /** `AnomalyLabel`: the transfer point's own words. */
  anomalyLabel?: string;
  /** `AnomalyLocation`. */
  location?: AnomalyLocation;
  /** The children of `Path`, in document order (at most 32). */
  path?: AnomalyPathField[];
  /** `SystemCorrection`. */
  systemCorrection?: string;
}

/** One Form of a notification (root `NOTIFICATION`). */
export interface NotificationForm {
  /** `Identification`, `NOTI001` in every known answer. */
  identification: string | undefined;
  /** `TypeForm`: FA (final answer) or PA (provisional answer). */
  typeForm: string | undefined;
  /** `HandledOriginalForm/Identification`: the form handled, e.g. `DMFA` or `AOAT001`. */
  handledForm?: string;
  /** `FileReference/FileName`: the name of the file answered. */
  fileName?: string;
  /** Fields 2 to 6 of `fileName`; undefined when it does not follow the grammar. */
  answered?: DeclarationKey;
  /** `FileReference/ReferenceNbr`: the file's ticket (optional in some DmfA notifications). */
  fileTicket?: string;
  /** `HandledReference/ReferenceNbr`: the declaration's ticket. */
  declarationTicket?: string;
  /** `Reference/ReferenceNbr` of the first `Reference` with `ReferenceOrigin` 1 (the sender's). */
  senderReference?: string;
  /** `HandlingResult/ResultCode`; undefined when absent or not a number. */
  resultCode: number | undefined;
  /** The result code in one word. */
  result: NotificationResult;
  /** True only for ResultCode 1. */
  accepted: boolean;
  /** True when the form reports at least one anomaly (kept or not). */
  withAnomalies: boolean;
  /** `Diagnosis` (0-9; 3 = rejected for blocking anomalies), when a number. */
  diagnosis?: number;
  /** The anomalies in document order; the first `maxAnomalies` of the document. */
  anomalies: Anomaly[];
  /** How many AnomalyReports the form holds, kept or not. */
  anomalyCount: number;
}

/** A notification. */
export interface NotificationDocument {
  kind: 'notification';
  /** Its Forms in document order; the first `maxForms`. */
  forms: NotificationForm[];
  /** How many Forms the document holds, kept or not. */
  formCount: number;
}

/**
 * A response of a type this parser does not read: no field of it is read, but it is still
 * checked to the end (a malformed one is raised as such, whatever its chunks). Its bytes are
 * the caller's to keep.
 */
export interface OtherDocument {
  kind: 'other';
  /** Local name of the root element (prefix removed). */
  root: string;
}

/** What a response file holds. */
export type ResponseDocument = AcrfDocument | NotificationDocument | OtherDocument;

/**
 * Limits of the response parser. They bound what is kept, so memory stays flat whatever the
 * size of the file; only a single markup construct above `maxMarkupChars`, or elements nested
 * deeper than `maxDepth`, are refused.
 */
export interface ResponseParserOptions {
  /** Anomalies (NOTIFICATION) and ErrorIDs (ACRF) kept per document; default 1000. */
  maxAnomalies: number;
  /**
   * Characters kept of each field's text, counted before the text is trimmed; the rest is read
   * and dropped, never held. Default 1024.
   */
  maxTextChars: number;
  /** Forms kept per document; default 10,000. */
  maxForms: number;
  /**
   * Longest single tag, comment, CDATA section, processing instruction or entity reference,
   * in characters; default 1 MiB. The XML parser holds each of these whole, so a longer one is
   * refused (ResponseTooLargeError) rather than read into memory.
   */
  maxMarkupChars: number;
  /**
   * Deepest nesting of elements, root included; default 256 (the answers nest fewer than 10).
   * The XML parser keeps every open element, so a deeper document is refused
   * (ResponseTooLargeError) rather than read into memory: 200 MB of nested tags would be tens
   * of millions of them.
   */
  maxDepth: number;
}

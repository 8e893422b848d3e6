/**
 * The transfer point's codes in words: reception errors (ACRF-nnn, the general error list of
 * annex 30), notification results, diagnoses and anomaly classes. The words come from
 * shared/TRANSFER-POINT.md; a code it does not name is described as unpublished, never guessed.
 */

/**
 * Labels of the annex-30 codes our sources name, keyed by the three digits as written in
 * `ACRF-nnn` and in the code part of an anomaly's ErrorID (`00024-152`).
 */
export const ACRF_CODE_LABELS = {
  '088': 'unknown schema',
  '102': 'incorrect XML syntax',
  '103': 'sender not authorised',
  '107': 'GO file name malformed',
  '108': 'the sender number is not the sender of the folder',
  '109': 'the creation date is not 8 digits',
  '110': 'the creation date is not a real date',
  '111': 'the creation date is in the future',
  '112': 'the sequence number is not 5 characters',
  '113': 'the sequence number is not numeric',
  '114': 'the number of parts is not one digit',
  '115': 'the number of parts is not numeric',
  '116': 'the number of parts is 0',
  '117': 'the environment is not R, T or S',
  '118': 'a production (R) file outside the IN folder',
  '119': 'a test (T) file outside the INTEST folder',
  '120': 'wrong number of FI files',
  '121': 'no signature file (FS) must be sent',
  '122': 'wrong number of FS files',
  '123': 'FI files numbered wrong',
  '124': 'FS files numbered wrong',
  '125': 'invalid signature',
  '126': 'the creation date is too old',
  '127': 'the sequence number is 00000',
  '128': 'the number of parts is above the maximum',
  '129': 'wrong application prefix',
  '130': 'GO file not received',
  '131': 'FI file name malformed',
  '132': 'FS file name malformed',
  '133': 'file name already sent',
  '134': 'no data',
  '135': 'the form type does not match the schema',
  '136': 'schema unknown or missing',
  '138': 'encoding not supported',
  '153': 'the certificate does not match its owner',
  '158': 'the form type in the file name differs from the file',
  '172': 'too many declarations for this file size',
  '184': 'file over the size limit',
  '249': 'the channel differs from the registered channel',
  '257': 'a simulation (S) file outside the INTEST-S folder',
  '277': 'cancelled by the transfer point',
  '280': 'invalid ZIP file',
  '281': 'the ZIP file holds no file or more than one',
  '367': 'the sequence number has a character outside 0-9 and A-Z',
} as const;

/** One of the three-digit codes of ACRF_CODE_LABELS. */
export type KnownAcrfCode = keyof typeof ACRF_CODE_LABELS;

/** A reception error of an acknowledgement (`ReceptionResult/ErrorID`), in words. */
export interface ReceptionError {
  /** The ErrorID as read, e.g. `ACRF-129`. */
  id: string;
  /** The code number, when the id has the `ACRF-nnn` form. */
  code?: number;
  /** What the code means, or why it cannot be told. */
  label: string;
}

const RECEPTION_ERROR_ID = /^ACRF-(\d{3})$/;

/**
 * The label of an annex-30 code, or undefined when our sources do not name it.
 *
 * @param code - the code number, e.g. `129` or `88`
 */
export function acrfCodeLabel(code: number): string | undefined {
  if (!Number.isInteger(code) || code < 0 || code > 999) return undefined;
  const key = String(code).padStart(3, '0');
  return (ACRF_CODE_LABELS as Readonly<Record<string, string>>)[key];
}

/**
 * Describes an ErrorID of an acknowledgement: `ACRF-129` gives its code and label; a
 * well-formed id with a code our sources do not name is labelled as unpublished; anything else
 * is kept as is, with no code.
 *
 * @param id - the ErrorID text, e.g. `ACRF-129`
 */
export function describeReceptionError(id: string): ReceptionError {
  const digits = RECEPTION_ERROR_ID.exec(id)?.[1];
  if (digits === undefined) {
    return { id, label: 'not a reception error id of the form ACRF-nnn' };
  }
  const code = Number(digits);
  return {
    id,
    code,
    label: acrfCodeLabel(code) ?? `unpublished reception code ${digits}`,
  };
}

/** `ReceptionResult/ResultCode` of an acknowledgement: only 1 is an acceptance. */
export const ACRF_RESULT = {
  0: 'rejected',
  1: 'accepted',
} as const;

/** `TypeForm` of an answer. */
export const TYPE_FORM_LABELS = {
  FA: 'final answer',
  PA: 'provisional answer',
} as const;

/**
 * `HandlingResult/ResultCode` of a notification: the result word a form gets and its label.
 * Only 1 is an acceptance (possibly with non-blocking anomalies).
 */
export const NOTI_RESULT = {
  0: { result: 'refused', label: 'refused' },
  1: { result: 'accepted', label: 'accepted (possibly with non-blocking anomalies)' },
  2: { result: 'proposal', label: 'proposal to validate' },
  3: { result: 'provisional', label: 'provisional answer' },
  4: { result: 'timeout', label: 'time-out' },
} as const;

/** The result of a notification in one word; `unknown` for a missing or unpublished code. */
export type NotificationResult =
  (typeof NOTI_RESULT)[keyof typeof NOTI_RESULT]['result'] | 'unknown';

/**
 * The result word of a notification's ResultCode.
 *
 * @param code - the ResultCode read, undefined when absent or not a number
 */
export function notificationResultOf(code: number | undefined): NotificationResult {
  if (code === undefined) return 'unknown';
  return (
    (NOTI_RESULT as Readonly<Record<number, { result: NotificationResult }>>)[code]?.result ??
    'unknown'
  );
}

/** The `Diagnosis` values of a notification our sources name (they range from 0 to 9). */
export const NOTI_DIAGNOSIS_LABELS = {
  3: 'rejected for blocking anomalies',
} as const;

/**
 * Anomaly classes of a notification. B, P, NP, D, W and I are the official values; our
 * sources give the meaning of B, W and I only, so the others say just that.
 */
export const ANOMALY_CLASS_LABELS = {
  B: 'blocking',
  P: 'class P (official; its meaning is not in our sources)',
  NP: 'class NP (official; its meaning is not in our sources)',
  D: 'class D (official; its meaning is not in our sources)',
  W: 'warning',
  I: 'information',
} as const;

/** One of the official anomaly classes. */
export type KnownAnomalyClass = keyof typeof ANOMALY_CLASS_LABELS;

/**
 * Describes an anomaly class in words. Other values are seen in real notifications, so an
 * unknown one is described, never refused.
 *
 * @param anomalyClass - the AnomalyClass text, e.g. `B`
 */
export function describeAnomalyClass(anomalyClass: string): string {
  // hasOwn: the text comes from the file, and `constructor` must not find Object's own.
  return Object.hasOwn(ANOMALY_CLASS_LABELS, anomalyClass)
    ? ANOMALY_CLASS_LABELS[anomalyClass as KnownAnomalyClass]
    : `unknown anomaly class ${JSON.stringify(anomalyClass)}`;
}

/** An anomaly's `ErrorID`: a zone or block number, a dash and the 3-digit annex-30 code. */
export const ANOMALY_ID = /^(\d+)-(\d{3})$/;

/**
 * The annex-30 meaning of an anomaly's ErrorID (`00024-152`), when our sources name its code.
 *
 * @param errorId - the ErrorID as written
 */
export function anomalyIdLabel(errorId: string): string | undefined {
  const code = ANOMALY_ID.exec(errorId)?.[2];
  return code === undefined ? undefined : acrfCodeLabel(Number(code));
}

/**
 * A notification's verdict in words, from its result word (HandlingResult/ResultCode), whether
 * it reports anomalies, and its Diagnosis: `accepted`, `accepted with anomalies`, `refused`
 * (with the diagnosis in words when our sources name it), `proposal to validate`,
 * `provisional answer`, `time-out`, or `unknown result`.
 *
 * @param result - the result word (notificationResultOf), or the ResultCode as text
 * @param withAnomalies - whether the form reports at least one anomaly
 * @param diagnosis - the Diagnosis, when given
 */
export function describeNotificationVerdict(
  result: string,
  withAnomalies: boolean,
  diagnosis?: number,
): string {
  // Records hold the result word; older ones (and the ledger's tests) the code as text.
  const known = /^\d+$/.test(result)
    ? (NOTI_RESULT as Readonly<Record<number, (typeof NOTI_RESULT)[keyof typeof NOTI_RESULT]>>)[
        Number(result)
      ]
    : Object.values(NOTI_RESULT).find((entry) => entry.result === result);
  if (known === undefined) return `unknown result ${JSON.stringify(result)}`;
  if (known.result === 'accepted') return withAnomalies ? 'accepted with anomalies' : 'accepted';
  const diagnosed =
    diagnosis === undefined
      ? undefined
      : (NOTI_DIAGNOSIS_LABELS as Readonly<Record<number, string>>)[diagnosis];
  if (known.result === 'refused' && diagnosed !== undefined) return `refused: ${diagnosed}`;
  return known.label;
}

/** The fields of an anomaly that say what and where, as a notification gives them. */
export interface AnomalyFields {
  errorId: string;
  anomalyClass?: string;
  tagName?: string;
  /** The Path's fields as `NAME=value`, joined by `, `. */
  path?: string;
  value?: string;
}

/**
 * An anomaly in words, after its ErrorID: its annex-30 meaning, its class, the element and the
 * block it is in, and the value found, e.g.
 * `unknown INSS number; blocking; in INSS at INSS=12345678901; value "12345678901"`.
 *
 * @param anomaly - the anomaly's fields as written
 */
export function describeAnomaly(anomaly: AnomalyFields): string {
  const parts = [
    anomalyIdLabel(anomaly.errorId) ??
      (ANOMALY_ID.test(anomaly.errorId)
        ? `annex-30 code ${anomaly.errorId.slice(-3)}, its meaning not in our sources`
        : 'an ErrorID not in the annex-30 form'),
    anomaly.anomalyClass === undefined ? undefined : describeAnomalyClass(anomaly.anomalyClass),
    [
      anomaly.tagName === undefined ? '' : `in ${anomaly.tagName}`,
      anomaly.path === undefined ? '' : `at ${anomaly.path}`,
    ]
      .filter(Boolean)
      .join(' '),
    anomaly.value === undefined ? undefined : `value ${JSON.stringify(anomaly.value)}`,
  ];
  return parts.filter((part) => part !== undefined && part !== '').join('; ');
}

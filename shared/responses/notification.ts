/** The NOTIFICATION Form and its AnomalyReports: the fields read and the values built. */
import { ANOMALY_ID, acrfCodeLabel, notificationResultOf } from './codes';
import type { AnomalyDraft, Field, FormDraft } from './drafts';
import { answeredKey, defined, integer } from './drafts';
import type { Anomaly, AnomalyLocation, NotificationForm } from './types';

// Fields by path relative to the Form (local names). Only these are read; anything else in a
// Form is skipped, except AnomalyReport (at any depth of a NOTIFICATION Form).
export const NOTIFICATION_FIELDS: ReadonlyMap<string, Field> = new Map<string, Field>([
  ['Identification', 'identification'],
  ['TypeForm', 'typeForm'],
  ['FileReference/FileName', 'fileName'],
  ['FileReference/ReferenceNbr', 'fileTicket'],
  ['HandledOriginalForm/Identification', 'handledForm'],
  ['HandledReference/ReferenceNbr', 'declarationTicket'],
  ['Reference/ReferenceNbr', 'referenceNbr'],
  ['Reference/ReferenceOrigin', 'referenceOrigin'],
  ['HandlingResult/ResultCode', 'resultCode'],
  // Where Diagnosis sits is not in our sources: both places are read.
  ['HandlingResult/Diagnosis', 'diagnosis'],
  ['Diagnosis', 'diagnosis'],
]);
// Fields by path relative to an AnomalyReport.
export const ANOMALY_FIELDS: ReadonlyMap<string, Field> = new Map<string, Field>([
  ['ErrorID', 'anomalyErrorId'],
  ['TagName', 'tagName'],
  ['Value', 'value'],
  ['AnomalyClass', 'anomalyClass'],
  ['AnomalyLabel', 'anomalyLabel'],
  ['SystemCorrection', 'systemCorrection'],
  ['AnomalyLocation/LineNbr', 'lineNbr'],
  ['AnomalyLocation/ColumnNbr', 'columnNbr'],
  ['AnomalyLocation/Location', 'location'],
  ['Path', 'path'],
]);

// Path children kept per anomaly: a real Path has about eight.
export const MAX_PATH_FIELDS = 32;

/** At the end of a Reference block: keeps its number when it is the sender's own. */
export function closeReference(form: FormDraft): void {
  // Only the sender's own reference (origin 1); the transfer point's are in other blocks.
  if (form.referenceOrigin === '1' && form.referenceNbr !== undefined) {
    form.senderReference ??= form.referenceNbr;
  }
  form.referenceNbr = undefined;
  form.referenceOrigin = undefined;
}

/** The anomaly a closed AnomalyReport draft holds. */
export function anomalyOf(draft: AnomalyDraft): Anomaly {
  const errorId = draft.errorId ?? '';
  const parts = ANOMALY_ID.exec(errorId);
  const code = parts ? Number(parts[2]) : undefined;
  const location: AnomalyLocation = defined({
    lineNbr: integer(draft.lineNbr),
    columnNbr: integer(draft.columnNbr),
    location: draft.location,
  });
  return defined({
    errorId,
    zone: parts?.[1],
    code,
    label: code === undefined ? undefined : acrfCodeLabel(code),
    anomalyClass: draft.anomalyClass,
    tagName: draft.tagName,
    value: draft.value,
    anomalyLabel: draft.anomalyLabel,
    location: Object.keys(location).length > 0 ? location : undefined,
    path: draft.path.length > 0 ? draft.path : undefined,
    systemCorrection: draft.systemCorrection,
  });
}

/** The NOTIFICATION Form a closed draft holds. */
export function notificationForm(draft: FormDraft): NotificationForm {
  const resultCode = integer(draft.resultCode);
  return {
    identification: draft.identification,
    typeForm: draft.typeForm,
    ...defined({
      handledForm: draft.handledForm,
      fileName: draft.fileName,
      answered: answeredKey(draft.fileName),
      fileTicket: draft.fileTicket,
      declarationTicket: draft.declarationTicket,
      senderReference: draft.senderReference,
    }),
    resultCode,
    result: notificationResultOf(resultCode),
    accepted: resultCode === 1,
    withAnomalies: draft.anomalyCount > 0,
    ...defined({ diagnosis: integer(draft.diagnosis) }),
    anomalies: draft.anomalies,
    anomalyCount: draft.anomalyCount,
  };
}

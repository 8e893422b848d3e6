/** The fields of a Form and of an AnomalyReport as read, before they become typed values. */
import { parseAnsweredFileName } from '../names';
import type { DeclarationKey } from '../names';
import type { ReceptionError } from './codes';
import type { Anomaly, AnomalyPathField } from './types';

/** A field of interest: where its text goes once the element closes. */
export type Field =
  | 'identification'
  | 'typeForm'
  | 'fileName'
  | 'fileTicket'
  | 'resultCode'
  | 'errorId'
  | 'handledForm'
  | 'declarationTicket'
  | 'referenceNbr'
  | 'referenceOrigin'
  | 'diagnosis'
  | 'anomalyErrorId'
  | 'tagName'
  | 'value'
  | 'anomalyClass'
  | 'anomalyLabel'
  | 'systemCorrection'
  | 'lineNbr'
  | 'columnNbr'
  | 'location'
  | 'path'
  | 'pathField';

/** A Form being read: the fields of both kinds, sorted out when it closes. */
export interface FormDraft {
  identification?: string;
  typeForm?: string;
  fileName?: string;
  fileTicket?: string;
  resultCode?: string;
  handledForm?: string;
  declarationTicket?: string;
  senderReference?: string;
  referenceNbr?: string;
  referenceOrigin?: string;
  diagnosis?: string;
  errors: ReceptionError[];
  errorCount: number;
  anomalies: Anomaly[];
  anomalyCount: number;
}

export interface AnomalyDraft {
  errorId?: string;
  tagName?: string;
  value?: string;
  anomalyClass?: string;
  anomalyLabel?: string;
  systemCorrection?: string;
  lineNbr?: string;
  columnNbr?: string;
  location?: string;
  path: AnomalyPathField[];
}

const DIGITS = /^\d+$/;

export function integer(text: string | undefined): number | undefined {
  return text !== undefined && DIGITS.test(text) ? Number(text) : undefined;
}

export function answeredKey(fileName: string | undefined): DeclarationKey | undefined {
  if (fileName === undefined) return undefined;
  try {
    return parseAnsweredFileName(fileName);
  } catch {
    return undefined; // an answer to a name outside the grammar is still an answer
  }
}

/** Copies the defined values of `source` only, so absent fields stay absent keys. */
export function defined<T extends object>(source: T): T {
  return Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined)) as T;
}

/** The answers a set records: tickets, acknowledgements (ACRF) and notifications. */
import { LedgerRequestError } from '../errors';
import type { Acknowledgement, NotificationOutcome, RecordedAnomaly } from '../types';
import { parseResponseSetId } from './responses';
import { CONTROL, checkBoolean, checkObject, checkText, normalizeIso } from './values';

/**
 * Longest ticket number the ledger records. The transfer point documents at most 20 characters;
 * the margin keeps an unexpected but real ticket, while a parser that hands over a whole
 * element's text by mistake is still refused.
 */
export const MAX_TICKET_LENGTH = 64;

/**
 * Checks a ticket number (an answer's ReferenceNbr) and returns it: a non-empty string of at most
 * MAX_TICKET_LENGTH characters, without surrounding blanks or control characters. Tickets are a
 * look-up key (findByTicket), so a ticket with a stray space would never be found again.
 */
export function validateTicket(ticket: string): string {
  if (
    typeof ticket !== 'string' ||
    ticket.length === 0 ||
    ticket.length > MAX_TICKET_LENGTH ||
    ticket.trim() !== ticket ||
    CONTROL.test(ticket)
  ) {
    throw new LedgerRequestError(
      `ticket ${JSON.stringify(ticket)} is not 1 to ${MAX_TICKET_LENGTH} printable characters ` +
        'without surrounding blanks',
    );
  }
  return ticket;
}

/**
 * Checks an acknowledgement and returns a normalized copy (only the known fields, `at` as
 * `toISOString()`), so what is stored is exactly what the type says.
 */
export function validateAcknowledgement(id: string, value: Acknowledgement): Acknowledgement {
  checkObject(value, `${id}: the acknowledgement`);
  const errors: unknown = value.errors;
  if (!Array.isArray(errors) || errors.some((e) => typeof e !== 'string' || e.length === 0)) {
    throw new LedgerRequestError(`${id}: acknowledgement.errors is not a list of error ids`);
  }
  const copy: Acknowledgement = {
    accepted: checkBoolean(value.accepted, `${id}: acknowledgement.accepted`),
    errors: [...(errors as string[])],
    response: parseResponseSetIdOf(value.response, `${id}: acknowledgement.response`),
    at: normalizeIso(value.at, `${id}: acknowledgement.at`),
  };
  if (value.ticket !== undefined) copy.ticket = validateTicket(value.ticket);
  return copy;
}

/** Checks a notification outcome and returns a normalized copy, as validateAcknowledgement. */
export function validateNotification(id: string, value: NotificationOutcome): NotificationOutcome {
  checkObject(value, `${id}: the notification`);
  const count = value.anomalyCount;
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new LedgerRequestError(
      `${id}: notification.anomalyCount ${String(count)} is not a count`,
    );
  }
  const copy: NotificationOutcome = {
    result: checkText(value.result, `${id}: notification.result`),
    accepted: checkBoolean(value.accepted, `${id}: notification.accepted`),
    withAnomalies: checkBoolean(value.withAnomalies, `${id}: notification.withAnomalies`),
    anomalyCount: count,
    response: parseResponseSetIdOf(value.response, `${id}: notification.response`),
    at: normalizeIso(value.at, `${id}: notification.at`),
  };
  if (value.ticket !== undefined) copy.ticket = validateTicket(value.ticket);
  if (value.diagnosis !== undefined) {
    if (!Number.isSafeInteger(value.diagnosis) || value.diagnosis < 0) {
      throw new LedgerRequestError(
        `${id}: notification.diagnosis ${String(value.diagnosis)} is not a diagnosis code`,
      );
    }
    copy.diagnosis = value.diagnosis;
  }
  if (value.anomalies !== undefined) copy.anomalies = validateAnomalies(id, value.anomalies);
  return copy;
}

/**
 * Whether a notification refused the declaration: HandlingResult/ResultCode 0, recorded as its
 * word (`refused`) or, as some callers and older records do, as the code itself.
 */
export function isRefusal(outcome: NotificationOutcome): boolean {
  return outcome.result === 'refused' || outcome.result === '0';
}

/** Most anomalies a notification outcome records; the count says how many there were. */
export const MAX_RECORDED_ANOMALIES = 20;

/** Longest text of a recorded anomaly's field: a whole element's text is not a value. */
export const MAX_ANOMALY_FIELD_LENGTH = 256;

const ANOMALY_FIELDS = ['anomalyClass', 'tagName', 'path', 'value'] as const;

// The anomalies live inside the declaration's record (one DynamoDB item, 400 KB at most), so
// their number and size are bounded here, whatever the parser hands over.
function validateAnomalies(id: string, value: unknown): RecordedAnomaly[] {
  if (!Array.isArray(value) || value.length > MAX_RECORDED_ANOMALIES) {
    throw new LedgerRequestError(
      `${id}: notification.anomalies is not a list of at most ${MAX_RECORDED_ANOMALIES} anomalies`,
    );
  }
  return value.map((anomaly: unknown, index) => {
    const what = `${id}: notification.anomalies[${index}]`;
    checkObject(anomaly, what);
    const fields = anomaly as Record<string, unknown>;
    const copy: RecordedAnomaly = { errorId: anomalyText(fields.errorId, `${what}.errorId`) };
    for (const field of ANOMALY_FIELDS) {
      if (fields[field] !== undefined) copy[field] = anomalyText(fields[field], `${what}.${field}`);
    }
    return copy;
  });
}

function anomalyText(value: unknown, what: string): string {
  const text = checkText(value, what);
  if (text.length > MAX_ANOMALY_FIELD_LENGTH) {
    throw new LedgerRequestError(`${what} is longer than ${MAX_ANOMALY_FIELD_LENGTH} characters`);
  }
  return text;
}

// A response id carried by an answer: the same grammar as the response sets themselves.
function parseResponseSetIdOf(value: string, what: string): string {
  try {
    parseResponseSetId(value);
  } catch (error) {
    if (error instanceof LedgerRequestError) {
      throw new LedgerRequestError(`${what}: ${error.message}`, error.cause);
    }
    throw error;
  }
  return value;
}

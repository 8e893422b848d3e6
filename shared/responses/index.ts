/**
 * Public API of the response parser: the transfer point's answers (ACRF, NOTIFICATION) read
 * as a stream into typed values, and their codes in words. The markup guard and the parser's
 * internals are not listed here.
 */
export {
  ACRF_CODE_LABELS,
  ACRF_RESULT,
  ANOMALY_CLASS_LABELS,
  NOTI_DIAGNOSIS_LABELS,
  NOTI_RESULT,
  TYPE_FORM_LABELS,
  ANOMALY_ID,
  acrfCodeLabel,
  anomalyIdLabel,
  describeAnomaly,
  describeAnomalyClass,
  describeNotificationVerdict,
  describeReceptionError,
  notificationResultOf,
} from './codes';
export type { AnomalyFields, KnownAcrfCode, KnownAnomalyClass } from './codes';
export type {
  AcrfDocument,
  AcrfForm,
  Anomaly,
  AnomalyLocation,
  AnomalyPathField,
  NotificationDocument,
  NotificationForm,
  NotificationResult,
  OtherDocument,
  ReceptionError,
  ResponseDocument,
  ResponseParserOptions,
} from './types';
export {
  RESPONSE_ERROR_CODES,
  ResponseParseError,
  ResponseParserEndedError,
  ResponseParserOptionsError,
  ResponseTooLargeError,
} from './errors';
export {
  RESPONSE_PARSER_DEFAULTS,
  createResponseParser,
  parseResponseBuffer,
  parseResponseFile,
  parseResponseStream,
} from './parse';
export type { ResponseParser } from './parse';

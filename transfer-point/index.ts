/**
 * Public API of the local transfer point: an in-process FTP server that judges declaration
 * sets as the reception does and answers with signed ACRF (and NOTI) sets. Used by the tests,
 * by `npm start` and by `onss-transfer simulator`. Modules not listed here are internal.
 */
export { startSimulator } from './simulator';
export type {
  Cancellation,
  Judgement,
  JudgementPredicate,
  NotificationRecord,
  PortRange,
  Simulator,
  SimulatorEvents,
  SimulatorOptions,
  SimulatorProtocol,
  SimulatorTlsIdentity,
  UploadRecord,
} from './types';
export { HOME_FOLDERS, RESPONSE_FORMS, SIMULATOR_DEFAULTS } from './constants';
export type { HomeFolder, SimulatorResponseType } from './constants';
export {
  SIMULATOR_CODES,
  SimulatorError,
  SimulatorOptionsError,
  SimulatorProcessingError,
  SimulatorStoppedError,
  SimulatorTimeoutError,
} from './errors';
export { certificateFingerprint, normalizeFingerprint } from './trust';
export { createTlsIdentity } from './tls';
export { buildAcrfXml, buildNotificationXml } from './response-xml';
export type { AcrfContent, NotificationContent } from './response-xml';
export { buildZip } from './zip';
export type { ZipEntrySpec } from './zip';
export type { SimulatorSftpSettings } from './types';
export type { ReceivedContent } from './set-files';

export { EVENT_TYPES } from './events';
export type {
  ErrorInWords,
  EventType,
  Notifier,
  ServerIdentityInEvent,
  TransferEvent,
} from './events';
export { serverIdentityChangedEvent } from './server-identity';
export type { ServerIdentityEventContext } from './server-identity';
export { NOTIFY_CODES, NotifyError } from './errors';
export type { NotifyCode } from './errors';
export { consoleNotifier, fanOut, jsonLinesNotifier, memoryNotifier } from './local';

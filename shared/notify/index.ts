export { EVENT_TYPES } from './events';
export type { ErrorInWords, EventType, Notifier, TransferEvent } from './events';
export { NOTIFY_CODES, NotifyError } from './errors';
export type { NotifyCode } from './errors';
export { consoleNotifier, fanOut, jsonLinesNotifier, memoryNotifier } from './local';

export { EVENT_TYPES } from './events';
export type { ErrorInWords, EventType, Notifier, TransferEvent } from './events';
export { consoleNotifier, fanOut, jsonLinesNotifier, memoryNotifier } from './local';

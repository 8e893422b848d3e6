export * from './errors';
export * from './plan';
export * from './source';
export { sendDeclaration } from './send-declaration';
export type {
  DeclarationParams,
  SendContext,
  SendEvent,
  SendRequest,
  SendResult,
} from './send-types';
export { OutboxKeyError, declarationFromOutboxKey } from './outbox-key';
export type { OutboxLayout } from './outbox-key';
export { classifySendFailure, failedEvent, launchedEvent, notifyQuietly } from './outcome';
export type { SendFailureContext, SendFailureKind } from './outcome';
export { sendSlotNames, withSendSlot } from './send-slots';
export type { SlotOutcome } from './send-slots';

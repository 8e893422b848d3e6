/** What an operator does to a set by hand: cancel it before its GO, resend it after a refusal. */
export * from './errors';
export { cancelDeclaration, tdNameOf, type CancelResult } from './cancel';
export { checkResendable, checkResendChannel, planResend, type ResendPlan } from './resend';
export {
  OUTBOX_OPERATION_FOLDERS,
  OutboxOperationKeyError,
  operationOfOutboxKey,
  type OutboxOperation,
} from './outbox-operations';

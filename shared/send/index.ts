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
} from './send-declaration';

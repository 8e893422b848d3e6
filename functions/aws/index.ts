/**
 * Public API of the AWS adapters: each port of the core (ledger, object store, secrets,
 * notifier) on its AWS service. Handlers import from here.
 */
export {
  DEFAULT_LEDGER_MAX_ATTEMPTS,
  LedgerContentionError,
  createDynamoDbLedger,
} from './dynamodb-ledger';
export type { DynamoDbLedgerOptions } from './dynamodb-ledger';
export { LEDGER_TABLE, LEDGER_TIME_INDEX, createLedgerTable } from './ledger-table';
export { s3ObjectStore } from './s3-store';
export type { S3ObjectStoreOptions } from './s3-store';
export { openS3Source } from './s3-source';
export type { S3SourceOptions } from './s3-source';
export {
  DEFAULT_SECRET_TTL_SECONDS,
  putSecretString,
  secretTtlFromEnv,
  secretsManagerSource,
} from './secrets-manager';
export type { CachedSecretSource, SecretsManagerSourceOptions } from './secrets-manager';
export {
  EVENTBRIDGE_ENTRY_LIMIT_BYTES,
  eventBridgeEntrySize,
  eventBridgeNotifier,
} from './eventbridge-notifier';
export type { EventBridgeNotifierOptions } from './eventbridge-notifier';
export {
  SNS_MESSAGE_LIMIT_BYTES,
  SNS_SUBJECT_MAX_CHARS,
  asciiSubject,
  snsMessage,
  snsNotifier,
  snsSubject,
} from './sns-notifier';
export type { SnsNotifierOptions } from './sns-notifier';
export { SourceReadError, awsReason, describeAwsFailure } from './errors';
export type { AwsFailure } from './errors';

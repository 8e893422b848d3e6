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

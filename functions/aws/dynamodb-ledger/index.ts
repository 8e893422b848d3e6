/**
 * The ledger on DynamoDB: one table (../ledger-table), every decision taken by the pure rules
 * of shared/ledger/rules/, and DynamoDB only for atomicity. Each write is one conditional
 * PutItem/UpdateItem/DeleteItem, or one TransactWriteItems when look-up items must change with
 * the record, conditional on what was read (a revision number, an absent item, a lease
 * holder). A write that loses a race (ConditionalCheckFailed, TransactionConflict) is read,
 * decided by the rules and tried again a bounded number of times; then LedgerContentionError.
 *
 * Layout, the same as the SQLite adapter's (shared/ledger/sqlite/): ledger (options and
 * assembly), schema (the items and their keys), store (what every part shares: reads, writes,
 * retries), declarations (declaration items and shared reads and saves), then one file a group
 * of the port's methods: sequences, claims, transitions, lookups, responses, run-leases.
 *
 * The adapter imports the ledger's modules one by one, not shared/ledger/index.ts, so a Lambda
 * bundle does not pull the SQLite adapter and its native module in.
 */
export { DEFAULT_LEDGER_MAX_ATTEMPTS, createDynamoDbLedger } from './ledger';
export type { DynamoDbLedgerOptions } from './ledger';
export { LedgerContentionError } from './store';

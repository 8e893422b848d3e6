/**
 * The ledger on SQLite (better-sqlite3): one file that several processes share. Every write is
 * one `BEGIN IMMEDIATE` transaction that reads, decides by ../rules and writes, so two processes
 * claiming the same source or allocating a sequence at once are serialized by SQLite's write
 * lock rather than by luck. WAL lets readers run beside the writer; the busy timeout makes a
 * second writer wait instead of failing.
 *
 * Layout, the same as the DynamoDB adapter's (functions/aws/dynamodb-ledger/): ledger (open and
 * assemble), schema, store (what every part shares), declarations (rows and shared statements),
 * then one file a group of the port's methods: sequences, claims, transitions, lookups,
 * responses, run-leases.
 */
export { openSqliteLedger } from './ledger';
export type { SqliteLedgerOptions } from './ledger';
export { SQLITE_LEDGER_SCHEMA_VERSION } from './schema';

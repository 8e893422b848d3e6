/** Creates the DynamoDB ledger: checks its options and assembles it from its parts. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TranslateConfig } from '@aws-sdk/lib-dynamodb';
import { LedgerRequestError } from '../../../shared/ledger/errors';
import type { Ledger } from '../../../shared/ledger/port';
import type { LedgerOptions } from '../../../shared/ledger/types';
import { claimMethods } from './claims';
import { openDeclarations } from './declarations';
import { lookupMethods } from './lookups';
import { responseMethods } from './responses';
import { runLeaseMethods } from './run-leases';
import { sequenceMethods } from './sequences';
import { createDynamoStore } from './store';
import { transitionMethods } from './transitions';

/** Options of the DynamoDB ledger. */
export interface DynamoDbLedgerOptions extends LedgerOptions {
  /**
   * The client, or a document client over one. The caller owns it: `close()` does not destroy
   * it, so one client can serve several ledgers and other adapters.
   */
  client: DynamoDBClient | DynamoDBDocumentClient;
  /** The table, created as LEDGER_TABLE describes (the CDK stack, or createLedgerTable). */
  tableName: string;
  /**
   * How many times a write that lost a race is read, decided and tried again before
   * LedgerContentionError; default 8 (DEFAULT_LEDGER_MAX_ATTEMPTS).
   */
  maxAttempts?: number;
}

/** Tries of a write that loses races, by default: enough for a handful of runs at once. */
export const DEFAULT_LEDGER_MAX_ATTEMPTS = 8;

/**
 * Opens the ledger kept in the DynamoDB table `options.tableName` (created as LEDGER_TABLE
 * describes). Nothing is read or written until the first call. Throws LedgerRequestError for
 * options that cannot work (no client, an empty table name, maxAttempts below 1).
 */
export function createDynamoDbLedger(options: DynamoDbLedgerOptions): Ledger {
  const { tableName } = options;
  const maxAttempts = options.maxAttempts ?? DEFAULT_LEDGER_MAX_ATTEMPTS;
  if (typeof options.client?.send !== 'function') {
    throw new LedgerRequestError('the DynamoDB ledger needs a client (a DynamoDBClient)');
  }
  if (typeof tableName !== 'string' || tableName.length === 0) {
    throw new LedgerRequestError('the DynamoDB ledger needs the name of its table');
  }
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new LedgerRequestError(`maxAttempts ${String(maxAttempts)} is not a whole number >= 1`);
  }
  // DynamoDBDocumentClient.from writes its translation options into the config it shares with
  // the client: the ones already there are passed back, so another adapter's are kept. The
  // ledger writes plain JSON values, so it needs none of its own (numbers must stay unwrapped,
  // the default).
  const documents =
    options.client instanceof DynamoDBDocumentClient
      ? options.client
      : DynamoDBDocumentClient.from(
          options.client,
          (options.client.config as { translateConfig?: TranslateConfig }).translateConfig,
        );
  const location = `DynamoDB table ${tableName}`;
  const clock = options.now ?? (() => new Date());
  const now = (): string => clock().toISOString();
  const store = createDynamoStore({ documents, tableName, location, now, maxAttempts });
  const declarations = openDeclarations(store);
  // The port's methods in its order, one group a part; every part shares one store.
  return {
    ...sequenceMethods(store),
    ...claimMethods(store, declarations),
    ...transitionMethods(store, declarations),
    ...lookupMethods(store, declarations),
    ...responseMethods(store),
    ...runLeaseMethods(store),
    async close() {
      store.close();
    },
  };
}

/**
 * The DynamoDB table of the ledger, described once: the CDK stack creates the table from
 * LEDGER_TABLE, the tests create the same table in a local emulator with createLedgerTable, and
 * the adapter (./dynamodb-ledger) reads and writes the attributes named here.
 */
import { CreateTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The ledger table: a single table whose key is `pk` (partition) and `sk` (sort), both strings,
 * and one global secondary index, `gsi1`, that lists declarations and response sets by time
 * (a constant partition per kind, `DECL` or `RESPONSE`, and a sort key that starts with the
 * ISO creation or storage time). Every attribute named here is a string (`S`). The index
 * projects ALL attributes (the CDK default): `list` and `listResponses` read records from it.
 * Billing is meant to be on demand (PAY_PER_REQUEST); no TTL and no stream are needed.
 */
export const LEDGER_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [{ indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
} as const;

/** The name of the index `list` and `listResponses` query. */
export const LEDGER_TIME_INDEX = LEDGER_TABLE.indexes[0].indexName;

/**
 * Creates the ledger table `tableName` as LEDGER_TABLE describes it, on demand billing. For
 * tests and local emulators (dynalite, DynamoDB Local): in AWS the CDK stack owns the table.
 * Resolves once the table is ACTIVE (at most `maxWaitSeconds`, default 60).
 */
export async function createLedgerTable(
  client: DynamoDBClient,
  tableName: string,
  maxWaitSeconds = 60,
): Promise<void> {
  const names = new Set<string>([LEDGER_TABLE.partitionKey, LEDGER_TABLE.sortKey]);
  for (const index of LEDGER_TABLE.indexes) {
    names.add(index.partitionKey);
    names.add(index.sortKey);
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...names].map((name) => ({
        AttributeName: name,
        AttributeType: 'S',
      })),
      KeySchema: [
        { AttributeName: LEDGER_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: LEDGER_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: LEDGER_TABLE.indexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: maxWaitSeconds }, { TableName: tableName });
}

/** What every part of the DynamoDB ledger shares: the client, the table, reads, writes, retries. */
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { LedgerClosedError, LedgerError, LedgerStoreError } from '../../../shared/ledger/errors';
import { LEDGER_TIME_INDEX } from '../ledger-table';
import { GSI_PK, GSI_SK, keyText } from './schema';
import type { Condition, Item, Key, TransactItem } from './schema';

/**
 * A write lost its race against other writers every time it was tried (the item changed
 * between the read and the conditional write). Code LEDGER_STORE_FAILED, as any store failure;
 * the last conflict is kept as `cause`. Retrying later is safe: nothing was written.
 */
export class LedgerContentionError extends LedgerStoreError {}

// BatchGetItem takes at most 100 keys a call.
const BATCH_GET_LIMIT = 100;

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

// A write refused because what it was decided on changed: read, decide and try again.
function isConflict(error: unknown): boolean {
  const name = errorName(error);
  if (name === 'ConditionalCheckFailedException' || name === 'TransactionConflictException') {
    return true;
  }
  if (name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  const codes = (reasons ?? []).map((reason) => reason.Code ?? 'None');
  return (
    codes.some((code) => code === 'ConditionalCheckFailed' || code === 'TransactionConflict') &&
    codes.every((code) => ['None', 'ConditionalCheckFailed', 'TransactionConflict'].includes(code))
  );
}

/** Whether a single conditional write was refused by its condition. */
export function isConditionFailed(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** The open ledger as every part sees it. */
export interface DynamoStore {
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  /** `DynamoDB table <name>`: the start of every store error message. */
  readonly location: string;
  /** Now, as an ISO string, by the ledger's clock. */
  readonly now: () => string;
  /** One item by its key, strongly consistent. */
  readonly getItem: (key: Key) => Promise<Item | undefined>;
  /** Every item a Query returns, page after page. */
  readonly queryAll: (input: Omit<QueryCommandInput, 'TableName'>) => Promise<Item[]>;
  /** Several items by key (keyText -> item), strongly consistent, in as few calls as allowed. */
  readonly batchGet: (wanted: Key[]) => Promise<Map<string, Item>>;
  /** Items of one kind (DECLARATIONS, RESPONSES) in time order from `since` on, by the index. */
  readonly queryByTime: (kind: string, since: string | undefined) => Promise<Item[]>;
  /** A Put of `item` in this table for `write`, under `condition` when given. */
  readonly put: (item: Item, condition?: Condition) => TransactItem;
  /** Writes puts: one alone as one PutItem, several as one transaction. */
  readonly write: (items: TransactItem[]) => Promise<void>;
  /**
   * Runs `step` (read, decide by the rules, one conditional write) until its write is not
   * refused by a concurrent change; LedgerContentionError after maxAttempts tries.
   */
  readonly retrying: <T>(what: string, step: () => Promise<T>) => Promise<T>;
  /**
   * Runs the body of a method: refuses it with LedgerClosedError once the ledger is closed, and
   * turns an SDK failure into LedgerStoreError (`what` failed, the failure kept as cause).
   */
  readonly run: <T>(what: string, body: () => Promise<T>) => Promise<T>;
  /** Marks the ledger closed; the client stays the caller's. */
  readonly close: () => void;
}

/** The store of the ledger in `tableName`, reached through `documents`. */
export function createDynamoStore(options: {
  documents: DynamoDBDocumentClient;
  tableName: string;
  location: string;
  now: () => string;
  maxAttempts: number;
}): DynamoStore {
  const { documents, tableName, location, now, maxAttempts } = options;
  let closed = false;

  // Reads: all strongly consistent but the time index.

  const getItem = async (key: Key): Promise<Item | undefined> =>
    (await documents.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true })))
      .Item;

  const queryAll = async (input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> => {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(
        new QueryCommand({ ...input, TableName: tableName, ExclusiveStartKey: start }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  };

  // Several items in as few round trips as BatchGetItem allows, keys it left out retried.
  const batchGet = async (wanted: Key[]): Promise<Map<string, Item>> => {
    const found = new Map<string, Item>();
    const unique = [...new Map(wanted.map((key) => [keyText(key), key])).values()];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
      let pending: Record<string, unknown>[] = unique.slice(i, i + BATCH_GET_LIMIT);
      for (let round = 0; pending.length > 0; round += 1) {
        if (round > 0) await sleep(Math.min(10 * 2 ** round, 200));
        const out = await documents.send(
          new BatchGetCommand({
            RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        );
        for (const item of out.Responses?.[tableName] ?? []) found.set(keyText(item), item);
        pending = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
        if (pending.length > 0 && round + 1 >= maxAttempts) {
          throw new LedgerStoreError(
            `${location}: BatchGetItem left ${pending.length} keys unprocessed ${maxAttempts} times`,
          );
        }
      }
    }
    return found;
  };

  // Records of one kind in time order, from `since` on: a Query of the time index, paginated.
  const queryByTime = async (kind: string, since: string | undefined): Promise<Item[]> =>
    queryAll({
      IndexName: LEDGER_TIME_INDEX,
      KeyConditionExpression:
        since === undefined ? '#gpk = :gpk' : '#gpk = :gpk AND #gsk >= :since',
      ExpressionAttributeNames:
        since === undefined ? { '#gpk': GSI_PK } : { '#gpk': GSI_PK, '#gsk': GSI_SK },
      ExpressionAttributeValues:
        since === undefined ? { ':gpk': kind } : { ':gpk': kind, ':since': since },
    });

  // Writes

  const put = (item: Item, condition?: Condition): TransactItem => ({
    Put: { TableName: tableName, Item: item, ...condition },
  });

  // One item alone is one PutItem; several are one transaction, all or nothing.
  const write = async (items: TransactItem[]): Promise<void> => {
    const [only] = items;
    if (items.length === 1 && only?.Put) {
      await documents.send(new PutCommand(only.Put));
      return;
    }
    await documents.send(new TransactWriteCommand({ TransactItems: items }));
  };

  /**
   * Runs `step` (read, decide by the rules, one conditional write) until its write is not
   * refused by a concurrent change, at most maxAttempts times, pausing a random moment between
   * tries so racing writers spread out.
   */
  const retrying = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
    let conflict: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      if (attempt > 1) await sleep(Math.random() * Math.min(5 * 2 ** attempt, 100));
      try {
        return await step();
      } catch (error) {
        if (!isConflict(error)) throw error;
        conflict = error;
      }
    }
    throw new LedgerContentionError(
      `${location}: ${what}: the items changed under every one of ${maxAttempts} tries; ` +
        'nothing was written, try again',
      conflict,
    );
  };

  // Every method goes through here: a closed ledger is refused the same way everywhere, and an
  // SDK failure becomes a LedgerStoreError that keeps it as `cause`.
  const run = async <T>(what: string, body: () => Promise<T>): Promise<T> => {
    if (closed) throw new LedgerClosedError();
    try {
      return await body();
    } catch (error) {
      if (error instanceof LedgerError) throw error;
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new LedgerStoreError(`${location}: ${what} failed: ${detail}`, error);
    }
  };

  return {
    documents,
    tableName,
    location,
    now,
    getItem,
    queryAll,
    batchGet,
    queryByTime,
    put,
    write,
    retrying,
    run,
    close: () => {
      closed = true;
    },
  };
}

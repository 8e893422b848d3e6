/**
 * The DynamoDB ledger's items: their keys, conditions and order values.
 *
 * Items (pk / sk):
 * - `DECL#<id>` / `CURRENT`: the current record of a set key, with `rev` (bumped by every
 *   write, and the condition of every write), `ord` (creation order: ISO time + a tick) and
 *   `answers` (the response ids recorded, so a replayed answer is refused by the condition).
 * - `DECL#<id>` / `HIST#<ord>`: a record superseded by a resend; history, never written again.
 * - `SOURCE#<sha256 of the identity>` / `SOURCE`: the references `{id, ord}` of every record of
 *   a source, with `rev`: two claims of one source cannot both add a record.
 * - `TICKET#<ticket>` / `<ord>` and `SHA256#<hash>` / `<ord>`: look-ups written in the same
 *   transaction as the change that gave the record its ticket or hash; read back through the
 *   record, so they never hand out what the record no longer says.
 * - `SCOPE#<sender>.<date>.<env>` / `COUNTER` (`last`, an atomic counter) and `USED#<seq>#<app>`
 *   (a sequence a recorded declaration uses, written with its record).
 * - `RESPONSE#<id>` / `RESPONSE`: a response set, with `rev`.
 * - `RUNLEASE#<name>` / `RUNLEASE`: a run lease (owner, until).
 * Declarations and response sets also carry `gsi1pk` (`DECL` or `RESPONSE`) and `gsi1sk` (their
 * time order) for `list` and `listResponses`: a Query of the index, never a Scan. That index is
 * eventually consistent (a record written a moment ago may be missing from a list); every other
 * read is a strongly consistent GetItem, BatchGetItem or Query of the table.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { MAX_SEQUENCE, formatSequence } from '../../../shared/ledger/rules';
import type { SourceIdentity } from '../../../shared/ledger/types';
import type { Environment } from '../../../shared/names';
import { LEDGER_TABLE } from '../ledger-table';

// The attribute names of LEDGER_TABLE, and the time index's partitions (one a kind of record).
export const PK = LEDGER_TABLE.partitionKey;
export const SK = LEDGER_TABLE.sortKey;
export const GSI_PK = LEDGER_TABLE.indexes[0].partitionKey;
export const GSI_SK = LEDGER_TABLE.indexes[0].sortKey;
export const DECLARATIONS = 'DECL';
export const RESPONSES = 'RESPONSE';
// The sort keys of USED# items end with `#<app>`; `~` sorts after `#` and after every character
// of an application code, so this bounds every sequence up to 99999 from above.
export const USED_UPPER_BOUND = `USED#${formatSequence(MAX_SEQUENCE)}~`;

/** An item as the document client reads and writes it. */
export type Item = Record<string, unknown>;
/** The key of an item: pk and sk. */
export type Key = Record<string, string>;
/** One write of a TransactWriteItems call (a Put, for this ledger). */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
/** The condition of a conditional write, with the names and values it uses. */
export type Condition = {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
};

/** The key of every kind of item. */
export const keys = {
  current: (id: string): Key => ({ [PK]: `DECL#${id}`, [SK]: 'CURRENT' }),
  history: (id: string, ord: string): Key => ({ [PK]: `DECL#${id}`, [SK]: `HIST#${ord}` }),
  // Hashed: a path or an object key may be longer than a partition key may be.
  source: (source: SourceIdentity): Key => ({
    [PK]: `SOURCE#${createHash('sha256')
      .update(JSON.stringify([source.kind, source.id, source.version ?? null]))
      .digest('hex')}`,
    [SK]: 'SOURCE',
  }),
  ticket: (ticket: string, ord: string): Key => ({ [PK]: `TICKET#${ticket}`, [SK]: ord }),
  sha256: (hash: string, ord: string): Key => ({ [PK]: `SHA256#${hash}`, [SK]: ord }),
  scope: (sender: string, date: string, env: Environment): string =>
    `SCOPE#${sender}.${date}.${env}`,
  response: (id: string): Key => ({ [PK]: `RESPONSE#${id}`, [SK]: 'RESPONSE' }),
  runLease: (name: string): Key => ({ [PK]: `RUNLEASE#${name}`, [SK]: 'RUNLEASE' }),
};

/** The condition of a write that creates its item: no item has that key yet. */
export const ABSENT: Condition = {
  ConditionExpression: 'attribute_not_exists(#pk)',
  ExpressionAttributeNames: { '#pk': PK },
};

/** The condition of a write decided on revision `rev`: the item is still at that revision. */
export function revIs(rev: number): Condition {
  return {
    ConditionExpression: '#rev = :rev',
    ExpressionAttributeNames: { '#rev': 'rev' },
    ExpressionAttributeValues: { ':rev': rev },
  };
}

/** An item's key as one string (pk, newline, sk): the key of a Map of items. */
export function keyText(key: Record<string, unknown>): string {
  return `${String(key[PK])}\n${String(key[SK])}`;
}

// The last tick handed out: ticks only grow within a process, so records created in the same
// clock instant (a pinned clock, a fast loop) keep their creation order.
let lastTick = 0;

/**
 * A time-ordered, unique sort value: the ISO time, the process's monotonic microseconds, and a
 * random suffix that keeps two processes apart. Text order is creation order.
 */
export function orderOf(iso: string): string {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  lastTick = Math.max(lastTick + 1, micros);
  return `${iso}#${String(lastTick).padStart(17, '0')}#${randomBytes(3).toString('hex')}`;
}

/**
 * Plain JSON data: no undefined members, whatever marshalling options the client has, and a
 * copy the caller cannot change under us.
 */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

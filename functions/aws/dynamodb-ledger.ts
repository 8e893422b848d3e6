/**
 * The ledger on DynamoDB: one table (./ledger-table), every decision taken by the pure rules
 * of shared/ledger/rules.ts, and DynamoDB only for atomicity. Each write is one conditional
 * PutItem/UpdateItem/DeleteItem, or one TransactWriteItems when look-up items must change with
 * the record, conditional on what was read (a revision number, an absent item, a lease
 * holder). A write that loses a race (ConditionalCheckFailed, TransactionConflict) is read,
 * decided by the rules and tried again a bounded number of times; then LedgerContentionError.
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
 *
 * The adapter imports the ledger's modules one by one, not shared/ledger/index.ts, so a Lambda
 * bundle does not pull the SQLite adapter and its native module in.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  QueryCommandInput,
  TransactWriteCommandInput,
  TranslateConfig,
} from '@aws-sdk/lib-dynamodb';
import type { Environment } from '../../shared/names';
import {
  DeclarationNotFoundError,
  LedgerClosedError,
  LedgerError,
  LedgerRequestError,
  LedgerStoreError,
  ResponseNotFoundError,
} from '../../shared/ledger/errors';
import type { Ledger } from '../../shared/ledger/port';
import {
  MAX_SEQUENCE,
  allocateSequence,
  applyLeaseRelease,
  applyLeaseRenewal,
  applyResponsePatch,
  applyTransition,
  buildResponseRecord,
  checkTransitionCall,
  decideClaim,
  decideRunLease,
  formatSequence,
  isDeclarationState,
  keyOfFileName,
  matchesListFilter,
  matchesResponseListFilter,
  normalizeListFilter,
  normalizeResponseListFilter,
  normalizeSha256,
  sameSource,
  stageOf,
  validateClaimRequest,
  validateOwner,
  validateRunLeaseName,
  validateSequenceScope,
  validateSourceQuery,
  validateTicket,
} from '../../shared/ledger/rules';
import type { RunLease } from '../../shared/ledger/rules';
import type {
  DeclarationRecord,
  LedgerOptions,
  ResponseRecord,
  SourceIdentity,
} from '../../shared/ledger/types';
import { LEDGER_TABLE, LEDGER_TIME_INDEX } from './ledger-table';

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
 * A write lost its race against other writers every time it was tried (the item changed
 * between the read and the conditional write). Code LEDGER_STORE_FAILED, as any store failure;
 * the last conflict is kept as `cause`. Retrying later is safe: nothing was written.
 */
export class LedgerContentionError extends LedgerStoreError {}

const PK = LEDGER_TABLE.partitionKey;
const SK = LEDGER_TABLE.sortKey;
const GSI_PK = LEDGER_TABLE.indexes[0].partitionKey;
const GSI_SK = LEDGER_TABLE.indexes[0].sortKey;
const DECLARATIONS = 'DECL';
const RESPONSES = 'RESPONSE';
// BatchGetItem takes at most 100 keys a call.
const BATCH_GET_LIMIT = 100;
// The sort keys of USED# items end with `#<app>`; `~` sorts after `#` and after every character
// of an application code, so this bounds every sequence up to 99999 from above.
const USED_UPPER_BOUND = `USED#${formatSequence(MAX_SEQUENCE)}~`;

type Item = Record<string, unknown>;
type Key = Record<string, string>;
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type Condition = {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
};

/** Where a record of a source, a ticket or a hash lives: its set key and creation order. */
interface Ref {
  id: string;
  ord: string;
}

/** A declaration as read, with where it is stored. */
interface StoredDeclaration {
  record: DeclarationRecord;
  ord: string;
  /** The revision of the CURRENT item; undefined for a superseded (history) record. */
  rev: number | undefined;
}

const keys = {
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

const ABSENT: Condition = {
  ConditionExpression: 'attribute_not_exists(#pk)',
  ExpressionAttributeNames: { '#pk': PK },
};

function revIs(rev: number): Condition {
  return {
    ConditionExpression: '#rev = :rev',
    ExpressionAttributeNames: { '#rev': 'rev' },
    ExpressionAttributeValues: { ':rev': rev },
  };
}

// The last tick handed out: ticks only grow within a process, so records created in the same
// clock instant (a pinned clock, a fast loop) keep their creation order.
let lastTick = 0;

/**
 * A time-ordered, unique sort value: the ISO time, the process's monotonic microseconds, and a
 * random suffix that keeps two processes apart. Text order is creation order.
 */
function orderOf(iso: string): string {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  lastTick = Math.max(lastTick + 1, micros);
  return `${iso}#${String(lastTick).padStart(17, '0')}#${randomBytes(3).toString('hex')}`;
}

// Plain JSON data: no undefined members, whatever marshalling options the client has, and a
// copy the caller cannot change under us.
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function answerIds(record: DeclarationRecord): string[] {
  const ids = (record.notifications ?? []).map((notification) => notification.response);
  return record.acknowledgement ? [record.acknowledgement.response, ...ids] : ids;
}

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

function isConditionFailed(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

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
  let closed = false;

  // -------------------------------------------------------------------------------------------
  // Reads: all strongly consistent but the time index.
  // -------------------------------------------------------------------------------------------

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

  const keyText = (key: Record<string, unknown>): string =>
    `${String(key[PK])}\n${String(key[SK])}`;

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

  const declarationOf = (item: Item): StoredDeclaration => {
    const record = item.record as DeclarationRecord | undefined;
    if (typeof record !== 'object' || record === null || !isDeclarationState(record.state)) {
      throw new LedgerStoreError(`${location}: item ${keyText(item)} holds no declaration`);
    }
    return {
      record,
      ord: String(item.ord),
      rev: item[SK] === 'CURRENT' ? Number(item.rev) : undefined,
    };
  };

  const getCurrent = async (id: string): Promise<StoredDeclaration | undefined> => {
    const item = await getItem(keys.current(id));
    return item && declarationOf(item);
  };

  const refsOf = (items: readonly Item[]): Ref[] =>
    items.map((item) => ({ id: String(item.id), ord: String(item.ord) }));

  /**
   * The records references point at, in the order given: the CURRENT item of the set key when
   * its `ord` is the reference's, else the HIST item. A BatchGetItem is not isolated from a
   * transaction, so a record superseded while it was read is looked for again on its own.
   */
  const resolve = async (refs: readonly Ref[]): Promise<StoredDeclaration[]> => {
    const found = await batchGet(
      refs.flatMap((ref) => [keys.current(ref.id), keys.history(ref.id, ref.ord)]),
    );
    return Promise.all(
      refs.map(async (ref) => {
        const history = found.get(keyText(keys.history(ref.id, ref.ord)));
        if (history) return declarationOf(history);
        const current = found.get(keyText(keys.current(ref.id)));
        if (current && current.ord === ref.ord) return declarationOf(current);
        const late = await getItem(keys.history(ref.id, ref.ord));
        if (late) return declarationOf(late);
        throw new LedgerStoreError(`${location}: no record ${ref.id} created at ${ref.ord}`);
      }),
    );
  };

  const byOrd = (a: { ord: string }, b: { ord: string }): number =>
    a.ord < b.ord ? -1 : a.ord > b.ord ? 1 : 0;

  // -------------------------------------------------------------------------------------------
  // Writes
  // -------------------------------------------------------------------------------------------

  const currentItem = (record: DeclarationRecord, ord: string, rev: number): Item => ({
    ...keys.current(record.id),
    rev,
    ord,
    record: plain(record),
    answers: answerIds(record),
    [GSI_PK]: DECLARATIONS,
    [GSI_SK]: ord,
  });

  const historyItem = (record: DeclarationRecord, ord: string): Item => ({
    ...keys.history(record.id, ord),
    ord,
    record: plain(record),
    [GSI_PK]: DECLARATIONS,
    [GSI_SK]: ord,
  });

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
   * Replaces the current record `stored` by `next`, conditional on the revision read and, for
   * an answer, on its response id being absent; look-ups for a new ticket or hash go in the
   * same transaction.
   */
  const saveCurrent = async (stored: StoredDeclaration, next: DeclarationRecord): Promise<void> => {
    if (stored.rev === undefined) {
      throw new LedgerStoreError(`${location}: ${next.id} is not a current record`);
    }
    const known = answerIds(stored.record);
    const fresh = answerIds(next).filter((id) => !known.includes(id));
    const values: Record<string, unknown> = { ':rev': stored.rev };
    fresh.forEach((id, i) => {
      values[`:answer${i}`] = id;
    });
    const condition: Condition = {
      ConditionExpression: [
        '#rev = :rev',
        ...fresh.map((_, i) => `NOT contains(#answers, :answer${i})`),
      ].join(' AND '),
      ExpressionAttributeNames:
        fresh.length > 0 ? { '#rev': 'rev', '#answers': 'answers' } : { '#rev': 'rev' },
      ExpressionAttributeValues: values,
    };
    const items = [put(currentItem(next, stored.ord, stored.rev + 1), condition)];
    const lookup = { id: next.id, ord: stored.ord };
    for (const ticket of next.tickets ?? []) {
      if (!(stored.record.tickets ?? []).includes(ticket)) {
        items.push(put({ ...keys.ticket(ticket, stored.ord), ...lookup }));
      }
    }
    if (next.sourceSha256 !== undefined && next.sourceSha256 !== stored.record.sourceSha256) {
      items.push(put({ ...keys.sha256(next.sourceSha256, stored.ord), ...lookup }));
    }
    await write(items);
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

  // -------------------------------------------------------------------------------------------
  // Sequences
  // -------------------------------------------------------------------------------------------

  // The sequences recorded declarations of a scope use, from `from` on.
  const usedFrom = async (scope: string, from: number): Promise<Set<string>> => {
    if (from > MAX_SEQUENCE) return new Set();
    const items = await queryAll({
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: {
        ':pk': scope,
        ':low': `USED#${formatSequence(from)}`,
        ':high': USED_UPPER_BOUND,
      },
      ConsistentRead: true,
    });
    return new Set(items.map((item) => String(item[SK]).split('#')[1] ?? ''));
  };

  const nextSequence = async (sender: string, date: string, env: Environment): Promise<string> => {
    validateSequenceScope(sender, date, env);
    const scope = { sender, date, env };
    const pk = keys.scope(sender, date, env);
    const counter = { [PK]: pk, [SK]: 'COUNTER' };
    // Fast path: the atomic counter hands this call a number no other call gets. It is kept
    // when the rules find it free; a number a declaration recorded by hand uses is skipped.
    let candidate: number | undefined;
    try {
      const out = await documents.send(
        new UpdateCommand({
          TableName: tableName,
          Key: counter,
          UpdateExpression: 'ADD #last :one',
          ConditionExpression: 'attribute_not_exists(#last) OR #last < :max',
          ExpressionAttributeNames: { '#last': 'last' },
          ExpressionAttributeValues: { ':one': 1, ':max': MAX_SEQUENCE },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      candidate = Number(out.Attributes?.last);
    } catch (error) {
      // At 99999 already: the rules below say so with SequenceExhaustedError.
      if (!isConditionFailed(error)) throw error;
    }
    if (candidate !== undefined) {
      const used = await usedFrom(pk, candidate);
      const fast = allocateSequence(scope, candidate - 1, (seq) => used.has(seq));
      if (fast.last === candidate) return fast.seq;
    }
    // Slow path: past used numbers, the counter moves to the rules' choice, conditional on the
    // value read, so no number is handed out twice.
    return retrying(`allocating a sequence of ${pk}`, async () => {
      const item = await getItem(counter);
      const last = item === undefined ? 0 : Number(item.last ?? 0);
      const used = await usedFrom(pk, last + 1);
      const allocated = allocateSequence(scope, last, (seq) => used.has(seq));
      await documents.send(
        new UpdateCommand({
          TableName: tableName,
          Key: counter,
          UpdateExpression: 'SET #last = :next',
          ConditionExpression:
            item === undefined || item.last === undefined
              ? 'attribute_not_exists(#last)'
              : '#last = :last',
          ExpressionAttributeNames: { '#last': 'last' },
          ExpressionAttributeValues:
            item === undefined || item.last === undefined
              ? { ':next': allocated.last }
              : { ':next': allocated.last, ':last': last },
        }),
      );
      return allocated.seq;
    });
  };

  // -------------------------------------------------------------------------------------------
  // Claims
  // -------------------------------------------------------------------------------------------

  const claim: Ledger['claim'] = async (request, claimOptions) => {
    const { id } = validateClaimRequest(request);
    const sourceKey = keys.source(request.source);
    return retrying(`claiming ${id}`, async () => {
      const [sourceItem, keyStored] = await Promise.all([getItem(sourceKey), getCurrent(id)]);
      const refs = refsOf((sourceItem?.refs as Item[] | undefined) ?? []).sort(byOrd);
      const ofSource = await resolve(refs);
      const decision = decideClaim({
        request,
        options: claimOptions,
        now: now(),
        sourceRecords: ofSource.map((stored) => stored.record),
        keyRecord: keyStored?.record,
      });
      if (decision.kind === 'resume') {
        // A live record is never superseded (rule 3), so it is the CURRENT item of its key.
        const live = ofSource.find(
          (stored) => stored.rev !== undefined && stored.record.id === decision.record.id,
        );
        if (!live) throw new LedgerStoreError(`${location}: live ${decision.record.id} not found`);
        await saveCurrent(live, decision.record);
        return { record: decision.record, resumed: true };
      }
      const { record, supersede } = decision;
      const ord = orderOf(record.createdAt);
      const items = [
        put(
          currentItem(record, ord, (keyStored?.rev ?? 0) + 1),
          keyStored?.rev === undefined ? ABSENT : revIs(keyStored.rev),
        ),
      ];
      if (supersede) {
        if (!keyStored) throw new LedgerStoreError(`${location}: ${id} vanished`);
        items.push(put(historyItem(supersede, keyStored.ord), ABSENT));
      }
      const sourceRev = sourceItem === undefined ? undefined : Number(sourceItem.rev);
      items.push(
        put(
          {
            ...sourceKey,
            rev: (sourceRev ?? 0) + 1,
            source: plain(record.source),
            refs: [...refs, { id, ord }],
          },
          sourceRev === undefined ? ABSENT : revIs(sourceRev),
        ),
        put({
          [PK]: keys.scope(record.key.sender, record.key.date, record.key.env),
          [SK]: `USED#${record.key.seq}#${record.key.app}`,
          id,
        }),
      );
      await write(items);
      return { record, resumed: false };
    });
  };

  // -------------------------------------------------------------------------------------------
  // Response sets
  // -------------------------------------------------------------------------------------------

  const responseOf = (item: Item): ResponseRecord => {
    const record = item.record as ResponseRecord | undefined;
    if (
      typeof record !== 'object' ||
      record === null ||
      (record.state !== 'stored' && record.state !== 'deleted')
    ) {
      throw new LedgerStoreError(`${location}: item ${keyText(item)} holds no response set`);
    }
    return record;
  };

  return {
    nextSequence: (sender, date, env) =>
      run('allocating a sequence', () => nextSequence(sender, date, env)),

    claim: (request, claimOptions) =>
      run('claiming a declaration', () => claim(request, claimOptions)),

    transition: (id, from, to, patch, transitionOptions) =>
      run('changing a state', () => {
        const expected = checkTransitionCall(from, to);
        return retrying(`moving ${id} to ${to}`, async () => {
          const stored = await getCurrent(id);
          if (!stored) throw new DeclarationNotFoundError(id);
          const next = applyTransition(
            stored.record,
            expected,
            to,
            patch,
            now(),
            transitionOptions,
          );
          // The rules hand back the stored record itself for a replayed answer: nothing to write.
          if (next !== stored.record) await saveCurrent(stored, next);
          return next;
        });
      }),

    renewLease: (id, owner, leaseMs) =>
      run('renewing a lease', () =>
        retrying(`renewing the lease of ${id}`, async () => {
          const stored = await getCurrent(id);
          if (!stored) throw new DeclarationNotFoundError(id);
          const next = applyLeaseRenewal(stored.record, owner, leaseMs, now());
          await saveCurrent(stored, next);
          return next;
        }),
      ),

    releaseLease: (id, owner) =>
      run('releasing a lease', () =>
        retrying(`releasing the lease of ${id}`, async () => {
          const stored = await getCurrent(id);
          if (!stored) throw new DeclarationNotFoundError(id);
          const next = applyLeaseRelease(stored.record, owner, now());
          await saveCurrent(stored, next);
          return next;
        }),
      ),

    get: (id) => run('reading a declaration', async () => (await getCurrent(id))?.record),

    findBySource: (source) =>
      run('finding a source', async () => {
        validateSourceQuery(source);
        const item = await getItem(keys.source(source));
        const latest = refsOf((item?.refs as Item[] | undefined) ?? [])
          .sort(byOrd)
          .at(-1);
        if (!latest) return undefined;
        const [stored] = await resolve([latest]);
        return stored && sameSource(stored.record.source, source) ? stored.record : undefined;
      }),

    findByFileName: (name) =>
      run('finding a file name', async () => {
        const id = keyOfFileName(name);
        return id === undefined ? undefined : (await getCurrent(id))?.record;
      }),

    findByTicket: (ticket) =>
      run('finding a ticket', async () => {
        const wanted = validateTicket(ticket);
        const refs = refsOf(
          await queryAll({
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':pk': keys.ticket(wanted, '')[PK] },
            ConsistentRead: true,
          }),
        );
        const found = await batchGet(refs.map((ref) => keys.current(ref.id)));
        // Only a current record counts: a superseded one's ref no longer matches CURRENT's ord.
        const holders = refs
          .map((ref) => {
            const item = found.get(keyText(keys.current(ref.id)));
            return item && item.ord === ref.ord ? declarationOf(item) : undefined;
          })
          .filter((stored): stored is StoredDeclaration => stored !== undefined)
          .filter(
            (stored) =>
              stored.record.supersededAt === undefined &&
              (stored.record.tickets ?? []).includes(wanted),
          );
        return holders.sort(byOrd).at(-1)?.record;
      }),

    findLaunchedBySha256: (sha256) =>
      run('finding a content hash', async () => {
        const hash = normalizeSha256(sha256);
        const refs = refsOf(
          await queryAll({
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':pk': keys.sha256(hash, '')[PK] },
            ConsistentRead: true,
          }),
        ).sort(byOrd);
        const records = await resolve(refs);
        return records
          .map((stored) => stored.record)
          .filter((r) => r.sourceSha256 === hash && stageOf(r.state) === 'committed');
      }),

    list: (filter) =>
      run('listing declarations', async () => {
        const normalized = normalizeListFilter(filter);
        const items = await queryByTime(DECLARATIONS, normalized.since);
        return items
          .map((item) => declarationOf(item).record)
          .filter((record) => matchesListFilter(record, normalized));
      }),

    recordResponse: (request) =>
      run('recording a response set', async () => {
        const record = buildResponseRecord(request, now());
        const ord = orderOf(record.storedAt);
        try {
          await documents.send(
            new PutCommand({
              TableName: tableName,
              Item: {
                ...keys.response(record.id),
                rev: 1,
                ord,
                record: plain(record),
                [GSI_PK]: RESPONSES,
                [GSI_SK]: ord,
              },
              ...ABSENT,
            }),
          );
          return { record, created: true };
        } catch (error) {
          if (!isConditionFailed(error)) throw error;
        }
        const existing = await getItem(keys.response(record.id));
        if (!existing) throw new LedgerStoreError(`${location}: response ${record.id} vanished`);
        return { record: responseOf(existing), created: false };
      }),

    updateResponse: (id, patch) =>
      run('updating a response set', () =>
        retrying(`updating response set ${id}`, async () => {
          const item = await getItem(keys.response(id));
          if (!item) throw new ResponseNotFoundError(id);
          const stored = responseOf(item);
          const next = applyResponsePatch(stored, patch, now());
          if (next === stored) return stored;
          const rev = Number(item.rev);
          await documents.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...item, rev: rev + 1, record: plain(next) },
              ...revIs(rev),
            }),
          );
          return next;
        }),
      ),

    getResponse: (id) =>
      run('reading a response set', async () => {
        const item = await getItem(keys.response(id));
        return item && responseOf(item);
      }),

    listResponses: (filter) =>
      run('listing response sets', async () => {
        const normalized = normalizeResponseListFilter(filter);
        const items = await queryByTime(RESPONSES, normalized.since);
        return items
          .map(responseOf)
          .filter((record) => matchesResponseListFilter(record, normalized));
      }),

    acquireRunLease: (name, owner, leaseMs) =>
      run('taking a run lease', () =>
        retrying(`taking the run lease ${String(name)}`, async () => {
          const key = keys.runLease(validateRunLeaseName(name));
          const item = await getItem(key);
          const current: RunLease | undefined = item && {
            name,
            owner: String(item.owner),
            until: String(item.until),
          };
          const next = decideRunLease(current, { name, owner, leaseMs }, now());
          if (next === undefined) return false;
          // Conditional on the lease read: two runs that both saw it free or ended cannot both
          // take it; the loser reads the winner's lease and is refused by the rules.
          await documents.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...key, owner: next.owner, until: next.until },
              ...(current === undefined
                ? ABSENT
                : {
                    ConditionExpression: '#owner = :owner AND #until = :until',
                    ExpressionAttributeNames: { '#owner': 'owner', '#until': 'until' },
                    ExpressionAttributeValues: { ':owner': current.owner, ':until': current.until },
                  }),
            }),
          );
          return true;
        }),
      ),

    releaseRunLease: (name, owner) =>
      run('releasing a run lease', async () => {
        const key = keys.runLease(validateRunLeaseName(name));
        try {
          await documents.send(
            new DeleteCommand({
              TableName: tableName,
              Key: key,
              ConditionExpression: '#owner = :owner',
              ExpressionAttributeNames: { '#owner': 'owner' },
              ExpressionAttributeValues: { ':owner': validateOwner(owner) },
            }),
          );
        } catch (error) {
          // Held by another owner, or by nobody: nothing to release.
          if (!isConditionFailed(error)) throw error;
        }
      }),

    async close() {
      closed = true;
    },
  };

  // Records of one kind in time order, from `since` on: a Query of the time index, paginated.
  async function queryByTime(kind: string, since: string | undefined): Promise<Item[]> {
    return queryAll({
      IndexName: LEDGER_TIME_INDEX,
      KeyConditionExpression:
        since === undefined ? '#gpk = :gpk' : '#gpk = :gpk AND #gsk >= :since',
      ExpressionAttributeNames:
        since === undefined ? { '#gpk': GSI_PK } : { '#gpk': GSI_PK, '#gsk': GSI_SK },
      ExpressionAttributeValues:
        since === undefined ? { ':gpk': kind } : { ':gpk': kind, ':since': since },
    });
  }
}

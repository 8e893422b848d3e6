import {
  DescribeTableCommand,
  DynamoDBClient,
  ThrottlingException,
  TransactionCanceledException,
  ConditionalCheckFailedException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import {
  DEFAULT_LEDGER_MAX_ATTEMPTS,
  LedgerContentionError,
  createDynamoDbLedger,
} from '../../../functions/aws/dynamodb-ledger';
import type { DynamoDbLedgerOptions } from '../../../functions/aws/dynamodb-ledger';
import { LEDGER_TABLE, createLedgerTable } from '../../../functions/aws/ledger-table';
import {
  LedgerError,
  LedgerRequestError,
  LedgerStoreError,
  NameAlreadySentError,
  SendInProgressError,
  SequenceExhaustedError,
  StateConflictError,
} from '../../../shared/ledger';
import type { Ledger, LedgerOptions } from '../../../shared/ledger';
import { describeLedgerContract } from '../../ledger/contract';
import {
  DATE,
  SENDER,
  acknowledgement,
  claimRequest,
  idOf,
  newResponse,
  notification,
  OTHER_OWNER,
  OWNER,
  own,
  responseIdOf,
  sha,
  source,
} from '../../ledger/fixtures';
import { startLocalDynamoDb } from './helpers/local-dynamodb';
import type { LocalDynamoDb } from './helpers/local-dynamodb';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

let local: LocalDynamoDb;
let client: DynamoDBClient;
let tables = 0;
// Every command the ledgers sent, by name: the look-ups must never Scan.
const commands = new Set<string>();

function newClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: local.endpoint,
    region: 'eu-west-1',
    credentials: CREDENTIALS,
  });
}

/** A new, empty table and a ledger on it. */
async function freshLedger(
  options: LedgerOptions & Partial<DynamoDbLedgerOptions> = {},
): Promise<{ ledger: Ledger; tableName: string }> {
  tables += 1;
  const tableName = `ledger-${tables}`;
  await createLedgerTable(client, tableName);
  return { ledger: createDynamoDbLedger({ client, tableName, ...options }), tableName };
}

beforeAll(async () => {
  local = await startLocalDynamoDb();
  client = newClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.add(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordCommandNames' },
  );
});

afterAll(async () => {
  client?.destroy();
  await local?.close();
});

describeLedgerContract('dynamodb', async (options) => (await freshLedger(options)).ledger);

describe('dynamodb ledger: the table', () => {
  it('describes the table the CDK stack creates: pk/sk and one time index', async () => {
    // Prepare
    const { tableName } = await freshLedger();

    // Act
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));

    // Assess
    expect(LEDGER_TABLE).toEqual({
      partitionKey: 'pk',
      sortKey: 'sk',
      indexes: [{ indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
    });
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['gsi1']);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('never scanned the table while the contract ran', () => {
    expect(commands.has('GetItemCommand')).toBe(true);
    expect(commands.has('QueryCommand')).toBe(true);
    expect(commands.has('TransactWriteItemsCommand')).toBe(true);
    expect(commands.has('ScanCommand')).toBe(false);
  });

  it('refuses options that cannot work', () => {
    expect(() => createDynamoDbLedger({ client, tableName: '' })).toThrow(LedgerRequestError);
    expect(() => createDynamoDbLedger({ client, tableName: 't', maxAttempts: 0 })).toThrow(
      LedgerRequestError,
    );
  });
});

describe('dynamodb ledger: two instances at once', () => {
  let tableName: string;
  let one: Ledger;
  let two: Ledger;
  let otherClient: DynamoDBClient;

  beforeEach(async () => {
    ({ ledger: one, tableName } = await freshLedger());
    // Two processes: two clients, two ledgers, one table.
    otherClient = newClient();
    two = createDynamoDbLedger({ client: otherClient, tableName });
  });

  afterEach(async () => {
    await Promise.all([one.close(), two.close()]);
    otherClient.destroy();
  });

  it('lets exactly one of two runs claim a source; the other is refused while it sends', async () => {
    const before = local.transactions();
    for (let round = 1; round <= 5; round += 1) {
      // Prepare: each round its own source; the runs ask different keys
      const from = source(`race-${round}`);

      // Act
      const outcomes = await Promise.allSettled([
        one.claim(claimRequest(`0000${round}`, from), own({}, OWNER)),
        two.claim(claimRequest(`0010${round}`, from), own({}, OTHER_OWNER)),
      ]);

      // Assess
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o) => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(SendInProgressError);
      const found = await one.findBySource(from);
      expect(found).toEqual((won[0] as PromiseFulfilledResult<{ record: unknown }>).value.record);
      expect(found?.attempt).toBe(1);
    }
    expect((await one.list()).length).toBe(5);
    // The race was real: losers got as far as their transaction, which was cancelled and the
    // claim decided again, rather than reading the winner's record in time.
    expect(local.transactions() - before).toBeGreaterThan(5);
  });

  it('lets exactly one of two sources take one name', async () => {
    // Act
    const outcomes = await Promise.allSettled([
      one.claim(claimRequest('00001', source('a')), own({}, OWNER)),
      two.claim(claimRequest('00001', source('b')), own({}, OTHER_OWNER)),
    ]);

    // Assess
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(NameAlreadySentError);
    expect(await one.list({ includeSuperseded: true })).toHaveLength(1);
  });

  it('lets one of two racing moves win; the other sees the state it lost to', async () => {
    // Prepare
    const { record } = await one.claim(claimRequest('00001', source('a')), own());
    await one.transition(record.id, 'planned', 'uploading');

    // Act
    const outcomes = await Promise.allSettled([
      one.transition(record.id, 'uploading', 'launching'),
      two.transition(record.id, 'uploading', 'failed', {
        failure: { code: 'ACRF-102', message: 'bad XML' },
      }),
    ]);

    // Assess
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(StateConflictError);
    const winner = (won[0] as PromiseFulfilledResult<{ state: string }>).value.state;
    expect((lost.reason as StateConflictError).actual).toBe(winner);
    expect((await one.get(record.id))?.state).toBe(winner);
  });

  it('keeps both of two notifications recorded at once: no update is lost', async () => {
    // Prepare
    const { record } = await one.claim(claimRequest('00001', source('a')), own());
    for (const to of ['uploading', 'launching', 'launched'] as const) {
      await one.transition(record.id, (await one.get(record.id))!.state, to);
    }

    // Act
    await Promise.all([
      one.transition(record.id, ['launched', 'notified'], 'notified', {
        notification: notification(responseIdOf('00001', 'NOTI'), { ticket: 'D1' }),
      }),
      two.transition(record.id, ['launched', 'notified'], 'notified', {
        notification: notification(responseIdOf('00002', 'NOTI'), { ticket: 'D2' }),
      }),
    ]);

    // Assess
    const stored = await one.get(record.id);
    expect(stored?.notifications?.map((n) => n.response).sort()).toEqual([
      responseIdOf('00001', 'NOTI'),
      responseIdOf('00002', 'NOTI'),
    ]);
    expect(stored?.tickets?.slice().sort()).toEqual(['D1', 'D2']);
    expect(await two.findByTicket('D1')).toEqual(stored);
    expect(await two.findByTicket('D2')).toEqual(stored);
  });

  it('records one replayed answer once when two runs record it at once', async () => {
    // Prepare
    const { record } = await one.claim(claimRequest('00001', source('a')), own());
    for (const to of ['uploading', 'launching', 'launched'] as const) {
      await one.transition(record.id, (await one.get(record.id))!.state, to);
    }
    const ack = { acknowledgement: acknowledgement(responseIdOf('00001'), { ticket: 'F1' }) };

    // Act
    const [a, b] = await Promise.all([
      one.transition(record.id, 'launched', 'acknowledged', ack),
      two.transition(record.id, 'launched', 'acknowledged', ack),
    ]);

    // Assess
    expect(a).toEqual(b);
    expect(await one.get(record.id)).toEqual(a);
  });

  it('gives distinct sequences to many calls at once, skipping one recorded by hand', async () => {
    // Prepare: 00005 is recorded explicitly
    await one.claim(claimRequest('00005', source('hand')), own());

    // Act: 24 calls split over two ledgers
    const seqs = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 === 0 ? one : two).nextSequence(SENDER, DATE, 'R'),
      ),
    );

    // Assess
    expect(new Set(seqs).size).toBe(24);
    expect(seqs).not.toContain('00005');
    expect(seqs.slice().sort()).toEqual(
      Array.from({ length: 25 }, (_, i) => String(i + 1).padStart(5, '0')).filter(
        (seq) => seq !== '00005',
      ),
    );
  });

  it('gives a run lease to one of two runs asking at once', async () => {
    // Act
    const got = await Promise.all([
      one.acquireRunLease('pull', OWNER, 60_000),
      two.acquireRunLease('pull', OTHER_OWNER, 60_000),
    ]);

    // Assess
    expect(got.filter(Boolean)).toHaveLength(1);
  });

  it('keeps the hash look-up of a record that a resend superseded', async () => {
    // Prepare: source a launched with hash c, its key then resent for source b
    const { record } = await one.claim(claimRequest('00001', source('a')), own());
    await one.transition(record.id, 'planned', 'uploading', { sourceSha256: sha('c') });
    await one.transition(record.id, 'uploading', 'launching');
    await two.claim(claimRequest('00001', source('b')), own({ resend: true }));

    // Act
    const found = await two.findLaunchedBySha256(sha('c'));

    // Assess
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ id: idOf('00001'), source: source('a') });
    expect(found[0]?.supersededAt).toBeDefined();
  });
});

describe('dynamodb ledger: items and clients', () => {
  it('throws SequenceExhaustedError past 99999 and stays exhausted', async () => {
    // Prepare: the counter of a scope at 99998 (as 99998 allocations leave it), 99999 by hand
    const { ledger, tableName } = await freshLedger();
    const documents = DynamoDBDocumentClient.from(client);
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: `SCOPE#${SENDER}.${DATE}.T`, sk: 'COUNTER', last: 99_998 },
      }),
    );
    await ledger.claim(claimRequest('99999', source('a'), { env: 'T' }), own());

    // Act
    const outcome = ledger.nextSequence(SENDER, DATE, 'T');

    // Assess
    await expect(outcome).rejects.toThrow(SequenceExhaustedError);
    await expect(ledger.nextSequence(SENDER, DATE, 'T')).rejects.toMatchObject({
      code: 'SEQUENCE_EXHAUSTED',
    });
    expect(await ledger.nextSequence(SENDER, DATE, 'R')).toBe('00001');
    await ledger.close();
  });

  it('records a response set once when two runs record it at once', async () => {
    // Prepare
    const { ledger: one, tableName } = await freshLedger();
    const two = createDynamoDbLedger({ client, tableName });

    // Act
    const results = await Promise.all([
      one.recordResponse(newResponse('00001')),
      two.recordResponse(newResponse('00001', { signature: 'valid' })),
    ]);

    // Assess
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect(results[0]?.record).toEqual(results[1]?.record);
    expect(await one.listResponses()).toHaveLength(1);
  });

  it('works over a document client, and keeps the options another adapter gave the client', async () => {
    // Prepare: another adapter's document client over the same client
    const shared = newClient();
    const theirs = DynamoDBDocumentClient.from(shared, {
      marshallOptions: { removeUndefinedValues: true },
    });
    tables += 1;
    const tableName = `ledger-${tables}`;
    await createLedgerTable(shared, tableName);

    // Act
    const overClient = createDynamoDbLedger({ client: shared, tableName });
    const overDocuments = createDynamoDbLedger({ client: theirs, tableName });
    const { record } = await overClient.claim(claimRequest('00001', source('a')), own());

    // Assess
    expect(await overDocuments.get(record.id)).toEqual(record);
    expect(theirs.config.translateConfig?.marshallOptions?.removeUndefinedValues).toBe(true);
    await theirs.send(
      new PutCommand({ TableName: tableName, Item: { pk: 'X', sk: 'Y', gone: undefined } }),
    );
    shared.destroy();
  });
});

describe('dynamodb ledger: SDK failures (strict mock)', () => {
  // Mocks every document client's send: made only now, so the suites above talk to dynalite.
  let documents: AwsClientStub<DynamoDBDocumentClient>;

  beforeAll(() => {
    documents = mockClient(DynamoDBDocumentClient);
  });

  beforeEach(() => {
    documents.reset();
    // Strict: a command this test did not expect fails loudly.
    documents.onAnyCommand().callsFake((input: unknown) => {
      throw new Error(`unexpected command ${JSON.stringify(input)}`);
    });
  });

  afterAll(() => {
    documents.restore();
  });

  const mocked = (extra: Partial<DynamoDbLedgerOptions> = {}): Ledger =>
    createDynamoDbLedger({
      client: new DynamoDBClient({ region: 'eu-west-1', credentials: CREDENTIALS }),
      tableName: 'ledger',
      ...extra,
    });

  it('turns a throttling error into LedgerStoreError, the SDK error kept as cause', async () => {
    // Prepare
    const throttled = new ThrottlingException({ message: 'Rate exceeded', $metadata: {} });
    documents.on(GetCommand).rejects(throttled);

    // Act
    const error: unknown = await mocked()
      .get(idOf('00001'))
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(LedgerStoreError);
    expect(error).toBeInstanceOf(LedgerError);
    expect(error).not.toBeInstanceOf(ThrottlingException);
    expect(error).toMatchObject({ code: 'LEDGER_STORE_FAILED', name: 'LedgerStoreError' });
    expect((error as Error).message).toContain('ThrottlingException');
    expect((error as Error).message).toContain('ledger');
    expect((error as Error).cause).toBe(throttled);
  });

  it('turns a cancelled transaction that is not a conflict into LedgerStoreError', async () => {
    // Prepare: a claim of a new set reads nothing, then its transaction is refused
    documents.on(GetCommand).resolves({});
    documents.on(QueryCommand).resolves({ Items: [] });
    const cancelled = new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: [{ Code: 'ValidationError' }, { Code: 'None' }, { Code: 'None' }],
    });
    documents.on(TransactWriteCommand).rejects(cancelled);

    // Act
    const error: unknown = await mocked()
      .claim(claimRequest('00001', source('a')), own())
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(LedgerStoreError);
    expect(error).not.toBeInstanceOf(LedgerContentionError);
    expect((error as Error).cause).toBe(cancelled);
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('gives up with LedgerContentionError after maxAttempts lost races, writing nothing', async () => {
    // Prepare: every conditional write finds the item changed
    documents.on(GetCommand).resolves({});
    const conflict = new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
    });
    documents.on(PutCommand).rejects(conflict);

    // Act
    const error: unknown = await mocked({ maxAttempts: 3 })
      .acquireRunLease('pull', OWNER, 60_000)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(LedgerContentionError);
    expect(error).toMatchObject({ code: 'LEDGER_STORE_FAILED', name: 'LedgerContentionError' });
    expect((error as Error).cause).toBe(conflict);
    expect(documents.commandCalls(PutCommand)).toHaveLength(3);
    expect(DEFAULT_LEDGER_MAX_ATTEMPTS).toBeGreaterThan(3);
  });

  it('maps an error that is not an SDK error too', async () => {
    // Prepare
    documents.on(GetCommand).rejects(new Error('socket hang up'));

    // Act / Assess
    await expect(mocked().getResponse(responseIdOf('00001'))).rejects.toMatchObject({
      name: 'LedgerStoreError',
      code: 'LEDGER_STORE_FAILED',
    });
  });
});

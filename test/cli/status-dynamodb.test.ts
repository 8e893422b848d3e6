import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbLedger, createLedgerTable } from '../../functions/aws';
import type { Ledger } from '../../shared/ledger';
import {
  acknowledgement,
  claimRequest,
  driveToLaunched,
  idOf,
  notification,
  own,
  responseIdOf,
  source,
} from '../ledger/fixtures';
import { startLocalDynamoDb, type LocalDynamoDb } from '../functions/aws/helpers/local-dynamodb';
import { cli } from '../helpers/cli';

// `status --table`: an operator reads the deployed DynamoDB ledger from a laptop, with the
// SDK's default credentials (here from the environment) and endpoint (dynalite on loopback).

const TABLE = 'onss-ledger';
const REGION = 'eu-west-1';
let dynamo: LocalDynamoDb;
let admin: DynamoDBClient;
let ledger: Ledger;
const saved: Record<string, string | undefined> = {};
const SDK_ENV = {
  AWS_ENDPOINT_URL_DYNAMODB: () => dynamo.endpoint,
  AWS_ACCESS_KEY_ID: () => 'test',
  AWS_SECRET_ACCESS_KEY: () => 'test',
};

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  admin = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await createLedgerTable(admin, TABLE);
  ledger = createDynamoDbLedger({ client: admin, tableName: TABLE });
  // One declaration refused by its notification, one still uploading.
  const { record } = await ledger.claim(claimRequest('00001', source('a')), own());
  await driveToLaunched(ledger, record.id);
  await ledger.transition(record.id, 'launched', 'acknowledged', {
    acknowledgement: acknowledgement(responseIdOf('00001', 'ACRF')),
  });
  await ledger.transition(record.id, 'acknowledged', 'refused', {
    notification: notification(responseIdOf('00002', 'NOTI'), {
      result: 'refused',
      accepted: false,
      withAnomalies: true,
      anomalyCount: 1,
      diagnosis: 3,
      anomalies: [{ errorId: '00024-152', anomalyClass: 'B', tagName: 'INSS' }],
    }),
  });
  const second = await ledger.claim(claimRequest('00002', source('b')), own());
  await ledger.transition(second.record.id, 'planned', 'uploading', undefined, { owner: 'run-a' });
  for (const [name, value] of Object.entries(SDK_ENV)) {
    saved[name] = process.env[name];
    process.env[name] = value();
  }
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await ledger?.close();
  admin?.destroy();
  await dynamo?.close();
});

describe('onss-transfer status --table (the deployed DynamoDB ledger)', () => {
  it('lists every declaration with its state and what its notification said', async () => {
    const run = await cli(['status', '--table', TABLE, '--region', REGION]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${idOf('00001')}  refused`);
    expect(run.stdout).toContain('notification: refused: rejected for blocking anomalies');
    expect(run.stdout).toContain('00024-152 annex-30 code 152');
    expect(run.stdout).toContain(`${idOf('00002')}  uploading`);
  });

  it('filters by state and by name, in JSON', async () => {
    const refused = await cli([
      'status',
      '--table',
      TABLE,
      '--region',
      REGION,
      '--state',
      'refused',
      '--json',
    ]);
    expect(JSON.parse(refused.stdout)).toEqual([
      expect.objectContaining({ set: idOf('00001'), state: 'refused' }),
    ]);
    const one = await cli([
      'status',
      idOf('00002'),
      '--table',
      TABLE,
      '--region',
      REGION,
      '--json',
    ]);
    expect(JSON.parse(one.stdout)).toEqual([
      expect.objectContaining({ set: idOf('00002'), state: 'uploading' }),
    ]);
  });

  it('names a table that is not there, and refuses --table with --ledger, --region alone', async () => {
    const missing = await cli(['status', '--table', 'no-such-table', '--region', REGION]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no-such-table');
    const both = await cli(['status', '--table', TABLE, '--ledger', '/tmp/x.sqlite']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
    const region = await cli(['status', '--region', REGION]);
    expect(region.code).toBe(2);
    expect(region.stderr).toContain('--region goes with --table');
  });
});

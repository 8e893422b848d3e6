import type * as DynamoModule from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type * as EventsModule from '@aws-sdk/client-eventbridge';
import type { EventBridgeClient, PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import type * as S3Module from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type * as SecretsModule from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type * as SnsModule from '@aws-sdk/client-sns';
import type { PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { ENV_NAMES } from '../../../functions/config/names';
import { FUNCTION_ENV } from '../helpers/function-env';

// The handler is the wiring only: these tests check it reads its configuration, refuses a bad
// one, and reaches the right services for a refused declaration, with every SDK call mocked.
// The send itself against emulators is in send-emulated.test.ts.

const ENV: Record<string, string> = {
  ...FUNCTION_ENV,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

type Handler = (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: unknown[] }>;

/**
 * A fresh handler module (its configuration is read once per module) with strict mocks of the
 * SDK clients of that same module registry: a mock made outside would stub another copy.
 */
function loadHandler() {
  let loaded:
    | {
        handler: Handler;
        s3: AwsClientStub<S3Client>;
        dynamodb: AwsClientStub<DynamoDBClient>;
        secrets: AwsClientStub<SecretsManagerClient>;
        events: AwsClientStub<EventBridgeClient>;
        sns: AwsClientStub<SNSClient>;
      }
    | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module copy
    const load = <T>(name: string): T => require(name) as T;
    loaded = {
      s3: mockClient(load<typeof S3Module>('@aws-sdk/client-s3').S3Client),
      dynamodb: mockClient(load<typeof DynamoModule>('@aws-sdk/client-dynamodb').DynamoDBClient),
      secrets: mockClient(
        load<typeof SecretsModule>('@aws-sdk/client-secrets-manager').SecretsManagerClient,
      ),
      events: mockClient(
        load<typeof EventsModule>('@aws-sdk/client-eventbridge').EventBridgeClient,
      ),
      sns: mockClient(load<typeof SnsModule>('@aws-sdk/client-sns').SNSClient),
      handler: load<{ handler: Handler }>('../../../functions/send/handler').handler,
    };
  });
  if (loaded === undefined) throw new Error('the handler did not load');
  const { handler, ...mocks } = loaded;
  return { handler, mocks, all: Object.values(mocks) };
}

const context = { awsRequestId: 'req-1', functionName: 'send' } as unknown as Context;

function messageFor(bucket: string, key: string): SQSEvent {
  const body = JSON.stringify({
    Records: [
      {
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key) } },
      },
    ],
  });
  return { Records: [{ messageId: 'm-1', body }] } as unknown as SQSEvent;
}

describe('send handler', () => {
  const saved = { ...process.env };

  beforeEach(() => {
    process.env = { ...saved, ...ENV };
  });

  afterAll(() => {
    process.env = saved;
  });

  it('ignores an object of another bucket without calling any service', async () => {
    const { handler, all } = loadHandler();

    const result = await handler(messageFor('other-bucket', 'outbox/x.xml'), context);

    expect(result.batchItemFailures).toEqual([]);
    for (const mock of all) expect(mock.calls()).toHaveLength(0);
  });

  it('refuses a key outside the layout, raises declaration.failed and does not retry', async () => {
    const { handler, mocks } = loadHandler();
    const { events, sns, s3, secrets } = mocks;
    // Commands of the isolated registry: matched by any command, inspected by their input.
    events.onAnyCommand().resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    sns.onAnyCommand().resolves({ MessageId: 'm' });

    const result = await handler(messageFor('onss-bucket', 'outbox/payroll.xml'), context);

    expect(result.batchItemFailures).toEqual([]);
    const put = events.call(0).args[0].input as PutEventsCommandInput;
    expect(put?.Entries?.[0]).toMatchObject({
      DetailType: 'declaration.failed',
      Source: 'onss-transfer',
      EventBusName: 'default',
    });
    expect(JSON.parse(put?.Entries?.[0]?.Detail ?? '{}')).toMatchObject({
      errors: [{ id: 'OUTBOX_KEY_LAYOUT' }],
    });
    expect(events.calls()).toHaveLength(1);
    expect((sns.call(0).args[0].input as PublishCommandInput).TopicArn).toBe(
      ENV[ENV_NAMES.topicArn],
    );
    expect(s3.calls()).toHaveLength(0);
    expect(secrets.calls()).toHaveLength(0);
  });

  it('fails the invocation with every configuration problem named', async () => {
    delete process.env[ENV_NAMES.bucket];
    process.env[ENV_NAMES.sender] = 'abc';

    const run = loadHandler().handler(messageFor('onss-bucket', 'outbox/x.xml'), context);

    await expect(run).rejects.toMatchObject({ code: 'CONFIGURATION' });
    await expect(run).rejects.toThrow(/ONSS_BUCKET is not set.*ONSS_SENDER/);
  });
});

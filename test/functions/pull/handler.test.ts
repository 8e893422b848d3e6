import type * as DynamoModule from '@aws-sdk/client-dynamodb';
import type * as SecretsModule from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ENV_NAMES } from '../../../functions/config/names';
import { FUNCTION_ENV } from '../helpers/function-env';

// The pull handler's wiring with channels: the channel the schedule's event names is the one
// pulled (its secrets read, no other channel's), and an event that names none badly is refused.
// Every SDK call is mocked; the pulls themselves are in channels.test.ts.

const CHANNELS = ['east', 'west'].map((name, index) => ({
  name,
  sender: `12345${index}`,
  host: '127.0.0.1',
  port: 1,
  protocol: 'ftp',
  serverSecretId: `${name}/server`,
  signingSecretId: `${name}/signing`,
}));

const ENV: Record<string, string | undefined> = {
  ...FUNCTION_ENV,
  [ENV_NAMES.sender]: undefined,
  [ENV_NAMES.host]: undefined,
  [ENV_NAMES.serverSecretId]: undefined,
  [ENV_NAMES.signingSecretId]: undefined,
  [ENV_NAMES.channels]: JSON.stringify(CHANNELS),
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** A fresh handler module with mocks of its own SDK clients (see the send handler's test). */
function loadHandler(): { handler: Handler; secrets: AwsClientStub<SecretsManagerClient> } {
  let loaded: { handler: Handler; secrets: AwsClientStub<SecretsManagerClient> } | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module copy
    const load = <T>(name: string): T => require(name) as T;
    const sdk = load<typeof SecretsModule>('@aws-sdk/client-secrets-manager');
    const secrets = mockClient(sdk.SecretsManagerClient);
    secrets.on(sdk.GetSecretValueCommand).rejects(new Error('no value in this test'));
    secrets.on(sdk.DescribeSecretCommand).resolves({ LastChangedDate: new Date() });
    // Every ledger call answers "done": the run lease is taken, nothing is recorded.
    mockClient(load<typeof DynamoModule>('@aws-sdk/client-dynamodb').DynamoDBClient)
      .onAnyCommand()
      .resolves({});
    loaded = {
      secrets,
      handler: load<{ handler: Handler }>('../../../functions/pull/handler').handler,
    };
  });
  if (loaded === undefined) throw new Error('the handler did not load');
  return loaded;
}

const context = { awsRequestId: 'req-1', functionName: 'pull' } as unknown as Context;

describe('pull handler with channels', () => {
  const saved = { ...process.env };

  beforeEach(() => {
    process.env = { ...saved, ...ENV };
    for (const [name, value] of Object.entries(ENV))
      if (value === undefined) delete process.env[name];
  });

  afterAll(() => {
    process.env = saved;
  });

  it("pulls the channel its event names, reading that channel's secrets only", async () => {
    const { handler, secrets } = loadHandler();

    const run = handler({ channel: 'west' }, context);

    // The server secret cannot be read here: west's pull fails, and only west's was tried.
    await expect(run).rejects.toThrow(/the pull of west failed/);
    const read = secrets
      .calls()
      .map((call) => (call.args[0].input as { SecretId: string }).SecretId);
    expect(read.length).toBeGreaterThan(0);
    expect(read.every((id) => id.startsWith('west/'))).toBe(true);
  });

  it('pulls every channel in turn when the event names none', async () => {
    const { handler, secrets } = loadHandler();

    await expect(handler({}, context)).rejects.toThrow(/the pull of east, west failed/);
    const read = secrets
      .calls()
      .map((call) => (call.args[0].input as { SecretId: string }).SecretId);
    expect(read.some((id) => id.startsWith('east/'))).toBe(true);
    expect(read.some((id) => id.startsWith('west/'))).toBe(true);
  });

  it.each([{ channel: 5 }, { channel: null }])(
    'refuses an event whose channel is not a name (%j), pulling nothing',
    async (event) => {
      const { handler, secrets } = loadHandler();

      await expect(handler(event, context)).rejects.toMatchObject({ code: 'CONFIGURATION' });
      expect(secrets.calls()).toHaveLength(0);
    },
  );
});

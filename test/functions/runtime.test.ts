import { generateKeyPairSync } from 'node:crypto';
import type { ChannelConfig } from '../../functions/config/environment';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { readSendConfig } from '../../functions/config/environment';
import { connectorLoader, createAwsClients, sendPorts } from '../../functions/runtime';
import { makeIdentity } from '../helpers/pki';
import { FUNCTION_ENV } from './helpers/function-env';
import type { SecretSource } from '../../shared/secrets';

const PIN = `SHA256:${'A'.repeat(43)}`;

function secretsOf(value: Record<string, unknown>): SecretSource {
  return { getSecretString: async () => JSON.stringify(value) };
}

function channel(protocol: ChannelConfig['protocol'], port = 21): ChannelConfig {
  return { host: 'transfer.example.be', port, protocol, serverSecretId: 'server' };
}

const sshKey = (): string =>
  generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('connectorLoader', () => {
  it.each([
    { protocol: 'ftp' as const, port: 21 },
    { protocol: 'ftps' as const, port: 21 },
  ])('connects over $protocol with the password of the secret', async ({ protocol, port }) => {
    const load = connectorLoader(secretsOf({ user: 'sender', password: 'pw' }), channel(protocol));
    const connector = await load();
    expect(connector.describe()).toBe(`${protocol}://sender@transfer.example.be:${port}`);
    expect(connector.describe()).not.toContain('pw');
  });

  it('connects over SFTP with the key and the pinned host key of the secret', async () => {
    const secrets = secretsOf({ user: 'sender', privateKeyPem: sshKey(), hostKeySha256: PIN });
    const connector = await connectorLoader(secrets, channel('sftp', 8022))();
    expect(connector.describe()).toBe('sftp://sender@transfer.example.be:8022');
  });

  it('refuses SFTP without a pinned host key: a function cannot trust on first use', async () => {
    const secrets = secretsOf({ user: 'sender', privateKeyPem: sshKey() });
    await expect(connectorLoader(secrets, channel('sftp', 8022))()).rejects.toMatchObject({
      code: 'CONFIGURATION',
      message: expect.stringContaining('hostKeySha256'),
    });
  });

  it('refuses an SSH key for FTP or FTPS', async () => {
    const secrets = secretsOf({ user: 'sender', privateKeyPem: sshKey() });
    await expect(connectorLoader(secrets, channel('ftps'))()).rejects.toMatchObject({
      code: 'CONFIGURATION',
    });
  });

  it.each([
    { protocol: 'ftp' as const, field: 'serverCertSha256', value: async () => 'AB'.repeat(32) },
    {
      protocol: 'ftp' as const,
      field: 'caPem',
      value: async () => (await makeIdentity('ec256')).certPem,
    },
    { protocol: 'ftps' as const, field: 'hostKeySha256', value: async () => PIN },
  ])(
    'refuses a pin for another protocol ($field with $protocol) rather than connect without it',
    async ({ protocol, field, value }) => {
      const secrets = secretsOf({ user: 'sender', password: 'pw', [field]: await value() });
      const loading = connectorLoader(secrets, channel(protocol))();
      await expect(loading).rejects.toMatchObject({ code: 'CONFIGURATION' });
      await expect(loading).rejects.toThrow(`"${field}"`);
      await expect(loading).rejects.toThrow(`protocol is ${protocol}`);
    },
  );
});

describe('sendPorts', () => {
  it('puts a busy message back on the send queue as a new message, delayed', async () => {
    // Prepare
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-2' });
    const config = readSendConfig(FUNCTION_ENV);
    const clients = { ...createAwsClients(), sqs: new SQSClient({ region: 'eu-west-1' }) };

    // Act
    await sendPorts(config, clients).requeue?.('{"Records":[]}', 60);

    // Assess
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: config.sendQueueUrl, MessageBody: '{"Records":[]}', DelaySeconds: 60 },
    ]);
    sqs.restore();
  });
});

import { generateKeyPairSync } from 'node:crypto';
import type { ChannelConfig } from '../../functions/config/environment';
import { connectorLoader } from '../../functions/runtime';
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
});

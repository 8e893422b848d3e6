import {
  ConfigurationError,
  readPullConfig,
  readSendConfig,
} from '../../../functions/config/environment';
import { ENV_NAMES } from '../../../functions/config/names';
import { FUNCTION_ENV } from '../helpers/function-env';

const BASE = FUNCTION_ENV;

const EAST = {
  name: 'east',
  sender: '123456',
  host: 'east.example.be',
  port: 21,
  protocol: 'ftp',
  serverSecretId: 'east/server',
  signingSecretId: 'east/signing',
};

describe('function configuration', () => {
  it('reads a complete send configuration', () => {
    expect(readSendConfig(BASE)).toEqual({
      bucket: 'onss-bucket',
      ledgerTable: 'Ledger-1',
      channels: [
        {
          sender: '123456',
          server: {
            host: 'transfer.example.be',
            port: 21,
            protocol: 'ftp',
            serverSecretId: 'server',
          },
          signingSecretId: 'signing',
          answerTrust: { fingerprints: [] },
          maxSends: 1,
        },
      ],
      secretTtlSeconds: undefined,
      eventBus: 'default',
      topicArn: 'arn:aws:sns:eu-west-1:111122223333:onss',
      outboxPrefix: 'outbox/',
      signTest: false,
      sendQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/onss-send',
    });
  });

  it('reads named channels from ONSS_CHANNELS, in place of the single-channel variables', () => {
    const env = {
      ...BASE,
      [ENV_NAMES.sender]: undefined,
      [ENV_NAMES.host]: undefined,
      [ENV_NAMES.serverSecretId]: undefined,
      [ENV_NAMES.signingSecretId]: undefined,
      [ENV_NAMES.channels]: JSON.stringify([
        EAST,
        {
          ...EAST,
          name: 'west',
          sender: '654321',
          protocol: 'sftp',
          port: 8022,
          serverSecretId: 'west/server',
          signingSecretId: 'west/signing',
          answerFingerprints: ['ab'.repeat(32)],
          answerCaSecretId: 'west/ca',
          maxSends: 3,
        },
      ]),
    };
    expect(readPullConfig(env).channels).toEqual([
      {
        name: 'east',
        sender: '123456',
        server: {
          host: 'east.example.be',
          port: 21,
          protocol: 'ftp',
          serverSecretId: 'east/server',
        },
        signingSecretId: 'east/signing',
        answerTrust: { fingerprints: [] },
        maxSends: 1,
      },
      {
        name: 'west',
        sender: '654321',
        server: {
          host: 'east.example.be',
          port: 8022,
          protocol: 'sftp',
          serverSecretId: 'west/server',
        },
        signingSecretId: 'west/signing',
        answerTrust: { fingerprints: ['AB:'.repeat(31) + 'AB'], caSecretId: 'west/ca' },
        maxSends: 3,
      },
    ]);
  });

  it.each([
    ['not JSON', '[{', /ONSS_CHANNELS is not JSON/],
    ['an empty list', '[]', /ONSS_CHANNELS must be a non-empty JSON list/],
    ['a bad name', [{ ...EAST, name: 'East' }], /ONSS_CHANNELS\[0\]: name must be/],
    ['a name twice', [EAST, EAST], /channel "east": the name is given twice/],
    ['a bad sender', [{ ...EAST, sender: '12' }], /channel "east": sender must be six digits/],
    ['no server secret', [{ ...EAST, serverSecretId: '' }], /serverSecretId must be a secret id/],
    [
      'one secret for both',
      [{ ...EAST, serverSecretId: 'x', signingSecretId: 'x' }],
      /two different secrets/,
    ],
    ['a bad protocol', [{ ...EAST, protocol: 'scp' }], /protocol must be ftp, ftps, sftp/],
    ['too many sends', [{ ...EAST, maxSends: 11 }], /maxSends must be a whole number from 1 to 10/],
    [
      'a bad pin',
      [{ ...EAST, answerFingerprints: ['zz'] }],
      /is not a SHA-256 certificate fingerprint/,
    ],
    ['an unknown field', [{ ...EAST, password: 'x' }], /unknown field "password"/],
  ])(
    'refuses ONSS_CHANNELS with %s, naming the channel and the field',
    (_title, value, message) => {
      const env = {
        ...BASE,
        [ENV_NAMES.channels]: typeof value === 'string' ? value : JSON.stringify(value),
      };
      expect(() => readSendConfig(env)).toThrow(message);
      expect(() => readPullConfig(env)).toThrow(ConfigurationError);
    },
  );

  it('reads the pull environments without repeats, and an optional secret TTL', () => {
    const config = readPullConfig({ ...BASE, [ENV_NAMES.secretTtlSeconds]: '60' });
    expect(config.environments).toEqual(['R', 'T']);
    expect(config.responsesPrefix).toBe('responses/');
    expect(config.secretTtlSeconds).toBe(60);
  });

  it('names every problem at once', () => {
    const env = {
      ...BASE,
      [ENV_NAMES.bucket]: undefined,
      [ENV_NAMES.sender]: '12345',
      [ENV_NAMES.port]: '0',
      [ENV_NAMES.outboxPrefix]: 'outbox',
    };
    const act = () => readSendConfig(env);
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(
      /ONSS_BUCKET is not set.*ONSS_SENDER must be the six-digit sender number.*ONSS_PORT must be a whole number from 1 to 65535.*ONSS_OUTBOX_PREFIX must be a key prefix/,
    );
  });

  it.each([
    { name: ENV_NAMES.protocol, value: 'scp', message: /must be ftp, ftps, sftp/ },
    { name: ENV_NAMES.environments, value: 'R,X', message: /must list R, T or S/, pull: true },
    { name: ENV_NAMES.topicArn, value: 'topic', message: /an SNS topic ARN/ },
    { name: ENV_NAMES.secretTtlSeconds, value: '-1', message: /ONSS_SECRET_TTL_SECONDS/ },
    { name: ENV_NAMES.signTest, value: 'yes', message: /ONSS_SIGN_TEST must be true or false/ },
  ])('refuses $name=$value', ({ name, value, message, pull }) => {
    const read = pull ? readPullConfig : readSendConfig;
    expect(() => read({ ...BASE, [name]: value })).toThrow(message);
  });

  it('signs T and S sets when told to', () => {
    expect(readSendConfig({ ...BASE, [ENV_NAMES.signTest]: 'true' }).signTest).toBe(true);
  });
});

import {
  ConfigurationError,
  readPullConfig,
  readSendConfig,
} from '../../../functions/config/environment';
import { ENV_NAMES } from '../../../functions/config/names';
import { FUNCTION_ENV } from '../helpers/function-env';

const BASE = FUNCTION_ENV;

describe('function configuration', () => {
  it('reads a complete send configuration', () => {
    expect(readSendConfig(BASE)).toEqual({
      bucket: 'onss-bucket',
      ledgerTable: 'Ledger-1',
      sender: '123456',
      channel: { host: 'transfer.example.be', port: 21, protocol: 'ftp', serverSecretId: 'server' },
      secretTtlSeconds: undefined,
      eventBus: 'default',
      topicArn: 'arn:aws:sns:eu-west-1:111122223333:onss',
      signingSecretId: 'signing',
      outboxPrefix: 'outbox/',
      signTest: false,
    });
  });

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

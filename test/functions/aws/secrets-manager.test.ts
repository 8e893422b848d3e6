import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DEFAULT_SECRET_TTL_SECONDS,
  putSecretString,
  secretLastChanged,
  secretTtlFromEnv,
  secretsManagerSource,
} from '../../../functions/aws/secrets-manager';
import { SecretAccessError, SecretFormatError } from '../../../shared/secrets';

const sm = mockClient(SecretsManagerClient);
const client = new SecretsManagerClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
});
const VALUE = '{"user":"u","password":"Sentinel-Value-91"}';

function serviceError(name: string, status: number, fault: 'client' | 'server' = 'client') {
  return new SecretsManagerServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
    message: `${name} happened`,
  });
}

/** Refusals both reads map the same way: the secret is not there, or not this role's. */
const NOT_FOUND_AND_DENIED = [
  {
    title: 'a missing secret',
    error: () =>
      new ResourceNotFoundException({ message: 'no', $metadata: { httpStatusCode: 400 } }),
    code: 'SECRET_NOT_FOUND',
    transient: false,
  },
  {
    title: 'access denied',
    error: () => serviceError('AccessDeniedException', 400),
    code: 'SECRET_ACCESS_DENIED',
    transient: false,
  },
];

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

beforeEach(() => sm.reset());

describe('secretsManagerSource', () => {
  it('fetches the current value by id and reuses it for the TTL', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).resolves({ SecretString: VALUE });
    const clock = fakeClock();
    const source = secretsManagerSource({ client, ttlSeconds: 60, now: clock.now });

    // Act + Assess
    await expect(source.getSecretString('onss/server')).resolves.toBe(VALUE);
    clock.advance(59_999);
    await expect(source.getSecretString('onss/server')).resolves.toBe(VALUE);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: 'onss/server',
    });
    clock.advance(1);
    await source.getSecretString('onss/server');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('keeps one cache entry per id', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'a' }).resolves({ SecretString: 'A' });
    sm.on(GetSecretValueCommand, { SecretId: 'b' }).resolves({ SecretString: 'B' });
    const source = secretsManagerSource({ client });
    await expect(source.getSecretString('a')).resolves.toBe('A');
    await expect(source.getSecretString('b')).resolves.toBe('B');
    await expect(source.getSecretString('a')).resolves.toBe('A');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('defaults to 300 s', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: VALUE });
    const clock = fakeClock();
    const source = secretsManagerSource({ client, now: clock.now });
    await source.getSecretString('s');
    clock.advance(DEFAULT_SECRET_TTL_SECONDS * 1000 - 1);
    await source.getSecretString('s');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    clock.advance(1);
    await source.getSecretString('s');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('shares one in-flight request between concurrent callers', async () => {
    let release: (value: { SecretString: string }) => void = () => undefined;
    sm.on(GetSecretValueCommand).callsFake(() => new Promise((resolve) => (release = resolve)));
    const source = secretsManagerSource({ client, ttlSeconds: 0 });
    const calls = [1, 2, 3].map(() => source.getSecretString('s'));
    await new Promise((resolve) => setImmediate(resolve));
    release({ SecretString: VALUE });
    await expect(Promise.all(calls)).resolves.toEqual([VALUE, VALUE, VALUE]);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    // TTL 0: the next call asks again.
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'new' });
    await expect(source.getSecretString('s')).resolves.toBe('new');
  });

  it('does not cache a failure: the next call asks again', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(serviceError('ThrottlingException', 400))
      .resolves({ SecretString: VALUE });
    const source = secretsManagerSource({ client });
    const failing = source.getSecretString('s');
    await expect(failing).rejects.toBeInstanceOf(SecretAccessError);
    await expect(failing).rejects.toMatchObject({ code: 'SECRET_UNAVAILABLE', transient: true });
    await expect(source.getSecretString('s')).resolves.toBe(VALUE);
  });

  it.each([
    ...NOT_FOUND_AND_DENIED,
    {
      title: 'a KMS refusal',
      error: () => serviceError('DecryptionFailure', 400),
      code: 'SECRET_ACCESS_DENIED',
      transient: false,
    },
    {
      title: 'a service fault',
      error: () => serviceError('InternalServiceError', 500, 'server'),
      code: 'SECRET_UNAVAILABLE',
      transient: true,
    },
    {
      title: 'a request refused',
      error: () => serviceError('InvalidRequestException', 400),
      code: 'SECRET_UNAVAILABLE',
      transient: false,
    },
  ])('maps $title to $code', async ({ error, code, transient }) => {
    sm.on(GetSecretValueCommand).rejects(error());
    const reading = secretsManagerSource({ client }).getSecretString('onss/signing');
    await expect(reading).rejects.toMatchObject({ code, transient });
    await expect(reading).rejects.toThrow(/^cannot read secret onss\/signing: /);
  });

  it('refuses a binary secret without showing it', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: Buffer.from(VALUE) });
    const reading = secretsManagerSource({ client }).getSecretString('s');
    await expect(reading).rejects.toBeInstanceOf(SecretFormatError);
    await expect(reading).rejects.toThrow(/binary/);
  });

  it('forgets cached values on clear()', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: VALUE });
    const source = secretsManagerSource({ client });
    await source.getSecretString('s');
    source.clear();
    await source.getSecretString('s');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('refuses a negative TTL', () => {
    expect(() => secretsManagerSource({ client, ttlSeconds: -1 })).toThrow(RangeError);
  });
});

describe('secretTtlFromEnv', () => {
  it.each([
    { title: 'unset', env: {}, expected: 300 },
    { title: 'empty', env: { ONSS_SECRET_TTL_SECONDS: ' ' }, expected: 300 },
    { title: 'a number', env: { ONSS_SECRET_TTL_SECONDS: '60' }, expected: 60 },
    { title: 'zero', env: { ONSS_SECRET_TTL_SECONDS: '0' }, expected: 0 },
  ])('$title -> $expected', ({ env, expected }) => {
    expect(secretTtlFromEnv(env)).toBe(expected);
  });

  it.each(['-5', '1.5', 'ten'])('refuses %s, naming the variable', (text) => {
    expect(() => secretTtlFromEnv({ ONSS_SECRET_TTL_SECONDS: text })).toThrow(
      /ONSS_SECRET_TTL_SECONDS must be a whole number/,
    );
  });
});

describe('putSecretString', () => {
  it('puts the value and returns the new version', async () => {
    sm.on(PutSecretValueCommand).resolves({ VersionId: 'v2' });
    await expect(putSecretString(client, 'onss/signing', VALUE)).resolves.toEqual({
      versionId: 'v2',
    });
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: 'onss/signing',
      SecretString: VALUE,
    });
  });

  it('says the secret must exist, without the value', async () => {
    sm.on(PutSecretValueCommand).rejects(
      new ResourceNotFoundException({ message: 'no', $metadata: { httpStatusCode: 400 } }),
    );
    const putting = putSecretString(client, 'onss/signing', VALUE);
    await expect(putting).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    await expect(putting).rejects.toThrow(/needs an existing secret/);
    const error = (await putting.catch((e: unknown) => e)) as Error;
    expect(`${error.message}${error.stack}${JSON.stringify(error)}`).not.toContain('Sentinel');
  });
});

describe('secretLastChanged', () => {
  const created = new Date('2025-01-01T00:00:00.000Z');
  const rotated = new Date('2026-02-01T00:00:00.000Z');
  const changed = new Date('2026-03-01T00:00:00.000Z');

  it.each([
    {
      title: 'rotated, then changed by hand: the change',
      answer: { CreatedDate: created, LastRotatedDate: rotated, LastChangedDate: changed },
      expected: changed,
    },
    {
      title: 'changed, then rotated: the rotation',
      answer: { CreatedDate: created, LastRotatedDate: changed, LastChangedDate: rotated },
      expected: changed,
    },
    {
      title: 'rotated only: the rotation',
      answer: { CreatedDate: created, LastRotatedDate: rotated },
      expected: rotated,
    },
    {
      title: 'changed only: the change',
      answer: { CreatedDate: created, LastChangedDate: changed },
      expected: changed,
    },
    { title: 'never changed: the creation', answer: { CreatedDate: created }, expected: created },
  ])('$title', async ({ answer, expected }) => {
    sm.on(DescribeSecretCommand).resolves({ Name: 'onss/server', ...answer });
    await expect(secretLastChanged(client, 'onss/server')).resolves.toEqual(expected);
    expect(sm.commandCalls(DescribeSecretCommand)[0]?.args[0].input).toEqual({
      SecretId: 'onss/server',
    });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('refuses an answer with no date at all, naming the secret', async () => {
    sm.on(DescribeSecretCommand).resolves({ Name: 'onss/server' });
    const describing = secretLastChanged(client, 'onss/server');
    await expect(describing).rejects.toBeInstanceOf(SecretAccessError);
    await expect(describing).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
      transient: false,
    });
    await expect(describing).rejects.toThrow(/cannot tell when secret onss\/server last changed/);
  });

  it.each([
    ...NOT_FOUND_AND_DENIED,
    {
      title: 'throttling',
      error: () => serviceError('ThrottlingException', 400),
      code: 'SECRET_UNAVAILABLE',
      transient: true,
    },
  ])('maps $title to $code, without a value', async ({ error, code, transient }) => {
    sm.on(DescribeSecretCommand).rejects(error());
    const describing = secretLastChanged(client, 'onss/server');
    await expect(describing).rejects.toMatchObject({ code, transient });
    await expect(describing).rejects.toThrow(/^cannot describe secret onss\/server: /);
    const failure = (await describing.catch((e: unknown) => e)) as Error;
    expect(`${failure.message}${JSON.stringify(failure)}`).not.toContain('Sentinel');
  });
});

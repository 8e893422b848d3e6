import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  SECRET_CODES,
  SecretAccessError,
  SecretFormatError,
  WHOLE_VALUE,
  type SecretAccessCode,
  type SecretSource,
} from '../../shared/secrets';
import { ENV_NAMES } from '../config/names';
import { awsReason, describeAwsFailure, isNotFound } from './errors';

/** How long a fetched secret is reused when nothing else is said: 5 minutes. */
export const DEFAULT_SECRET_TTL_SECONDS = 300;

/** Options of {@link secretsManagerSource}. */
export interface SecretsManagerSourceOptions {
  client: SecretsManagerClient;
  /**
   * How long a fetched value is reused, in seconds (0: fetched on every call, concurrent calls
   * still share one request). Default 300. A rotated secret is seen at most this late.
   */
  ttlSeconds?: number;
  /** The clock in ms, for the cache; default `Date.now`. Tests move it. */
  now?: () => number;
}

/** A Secrets Manager source with its cache. */
export interface CachedSecretSource extends SecretSource {
  /** Forgets every cached value (after a rotation, or when a value was refused). */
  clear(): void;
}

/** Maps an SDK failure on a secret to a SecretAccessError; the message names the id only. */
function accessError(
  verb: 'read' | 'write' | 'describe',
  id: string,
  error: unknown,
): SecretAccessError {
  const failure = describeAwsFailure(error);
  let code: SecretAccessCode = SECRET_CODES.UNAVAILABLE;
  if (isNotFound(failure)) code = SECRET_CODES.NOT_FOUND;
  else if (
    failure.status === 403 ||
    failure.name === 'AccessDeniedException' ||
    failure.name === 'DecryptionFailure' ||
    failure.name === 'EncryptionFailure'
  ) {
    code = SECRET_CODES.ACCESS_DENIED;
  }
  const hint =
    verb === 'write' && code === SECRET_CODES.NOT_FOUND
      ? ' (PutSecretValue needs an existing secret: the stack creates it)'
      : '';
  return new SecretAccessError(`cannot ${verb} secret ${id}: ${awsReason(failure)}${hint}`, {
    code,
    transient: code === SECRET_CODES.UNAVAILABLE && failure.transient,
    cause: error,
  });
}

/**
 * Reads the cache time-to-live from the functions' environment (`ONSS_SECRET_TTL_SECONDS`),
 * failing fast with a message that says what to fix. Unset or empty: the default, 300.
 */
export function secretTtlFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const text = env[ENV_NAMES.secretTtlSeconds];
  if (text === undefined || text.trim() === '') return DEFAULT_SECRET_TTL_SECONDS;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new RangeError(
      `${ENV_NAMES.secretTtlSeconds} must be a whole number of seconds (0 or more), got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/**
 * A SecretSource on Secrets Manager `GetSecretValue` (the current version), with a cache: a
 * value is reused for `ttlSeconds`, concurrent callers of one id share one in-flight request,
 * and a failed fetch is not cached (the next call asks again). Values are never logged and
 * never put in errors; a failure is a SecretAccessError naming the id and the service's error
 * name (transient for throttling and service faults). A binary secret (SecretBinary) is refused:
 * ours are JSON text.
 */
export function secretsManagerSource(options: SecretsManagerSourceOptions): CachedSecretSource {
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_SECRET_TTL_SECONDS;
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 0) {
    throw new RangeError(`ttlSeconds must be a number of seconds of at least 0, got ${ttlSeconds}`);
  }
  const ttlMs = ttlSeconds * 1000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { value: string; until: number }>();
  const inFlight = new Map<string, Promise<string>>();

  async function fetch(id: string): Promise<string> {
    let output;
    try {
      output = await options.client.send(new GetSecretValueCommand({ SecretId: id }));
    } catch (error) {
      throw accessError('read', id, error);
    }
    if (typeof output.SecretString !== 'string') {
      throw new SecretFormatError(
        `secret ${id}`,
        WHOLE_VALUE,
        output.SecretBinary === undefined ? 'is empty' : 'is binary: store it as a string (JSON)',
      );
    }
    return output.SecretString;
  }

  return {
    getSecretString(id: string): Promise<string> {
      const cached = cache.get(id);
      if (cached !== undefined && now() < cached.until) return Promise.resolve(cached.value);
      const pending = inFlight.get(id);
      if (pending !== undefined) return pending;
      const started = now();
      const request = fetch(id)
        .then((value) => {
          if (ttlMs > 0) cache.set(id, { value, until: started + ttlMs });
          return value;
        })
        .finally(() => inFlight.delete(id));
      inFlight.set(id, request);
      return request;
    },
    clear(): void {
      cache.clear();
    },
  };
}

/**
 * Puts a new current value in an existing secret (`PutSecretValue`) and resolves with the new
 * version id. The secret itself is created by the infrastructure, not here. A failure is a
 * SecretAccessError naming the id, never the value.
 */
export async function putSecretString(
  client: SecretsManagerClient,
  id: string,
  value: string,
): Promise<{ versionId?: string }> {
  try {
    const output = await client.send(
      new PutSecretValueCommand({ SecretId: id, SecretString: value }),
    );
    return output.VersionId === undefined ? {} : { versionId: output.VersionId };
  } catch (error) {
    throw accessError('write', id, error);
  }
}

/** A valid date among `dates`, the latest; undefined when there is none. */
function latest(dates: ReadonlyArray<Date | undefined>): Date | undefined {
  let found: Date | undefined;
  for (const date of dates) {
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) continue;
    if (found === undefined || date.getTime() > found.getTime()) found = date;
  }
  return found;
}

/**
 * When a secret last changed, for the age of the credential it holds (the server password or
 * SSH key; see `credentialAgeDays`): Secrets Manager's `DescribeSecret`, the later of
 * `LastRotatedDate` (a rotation that completed) and `LastChangedDate` (any change, a value put
 * by hand included), or else `CreatedDate`. `LastChangedDate` also moves for a change of the
 * secret's description or tags, so the age may read younger than the value after one. Reads no
 * value: the function needs `secretsmanager:DescribeSecret` only. A failed call, or an answer
 * with none of the three dates, is a SecretAccessError naming the id (never a value).
 *
 * @param client - the Secrets Manager client
 * @param secretId - the secret's name or ARN
 */
export async function secretLastChanged(
  client: SecretsManagerClient,
  secretId: string,
): Promise<Date> {
  let output;
  try {
    output = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  } catch (error) {
    throw accessError('describe', secretId, error);
  }
  const changed =
    latest([output.LastRotatedDate, output.LastChangedDate]) ?? latest([output.CreatedDate]);
  if (changed === undefined) {
    throw new SecretAccessError(
      `cannot tell when secret ${secretId} last changed: Secrets Manager gives no rotation, change or creation date`,
      { code: SECRET_CODES.UNAVAILABLE, transient: false },
    );
  }
  return changed;
}

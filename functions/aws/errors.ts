/**
 * What an AWS SDK failure means to us: its name, its HTTP status, and whether the same call may
 * succeed later. The adapters turn it into the project's typed errors (StoreWriteError,
 * SecretAccessError, NotifyError...), keeping the SDK's error as `cause`.
 */

import { OnssTransferError } from '../../shared/errors';

/** The facts of an SDK failure that are safe to print: no request or response bodies. */
export interface AwsFailure {
  /** The service's error name (`NoSuchKey`, `ThrottlingException`) or a Node error code. */
  name: string;
  /** The HTTP status of the answer, when there was one. */
  status?: number;
  /** True when trying again later may help: throttling, a server fault, a dropped connection. */
  transient: boolean;
}

/** Error names that mean "too many requests" or "not now" across the services we call. */
const TRANSIENT_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'InternalServiceError',
  'InternalErrorException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'KMSThrottlingException',
]);

/** Node socket codes of a connection that could not be made or was cut. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

const TRANSIENT_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

function field(error: unknown, name: string): unknown {
  return typeof error === 'object' && error !== null
    ? (error as Record<string, unknown>)[name]
    : undefined;
}

/** Reads an SDK (or Node) failure, duck-typed: SDK errors may come from another realm in tests. */
export function describeAwsFailure(error: unknown): AwsFailure {
  const metadata = field(error, '$metadata');
  const rawStatus = field(metadata, 'httpStatusCode');
  const status = typeof rawStatus === 'number' ? rawStatus : undefined;
  const code = field(error, 'code');
  const rawName = field(error, 'name');
  const name =
    typeof code === 'string' && NETWORK_CODES.has(code)
      ? code
      : typeof rawName === 'string' && rawName !== 'Error'
        ? rawName
        : typeof code === 'string'
          ? code
          : 'UnknownError';
  const transient =
    field(error, '$retryable') !== undefined ||
    field(error, '$fault') === 'server' ||
    TRANSIENT_NAMES.has(name) ||
    NETWORK_CODES.has(name) ||
    (status !== undefined && TRANSIENT_STATUS.has(status));
  return status === undefined ? { name, transient } : { name, status, transient };
}

/** `NoSuchKey (HTTP 404)`: the failure in a few words, for messages. */
export function awsReason(failure: AwsFailure): string {
  return failure.status === undefined ? failure.name : `${failure.name} (HTTP ${failure.status})`;
}

/** True for a "not found" answer (a HEAD has no body, so S3 names it only by its status). */
export function isNotFound(failure: AwsFailure): boolean {
  return (
    failure.status === 404 ||
    failure.name === 'NotFound' ||
    failure.name === 'NoSuchKey' ||
    failure.name === 'ResourceNotFoundException'
  );
}

/** A declaration source in S3 that cannot be read: missing, forbidden, or S3 failing. */
export class SourceReadError extends OnssTransferError {
  /** True when trying again later may help. */
  readonly transient: boolean;

  constructor(
    what: string,
    reason: string,
    options: {
      code?: 'SOURCE_NOT_FOUND' | 'SOURCE_READ_FAILED';
      transient: boolean;
      cause?: unknown;
    },
  ) {
    super(`cannot read ${what}: ${reason}`, {
      code: options.code ?? 'SOURCE_READ_FAILED',
      cause: options.cause,
    });
    this.transient = options.transient;
  }
}

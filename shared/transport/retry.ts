import { isTransientTransportError } from './errors';

/** How {@link retry} tries an operation again. */
export interface RetryOptions {
  /** Attempts in all, the first included; default 4. At least 1. */
  attempts: number;
  /** Ceiling of the first wait, in ms; doubled at each retry; default 500. */
  baseDelayMs: number;
  /** Ceiling of any wait, in ms; default 8000. */
  maxDelayMs: number;
  /** Which failures are worth another attempt; default: a transient TransportError. */
  isRetryable: (error: unknown) => boolean;
  /** Told before each wait: the failure, the number of the attempt that failed (1-based), the wait. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Waits `ms` milliseconds; replaced by tests to run without real time. */
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1) for the jitter; replaced by tests to make waits predictable. */
  random: () => number;
}

/** The defaults every {@link retry} option is merged over. */
export const DEFAULT_RETRY_OPTIONS: Readonly<RetryOptions> = Object.freeze({
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  isRetryable: isTransientTransportError,
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
});

/**
 * Merges `options` over {@link DEFAULT_RETRY_OPTIONS} and checks them. Throws a
 * RangeError naming the option to fix, so that a configuration is refused at
 * start-up rather than at the first failure.
 */
export function resolveRetryOptions(options: Partial<RetryOptions> = {}): RetryOptions {
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<RetryOptions>;
  const resolved: RetryOptions = { ...DEFAULT_RETRY_OPTIONS, ...defined };
  if (!Number.isInteger(resolved.attempts) || resolved.attempts < 1) {
    throw new RangeError(
      `retry attempts must be a whole number of at least 1, got ${resolved.attempts}`,
    );
  }
  for (const key of ['baseDelayMs', 'maxDelayMs'] as const) {
    const value = resolved[key];
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`retry ${key} must be a number of milliseconds >= 0, got ${value}`);
    }
  }
  return resolved;
}

/**
 * The wait before the retry that follows failed attempt `attempt` (1-based):
 * "full jitter" (a uniform draw between 0 and an exponentially growing
 * ceiling), which spreads clients that failed together better than a fixed
 * exponential step (AWS Architecture Blog, "Exponential Backoff and Jitter").
 */
export function backoffDelay(
  attempt: number,
  options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(options.random() * ceiling);
}

/**
 * Runs `operation` until it succeeds, a failure is not retryable, or the
 * attempts are spent; then rethrows the last failure unchanged. `operation`
 * receives the attempt number (1-based). Waits between attempts follow
 * {@link backoffDelay}. Options are merged over {@link DEFAULT_RETRY_OPTIONS}.
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: Partial<RetryOptions> = {},
): Promise<T> {
  const settings = resolveRetryOptions(options);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= settings.attempts || !settings.isRetryable(error)) throw error;
      const delayMs = backoffDelay(attempt, settings);
      settings.onRetry?.(error, attempt, delayMs);
      await settings.sleep(delayMs);
    }
  }
}

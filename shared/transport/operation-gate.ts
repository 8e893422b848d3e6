import type { RetryOptions } from './retry';
import { TransportError } from './errors';

/** Errors can come from another realm (Jest's VM): `instanceof Object` would miss them. */
export function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/**
 * What every session-based Transport needs around its operations: one operation at a time in
 * call order (one session serves one task), and a retry rule that never repeats a failure whose
 * retries are already spent (opening a session) nor one of the caller's own streams.
 */
export class OperationGate {
  private queue: Promise<unknown> = Promise.resolve();
  /** Failures of opening a session: their retries are already spent. */
  private readonly spent = new WeakSet<object>();
  /** Failures of the caller's own streams: passed on unchanged, never retried. */
  private readonly local = new WeakSet<object>();

  constructor(private readonly operationRetry: RetryOptions) {}

  /** Runs operations one at a time, in call order. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Marks a failure of the caller's own stream: it goes back unchanged and is not retried. */
  markLocal(error: object): void {
    this.local.add(error);
  }

  /**
   * Marks a failure to open a session after `attempts` tries, saying so in its message: an
   * operation that meets it does not retry it again.
   */
  gaveUp(error: unknown, attempts: number): void {
    if (!(error instanceof TransportError)) return;
    if (attempts > 1) error.message += ` (gave up after ${attempts} attempts)`;
    this.spent.add(error);
  }

  /** Retry settings for operations: transient failures, not already retried, while `safe()` holds. */
  repeatableWhile(safe: () => boolean): Partial<RetryOptions> {
    const { operationRetry } = this;
    return {
      ...operationRetry,
      isRetryable: (error) =>
        !(isObject(error) && (this.spent.has(error) || this.local.has(error))) &&
        safe() &&
        operationRetry.isRetryable(error),
    };
  }
}

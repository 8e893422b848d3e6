/** One file's upload, retried on transient failures, and the check of its size on the server. */
import type { Readable } from 'node:stream';
import { isTransientTransportError, retry, type Transport } from '../transport';
import { ByteTap } from './byte-tap';
import { RemoteSizeMismatchError } from './errors';
import { remotePath, type SendPlan } from './plan';
import type { SendContext, SendEvent } from './send-types';

/**
 * Uploads one file and checks its size on the server, retrying transient
 * failures with a fresh stream. A refusal by a consumer of the stream (the
 * content checker) is never retried: it is rethrown as it is.
 */
export async function putWithRetry(
  context: SendContext,
  transport: Transport,
  plan: SendPlan,
  name: string,
  open: () => Readable,
  size: number,
  emit: (event: SendEvent) => void,
): Promise<void> {
  const path = remotePath(plan, name);
  await retry(
    async () => {
      const stream = open();
      try {
        await transport.put(stream, path);
      } catch (error) {
        throw consumerFailure(stream) ?? error;
      }
      const failure = consumerFailure(stream);
      if (failure) throw failure;
      const remote = await transport.size(path);
      if (remote !== size) throw new RemoteSizeMismatchError(name, size, remote);
    },
    {
      ...context.retry,
      isRetryable: (error) =>
        isTransientTransportError(error) || error instanceof RemoteSizeMismatchError,
      onRetry: (error, attempt, delayMs) =>
        emit({ type: 'retry', name, attempt, delayMs, reason: (error as Error).message }),
    },
  );
  emit({ type: 'sent', name, size });
}

function consumerFailure(stream: Readable): unknown {
  return stream instanceof ByteTap ? stream.failure : undefined;
}

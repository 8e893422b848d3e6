import { extname, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../io/module-worker';
import { OnssTransferError } from '../errors';
import { ContentRuleError } from './errors';

/** What to inspect: a local declaration file, its first `size` bytes. */
export interface InspectionRequest {
  path: string;
  /** The application of the declaration's name (its form rule, 158). */
  app: string;
  size: number;
  /** Also compute the SHA-256 of those bytes. */
  sha256: boolean;
}

/** The one message the worker posts. */
export type InspectionMessage =
  | { type: 'done'; sha256?: string }
  | { type: 'refused'; message: string; code: string; offset: number | undefined }
  | { type: 'short'; bytes: number }
  | { type: 'failed'; message: string };

/** The file ended before the size planned: it changed while it was read. */
export class InspectionShortError extends OnssTransferError {
  constructor(path: string, bytes: number) {
    super(`${path} ended after ${bytes} bytes while it was being checked`, {
      code: 'SOURCE_CHANGED',
    });
  }
}

const WORKER_ENTRY = join(__dirname, `inspect-worker${extname(__filename)}`);

/**
 * The content check and the whole-file SHA-256 of a local declaration, on a
 * worker thread that reads the file itself: the send's main thread only
 * hashes and uploads its parts, and no byte is copied between the threads.
 * The wall time of a send is then the slower of the two, not their sum.
 * A refusal is kept in `failure` as soon as it comes, so the upload can stop
 * at its next chunk; `result` gives the verdict at the end.
 */
export class FileInspection {
  /** The refusal (a ContentRuleError) or failure, once the worker reported it. */
  failure: Error | undefined;
  private readonly worker: Worker;
  private readonly outcome: Promise<{ sha256: string | undefined }>;

  constructor(request: InspectionRequest) {
    this.worker = startModuleWorker(WORKER_ENTRY, request);
    this.outcome = new Promise<{ sha256: string | undefined }>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        this.failure = error;
        reject(error);
      };
      this.worker.once('message', (message: InspectionMessage) => {
        if (message.type !== 'done') return fail(toError(message, request.path));
        settled = true;
        resolve({ sha256: message.sha256 });
      });
      this.worker.once('error', fail);
      // A worker ended before its message (terminated, out of memory) gave no verdict.
      this.worker.once('exit', (code) => fail(new Error(`the content check ended (${code})`)));
    });
    this.outcome.catch(() => undefined); // read through `failure` or `result`
  }

  /** The verdict: the SHA-256 when asked for; throws the refusal or failure. */
  result(): Promise<{ sha256: string | undefined }> {
    return this.outcome;
  }

  /** Stops the worker (after the result, or to give up). */
  async destroy(): Promise<void> {
    await this.worker.terminate();
  }
}

function toError(message: Exclude<InspectionMessage, { type: 'done' }>, path: string): Error {
  switch (message.type) {
    case 'refused': {
      // The message crossed the thread with its code appended; the constructor appends it again.
      const suffix = ` (${message.code})`;
      const text = message.message.endsWith(suffix)
        ? message.message.slice(0, -suffix.length)
        : message.message;
      return new ContentRuleError(text, message.code, message.offset);
    }
    case 'short':
      return new InspectionShortError(path, message.bytes);
    case 'failed':
      return new Error(`the content check of ${path} failed: ${message.message}`);
  }
}

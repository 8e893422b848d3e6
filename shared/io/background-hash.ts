import { Worker } from 'node:worker_threads';

// The worker's code, inline so it runs the same from the build and from the sources (tests).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const hash = require('node:crypto').createHash(workerData.algorithm);
parentPort.on('message', (message) => {
  if (message.type === 'data') {
    hash.update(new Uint8Array(message.buffer, 0, message.length));
    parentPort.postMessage({ type: 'ack', length: message.length });
  } else {
    parentPort.postMessage({ type: 'digest', digest: hash.digest() });
  }
});
`;

// Bytes handed to the worker and not yet hashed: bounds memory when the worker falls behind.
const MAX_IN_FLIGHT = 16 * 1024 * 1024;

type Message = { type: 'ack'; length: number } | { type: 'digest'; digest: Uint8Array };

/**
 * A hash computed on a worker thread, so that hashing a whole declaration
 * runs on the second core while the main thread hashes and uploads its
 * parts. Each chunk is copied (the caller's buffer goes on to the network)
 * and transferred to the worker; memory stays bounded by waiting when more
 * than 16 MiB are in flight.
 */
export class BackgroundHash {
  private readonly worker: Worker;
  private inFlight = 0;
  private waiting: (() => void) | undefined;
  private result: ((digest: Buffer) => void) | undefined;
  private failure: Error | undefined;

  constructor(algorithm: string) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { algorithm } });
    this.worker.on('message', (message: Message) => {
      if (message.type === 'ack') {
        this.inFlight -= message.length;
        if (this.inFlight <= MAX_IN_FLIGHT / 2) this.release();
      } else {
        this.result?.(Buffer.from(message.digest));
      }
    });
    this.worker.on('error', (error) => {
      this.failure = error;
      this.release();
    });
  }

  /** Adds bytes; resolves at once unless the worker is too far behind. */
  update(chunk: Buffer): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const copy = new Uint8Array(chunk.length);
    copy.set(chunk);
    this.worker.postMessage({ type: 'data', buffer: copy.buffer, length: chunk.length }, [
      copy.buffer,
    ]);
    this.inFlight += chunk.length;
    if (this.inFlight <= MAX_IN_FLIGHT) return undefined;
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** The digest of every byte added; ends the worker. */
  async digest(): Promise<Buffer> {
    if (this.failure) throw this.failure;
    const digest = new Promise<Buffer>((resolve) => {
      this.result = resolve;
    });
    this.worker.postMessage({ type: 'end' });
    try {
      return await digest;
    } finally {
      await this.worker.terminate();
    }
  }

  /** Stops the worker without a digest (after a failure). */
  async destroy(): Promise<void> {
    await this.worker.terminate();
  }

  private release(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}

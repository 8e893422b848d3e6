import { Worker } from 'node:worker_threads';

// The worker's code, inline so it runs the same from the build and from the sources (tests).
// Each buffer is hashed and handed straight back, so the two threads share a fixed pool.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const hash = require('node:crypto').createHash(workerData.algorithm);
parentPort.on('message', (message) => {
  if (message.type === 'data') {
    hash.update(new Uint8Array(message.buffer, 0, message.length));
    parentPort.postMessage({ type: 'ack', buffer: message.buffer }, [message.buffer]);
  } else {
    parentPort.postMessage({ type: 'digest', digest: hash.digest() });
  }
});
`;

// Buffers shared by the two threads: bounds memory whatever the file size, and none is left
// for the garbage collector, which on a quiet worker thread could let copies pile up.
const POOL_BUFFERS = 8;
const BUFFER_BYTES = 1024 * 1024;

type Message = { type: 'ack'; buffer: ArrayBuffer } | { type: 'digest'; digest: Uint8Array };

/**
 * A hash computed on a worker thread, so that hashing a whole declaration
 * runs on the second core while the main thread hashes and uploads its
 * parts. Each chunk is copied into a buffer of a small pool (the caller's own
 * buffer goes on to the network) and transferred to the worker, which hands
 * it back once hashed; `update` waits when every buffer is out.
 */
export class BackgroundHash {
  private readonly worker: Worker;
  private readonly free: ArrayBuffer[] = [];
  private created = 0;
  private waiting: (() => void) | undefined;
  private result: ((digest: Buffer) => void) | undefined;
  private failure: Error | undefined;

  constructor(algorithm: string) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { algorithm } });
    this.worker.on('message', (message: Message) => {
      if (message.type === 'ack') {
        if (message.buffer.byteLength === BUFFER_BYTES) this.free.push(message.buffer);
        this.release();
      } else {
        this.result?.(Buffer.from(message.digest));
      }
    });
    this.worker.on('error', (error) => {
      this.failure = error;
      this.release();
    });
  }

  /** Adds bytes; resolves when they are handed over (at once unless every buffer is out). */
  async update(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length; offset += BUFFER_BYTES) {
      const piece = chunk.subarray(offset, offset + BUFFER_BYTES);
      const buffer = await this.takeBuffer();
      new Uint8Array(buffer).set(piece);
      this.worker.postMessage({ type: 'data', buffer, length: piece.length }, [buffer]);
    }
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

  /** Stops the worker without a digest (after a failure); safe after `digest`. */
  async destroy(): Promise<void> {
    await this.worker.terminate();
  }

  private async takeBuffer(): Promise<ArrayBuffer> {
    for (;;) {
      if (this.failure) throw this.failure;
      const buffer = this.free.pop();
      if (buffer) return buffer;
      if (this.created < POOL_BUFFERS) {
        this.created += 1;
        return new ArrayBuffer(BUFFER_BYTES);
      }
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }

  private release(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}

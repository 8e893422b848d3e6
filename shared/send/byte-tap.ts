import { Transform, type TransformCallback } from 'node:stream';

/**
 * A pass-through stream that shows every chunk to a consumer (hashes, the
 * content checker, progress) on its way to the transport. A consumer that
 * throws stops the stream, and the failure is kept in `failure` so the caller
 * can tell a refused content from a network error, whatever the transport
 * made of the broken stream.
 */
export class ByteTap extends Transform {
  failure: unknown;

  /** `consume` may return a promise: the chunk moves on once it settles (backpressure). */
  constructor(private readonly consume: (chunk: Buffer) => Promise<void> | undefined) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const refuse = (error: unknown) => {
      this.failure = error;
      callback(error as Error);
    };
    let pending: Promise<void> | undefined;
    try {
      pending = this.consume(chunk);
    } catch (error) {
      refuse(error);
      return;
    }
    if (pending === undefined) callback(null, chunk);
    else pending.then(() => callback(null, chunk), refuse);
  }
}

import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/**
 * Forwards a download to the caller's stream with back-pressure, counting the bytes, without
 * handing the stream itself to the protocol library (which would end or destroy it on failure
 * and so forbid a retry): a retried download goes on into the same stream (SFTP resumes at
 * `bytes`). The Transport ends the caller's stream once the server has confirmed the whole
 * file, with {@link end}, and calls {@link detach} whatever happened.
 */
export class DestinationRelay {
  /** Bytes forwarded to the destination over all attempts. */
  bytes = 0;
  /** The destination's own failure, if any: the caller's, not the network's. */
  failure: Error | undefined;
  private waiting: ((error?: Error) => void) | undefined;

  constructor(private readonly destination: Writable) {
    destination.on('error', this.onError);
    destination.on('drain', this.onDrain);
    destination.on('close', this.onClose);
  }

  private readonly onError = (error: Error): void => {
    this.failure ??= error;
    this.release(error);
  };

  private readonly onDrain = (): void => this.release();

  private readonly onClose = (): void => {
    this.failure ??= new Error('the destination stream was closed during the download');
    this.release(this.failure);
  };

  private release(error?: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(error);
  }

  /** Forwards one piece; resolves when the destination can take more. */
  async write(data: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    this.bytes += data.length;
    if (this.destination.write(data)) return;
    await new Promise<void>((resolve, reject) => {
      this.waiting = (error) => (error ? reject(error) : resolve());
    });
  }

  /** A stream for one attempt (for libraries that write into a stream); it never ends the destination. */
  writable(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.write(chunk).then(() => callback(), callback);
      },
      final: (callback) => callback(),
    });
  }

  /** Ends the destination and waits until it has taken every byte. */
  async end(): Promise<void> {
    this.detach();
    this.destination.end();
    // The writable side only: a Duplex destination (a hashing Transform, a PassThrough) is
    // read by the caller after get() resolves.
    await finished(this.destination, { readable: false });
  }

  /** Stops listening to the destination. */
  detach(): void {
    this.destination.off('error', this.onError);
    this.destination.off('drain', this.onDrain);
    this.destination.off('close', this.onClose);
  }
}

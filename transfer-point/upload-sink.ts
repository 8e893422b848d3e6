/**
 * The stream an upload is written through. ftp-srv pipes the data connection into whatever
 * the file system's `write` returns; putting this in between lets a test slow the upload down
 * (backpressure travels back to the client through TCP) or cut it after some bytes, without
 * touching the library's sockets while data flows.
 */
import { Writable } from 'node:stream';
import type { WriteStream } from 'node:fs';

/** What a running upload obeys. */
export interface UploadScript {
  /** The current rate limit in bytes per second, read as the data comes (undefined: none). */
  throttle(): number | undefined;
  /** The data connection is cut once more than this many bytes came; undefined: never. */
  dropAfter: number | undefined;
  /** Cuts the data connection (called once, when the first `dropAfter` bytes are on disk). */
  drop(): void;
  /**
   * Called once the upload is over, its file closed: `complete` when the client ended it,
   * false when it was cut or failed (its partial file stays, as on a real server).
   */
  settled(complete: boolean): void;
}

// A throttled upload is written in slices of a twentieth of a second, so that the rate holds
// over short uploads too and a change of rate takes effect quickly.
const SLICES_PER_SECOND = 20;

/**
 * A Writable over the file of one upload. `path` is the file on disk: ftp-srv reports it in
 * its STOR event. When destroyed, the file is closed with what it holds, so a cut upload
 * leaves its partial file behind, as a real server does.
 *
 * Nothing may listen to its 'close' event: when the data connection ends, ftp-srv 4 emits
 * 'close' itself on a stream that has such listeners (its own file system ends the file from
 * one) and calls `end()` only on a stream without; a listener would leave the upload hanging.
 */
export class UploadSink extends Writable {
  /** The file on disk. */
  readonly path: string;
  private received = 0;
  private nextSliceAt = 0;
  private cut = false;
  private settled = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly file: WriteStream,
    private readonly script: UploadScript,
  ) {
    super();
    this.path = String(file.path);
    file.once('error', (error) => this.destroy(error));
    // ftp-srv listens for errors only after a hop through its promise chain; an error in
    // between (the file cannot be opened) must not crash the process as an unhandled 'error'.
    this.on('error', () => undefined);
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.consume(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closeFile().then(
      () => {
        // ftp-srv ends the stream before it destroys it with the data connection's error: an
        // upload is complete only when no error came while its file was being closed.
        this.settle(this.errored === null);
        callback();
      },
      (error: Error) => {
        this.settle(false);
        callback(error);
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    this.wake?.();
    // After a clean end this runs too (auto-destroy), but the upload is settled already.
    const done = (): void => {
      this.settle(false);
      callback(error);
    };
    this.closeFile().then(done, done);
  }

  private settle(complete: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.script.settled(complete);
  }

  private async consume(chunk: Buffer): Promise<void> {
    if (this.cut) return; // what arrives after the cut never reaches the disk
    let data = chunk;
    const { dropAfter } = this.script;
    // Cut on the first byte past the limit: an upload of exactly `dropAfter` bytes has
    // arrived whole, and cutting it would make the outcome a race with its end.
    const cutNow = dropAfter !== undefined && this.received + data.length > dropAfter;
    if (cutNow) data = data.subarray(0, dropAfter - this.received);
    this.received += data.length;
    await this.writePaced(data);
    if (cutNow && !this.destroyed) {
      this.cut = true;
      this.script.drop();
    }
  }

  private async writePaced(data: Buffer): Promise<void> {
    let offset = 0;
    while (offset < data.length && !this.destroyed) {
      const rate = this.script.throttle();
      if (rate === undefined) {
        await this.writeFile(data.subarray(offset));
        return;
      }
      const slice = data.subarray(
        offset,
        offset + Math.max(1, Math.floor(rate / SLICES_PER_SECOND)),
      );
      const start = Math.max(this.nextSliceAt, Date.now());
      if (start > Date.now()) await this.sleep(start - Date.now());
      if (this.destroyed) return;
      this.nextSliceAt = start + (slice.length * 1000) / rate;
      await this.writeFile(slice);
      offset += slice.length;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        clearTimeout(this.timer);
        resolve();
      };
      this.timer = setTimeout(this.wake, ms);
    });
  }

  private writeFile(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.file.write(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  private closeFile(): Promise<void> {
    if (this.file.closed) return Promise.resolve();
    return new Promise((resolve) => {
      // 'close' follows both a clean end and an error: either way the file is done with.
      this.file.once('close', () => resolve());
      if (!this.file.writableEnded) this.file.end();
    });
  }
}

import { Readable } from 'node:stream';

/**
 * Helpers shared by the S3 adapters to read GetObject bodies as plain Node streams whose
 * failures are the project's typed errors, and which let go of the HTTP connection as soon as
 * their reader does.
 */

/** The Body of a GetObject answer as a Node Readable; in Node the SDK always gives one. */
export function bodyStream(body: unknown): Readable {
  if (body instanceof Readable) return body;
  // Duck-typed too: a stream from another realm (Jest's VM) or a wrapped one.
  if (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { pipe?: unknown }).pipe === 'function' &&
    typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  ) {
    return body as Readable;
  }
  throw new TypeError('the S3 answer has no readable body');
}

/** How {@link relayChunks} reads its chunks and maps their failures. */
export interface RelayOptions {
  /**
   * Produces the chunks. Runs only when the stream is first read, so a stream that is never
   * read never makes a request. Receives a signal aborted when the reader lets go.
   */
  chunks: (signal: AbortSignal) => AsyncIterable<Buffer>;
  /** Turns any failure into the error the reader sees. */
  mapError: (error: unknown) => Error;
  /**
   * Passes chunks on once at least this many bytes are gathered (fewer at the end): S3 bodies
   * come in 16-64 KiB pieces, and the FTP upload runs at curl's speed only with ~1 MiB
   * writes (PERF-NOTES). 0 passes them on as they come. Default 0.
   */
  coalesceBytes?: number;
}

/**
 * A Readable over an async source of chunks: lazy, with failures mapped, and torn down with its
 * reader (a destroyed relay aborts the request and destroys the body at once, so no socket waits
 * for its timeout). Bytes are never buffered beyond `coalesceBytes` plus the high-water mark.
 * A subclass rather than `Readable.from`: the latter tears down by asking the generator to
 * return, which waits until the pending read of the body ends, possibly never.
 */
class Relay extends Readable {
  readonly #options: RelayOptions;
  readonly #controller = new AbortController();
  #started = false;
  #wake: (() => void) | undefined;

  constructor(options: RelayOptions) {
    super({ highWaterMark: Math.max(options.coalesceBytes ?? 0, 64 * 1024) });
    this.#options = options;
  }

  override _read(): void {
    if (!this.#started) {
      this.#started = true;
      void this.#pump();
    }
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#controller.abort();
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    callback(error);
  }

  /** Passes a chunk on; waits while the reader is full. False once the relay is destroyed. */
  async #deliver(chunk: Buffer): Promise<boolean> {
    if (this.destroyed) return false;
    if (!this.push(chunk)) await new Promise<void>((resolve) => (this.#wake = resolve));
    return !this.destroyed;
  }

  async #pump(): Promise<void> {
    const coalesce = this.#options.coalesceBytes ?? 0;
    let gathered: Buffer[] = [];
    let length = 0;
    const take = (): Buffer => {
      const out = gathered.length === 1 ? (gathered[0] as Buffer) : Buffer.concat(gathered);
      gathered = [];
      length = 0;
      return out;
    };
    try {
      for await (const chunk of this.#options.chunks(this.#controller.signal)) {
        gathered.push(chunk);
        length += chunk.length;
        if (length >= coalesce && !(await this.#deliver(take()))) return;
      }
      if (length > 0 && !(await this.#deliver(take()))) return;
      if (!this.destroyed) this.push(null);
    } catch (error) {
      if (!this.destroyed) this.destroy(this.#options.mapError(error));
    }
  }
}

/** A lazy Readable over `options.chunks`; see {@link RelayOptions}. */
export function relayChunks(options: RelayOptions): Readable {
  return new Relay(options);
}

/**
 * Reads a body for {@link relayChunks}: the body is destroyed when the signal aborts (the reader
 * went away) or when reading stops for any reason, which frees its connection.
 */
export async function* bodyChunks(body: Readable, signal: AbortSignal): AsyncGenerator<Buffer> {
  const stop = () => body.destroy();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const chunk of body) {
      yield typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    }
  } finally {
    signal.removeEventListener('abort', stop);
    body.destroy();
  }
}

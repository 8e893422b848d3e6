/**
 * Reads the transfer point's answers (ACRF and NOTIFICATION) as a stream: bytes go through a
 * fatal TextDecoder in 64 KiB slices, then through the markup guard, then into saxes, and only
 * the fields of interest are kept, each cut at `maxTextChars`. Memory stays flat whatever the
 * size of the file: a 200 MB notification is never a string, and a 200 MB text node is never
 * buffered (see `feedText`). Elements are matched on local names, so prefixes and namespaces
 * do not matter; unknown elements are skipped.
 *
 * This file holds the byte and text side (decoding, the guard, feeding saxes with bounded text)
 * and the public entry points; what the elements mean is read by DocumentReader
 * (document-reader.ts), and the ACRF and NOTIFICATION forms are built in acrf.ts and
 * notification.ts.
 */
import { TextDecoder } from 'node:util';
import { SaxesParser } from 'saxes';
import type { SaxesTagPlain } from 'saxes';
import { readFileChunks } from '../io/read-file-chunks';
import { DocumentReader } from './document-reader';
import { ENCODINGS, SNIFF_BYTES, sniffEncoding } from './encoding';
import { ResponseParseError, ResponseParserEndedError, ResponseTooLargeError } from './errors';
import { MarkupGuard } from './markup-guard';
import { resolveParserOptions } from './parser-options';
import type { ResponseDocument, ResponseParserOptions } from './types';

export { RESPONSE_PARSER_DEFAULTS } from './parser-options';

/** A streaming parser for one response: feed it the bytes in order, then call `end`. */
export interface ResponseParser {
  /**
   * Feeds the next bytes. The chunk is not kept after the call returns, so a caller may reuse
   * its buffer. Throws ResponseParseError or ResponseTooLargeError at the first problem.
   */
  write(chunk: Uint8Array): void;
  /** Ends the input and returns what the response says; throws as `write` does. */
  end(): ResponseDocument;
  /** Bytes fed so far. */
  readonly bytes: number;
}

// Slices of 64 KiB: shorter strings die young in V8, which keeps the heap small and saxes
// fast (measured for the content check: 108 vs 144 MB RSS and 25% faster than 1 MiB slices).
const PARSE_SLICE_BYTES = 64 * 1024;

type Options = { xmlns: false; position: true };

class StreamingResponseParser implements ResponseParser {
  bytes = 0;
  /** Bytes decoded and given to the XML parser so far: the end of the current slice. */
  private fed = 0;
  private readonly options: ResponseParserOptions;
  private readonly guard: MarkupGuard;
  private readonly parser: SaxesParser<Options>;
  /** The document state: open elements, Forms and anomalies. */
  private readonly reader: DocumentReader;
  /** The reader's text handler, given to saxes only inside a field of interest. */
  private readonly onText: (text: string) => void;
  private head: Buffer[] = [];
  private decoder: TextDecoder | undefined;
  private encoding = 'utf-8';
  private failure: Error | undefined;
  private ended = false;

  // Text capture (see feedText).
  private textOn = false;
  private suspended = false;
  private runChars = 0;

  constructor(options: Partial<ResponseParserOptions> | undefined) {
    this.options = resolveParserOptions(options);
    this.guard = new MarkupGuard(this.options.maxMarkupChars);
    this.reader = new DocumentReader(this.options, (message) => this.fail(this.malformed(message)));
    this.onText = this.reader.onText;
    this.parser = new SaxesParser<Options>({ xmlns: false, position: true });
    this.parser.on('error', (error) => {
      this.failure ??= this.malformed(
        `the response is not well-formed XML: ${error.message}`,
        error,
      );
    });
    this.parser.on('doctype', () => {
      // The guard refuses a DOCTYPE first; this stays in case it ever lets one through.
      this.failure ??= this.malformed('a DOCTYPE is not allowed in a response');
    });
    this.parser.on('xmldecl', (decl) => this.onXmlDecl(decl.encoding));
    this.parser.on('opentag', (tag) => this.onOpen(tag));
    this.parser.on('closetag', () => this.onClose());
    this.parser.on('cdata', (text) => this.onText(text));
  }

  write(chunk: Uint8Array): void {
    this.check();
    this.bytes += chunk.length;
    if (this.decoder === undefined) {
      this.head.push(Buffer.from(chunk)); // copied: callers reuse their buffers
      if (this.bytes < SNIFF_BYTES) return;
      this.start();
      return;
    }
    this.feedBytes(chunk);
  }

  end(): ResponseDocument {
    this.check();
    this.ended = true;
    if (this.decoder === undefined) this.start();
    let tail: string;
    try {
      tail = (this.decoder as TextDecoder).decode();
    } catch (cause) {
      throw this.invalidBytes(cause);
    }
    if (tail) this.feedText(tail);
    this.parser.close();
    this.raise();
    const document = this.reader.document();
    if (document === undefined) throw this.fail(this.malformed('the response has no root element'));
    return document;
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.ended) throw new ResponseParserEndedError();
  }

  /** Chooses the decoder from the first bytes (see sniffEncoding), then feeds them. */
  private start(): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    const sniffed = sniffEncoding(head);
    if ('problem' in sniffed) throw this.fail(this.malformed(sniffed.problem));
    this.encoding = sniffed.label;
    // fatal: a byte that is not valid in the encoding is an error, not a silent U+FFFD.
    this.decoder = new TextDecoder(sniffed.decoderLabel, { fatal: true, ignoreBOM: false });
    this.feedBytes(head);
  }

  private onXmlDecl(encoding: string | undefined): void {
    // The sniff reads 256 bytes; a declaration padded past them is caught here.
    const label = (encoding ?? 'utf-8').toLowerCase();
    if (ENCODINGS[label] !== ENCODINGS[this.encoding]) {
      this.failure ??= this.malformed(
        `the XML declaration's encoding ${JSON.stringify(encoding)} is not the one the response was read with (${this.encoding})`,
      );
    }
  }

  private feedBytes(chunk: Uint8Array): void {
    const decoder = this.decoder as TextDecoder;
    for (let offset = 0; offset < chunk.length; offset += PARSE_SLICE_BYTES) {
      this.fed += Math.min(PARSE_SLICE_BYTES, chunk.length - offset);
      let text: string;
      try {
        text = decoder.decode(chunk.subarray(offset, offset + PARSE_SLICE_BYTES), {
          stream: true,
        });
      } catch (cause) {
        throw this.invalidBytes(cause);
      }
      if (text) this.feedText(text);
    }
  }

  /**
   * Gives text to saxes. saxes builds each text node whole before it calls the text handler,
   * but only while a text handler is set: the handler is set only inside a field of interest,
   * so text elsewhere costs nothing. Inside a field, a text run longer than `maxTextChars`
   * would still be built whole; so once a run passes that length, the rest of it is fed with
   * no handler ("suspended") and the handler is set again just before the `<` that ends the
   * run, where saxes hands over (and forgets) the part it kept. A handler must be set at that
   * `<`: saxes only clears its text buffer when it calls one.
   */
  private feedText(text: string): void {
    const violation = this.guard.scan(text);
    if (violation) {
      throw this.fail(
        violation.kind === 'too-large'
          ? new ResponseTooLargeError(
              `the response has ${violation.reason}`,
              this.fed,
              this.options.maxMarkupChars,
            )
          : this.malformed(`the response is not well-formed XML: ${violation.reason}`),
      );
    }
    let rest = text;
    while (rest.length > 0) {
      if (!this.textOn && !this.suspended) {
        this.saxWrite(rest);
        return;
      }
      const lt = rest.indexOf('<');
      const runEnd = lt === -1 ? rest.length : lt;
      if (!this.suspended) {
        // lt === 0: the run ends here, so saxes will hold no more of it.
        if (lt === 0 || this.runChars + runEnd <= this.options.maxTextChars) {
          this.saxWrite(rest);
          return;
        }
        const allowed = Math.max(0, this.options.maxTextChars - this.runChars);
        this.saxWrite(rest.slice(0, allowed));
        this.parser.off('text');
        this.suspended = true;
        rest = rest.slice(allowed);
        continue;
      }
      this.saxWrite(rest.slice(0, runEnd));
      if (lt === -1) return;
      this.parser.on('text', this.onText);
      this.suspended = false;
      rest = rest.slice(runEnd);
    }
  }

  private saxWrite(text: string): void {
    if (text.length === 0) return;
    this.parser.write(text);
    this.raise();
    // Characters since the last `<`: an upper bound of the text saxes holds for a handler.
    const lt = text.lastIndexOf('<');
    this.runChars = lt === -1 ? this.runChars + text.length : text.length - lt - 1;
  }

  /** Sets or removes the text handler to match the innermost element. */
  private syncTextHandler(): void {
    const wanted = this.reader.wantsText();
    if (wanted === this.textOn) return;
    this.textOn = wanted;
    if (wanted) this.parser.on('text', this.onText);
    else this.parser.off('text');
  }

  private onOpen(tag: SaxesTagPlain): void {
    if (this.failure) return;
    if (this.reader.depth >= this.options.maxDepth) {
      // saxes keeps every open element: stop here rather than follow a nesting bomb down.
      this.fail(
        new ResponseTooLargeError(
          `the response nests elements deeper than ${this.options.maxDepth} levels`,
          this.fed,
          this.options.maxDepth,
        ),
      );
      return;
    }
    this.reader.open(tag.name);
    this.syncTextHandler();
  }

  private onClose(): void {
    if (this.failure || this.reader.depth === 0) return;
    this.reader.close();
    this.syncTextHandler();
  }

  private malformed(message: string, cause?: unknown): ResponseParseError {
    return new ResponseParseError(message, this.fed, cause);
  }

  private invalidBytes(cause: unknown): ResponseParseError {
    return this.fail(
      this.malformed(`the response has bytes that are not valid ${this.encoding}`, cause),
    );
  }

  /** Records the first failure: every later call throws it again. */
  private fail<E extends Error>(error: E): E {
    this.failure ??= error;
    return error;
  }

  private raise(): void {
    if (this.failure) throw this.failure;
  }
}

/**
 * Creates a streaming parser for one response (ACRF, NOTIFICATION, or another root kept as
 * `other`). Options are merged over RESPONSE_PARSER_DEFAULTS and checked at once.
 *
 * @param options - limits on what is kept; see ResponseParserOptions
 * @throws ResponseParserOptionsError when an option is not a usable integer
 */
export function createResponseParser(options?: Partial<ResponseParserOptions>): ResponseParser {
  return new StreamingResponseParser(options);
}

/**
 * Parses a response held in memory (tests, small answers).
 *
 * @param buffer - the whole response
 * @param options - limits on what is kept
 */
export function parseResponseBuffer(
  buffer: Uint8Array,
  options?: Partial<ResponseParserOptions>,
): ResponseDocument {
  const parser = createResponseParser(options);
  parser.write(buffer);
  return parser.end();
}

/**
 * Parses a response from a stream of bytes, e.g. a download or `fs.createReadStream`. A
 * stream that yields strings (one with an encoding set) is refused: the parser decodes the
 * bytes itself, as the response declares.
 *
 * @param source - the bytes, in order
 * @param options - limits on what is kept
 */
export async function parseResponseStream(
  source: AsyncIterable<Uint8Array>,
  options?: Partial<ResponseParserOptions>,
): Promise<ResponseDocument> {
  const parser = createResponseParser(options);
  for await (const chunk of source as AsyncIterable<unknown>) {
    if (!ArrayBuffer.isView(chunk)) {
      throw new TypeError('parseResponseStream needs a stream of bytes, not of strings');
    }
    parser.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return parser.end();
}

/**
 * Parses a response file, read in large chunks (readFileChunks).
 *
 * @param path - the file
 * @param options - limits on what is kept
 */
export async function parseResponseFile(
  path: string,
  options?: Partial<ResponseParserOptions>,
): Promise<ResponseDocument> {
  const parser = createResponseParser(options);
  await readFileChunks(path, (chunk) => parser.write(chunk));
  return parser.end();
}

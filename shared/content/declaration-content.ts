import { TextDecoder } from 'node:util';
import { SaxesParser } from 'saxes';
import { FORM_IDENTIFICATION } from '../names';
import { ContentRuleError } from './errors';
import { XmlFastPath, type XmlHandover } from './xml-fast-path';

/** What the content check found in a declaration. */
export interface ContentSummary {
  /** `xml` when the content is XML (and was checked as such), `other` otherwise. */
  kind: 'xml' | 'other';
  bytes: number;
  /** The encoding the XML was read with. */
  encoding?: string;
  /** The text of Form/Identification under the root, when found. */
  formIdentification?: string;
}

// Encodings the reception is known to read; anything else is refused (138).
const SUPPORTED_ENCODINGS: Readonly<Record<string, string>> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'iso-8859-1': 'latin1',
  'iso-8859-15': 'iso-8859-15',
  'us-ascii': 'utf-8',
};

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
// Bytes enough to see a BOM, the first non-blank character and the XML declaration.
const SNIFF_BYTES = 256;
const MAX_IDENTIFICATION_CHARS = 64;
const PARSE_SLICE_BYTES = 64 * 1024;
// Deepest element nesting accepted. A DmfA nests about ten levels; saxes keeps every open
// element, so without a limit 200 MB of nested tags (tens of millions) would exhaust memory.
const MAX_DEPTH = 256;

type FormRule = { label: string; pattern: RegExp };

function formRuleFor(app: string): FormRule | undefined {
  return (FORM_IDENTIFICATION as Readonly<Record<string, FormRule>>)[app];
}

/** Bytes a declaration's head needs for {@link looksLikeXml}. */
export const XML_SNIFF_BYTES = SNIFF_BYTES;

function withoutBom(head: Buffer): Buffer {
  return head.subarray(0, UTF8_BOM.length).equals(UTF8_BOM) ? head.subarray(3) : head;
}

/**
 * Whether a declaration whose first bytes are `head` is XML, and so gets
 * the XML checks: its first character but blanks (after a UTF-8 BOM) is `<`.
 */
export function looksLikeXml(head: Buffer): boolean {
  return withoutBom(head).toString('latin1').trimStart()[0] === '<';
}

/**
 * What saxes must read first to be where the fast path stopped: the start
 * tags of the open elements; a closed root; or, in the prolog, a blank that
 * stands for what was vouched for there (an XML declaration may no longer
 * come).
 */
function restoredState(handover: XmlHandover): string {
  if (handover.open.length > 0) return handover.open.map((name) => `<${name}>`).join('');
  if (handover.rootSeen) return '<r/>';
  return handover.atStart ? '' : ' ';
}

/**
 * Checks a declaration's content as it streams by, in the same pass as the
 * upload: XML well-formedness (ACRF-102, with saxes: no entity expansion, so
 * no entity bombs), the declared encoding (ACRF-138) and the form
 * identification against the application of the name (ACRF-158). Content
 * that does not start with `<` is not XML and gets no XML check.
 * `write` throws at the first broken rule, so a sender can stop early.
 *
 * A declaration of the usual shape is read by {@link XmlFastPath} (about ten
 * times faster than saxes); at the first token the fast path cannot vouch
 * for, saxes takes over from that token with the open elements restored,
 * so every refusal is saxes' own verdict.
 */
export class DeclarationContentChecker {
  private readonly formRule: FormRule | undefined;
  private head: Buffer[] = [];
  private headBytes = 0;
  private bytes = 0;
  private kind: 'xml' | 'other' | undefined;
  private encoding: string | undefined;
  private decoder: TextDecoder | undefined;
  private fast: XmlFastPath | undefined;
  private parser: SaxesParser | undefined;
  /** Where saxes took over from the fast path, when not at the start (its positions are off). */
  private handoverOffset = 0;
  private failure: ContentRuleError | undefined;
  private readonly path: string[] = [];
  private identificationText: string | undefined;
  private formIdentification: string | undefined;

  /**
   * @param app - the application of the declaration's name (its form rule, 158)
   * @param options - `fastPath: false` reads every document with saxes alone (the reference the
   *   fast path is tested and measured against)
   */
  constructor(
    private readonly app: string,
    private readonly options: { fastPath?: boolean } = {},
  ) {
    this.formRule = formRuleFor(app);
  }

  /** True once saxes had to read part of the document (the fast path could not vouch for all). */
  get usedFullParser(): boolean {
    return this.parser !== undefined;
  }

  /** Feeds the next bytes of the declaration; throws a ContentRuleError at the first problem. */
  write(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.kind === undefined) {
      this.head.push(Buffer.from(chunk)); // copied: callers reuse their buffers
      this.headBytes += chunk.length;
      if (this.headBytes < SNIFF_BYTES) return;
      this.start(Buffer.concat(this.head));
      this.head = [];
      return;
    }
    if (this.kind === 'xml') this.next(chunk);
  }

  /** Ends the check and returns what was found; throws a ContentRuleError when a rule is broken. */
  end(): ContentSummary {
    if (this.kind === undefined) this.start(Buffer.concat(this.head));
    if (this.bytes === 0)
      throw new ContentRuleError('the declaration holds no data', 'ACRF-134', 0);
    if (this.kind === 'other') return { kind: 'other', bytes: this.bytes };
    if (this.fast) {
      const handover = this.fast.end();
      this.fast = undefined;
      if (handover) this.takeOver(handover);
    }
    this.raise();
    const parser = this.parser;
    if (parser) {
      try {
        const tail = this.decoder?.decode();
        if (tail) parser.write(tail);
        parser.close();
      } catch (error) {
        this.fail(error);
      }
      this.raise();
    }
    if (this.formRule && this.formIdentification === undefined) {
      throw new ContentRuleError(
        `the declaration has no Form/Identification: a ${this.app} file must identify itself as ${this.formRule.label}`,
        'ACRF-158',
      );
    }
    return {
      kind: 'xml',
      bytes: this.bytes,
      ...(this.encoding ? { encoding: this.encoding } : {}),
      ...(this.formIdentification ? { formIdentification: this.formIdentification } : {}),
    };
  }

  private start(head: Buffer): void {
    const body = withoutBom(head);
    if (!looksLikeXml(head)) {
      this.kind = 'other';
      return;
    }
    this.kind = 'xml';
    const declared = /^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(
      body.toString('latin1'),
    )?.[1];
    const label = (declared ?? 'utf-8').toLowerCase();
    const encoding = SUPPORTED_ENCODINGS[label];
    if (encoding === undefined) {
      throw new ContentRuleError(
        `the declaration's encoding "${declared}" is not supported`,
        'ACRF-138',
        0,
      );
    }
    this.encoding = label;
    if (this.options.fastPath === false) {
      this.takeOver({ rest: head, open: [], rootSeen: false, offset: 0, atStart: true });
      return;
    }
    this.fast = new XmlFastPath({
      utf8: encoding === 'utf-8',
      maxDepth: MAX_DEPTH,
      onIdentification: (value) => this.onIdentification(value),
    });
    this.next(head);
  }

  /** Bytes to the fast path while it vouches, then to saxes. */
  private next(chunk: Buffer): void {
    if (this.fast) {
      const handover = this.fast.write(chunk);
      this.raise(); // a form identification refused on the way (158)
      if (handover === undefined) return;
      this.fast = undefined;
      this.takeOver(handover);
      return;
    }
    this.feed(chunk);
  }

  /**
   * saxes from where the fast path stopped: the open elements first (their
   * start tags, so that end tags are matched and depth counted), then the
   * bytes not vouched for. A takeover past the start has no true line and
   * column: its messages name the byte offset instead.
   */
  private takeOver(handover: XmlHandover): void {
    const encoding = SUPPORTED_ENCODINGS[this.encoding ?? 'utf-8'] ?? 'utf-8';
    // fatal: bytes that are not valid in the declared encoding are an error, not U+FFFD. A BOM
    // is the document's own only at its start; later, U+FEFF is a character like any other.
    this.decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: !handover.atStart });
    this.parser = this.createParser(handover.atStart);
    if (!handover.atStart) this.handoverOffset = handover.offset;
    try {
      this.parser.write(restoredState(handover));
    } catch (error) {
      this.fail(error);
    }
    this.feed(handover.rest);
  }

  private createParser(position: boolean): SaxesParser {
    const parser = new SaxesParser({ xmlns: false, position });
    parser.on('error', (error) => this.fail(error));
    parser.on('opentag', (tag) => {
      if (this.path.length >= MAX_DEPTH) {
        this.failure ??= new ContentRuleError(
          `the declaration nests elements deeper than ${MAX_DEPTH} levels`,
          'CONTENT_TOO_DEEP',
          this.bytes,
        );
        return;
      }
      this.path.push(tag.name);
      if (this.isIdentification()) this.identificationText = '';
    });
    parser.on('text', (text) => {
      if (
        this.identificationText !== undefined &&
        this.identificationText.length < MAX_IDENTIFICATION_CHARS
      ) {
        this.identificationText += text;
      }
    });
    parser.on('closetag', () => {
      if (this.identificationText !== undefined && this.isIdentification()) {
        this.onIdentification(this.identificationText.trim());
        this.identificationText = undefined;
      }
      this.path.pop();
    });
    return parser;
  }

  /** True while inside root/Form/Identification, the first one only. */
  private isIdentification(): boolean {
    return (
      this.formIdentification === undefined &&
      this.path.length === 3 &&
      this.path[1] === 'Form' &&
      this.path[2] === 'Identification'
    );
  }

  private onIdentification(value: string): void {
    this.formIdentification = value;
    if (this.formRule && !this.formRule.pattern.test(value)) {
      this.failure ??= new ContentRuleError(
        `the form identification "${value.slice(0, MAX_IDENTIFICATION_CHARS)}" does not match application ${this.app} (expected ${this.formRule.label})`,
        'ACRF-158',
        this.bytes,
      );
    }
  }

  private feed(chunk: Buffer): void {
    // Slices of 64 KiB: shorter strings die young in V8, which keeps the heap (and RSS) small
    // and makes saxes faster than with 1 MiB strings (measured: 108 vs 144 MB, 25% faster).
    for (let offset = 0; offset < chunk.length; offset += PARSE_SLICE_BYTES) {
      const slice = chunk.subarray(offset, offset + PARSE_SLICE_BYTES);
      let text: string;
      try {
        text = (this.decoder as TextDecoder).decode(slice, { stream: true });
      } catch (cause) {
        throw new ContentRuleError(
          `the declaration has bytes that are not valid ${this.encoding ?? 'utf-8'}`,
          'ACRF-138',
          this.bytes,
          cause,
        );
      }
      try {
        (this.parser as SaxesParser).write(text);
      } catch (error) {
        this.fail(error);
      }
      this.raise();
    }
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    const reason = error instanceof Error ? error.message : String(error);
    const where = this.handoverOffset > 0 ? ` (after byte ${this.handoverOffset})` : '';
    this.failure = new ContentRuleError(
      `the declaration is not well-formed XML: ${reason}${where}`,
      'ACRF-102',
      this.bytes,
      error,
    );
  }

  private raise(): void {
    if (this.failure) throw this.failure;
  }
}

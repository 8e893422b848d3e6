/**
 * The XML fast path: a byte scanner that vouches for the common shape of a declaration and
 * hands the rest to saxes (declaration-content.ts) at the first token it cannot vouch for.
 *
 * Why this stays one file, over 400 lines: the class's token methods (openTag, closeTag,
 * identification) and the free token scanners after it (text, name, attributeValue,
 * reference...) are one hot loop over every byte of the document, all testing the same byte
 * class table and constants. Split into a tables-and-scanners module and a class module, that
 * loop reads the table, the constants and the scanners through another module's exports
 * object (CommonJS output), and it measured about 6% slower on an 80 MB DmfA-like document
 * (median 354 ms against 333 ms). Kept whole, the file reads top to bottom: the byte table,
 * the stateful scanner (chunks, carry, open elements), then the stateless single-token scanners.
 */
import { isUtf8 } from 'node:buffer';

/**
 * Where the fast path stopped vouching for a document: the full parser
 * (saxes) takes over from here. `rest` starts at a token boundary and at a
 * character boundary; `open` and `rootSeen` are the parser state before it.
 */
export interface XmlHandover {
  /** The bytes the full parser must read next, before any later chunk. */
  rest: Buffer;
  /** Names of the elements open at that point, outermost first. */
  open: string[];
  /** Whether the root element was already opened (and, with `open` empty, closed). */
  rootSeen: boolean;
  /** Offset of `rest` in the document. */
  offset: number;
  /** True when nothing before `rest` was vouched for (but a byte order mark). */
  atStart: boolean;
}

/** Settings of the fast path. */
export interface XmlFastPathOptions {
  /** True when the document is UTF-8 (its bytes are validated); false for single-byte encodings. */
  utf8: boolean;
  /** Deepest nesting vouched for; deeper documents go to the full parser. */
  maxDepth: number;
  /** Called with the trimmed text of the first root/Form/Identification element. */
  onIdentification: (value: string) => void;
}

// A token longer than this (a comment, a tag with huge attributes) is left to the full parser.
const JOIN_BYTES = 64 * 1024;
const MAX_NAME_BYTES = 256;
const MAX_ATTRIBUTES = 32;
const MAX_IDENTIFICATION_BYTES = 4096;

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOT = 0x22;
const HASH = 0x23;
const AMP = 0x26;
const APOS = 0x27;
const DASH = 0x2d;
const SLASH = 0x2f;
const SEMI = 0x3b;
const LT = 0x3c;
const EQ = 0x3d;
const GT = 0x3e;
const QMARK = 0x3f;
const BANG = 0x21;
const LSQB = 0x5b;
const RSQB = 0x5d;
const LOWER_X = 0x78;

// Byte classes (ASCII only: any byte >= 0x80 in a name sends the document to the full parser).
const NAME_START = 1;
const NAME_CHAR = 2;
const BLANK = 4;
const CONTROL = 8; // a byte that is no XML character at all
const TEXT_STOP = 16; // a byte that ends or needs a closer look in character data
const CLASSES = (() => {
  const classes = new Uint8Array(256);
  for (let c = 0; c < 0x20; c += 1) classes[c] = CONTROL | TEXT_STOP;
  for (const c of [TAB, LF, CR, SPACE]) classes[c] = BLANK;
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_:';
  for (const c of Buffer.from(letters)) classes[c] = NAME_START | NAME_CHAR;
  for (const c of Buffer.from('0123456789-.')) classes[c] = NAME_CHAR;
  for (const c of [LT, AMP, RSQB]) classes[c] = (classes[c] as number) | TEXT_STOP;
  return classes;
})();

const XML_DECLARATION =
  /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.0\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\3)?[ \t\r\n]*\?>$/;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
// U+FFFE and U+FFFF are valid UTF-8 but no XML characters.
const NONCHARACTERS = [Buffer.from([0xef, 0xbf, 0xbe]), Buffer.from([0xef, 0xbf, 0xbf])];
const FORM = Buffer.from('Form');
const IDENTIFICATION = Buffer.from('Identification');
const PREDEFINED_ENTITIES = ['amp', 'lt', 'gt', 'quot', 'apos'].map((name) => Buffer.from(name));

// What a token scanner returns besides an offset: the token is not complete in the buffer, or
// it is outside what the fast path vouches for.
const INCOMPLETE = -1;
const UNSURE = -2;

/**
 * A well-formedness check for the common shape of a declaration, many
 * times faster than a general XML parser: elements with ASCII names,
 * quoted attributes, text with the predefined entities and character
 * references, comments and CDATA sections, one optional XML 1.0
 * declaration, no DOCTYPE, UTF-8 (validated) or a single-byte encoding.
 *
 * It only ever vouches: it never refuses a document. At the first token it
 * cannot vouch for (anything outside that shape, and every error), it hands
 * the rest of the document to the full parser with the state that parser
 * needs (see {@link XmlHandover}), so every verdict on a document it did not
 * fully accept is the full parser's own.
 */
export class XmlFastPath {
  private carry: Buffer | undefined;
  // Reused for every carry and join: a buffer allocated per chunk is garbage the collector of
  // a quiet heap leaves for long (tens of MB of RSS on a 1 GiB file).
  private readonly carryStore = Buffer.allocUnsafe(JOIN_BYTES + 4);
  private readonly joinStore = Buffer.allocUnsafe(2 * JOIN_BYTES + 4);
  /** Document offset of the next byte to scan (the carry's first byte when there is one). */
  private offset = 0;
  /** 3 when the document starts with a UTF-8 byte order mark, else 0 (known once offset > 0). */
  private bomLength = 0;
  // Names of the open elements, back to back in one buffer: no allocation per element.
  private readonly stack: Buffer;
  /** Offsets in `stack` of each open name, and of the end of the last one. */
  private readonly starts: Int32Array;
  private depth = 0;
  private rootSeen = false;
  private identified = false;
  private readonly attributes = new Int32Array(MAX_ATTRIBUTES * 2);

  constructor(private readonly options: XmlFastPathOptions) {
    this.stack = Buffer.alloc(MAX_NAME_BYTES * options.maxDepth);
    this.starts = new Int32Array(options.maxDepth + 1);
  }

  /** Scans the next bytes; returns a handover at the first token it cannot vouch for. */
  write(chunk: Buffer): XmlHandover | undefined {
    const carry = this.carry;
    if (carry === undefined) return this.process(chunk);
    this.carry = undefined;
    // The token cut by the last chunk's end, completed from this chunk's first bytes: joining
    // the whole chunk would copy every byte of the document once more.
    const joined = Math.min(chunk.length, JOIN_BYTES);
    carry.copy(this.joinStore, 0);
    chunk.copy(this.joinStore, carry.length, 0, joined);
    const head = this.joinStore.subarray(0, carry.length + joined);
    if (joined === chunk.length) return this.process(head);
    const before = this.offset;
    const handover = this.process(head);
    if (handover)
      return { ...handover, rest: Buffer.concat([handover.rest, chunk.subarray(joined)]) };
    const consumed = this.offset - before;
    if (consumed < carry.length) {
      // The token is longer than what was joined: the full parser reads it.
      this.carry = undefined;
      const rest = Buffer.concat([head.subarray(consumed), chunk.subarray(joined)]);
      return this.handover(rest, 0);
    }
    this.carry = undefined; // what the head left is in the chunk still
    return this.process(chunk.subarray(consumed - carry.length));
  }

  /** Validates and scans `data`, keeping an incomplete last token for the next chunk. */
  private process(data: Buffer): XmlHandover | undefined {
    let start = 0;
    if (this.offset === 0 && this.options.utf8 && startsWithBomPrefix(data)) {
      if (data.length < UTF8_BOM.length) {
        this.keep(data);
        return undefined;
      }
      start = this.bomLength = UTF8_BOM.length;
    }
    // A character cut by the end of the chunk waits for the next one.
    const limit = this.options.utf8 ? completeUtf8Length(data) : data.length;
    if (this.options.utf8 && !validUtf8Characters(data.subarray(start, limit))) {
      return this.handover(data, start);
    }
    const stop = this.scan(data, start, limit);
    if (stop < 0) return this.handover(data, -stop - 1);
    if (data.length - stop > JOIN_BYTES) return this.handover(data, stop);
    if (stop < data.length) this.keep(data.subarray(stop));
    this.offset += stop;
    return undefined;
  }

  /** Keeps the bytes of an incomplete token (at most JOIN_BYTES and a partial character). */
  private keep(bytes: Buffer): void {
    bytes.copy(this.carryStore, 0);
    this.carry = this.carryStore.subarray(0, bytes.length);
  }

  /** Ends the document: undefined when it is well-formed, else the handover for its end. */
  end(): XmlHandover | undefined {
    const rest = this.carry ?? Buffer.alloc(0);
    if (rest.length > 0 || this.depth > 0 || !this.rootSeen) return this.handover(rest, 0);
    return undefined;
  }

  private handover(data: Buffer, at: number): XmlHandover {
    const open: string[] = [];
    for (let level = 0; level < this.depth; level += 1) {
      open.push(this.stack.toString('latin1', this.starts[level], this.starts[level + 1]));
    }
    const offset = this.offset + at;
    return {
      rest: data.subarray(at),
      open,
      rootSeen: this.rootSeen,
      offset,
      atStart: offset <= this.bomLength,
    };
  }

  /**
   * Scans whole tokens of `data` from `start` up to `limit`. Returns the
   * offset of the first byte not consumed (an incomplete token), or
   * `-(at + 1)` for a token at `at` it cannot vouch for.
   */
  private scan(data: Buffer, start: number, limit: number): number {
    let at = start;
    while (at < limit) {
      let next: number;
      if (data[at] === LT) {
        next = this.markup(data, at, limit);
      } else {
        next = this.depth > 0 ? text(data, at, limit) : blanks(data, at, limit);
      }
      if (next === INCOMPLETE) return at;
      if (next === UNSURE) return -(at + 1);
      at = next;
    }
    return at;
  }

  /** A token starting with `<`: returns the offset after it, INCOMPLETE or UNSURE. */
  private markup(data: Buffer, at: number, limit: number): number {
    if (at + 1 >= limit) return INCOMPLETE;
    const c = data[at + 1] as number;
    if (c === SLASH) return this.closeTag(data, at, limit);
    if (c === BANG) {
      return this.depth > 0 ? commentOrCdata(data, at, limit) : comment(data, at, limit);
    }
    if (c === QMARK) {
      // Only the XML declaration, first in the document; other instructions are rare.
      return this.offset + at === this.bomLength ? declaration(data, at, limit) : UNSURE;
    }
    return this.openTag(data, at, limit);
  }

  private openTag(data: Buffer, at: number, limit: number): number {
    if (this.depth === 0 && this.rootSeen) return UNSURE; // a second root
    if (this.depth >= this.options.maxDepth) return UNSURE;
    const nameStart = at + 1;
    const nameEnd = name(data, nameStart, limit);
    if (nameEnd < 0) return nameEnd;
    let k = nameEnd;
    let count = 0;
    let empty = false;
    for (;;) {
      let blank = false;
      while (k < limit && (CLASSES[data[k] as number] as number) & BLANK) {
        k += 1;
        blank = true;
      }
      if (k >= limit) return INCOMPLETE;
      const c = data[k] as number;
      if (c === GT) {
        k += 1;
        break;
      }
      if (c === SLASH) {
        if (k + 1 >= limit) return INCOMPLETE;
        if (data[k + 1] !== GT) return UNSURE;
        k += 2;
        empty = true;
        break;
      }
      if (!blank || count === MAX_ATTRIBUTES) return UNSURE;
      const attributeEnd = name(data, k, limit);
      if (attributeEnd < 0) return attributeEnd;
      if (this.repeatsAttribute(data, k, attributeEnd, count)) return UNSURE;
      this.attributes[count * 2] = k;
      this.attributes[count * 2 + 1] = attributeEnd;
      count += 1;
      k = attributeValue(data, attributeEnd, limit);
      if (k < 0) return k;
    }
    const level = this.depth + 1;
    if (level === 3 && !this.identified && this.underForm(data, nameStart, nameEnd)) {
      return empty ? UNSURE : this.identification(data, k, limit);
    }
    if (!empty) this.push(data, nameStart, nameEnd);
    this.rootSeen = true;
    return k;
  }

  /** Whether the element opening at depth 3 is root/Form/Identification. */
  private underForm(data: Buffer, nameStart: number, nameEnd: number): boolean {
    const form = this.stack.subarray(this.starts[1], this.starts[2]);
    return form.equals(FORM) && data.subarray(nameStart, nameEnd).equals(IDENTIFICATION);
  }

  /**
   * `<Identification>text</Identification>` as one token: plain ASCII text
   * and its end tag, else the full parser reads it (from the start tag).
   */
  private identification(data: Buffer, textStart: number, limit: number): number {
    let k = textStart;
    while (k < limit && data[k] !== LT) {
      const c = data[k] as number;
      if ((c < SPACE && c !== TAB && c !== LF) || c > 0x7e || c === AMP || c === RSQB) {
        return UNSURE;
      }
      if (k - textStart > MAX_IDENTIFICATION_BYTES) return UNSURE;
      k += 1;
    }
    const end = `</${IDENTIFICATION.toString('latin1')}`;
    if (limit - k < end.length + 1) return INCOMPLETE;
    if (data.toString('latin1', k, k + end.length) !== end) return UNSURE;
    let close = k + end.length;
    while (close < limit && (CLASSES[data[close] as number] as number) & BLANK) close += 1;
    if (close >= limit) return INCOMPLETE;
    if (data[close] !== GT) return UNSURE;
    this.identified = true;
    this.options.onIdentification(data.toString('latin1', textStart, k).trim());
    return close + 1;
  }

  private closeTag(data: Buffer, at: number, limit: number): number {
    if (this.depth === 0) return UNSURE;
    const start = this.starts[this.depth - 1] as number;
    const length = (this.starts[this.depth] as number) - start;
    let k = at + 2;
    if (limit - k < length + 1) return INCOMPLETE;
    for (let i = 0; i < length; i += 1) {
      if (data[k + i] !== this.stack[start + i]) return UNSURE;
    }
    k += length;
    while (k < limit && (CLASSES[data[k] as number] as number) & BLANK) k += 1;
    if (k >= limit) return INCOMPLETE;
    if (data[k] !== GT) return UNSURE; // a longer name, or junk
    this.depth -= 1;
    return k + 1;
  }

  private push(data: Buffer, nameStart: number, nameEnd: number): void {
    const top = this.starts[this.depth] as number;
    // A byte loop: Buffer#copy costs more than the copy itself for names this short.
    for (let i = nameStart; i < nameEnd; i += 1)
      this.stack[top + i - nameStart] = data[i] as number;
    this.depth += 1;
    this.starts[this.depth] = top + nameEnd - nameStart;
  }

  private repeatsAttribute(data: Buffer, start: number, end: number, count: number): boolean {
    for (let i = 0; i < count; i += 1) {
      const otherStart = this.attributes[i * 2] as number;
      const otherEnd = this.attributes[i * 2 + 1] as number;
      if (
        otherEnd - otherStart === end - start &&
        data.compare(data, otherStart, otherEnd, start, end) === 0
      ) {
        return true;
      }
    }
    return false;
  }
}

/** Character data inside the root: up to the next `<`. */
function text(data: Buffer, at: number, limit: number): number {
  let k = at;
  while (k < limit) {
    // The common bytes in one test each.
    while (k < limit && !((CLASSES[data[k] as number] as number) & TEXT_STOP)) k += 1;
    if (k >= limit) break;
    const c = data[k] as number;
    if (c === LT) return k;
    if (c === AMP) {
      const end = reference(data, k, limit);
      if (end < 0) return end === INCOMPLETE && k > at ? k : end;
      k = end;
      continue;
    }
    if ((CLASSES[c] as number) & CONTROL) return UNSURE;
    if (c === RSQB) {
      // `]]>` is not allowed in text; a `]` near the end waits for the bytes after it.
      if (k + 2 >= limit) return k > at ? k : INCOMPLETE;
      if (data[k + 1] === RSQB && data[k + 2] === GT) return UNSURE;
    }
    k += 1;
  }
  return k;
}

/** White space outside the root (anything else there is an error). */
function blanks(data: Buffer, at: number, limit: number): number {
  let k = at;
  while (k < limit && data[k] !== LT) {
    if (!((CLASSES[data[k] as number] as number) & BLANK)) return UNSURE;
    k += 1;
  }
  return k;
}

/** An ASCII name from `at`: the offset after it, INCOMPLETE or UNSURE. */
function name(data: Buffer, at: number, limit: number): number {
  if (at >= limit) return INCOMPLETE;
  if (!((CLASSES[data[at] as number] as number) & NAME_START)) return UNSURE;
  let k = at + 1;
  while (k < limit && (CLASSES[data[k] as number] as number) & NAME_CHAR) k += 1;
  if (k >= limit) return INCOMPLETE;
  return k - at > MAX_NAME_BYTES ? UNSURE : k;
}

/** `= "value"` after an attribute name: the offset after the closing quote. */
function attributeValue(data: Buffer, at: number, limit: number): number {
  let k = at;
  while (k < limit && (CLASSES[data[k] as number] as number) & BLANK) k += 1;
  if (k >= limit) return INCOMPLETE;
  if (data[k] !== EQ) return UNSURE;
  k += 1;
  while (k < limit && (CLASSES[data[k] as number] as number) & BLANK) k += 1;
  if (k >= limit) return INCOMPLETE;
  const quote = data[k];
  if (quote !== QUOT && quote !== APOS) return UNSURE;
  k += 1;
  while (k < limit) {
    const c = data[k] as number;
    if (c === quote) return k + 1;
    if (c === LT) return UNSURE;
    if (c === AMP) {
      const end = reference(data, k, limit);
      if (end < 0) return end;
      k = end;
      continue;
    }
    if ((CLASSES[c] as number) & CONTROL) return UNSURE;
    if (c === GT && data[k - 1] === RSQB && data[k - 2] === RSQB) return UNSURE;
    k += 1;
  }
  return INCOMPLETE;
}

/** `&name;` (the five predefined entities) or a character reference to an XML character. */
function reference(data: Buffer, at: number, limit: number): number {
  let k = at + 1;
  if (k >= limit) return INCOMPLETE;
  if (data[k] === HASH) {
    k += 1;
    const hex = k < limit && data[k] === LOWER_X;
    if (hex) k += 1;
    const digitsStart = k;
    let value = 0;
    while (k < limit && k - digitsStart <= 8) {
      const digit = digitValue(data[k] as number, hex);
      if (digit < 0) break;
      value = value * (hex ? 16 : 10) + digit;
      k += 1;
    }
    if (k >= limit) return INCOMPLETE;
    if (k === digitsStart || k - digitsStart > 8 || data[k] !== SEMI) return UNSURE;
    return isXmlCharacter(value) ? k + 1 : UNSURE;
  }
  const end = data.indexOf(SEMI, k);
  if (end < 0 || end >= limit) return limit - k > 8 ? UNSURE : INCOMPLETE;
  const entity = data.subarray(k, end);
  return PREDEFINED_ENTITIES.some((known) => known.equals(entity)) ? end + 1 : UNSURE;
}

function digitValue(c: number, hex: boolean): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (!hex) return -1;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function isXmlCharacter(c: number): boolean {
  return (
    c === TAB ||
    c === LF ||
    c === CR ||
    (c >= SPACE && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0x10ffff)
  );
}

/** `<!-- ... -->`: the first `--` inside must be the end. */
function comment(data: Buffer, at: number, limit: number): number {
  if (limit - at < 4) return INCOMPLETE;
  if (data[at + 2] !== DASH || data[at + 3] !== DASH) return UNSURE;
  const dashes = data.indexOf('--', at + 4, 'latin1');
  if (dashes < 0 || dashes + 2 >= limit) return INCOMPLETE;
  if (data[dashes + 2] !== GT) return UNSURE;
  return noControls(data, at + 4, dashes) ? dashes + 3 : UNSURE;
}

const CDATA_OPEN = Buffer.from('<![CDATA[');

/** Inside the root, a comment or a CDATA section. */
function commentOrCdata(data: Buffer, at: number, limit: number): number {
  if (limit - at < 3) return INCOMPLETE;
  if (data[at + 2] !== LSQB) return comment(data, at, limit);
  if (limit - at < CDATA_OPEN.length) return INCOMPLETE;
  if (!data.subarray(at, at + CDATA_OPEN.length).equals(CDATA_OPEN)) return UNSURE;
  const end = data.indexOf(']]>', at + CDATA_OPEN.length, 'latin1');
  if (end < 0 || end + 3 > limit) return INCOMPLETE;
  return noControls(data, at + CDATA_OPEN.length, end) ? end + 3 : UNSURE;
}

/** `<?xml version="1.0" ...?>` at the start of the document. */
function declaration(data: Buffer, at: number, limit: number): number {
  const end = data.indexOf('?>', at, 'latin1');
  if (end < 0 || end + 2 > limit) return limit - at > 512 ? UNSURE : INCOMPLETE;
  return XML_DECLARATION.test(data.toString('latin1', at, end + 2)) ? end + 2 : UNSURE;
}

function noControls(data: Buffer, start: number, end: number): boolean {
  for (let k = start; k < end; k += 1) {
    if ((CLASSES[data[k] as number] as number) & CONTROL) return false;
  }
  return true;
}

function startsWithBomPrefix(data: Buffer): boolean {
  const n = Math.min(data.length, UTF8_BOM.length);
  return n > 0 && data.subarray(0, n).equals(UTF8_BOM.subarray(0, n));
}

/** Length of the longest prefix of `data` that does not end inside a UTF-8 character. */
function completeUtf8Length(data: Buffer): number {
  const length = data.length;
  for (let back = 1; back <= 3 && back <= length; back += 1) {
    const c = data[length - back] as number;
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const needed = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return needed > back ? length - back : length;
  }
  return length;
}

/** Valid UTF-8 made of XML characters (controls are checked by the scanner). */
function validUtf8Characters(data: Buffer): boolean {
  return isUtf8(data) && NONCHARACTERS.every((bad) => data.indexOf(bad) < 0);
}

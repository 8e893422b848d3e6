/**
 * A light scanner that runs over the text before saxes sees it. saxes holds every markup
 * construct whole until it ends (a tag with its attributes, a comment, a CDATA section, a
 * processing instruction, an entity reference: it has no limit of its own), so a hostile
 * 200 MB comment would be 200 MB of heap. The guard follows the same constructs, never ending
 * one before saxes does nor starting one after, and refuses any that grows past the limit
 * before saxes is given it. It also refuses a DOCTYPE as soon as `<!D` is seen: no response has
 * one, and refusing it means no entity is ever declared. Well-formedness is saxes' job; the
 * guard only reports what it needs to stop early.
 */

/** Why the guard stopped a response. */
export interface GuardViolation {
  /** `too-large`: a construct past the limit; `malformed`: a construct XML does not allow. */
  kind: 'too-large' | 'malformed';
  /** One sentence for the error message. */
  reason: string;
}

// Scanner states. Plain numbers: a `const enum` does not survive per-file transpilers (swc).
const TEXT = 0;
const ENTITY = 1;
const OPEN = 2;
const BANG = 3;
const COMMENT = 4;
const CDATA = 5;
const PI = 6;
const TAG = 7;

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SEMICOLON = 0x3b;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const DASH = 0x2d;
const CLOSE_BRACKET = 0x5d;
const QUESTION = 0x3f;
const BANG_CHAR = 0x21;

const COMMENT_OPENER = '--';
const CDATA_OPENER = '[CDATA[';

function endsEntityName(code: number): boolean {
  // Characters that cannot be in an entity name: saxes would read on to the next ';'.
  return (
    code === LT ||
    code === GT ||
    code === AMP ||
    code === QUOTE ||
    code === APOSTROPHE ||
    code === 0x20 ||
    code === 0x09 ||
    code === 0x0a ||
    code === 0x0d
  );
}

/** Follows the markup constructs of an XML text fed in pieces; see the file comment. */
export class MarkupGuard {
  private state = TEXT;
  /** Characters of the current construct so far, `<` or `&` included. */
  private length = 0;
  /** State to go back to at the `;` of an entity reference (TEXT, or TAG in a quoted value). */
  private entityReturn = TEXT;
  /** Quote character of the attribute value being read, 0 outside one. */
  private quote = 0;
  /** Consecutive `-`, `]` or `?` seen, to find the end of a comment, CDATA section or PI. */
  private run = 0;
  /** Characters after `<!`, to tell a comment from a CDATA section. */
  private opener = '';

  constructor(private readonly maxChars: number) {}

  /** Scans the next piece of text; returns the first violation found, else undefined. */
  scan(text: string): GuardViolation | undefined {
    const n = text.length;
    // Positions of the next `<` and `&`, searched once per piece and only past the last one
    // found: a text without `&` must not be searched again at every element.
    let nextLt = -2;
    let nextAmp = -2;
    let i = 0;
    while (i < n) {
      if (this.state === TEXT) {
        if (nextLt !== -1 && nextLt < i) nextLt = text.indexOf('<', i);
        if (nextAmp !== -1 && nextAmp < i) nextAmp = text.indexOf('&', i);
        const stop = nextLt === -1 ? nextAmp : nextAmp === -1 ? nextLt : Math.min(nextLt, nextAmp);
        if (stop === -1) return undefined;
        this.state = stop === nextLt ? OPEN : ENTITY;
        this.entityReturn = TEXT;
        this.length = 1;
        i = stop + 1;
        continue;
      }
      if (this.state === TAG) {
        // Tags are most of a response's markup: skip to the next character that matters in a
        // tight loop rather than one step() per character (the guard's cost halves).
        let j = i;
        for (; j < n; j += 1) {
          const c = text.charCodeAt(j);
          if (
            this.quote === 0
              ? c === GT || c === QUOTE || c === APOSTROPHE
              : c === this.quote || c === AMP
          ) {
            break;
          }
        }
        this.length += j - i;
        if (this.length > this.maxChars) return this.tooLarge();
        i = j;
        if (i === n) return undefined;
      }
      const code = text.charCodeAt(i);
      i += 1;
      this.length += 1;
      if (this.length > this.maxChars) return this.tooLarge();
      const violation = this.step(code);
      if (violation) return violation;
    }
    return undefined;
  }

  private tooLarge(): GuardViolation {
    return {
      kind: 'too-large',
      reason: `a single tag, comment, CDATA section, processing instruction or entity reference is longer than ${this.maxChars} characters`,
    };
  }

  private step(code: number): GuardViolation | undefined {
    switch (this.state) {
      case ENTITY:
        if (code === SEMICOLON) {
          this.state = this.entityReturn;
          if (this.state === TEXT) this.length = 0;
        } else if (endsEntityName(code)) {
          return { kind: 'malformed', reason: "an '&' is not followed by an entity name and ';'" };
        }
        return undefined;
      case OPEN:
        if (code === BANG_CHAR) {
          this.state = BANG;
          this.opener = '';
        } else if (code === QUESTION) {
          this.state = PI;
          this.run = 0;
        } else {
          this.state = TAG;
          this.quote = 0;
          return this.step(code);
        }
        return undefined;
      case BANG:
        return this.stepBang(code);
      case COMMENT:
        return this.stepTerminated(code, DASH, 2);
      case CDATA:
        return this.stepTerminated(code, CLOSE_BRACKET, 2);
      case PI:
        return this.stepTerminated(code, QUESTION, 1);
      default:
        return this.stepTag(code);
    }
  }

  private stepBang(code: number): GuardViolation | undefined {
    this.opener += String.fromCharCode(code);
    if (this.opener === COMMENT_OPENER) {
      this.state = COMMENT;
      this.run = 0;
    } else if (this.opener === CDATA_OPENER) {
      this.state = CDATA;
      this.run = 0;
    } else if (this.opener === 'D') {
      return { kind: 'malformed', reason: 'a DOCTYPE is not allowed in a response' };
    } else if (!COMMENT_OPENER.startsWith(this.opener) && !CDATA_OPENER.startsWith(this.opener)) {
      return { kind: 'malformed', reason: "'<!' does not start a comment or a CDATA section" };
    }
    return undefined;
  }

  /** Comments end at `-->`, CDATA sections at `]]>`, PIs at `?>`: `repeat` marks, then `>`. */
  private stepTerminated(code: number, mark: number, repeat: number): undefined {
    if (code === mark) {
      this.run += 1;
    } else if (code === GT && this.run >= repeat) {
      this.state = TEXT;
      this.length = 0;
    } else {
      this.run = 0;
    }
    return undefined;
  }

  private stepTag(code: number): undefined {
    if (this.quote !== 0) {
      if (code === this.quote) this.quote = 0;
      else if (code === AMP) {
        this.state = ENTITY;
        this.entityReturn = TAG;
      }
    } else if (code === QUOTE || code === APOSTROPHE) {
      this.quote = code;
    } else if (code === GT) {
      this.state = TEXT;
      this.length = 0;
    }
    return undefined;
  }
}

import { ContentRuleError, DeclarationContentChecker } from '../../shared/content';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';

/**
 * The fast path only vouches; saxes judges everything else. These tests
 * hold the checker with its fast path to the verdict of saxes alone
 * (`fastPath: false`, the checker as it was before the fast path), on
 * hand-picked shapes and on thousands of random mutations, in chunks of
 * every size.
 */

type Verdict = { ok: true; id: string | undefined } | { ok: false; code: string };

/** The checker's verdict on `content` fed in chunks of `chunkSize` bytes. */
function verdict(content: Buffer, app: string, chunkSize: number, fastPath: boolean): Verdict {
  const checker = new DeclarationContentChecker(app, { fastPath });
  try {
    for (let i = 0; i < content.length; i += chunkSize) {
      checker.write(content.subarray(i, i + chunkSize));
    }
    return { ok: true, id: checker.end().formIdentification };
  } catch (error) {
    if (!(error instanceof ContentRuleError)) throw error;
    return { ok: false, code: error.code };
  }
}

/** Whether the fast path vouched for the whole of `content` (saxes never ran). */
function vouched(content: Buffer): boolean {
  const checker = new DeclarationContentChecker('DMFA');
  checker.write(content);
  checker.end();
  return !checker.usedFullParser;
}

const CHUNK_SIZES = [1, 2, 3, 7, 64, 4096, 70_000, 1 << 20];

function expectSameVerdict(content: Buffer, app = 'DMFA'): void {
  for (const size of CHUNK_SIZES) {
    const reference = verdict(content, app, size, false);
    expect({ size, ...verdict(content, app, size, true) }).toEqual({ size, ...reference });
  }
}

const form = (inner: string, id = 'DMFA') =>
  `<DmfAOriginal><Form><Identification>${id}</Identification>${inner}</Form></DmfAOriginal>`;
const dmfa = sampleDmfaXml({ quarter: '20263', date: '20261125', workers: 3 });
const nested = (levels: number) => `${'<a>'.repeat(levels)}${'</a>'.repeat(levels)}`;

describe('the XML fast path', () => {
  it('vouches for a DmfA alone, without saxes, with the same verdict', () => {
    expect(vouched(Buffer.from(dmfa))).toBe(true);
    expectSameVerdict(Buffer.from(dmfa));
  });

  it.each([
    ['an XML declaration and a BOM', `\ufeff<?xml version="1.0" encoding="UTF-8"?>\n${form('')}`],
    ['comments, CDATA and references', form('<!-- a - b --><![CDATA[<&]]>&amp;&#65;&#x20AC;')],
    ['attributes in both quotes', form('<X a="1" b=\'&lt;2>\' c = "é"/>')],
    ['accented text and a comment after the root', `${form('<N>Chloé ]] ></N>')}\n<!-- end -->\n`],
    [
      'nesting up to the limit',
      `<r><Form><Identification>DMFA</Identification></Form>${nested(254)}</r>`,
    ],
  ])('vouches for %s', (_title, xml) => {
    expect(vouched(Buffer.from(xml))).toBe(true);
    expectSameVerdict(Buffer.from(xml));
  });

  it.each([
    ['a DOCTYPE', `<!DOCTYPE r>${form('')}`],
    ['an entity bomb', `<!DOCTYPE r [<!ENTITY a "b">]>${form('&a;')}`],
    ['an undefined entity', form('&nbsp;')],
    ['a reference to a control character', form('&#1;')],
    ['a reference to U+FFFE', form('&#xFFFE;')],
    ['a reference too long', form('&#x0000000041;')],
    ['a reference with no end', form('&amp')],
    ['"]]>" in text', form('a]]>b')],
    ['"]]>" in an attribute', form('<X a="]]>"/>')],
    ['a control character in text', form('a\u0001b')],
    ['a control character in a comment', form('<!-- \u0002 -->')],
    ['U+FFFF', form('\uffff')],
    ['"--" in a comment', form('<!-- a -- b -->')],
    ['a comment ending in "--->"', form('<!-- a --->')],
    ['a second root', `${form('')}<x/>`],
    ['text after the root', `${form('')}x`],
    ['U+FEFF after the root', `${form('')}\ufeff`],
    ['text before the root', `x${form('')}`],
    ['CDATA outside the root', `<![CDATA[x]]>${form('')}`],
    ['a processing instruction', form('<?pi x?>')],
    ['an XML 1.1 declaration', `<?xml version="1.1"?>${form('')}`],
    ['a declaration after a blank', ` <?xml version="1.0"?>${form('')}`],
    ['a declaration without version', `<?xml encoding="UTF-8"?>${form('')}`],
    ['a mismatched end tag', form('<A></B>')],
    ['an end tag longer than its start', form('<A></AB>')],
    ['an end tag shorter than its start', form('<AB></A>')],
    ['an unclosed element', form('<A>')],
    ['an end tag with no start', form('</A>')],
    ['a repeated attribute', form('<X a="1" a="2"/>')],
    ['attributes without a blank between', form('<X a="1"b="2"/>')],
    ['an unquoted attribute', form('<X a=1/>')],
    ['"<" in an attribute', form('<X a="<"/>')],
    ['an attribute without value', form('<X a/>')],
    ['a slash inside a start tag', form('<X / >')],
    ['a non-ASCII element name', form('<Année>1</Année>')],
    ['a name starting with a digit', form('<1X/>')],
    ['a name of 300 letters', form(`<${'n'.repeat(300)}/>`)],
    [
      'nesting past the limit',
      `<r><Form><Identification>DMFA</Identification></Form>${nested(255)}</r>`,
    ],
    ['an element nested past the limit and empty', `${'<a>'.repeat(256)}<b/>${'</a>'.repeat(256)}`],
    ['the wrong form', form('', 'DIMONA')],
    ['a form with an entity', form('', 'DM&#70;A')],
    ['a form with a comment', form('', 'DM<!-- x -->FA')],
    ['a form in CDATA', form('', '<![CDATA[DMFA]]>')],
    ['a form with a child', form('', 'DMFA<x/>')],
    ['a form with blanks around', form('', '\n  DMFA \t')],
    ['a form with a carriage return', form('', 'DM\rFA')],
    ['an empty form element', '<r><Form><Identification/></Form></r>'],
    ['no form', '<r><Form><Other>DMFA</Other></Form></r>'],
    ['a second form', form('<Identification>DIMONA</Identification>')],
    ['an empty document', ''],
    ['blanks only', '   \n'],
    ['a document cut in a tag', form('').slice(0, -3)],
    ['a document cut in a comment', `${form('')}<!--`],
    ['a comment of 100 kB', form(`<!--${'x'.repeat(100_000)}-->`)],
    ['an attribute of 100 kB', form(`<X a="${'x'.repeat(100_000)}"/>`)],
    ['text of 100 kB', form(`<X>${'x'.repeat(100_000)}</X>`)],
  ])('judges %s as saxes does', (_title, xml) => {
    expectSameVerdict(Buffer.from(xml));
  });

  it.each([
    [
      'bytes that are not UTF-8',
      Buffer.concat([Buffer.from(form('<N>')), Buffer.from([0xc3, 0x28]), Buffer.from('</N>')]),
    ],
    [
      'a UTF-8 character cut at the end',
      Buffer.concat([Buffer.from(form('')), Buffer.from([0xe2, 0x82])]),
    ],
    [
      'a lone continuation byte',
      Buffer.concat([Buffer.from(form('<N>')), Buffer.from([0x80]), Buffer.from('</N>')]),
    ],
    [
      'ISO-8859-1 accents',
      Buffer.from(
        `<?xml version="1.0" encoding="ISO-8859-1"?>${form('<N>Chloé\u00ff</N>')}`,
        'latin1',
      ),
    ],
    [
      'ISO-8859-1 with a control byte',
      Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?>${form('<N>\u0007</N>')}`, 'latin1'),
    ],
    [
      'ISO-8859-15 bytes in a name',
      Buffer.from(`<?xml version="1.0" encoding="ISO-8859-15"?>${form('<Né/>')}`, 'latin1'),
    ],
  ])('judges %s as saxes does', (_title, content) => {
    expectSameVerdict(content);
  });

  it('agrees with saxes on 3,000 random mutations of a DmfA, in chunks of random sizes', () => {
    // A seeded generator: a failure names a case that replays.
    let state = 20261206;
    const random = (n: number) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    // ASCII only: where bytes are also invalid UTF-8, which of 102 and 138 comes first depends on
    // where saxes' decoding slices fall, with or without the fast path.
    const pieces = [
      '<',
      '>',
      '/',
      '&',
      ';',
      '#',
      'x',
      ']',
      '"',
      "'",
      '=',
      '!',
      '-',
      '?',
      ' ',
      '\u0001',
      'a',
      ':',
      '<a>',
      '</a>',
      '&amp;',
      '<!--',
      '-->',
      ']]>',
      '<![CDATA[',
      'Form',
      'Identification',
    ];
    const original = sampleDmfaXml({ quarter: '20263', date: '20261125', workers: 2 });
    let refused = 0;
    for (let n = 0; n < 3000; n += 1) {
      let xml = original;
      for (let edits = 1 + random(3); edits > 0; edits -= 1) {
        const at = random(xml.length);
        const cut = random(4);
        const piece = random(3) === 0 ? '' : (pieces[random(pieces.length)] as string);
        xml = xml.slice(0, at) + piece + xml.slice(at + cut);
      }
      const content = Buffer.from(xml);
      const size = CHUNK_SIZES[random(CHUNK_SIZES.length)] as number;
      const reference = verdict(content, 'DMFA', size, false);
      if (!reference.ok) refused += 1;
      expect({ n, size, ...verdict(content, 'DMFA', size, true) }).toEqual({
        n,
        size,
        ...reference,
      });
    }
    // The mutations do break documents: the comparison is not only between acceptances.
    expect(refused).toBeGreaterThan(1000);
  });
});

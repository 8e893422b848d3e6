import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDeclarationFile, DeclarationContentChecker } from '../../shared/content';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { scratchDir } from '../helpers/pki';

const dmfa = sampleDmfaXml({ quarter: '20263', date: '20261125', workers: 2 });
const form = (id: string, root = 'DmfAOriginal') =>
  `<?xml version="1.0" encoding="UTF-8"?><${root}><Form><Identification>${id}</Identification></Form></${root}>`;
const BOMB = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><DmfAOriginal><Form><Identification>DMFA</Identification>&lol2;</Form></DmfAOriginal>`;

/** Runs the checker over content cut into chunks of a given size. */
function check(content: Buffer, app: string, chunkSize = 7) {
  const checker = new DeclarationContentChecker(app);
  for (let i = 0; i < content.length; i += chunkSize)
    checker.write(content.subarray(i, i + chunkSize));
  return checker.end();
}

describe('declaration content checks', () => {
  it.each([
    { title: 'the sample DmfA', app: 'DMFA', input: Buffer.from(dmfa), id: 'DMFA' },
    { title: 'Dimona', app: 'DIMN', input: Buffer.from(form('DIMONA', 'Dimona')), id: 'DIMONA' },
    { title: 'WECH005', app: 'WECH', input: Buffer.from(form('WECH005')), id: 'WECH005' },
    { title: 'an app with no form rule', app: 'DUCN', input: Buffer.from('<a/>'), id: undefined },
    {
      title: 'ISO-8859-1 with accents',
      app: 'DMFA',
      input: Buffer.from(
        '<?xml version="1.0" encoding="ISO-8859-1"?><D><Form><Identification>DMFA</Identification><N>Chloé</N></Form></D>',
        'latin1',
      ),
      id: 'DMFA',
    },
    {
      title: 'a UTF-8 BOM',
      app: 'DMFA',
      input: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(form('DMFA'))]),
      id: 'DMFA',
    },
  ])('accepts $title', ({ input, app, id }) => {
    for (const size of [1, 7, 1 << 20]) {
      const summary = check(input, app, size);
      expect(summary.kind).toBe('xml');
      expect(summary.formIdentification).toBe(id);
      expect(summary.bytes).toBe(input.length);
    }
  });

  it.each([
    {
      title: 'an unclosed element',
      app: 'DMFA',
      input: dmfa.replace('</DmfAOriginal>', ''),
      code: 'ACRF-102',
    },
    {
      title: 'a mismatched tag',
      app: 'DMFA',
      input: dmfa.replace('</Quarter>', '</Quartr>'),
      code: 'ACRF-102',
    },
    { title: 'two roots', app: 'DMFA', input: `${form('DMFA')}<x/>`, code: 'ACRF-102' },
    {
      title: 'text after the root',
      app: 'DMFA',
      input: `${form('DMFA')}trailing text`,
      code: 'ACRF-102',
    },
    { title: 'an entity bomb', app: 'DMFA', input: BOMB, code: 'ACRF-102' },
    { title: 'the wrong form', app: 'DMFA', input: form('DIMONA'), code: 'ACRF-158' },
    { title: 'WECH012', app: 'WECH', input: form('WECH012'), code: 'ACRF-158' },
    {
      title: 'no identification',
      app: 'DMFA',
      input: '<DmfAOriginal><Form/></DmfAOriginal>',
      code: 'ACRF-158',
    },
    {
      title: 'UTF-16 declared',
      app: 'DMFA',
      input: '<?xml version="1.0" encoding="UTF-16"?><a/>',
      code: 'ACRF-138',
    },
    { title: 'an empty file', app: 'DMFA', input: '', code: 'ACRF-134' },
  ])('refuses $title with $code', ({ input, app, code }) => {
    expect(() => check(Buffer.from(input), app)).toThrow(expect.objectContaining({ code }));
  });

  it('refuses bytes that are not UTF-8 (ACRF-138)', () => {
    const bad = Buffer.concat([
      Buffer.from('<a><Form><Identification>'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('</Identification></Form></a>'),
    ]);
    expect(() => check(bad, 'DMFA')).toThrow(expect.objectContaining({ code: 'ACRF-138' }));
  });

  it('takes content that is not XML as other, unchecked', () => {
    expect(check(Buffer.from('0123456789 fixed-width record\n'), 'DMFA')).toEqual({
      kind: 'other',
      bytes: 30,
    });
  });

  it('fails early: write throws before the end of a long file', () => {
    const checker = new DeclarationContentChecker('DMFA');
    checker.write(Buffer.from(form('DIMONA').replace('</DmfAOriginal>', '')));
    expect(() => checker.write(Buffer.from('x'.repeat(300)))).toThrow(
      expect.objectContaining({ code: 'ACRF-158' }),
    );
  });

  it('checks a file on disk', async () => {
    const { dir, cleanup } = scratchDir();
    try {
      writeFileSync(join(dir, 'fi'), dmfa);
      await expect(checkDeclarationFile(join(dir, 'fi'), 'DMFA')).resolves.toMatchObject({
        kind: 'xml',
      });
    } finally {
      cleanup();
    }
  });
});

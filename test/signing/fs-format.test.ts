import { randomBytes } from 'node:crypto';
import { decodeFs, encodeFs } from '../../shared/signing';

const der = randomBytes(1500);
const line = der.toString('base64');
const cr76 = line.match(/.{1,76}/g)?.join('\r') ?? '';

describe('FS layout rules', () => {
  it('encodes one line by default, with no line ending', () => {
    expect(encodeFs(der)).toBe(line);
    expect(encodeFs(der)).not.toMatch(/[\r\n]/);
  });

  it('encodes 76-column lines separated by a single CR', () => {
    const text = encodeFs(der, 'cr76');
    expect(text).toBe(cr76);
    expect(
      text
        .split('\r')
        .slice(0, -1)
        .every((l) => l.length === 76),
    ).toBe(true);
    expect(text.endsWith('\r')).toBe(false);
  });

  it.each([
    { title: 'one line', input: line, format: 'line' },
    { title: 'CR lines', input: cr76, format: 'cr76' },
  ])('decodes $title', ({ input, format }) => {
    expect(decodeFs(Buffer.from(input))).toEqual({ der, format });
  });

  it.each([
    { title: 'empty file', input: '', expected: /empty/ },
    {
      title: 'PEM armour',
      input: `-----BEGIN PKCS7-----\r${cr76}\r-----END PKCS7-----`,
      expected: /PEM/,
    },
    { title: 'LF lines', input: cr76.replace(/\r/g, '\n'), expected: /LF/ },
    { title: 'CRLF lines', input: cr76.replace(/\r/g, '\r\n'), expected: /LF/ },
    { title: 'trailing CR', input: `${line}\r`, expected: /ends with/ },
    { title: 'trailing LF', input: `${line}\n`, expected: /LF/ },
    { title: '64-column lines', input: line.match(/.{1,64}/g)?.join('\r') ?? '', expected: /76/ },
    {
      title: 'non-base64 character',
      input: `${line.slice(0, 10)}*${line.slice(11)}`,
      expected: /outside base64/,
    },
    { title: 'bad padding', input: line.slice(0, -1), expected: /padding/ },
  ])('refuses $title', ({ input, expected }) => {
    expect(() => decodeFs(Buffer.from(input))).toThrow(expected);
  });
});

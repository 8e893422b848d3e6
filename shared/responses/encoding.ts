/** Which encoding a response is read in: its BOM and XML declaration, and the labels read. */

// Encodings a response may declare, by lower-cased label, with the TextDecoder label to read
// them with. The transfer point writes UTF-8; the others are read because XML allows them.
export const ENCODINGS: Readonly<Record<string, string>> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'us-ascii': 'utf-8',
  ascii: 'utf-8',
  'iso-8859-1': 'latin1',
  latin1: 'latin1',
  'iso-8859-15': 'iso-8859-15',
  'windows-1252': 'windows-1252',
};

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;
// Enough bytes to see a BOM and the XML declaration's encoding.
export const SNIFF_BYTES = 256;

/** The encoding a response's first bytes give, or why it cannot be read. */
export type SniffedEncoding = { label: string; decoderLabel: string } | { problem: string };

/** Chooses the encoding from the first bytes: a BOM, then the declared encoding. */
export function sniffEncoding(head: Buffer): SniffedEncoding {
  if (head.length === 0) return { problem: 'the response is empty' };
  if (
    (head[0] === 0xfe && head[1] === 0xff) ||
    (head[0] === 0xff && head[1] === 0xfe) ||
    (head[0] === 0x00 && head[1] === 0x3c) ||
    (head[0] === 0x3c && head[1] === 0x00)
  ) {
    return { problem: 'the response is in UTF-16 or UTF-32, which is not read' };
  }
  const bom = UTF8_BOM.every((byte, i) => head[i] === byte);
  const declared = /^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(
    // Only the first SNIFF_BYTES, however the bytes came: the same file must give the same
    // result whatever its chunks. A declaration padded past them is checked by the parser's
    // onXmlDecl (parse.ts).
    head.subarray(bom ? UTF8_BOM.length : 0, SNIFF_BYTES).toString('latin1'),
  )?.[1];
  const label = (declared ?? 'utf-8').toLowerCase();
  const decoderLabel = ENCODINGS[label];
  if (decoderLabel === undefined || (bom && decoderLabel !== 'utf-8')) {
    return {
      problem: bom
        ? `the response starts with a UTF-8 byte order mark but declares ${JSON.stringify(declared)}`
        : `the response's encoding ${JSON.stringify(declared)} is not read`,
    };
  }
  return { label, decoderLabel };
}

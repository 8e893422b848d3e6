import { SignatureFormatError } from './errors';

/** The two FS layouts the transfer point documents. */
export const FS_FORMATS = ['line', 'cr76'] as const;

/** `line`: base64 on one line, no line ending; `cr76`: 76-column lines joined by one CR. */
export type FsFormat = (typeof FS_FORMATS)[number];

/**
 * Largest FS file read: a signature with its certificate chain is a few kilobytes, so anything
 * far larger is not an FS and is refused unread.
 */
export const MAX_FS_BYTES = 1024 * 1024;

const LINE_LENGTH = 76;
const CR = '\r';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Checks a user-given format name. */
export function parseFsFormat(name: string): FsFormat {
  if ((FS_FORMATS as readonly string[]).includes(name)) return name as FsFormat;
  throw new SignatureFormatError(`FS format "${name}" is unknown: use line or cr76`);
}

/**
 * Encodes a DER signature as the FS file content: base64 on one line (the
 * default, safest form) or 76-column lines separated by a single CR. No PEM
 * armour and no trailing line ending, as the transfer point requires.
 */
export function encodeFs(der: Buffer, format: FsFormat = 'line'): string {
  const text = der.toString('base64');
  if (format === 'line') return text;
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += LINE_LENGTH) lines.push(text.slice(i, i + LINE_LENGTH));
  return lines.join(CR);
}

/**
 * Checks an FS file against the format rules and decodes it. Every breach is
 * a {@link SignatureFormatError} naming what is wrong: PEM armour, LF or CRLF
 * line endings, a trailing line ending, lines not of 76 columns, characters
 * outside base64.
 */
export function decodeFs(content: Buffer): { der: Buffer; format: FsFormat } {
  const text = content.toString('latin1');
  if (text.length === 0) throw new SignatureFormatError('the FS file is empty');
  if (text.includes('-----BEGIN') || text.includes('-----END')) {
    throw new SignatureFormatError('the FS file has PEM armour (-----BEGIN/END lines): remove it');
  }
  if (text.includes('\n')) {
    throw new SignatureFormatError(
      'the FS file has LF line endings: use one line, or 76-column lines separated by a single CR',
    );
  }
  if (text.endsWith(CR)) throw new SignatureFormatError('the FS file ends with a line ending');
  const lines = text.split(CR);
  const format: FsFormat = lines.length === 1 ? 'line' : 'cr76';
  lines.forEach((line, index) => {
    if (!/^[A-Za-z0-9+/=]*$/.test(line)) {
      throw new SignatureFormatError(
        `the FS file has a character outside base64 on line ${index + 1}`,
      );
    }
    const last = index === lines.length - 1;
    if (
      format === 'cr76' &&
      (last ? line.length === 0 || line.length > LINE_LENGTH : line.length !== LINE_LENGTH)
    ) {
      throw new SignatureFormatError(
        `the FS file's line ${index + 1} has ${line.length} characters: lines must have 76 (the last at most 76)`,
      );
    }
  });
  const joined = lines.join('');
  if (!BASE64.test(joined) || joined.length % 4 !== 0) {
    throw new SignatureFormatError('the FS file is not valid base64 (wrong padding or length)');
  }
  return { der: Buffer.from(joined, 'base64'), format };
}

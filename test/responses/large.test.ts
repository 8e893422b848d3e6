import { Readable } from 'node:stream';
import {
  ResponseTooLargeError,
  createResponseParser,
  parseResponseStream,
} from '../../shared/responses';
import type { NotificationForm, ResponseDocument } from '../../shared/responses';
import { hugeContent, largeNotification } from './generate';

const MB = 1_000_000;

/**
 * Passes the chunks through and records the largest growth of the heap seen between two of
 * them. The garbage of a streamed parse stays in the tens of MB (young objects die fast); a
 * parser that kept the text would grow by the size of the file. gc() is not exposed in jest,
 * so this is a peak of what is allocated, not only of what is retained: an upper bound.
 */
function* watchHeap(chunks: Iterable<Buffer>, peak: { bytes: number }): Generator<Buffer> {
  const base = process.memoryUsage().heapUsed;
  for (const chunk of chunks) {
    yield chunk;
    peak.bytes = Math.max(peak.bytes, process.memoryUsage().heapUsed - base);
  }
}

function parseChunks(chunks: Iterable<Buffer>): { document: ResponseDocument; bytes: number } {
  const parser = createResponseParser();
  for (const chunk of chunks) parser.write(chunk);
  return { document: parser.end(), bytes: parser.bytes };
}

describe('very large responses', () => {
  it('reads a 68 MB notification of 200,000 anomalies as a stream, keeping 1000', async () => {
    // Prepare
    const peak = { bytes: 0 };
    const source = Readable.from(watchHeap(largeNotification(200_000), peak));

    // Act
    const document = await parseResponseStream(source);

    // Assess
    expect(document.kind).toBe('notification');
    const form = (document as { forms: NotificationForm[] }).forms[0] as NotificationForm;
    expect(form.anomalyCount).toBe(200_000);
    expect(form.anomalies).toHaveLength(1000);
    expect(form.withAnomalies).toBe(true);
    expect(form.result).toBe('refused');
    expect(form.fileTicket).toBe('380000B5WY00D');
    expect(form.anomalies[999]).toStrictEqual({
      errorId: '00999-152',
      zone: '00999',
      code: 152,
      anomalyClass: 'B',
      tagName: 'WorkerRecord',
      value: '999',
      location: { lineNbr: 1000, location: '1,1,8,4,13,3,12,1' },
      path: [{ name: 'INSS', value: '80111405125' }],
    });
    expect(peak.bytes).toBeLessThan(50 * MB);
  });

  it('keeps maxTextChars of a 200 MB text node in a field, with a flat heap', () => {
    const peak = { bytes: 0 };
    const { document, bytes } = parseChunks(
      watchHeap(
        hugeContent(
          '<NOTIFICATION><Form><FileReference><FileName>',
          '</FileName><ReferenceNbr>T1</ReferenceNbr></FileReference></Form></NOTIFICATION>',
          200 * MB,
        ),
        peak,
      ),
    );
    expect(bytes).toBeGreaterThan(200 * MB);
    const form = (document as { forms: NotificationForm[] }).forms[0] as NotificationForm;
    expect(form.fileName).toBe('a'.repeat(1024));
    expect(form.fileTicket).toBe('T1');
    expect(peak.bytes).toBeLessThan(30 * MB);
  });

  it('skips a 100 MB text node outside the fields, with a flat heap', () => {
    const peak = { bytes: 0 };
    const { document } = parseChunks(
      watchHeap(hugeContent('<ACRF><Form><Blob>', '</Blob></Form></ACRF>', 100 * MB), peak),
    );
    expect(document).toMatchObject({ kind: 'acrf', formCount: 1 });
    expect(peak.bytes).toBeLessThan(30 * MB);
  });

  it('refuses a 200 MB comment after 1 MiB of it, before holding it', () => {
    const parser = createResponseParser();
    let fed = 0;
    const write = (): void => {
      for (const chunk of hugeContent('<ACRF><!--', '--></ACRF>', 200 * MB, 'c')) {
        fed += chunk.length;
        parser.write(chunk);
      }
    };
    expect(write).toThrow(ResponseTooLargeError);
    expect(fed).toBeLessThan(4 * MB);
  });
});

/**
 * Builds large responses as streams of chunks, never as one string: the tests that use them
 * check that the parser's memory does not follow the size of the file.
 */

/** Head of a NOTIFICATION up to its HandlingResult, as in the real sample. */
export const NOTIFICATION_HEAD = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<NOTIFICATION xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="NOTIFICATION_20224.xsd">',
  '\t<Form>',
  '\t\t<Identification>NOTI001</Identification>',
  '\t\t<TypeForm>FA</TypeForm>',
  '\t\t<FileReference>',
  '\t\t\t<FileName>GO.DMFA.101380.20260115.00001.R.1</FileName>',
  '\t\t\t<ReferenceOrigin>2</ReferenceOrigin>',
  '\t\t\t<ReferenceNbr>380000B5WY00D</ReferenceNbr>',
  '\t\t</FileReference>',
  '\t\t<HandlingResult>',
  '\t\t\t<ResultCode>0</ResultCode>',
  '',
].join('\r\n');

/** Tail of a NOTIFICATION after its anomalies. */
export const NOTIFICATION_TAIL = '\t\t</HandlingResult>\r\n\t</Form>\r\n</NOTIFICATION>\r\n';

/** The i-th AnomalyReport of a generated notification (about 300 bytes). */
export function anomalyReport(i: number): string {
  const zone = String(i % 100000).padStart(5, '0');
  return [
    '\t\t\t<AnomalyReport>',
    `\t\t\t\t<ErrorID>${zone}-152</ErrorID>`,
    '\t\t\t\t<TagName>WorkerRecord</TagName>',
    `\t\t\t\t<Value>${i}</Value>`,
    '\t\t\t\t<AnomalyClass>B</AnomalyClass>',
    '\t\t\t\t<AnomalyLocation>',
    `\t\t\t\t\t<LineNbr>${i + 1}</LineNbr>`,
    '\t\t\t\t\t<Location>1,1,8,4,13,3,12,1</Location>',
    '\t\t\t\t</AnomalyLocation>',
    '\t\t\t\t<Path><INSS>80111405125</INSS></Path>',
    '\t\t\t</AnomalyReport>',
    '',
  ].join('\r\n');
}

/**
 * A notification with `count` AnomalyReports, yielded in chunks of about `chunkBytes`: only
 * one chunk exists at a time.
 */
export function* largeNotification(count: number, chunkBytes = 1 << 20): Generator<Buffer> {
  yield Buffer.from(NOTIFICATION_HEAD);
  let parts: string[] = [];
  let size = 0;
  for (let i = 0; i < count; i += 1) {
    const report = anomalyReport(i);
    parts.push(report);
    size += report.length;
    if (size >= chunkBytes) {
      yield Buffer.from(parts.join(''));
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) yield Buffer.from(parts.join(''));
  yield Buffer.from(NOTIFICATION_TAIL);
}

/**
 * A document whose `open` element holds `bytes` of one repeated character, yielded in 1 MiB
 * chunks: the hostile text node (or comment) the parser must not hold.
 */
export function* hugeContent(
  head: string,
  tail: string,
  bytes: number,
  fill = 'a',
): Generator<Buffer> {
  yield Buffer.from(head);
  const block = Buffer.alloc(1 << 20, fill);
  for (let left = bytes; left > 0; left -= block.length) {
    yield left >= block.length ? block : block.subarray(0, left);
  }
  yield Buffer.from(tail);
}

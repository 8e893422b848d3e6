import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContentRuleError, FileInspection, InspectionShortError } from '../../shared/content';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { scratchDir } from '../helpers/pki';

describe('FileInspection (the content check and SHA-256 on a worker thread)', () => {
  const scratch = scratchDir();
  afterAll(() => scratch.cleanup());
  const file = (name: string, content: string | Buffer): string => {
    const path = join(scratch.dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('accepts a DmfA and gives the SHA-256 of its bytes', async () => {
    const content = Buffer.from(sampleDmfaXml({ quarter: '20263', date: '20261125', workers: 3 }));
    const inspection = new FileInspection({
      path: file('ok.xml', content),
      app: 'DMFA',
      size: content.length,
      sha256: true,
    });
    await expect(inspection.result()).resolves.toEqual({
      sha256: createHash('sha256').update(content).digest('hex'),
    });
    expect(inspection.failure).toBeUndefined();
    await inspection.destroy();
  });

  it('hashes only the planned size', async () => {
    const path = file('longer.txt', '0123456789 fixed-width records');
    const inspection = new FileInspection({ path, app: 'DMFA', size: 10, sha256: true });
    await expect(inspection.result()).resolves.toEqual({
      sha256: createHash('sha256').update('0123456789').digest('hex'),
    });
    await inspection.destroy();
  });

  it.each([
    ['not well-formed', '<DmfAOriginal><Form>', 'ACRF-102'],
    ['the wrong form', '<D><Form><Identification>DIMONA</Identification></Form></D>', 'ACRF-158'],
  ])('refuses %s with a ContentRuleError %s, kept in failure', async (_title, xml, code) => {
    const inspection = new FileInspection({
      path: file(`${code}.xml`, xml),
      app: 'DMFA',
      size: xml.length,
      sha256: false,
    });
    const error = await inspection.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContentRuleError);
    expect(error).toMatchObject({
      code,
      message: expect.stringMatching(new RegExp(`\\(${code}\\)$`)),
    });
    expect((error as Error).message).not.toContain(`(${code}) (${code})`);
    expect(inspection.failure).toBe(error);
    await inspection.destroy();
  });

  it('reports a file shorter than planned as changed', async () => {
    const path = file('short.xml', '<a/>');
    const inspection = new FileInspection({ path, app: 'DUCN', size: 100, sha256: true });
    const error = await inspection.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InspectionShortError);
    expect(error).toMatchObject({ code: 'SOURCE_CHANGED' });
    await inspection.destroy();
  });

  it('fails, without a verdict, for a file it cannot read', async () => {
    const inspection = new FileInspection({
      path: join(scratch.dir, 'absent'),
      app: 'DMFA',
      size: 10,
      sha256: true,
    });
    await expect(inspection.result()).rejects.toThrow(/content check of .*absent failed: ENOENT/);
    await inspection.destroy();
  });

  it('gives no verdict once destroyed before the end', async () => {
    const content = Buffer.alloc(64 * 1024 * 1024, 'x');
    const inspection = new FileInspection({
      path: file('big.txt', content),
      app: 'DMFA',
      size: content.length,
      sha256: true,
    });
    await inspection.destroy();
    await expect(inspection.result()).rejects.toThrow();
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signFile, verifyFile } from '../../shared/signing';
import { makeIdentity, opensslSign, scratchDir } from '../helpers/pki';

const { dir, cleanup } = scratchDir();
afterAll(cleanup);

describe('verifier', () => {
  it.each(['sha256', 'sha1'])('accepts a detached signature made by OpenSSL (%s)', async (md) => {
    const id = await makeIdentity('rsa2048', { commonName: 'OpenSSL Made' });
    const fi = join(dir, `fi-${md}`);
    writeFileSync(fi, 'line one\r\nline two\n');
    const der = opensslSign(id, fi, ['-md', md]);
    const result = await verifyFile(fi, Buffer.from(der.toString('base64')));
    expect(result).toMatchObject({
      format: 'line',
      digestAlgorithm: md,
      size: 19,
      signer: { subject: 'CN=OpenSSL Made' },
      chainChecked: false,
    });
  });

  it('refuses an attached (non-detached) signature', async () => {
    const id = await makeIdentity('ec256');
    const fi = join(dir, 'attached');
    writeFileSync(fi, 'payload');
    const der = opensslSign(id, fi, ['-nodetach']);
    await expect(verifyFile(fi, Buffer.from(der.toString('base64')))).rejects.toMatchObject({
      code: 'ACRF-125',
    });
  });

  it('refuses a signature from another file and base64 garbage', async () => {
    const id = await makeIdentity('rsa2048');
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, 'AAAA');
    writeFileSync(b, 'BBBB');
    const fsA = (await signFile(a, id.material)).fs;
    await expect(verifyFile(b, Buffer.from(fsA))).rejects.toMatchObject({ code: 'ACRF-125' });
    await expect(verifyFile(a, Buffer.from('SGVsbG8gd29ybGQ='))).rejects.toMatchObject({
      code: 'FS_FORMAT',
    });
  });

  it('reports signing time and certificate expiry', async () => {
    const id = await makeIdentity('ec384');
    const fi = join(dir, 'times');
    writeFileSync(fi, 'x');
    const before = Date.now() - 1000;
    const fs = (await signFile(fi, id.material)).fs;
    const result = await verifyFile(fi, Buffer.from(fs));
    expect(result.signingTime?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(result.signer.notAfter.getTime()).toBe(
      new Date(id.material.certificate.validTo).getTime(),
    );
    expect(readFileSync(fi, 'utf8')).toBe('x');
  });
});

import {
  closeSync,
  existsSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { cli } from '../helpers/cli';
import { makeIdentity, opensslVerify, scratchDir, writeP12 } from '../helpers/pki';

const PASSWORD = 'cli-secret-Ω-42';
const { dir, cleanup } = scratchDir();
afterAll(cleanup);

let key = '';
let cert = '';
let p12 = '';
const fi = join(dir, 'FI.DMFA.123456.20261125.00001.R.1.1');

/** `sign FILE --out OUT` with the PEM key and certificate, plus any other flags. */
function signArgs(file: string, out: string, ...extra: string[]): string[] {
  return ['sign', file, '--out', out, '--key', key, '--cert', cert, ...extra];
}

beforeAll(async () => {
  const id = await makeIdentity('rsa2048', { commonName: 'CLI Signer' });
  key = join(dir, 'key.pem');
  cert = join(dir, 'cert.pem');
  writeFileSync(key, id.keyPem);
  writeFileSync(cert, id.certPem);
  p12 = writeP12(id, dir, 'legacy', PASSWORD);
  writeFileSync(fi, '<?xml version="1.0"?>\r\n<DmfAOriginal/>\r\n');
});

describe('onss-transfer sign and verify', () => {
  it('signs with PEM key and certificate; OpenSSL and verify accept the FS', async () => {
    const out = join(dir, 'FS.pem');
    const run = await cli(signArgs(fi, out));
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('CN=CLI Signer');
    expect(readFileSync(out, 'latin1')).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(opensslVerify(fi, out).ok).toBe(true);
    const verified = await cli(['verify', fi, out]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^valid: /);
  });

  it('signs from a PKCS#12 with the password from the named variable, cr76 and sha1', async () => {
    const out = join(dir, 'FS.p12');
    const run = await cli(
      [
        'sign',
        fi,
        '--out',
        out,
        '--p12',
        p12,
        '--key-password-env',
        'P12PW',
        '--format',
        'cr76',
        '--digest',
        'sha1',
        '--json',
      ],
      { P12PW: PASSWORD },
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ format: 'cr76', digest: { algorithm: 'sha1' } });
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    expect(opensslVerify(fi, out).ok).toBe(true);
    const verified = await cli(['verify', fi, out, '--json']);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      valid: true,
      format: 'cr76',
      digestAlgorithm: 'sha1',
    });
  });

  it('a wrong password: one line on stderr, exit 1, nothing written, password never shown', async () => {
    const out = join(dir, 'FS.wrong');
    const before = readdirSync(dir).length;
    const run = await cli(['sign', fi, '--out', out, '--p12', p12, '--key-password-env', 'P12PW'], {
      P12PW: 'wrong-Ω-password',
    });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/password is wrong.*KEY_PASSWORD_WRONG/);
    expect(run.stdout + run.stderr).not.toContain('wrong-Ω-password');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).length).toBe(before);
  });

  it('an unset password variable is a usage error naming the variable', async () => {
    const run = await cli([
      'sign',
      fi,
      '--out',
      join(dir, 'x'),
      '--p12',
      p12,
      '--key-password-env',
      'NOPE',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('NOPE is not set');
  });

  it('an empty file is refused with ACRF-134 and no FS', async () => {
    const empty = join(dir, 'FI.empty');
    writeFileSync(empty, '');
    const out = join(dir, 'FS.empty');
    const run = await cli(signArgs(empty, out));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('ACRF-134');
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    { flag: '--digest', value: 'md5', message: /md5 is refused/ },
    { flag: '--digest', value: 'sha512', message: /not supported/ },
    { flag: '--format', value: 'crlf', message: /unknown/ },
  ])('$flag $value is a usage error (exit 2)', async ({ flag, value, message }) => {
    const run = await cli(signArgs(fi, join(dir, 'm'), flag, value));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(existsSync(join(dir, 'm'))).toBe(false);
  });

  it('verify reports a tampered file as invalid (exit 1; JSON with --json)', async () => {
    const out = join(dir, 'FS.tamper');
    await cli(signArgs(fi, out));
    const other = join(dir, 'FI.other');
    writeFileSync(other, 'something else');
    const run = await cli(['verify', other, out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('ACRF-125');
    const json = await cli(['verify', other, out, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, code: 'ACRF-125' });
  });

  it('names a missing input file in words', async () => {
    const run = await cli(signArgs(join(dir, 'missing'), join(dir, 'y')));
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `onss-transfer: cannot open ${join(dir, 'missing')}: no such file or directory\n`,
    );
  });

  it('shows a stack only with --debug', async () => {
    const empty = join(dir, 'FI.empty-debug');
    writeFileSync(empty, '');
    const args = signArgs(empty, join(dir, 'y'));
    expect((await cli(args)).stderr).not.toMatch(/\n\s+at /);
    expect((await cli(['--debug', ...args])).stderr).toMatch(/\n\s+at /);
  });
});

describe('onss-transfer sign and verify refuse hostile or mistaken input', () => {
  it('will not write the FS over the file it signs or over the key', async () => {
    const before = readFileSync(fi);
    for (const out of [fi, key, `${dir}/./${fi.split('/').pop() ?? ''}`]) {
      const run = await cli(signArgs(fi, out));
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/also an input/);
    }
    expect(readFileSync(fi).equals(before)).toBe(true);
  });

  it('refuses a file over 200,000,000 bytes before reading it (ACRF-184)', async () => {
    const big = join(dir, 'FI.big');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 200_000_001); // sparse: nothing is written
    closeSync(fd);
    const run = await cli(signArgs(big, join(dir, 'FS.big')));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/FI\.big.*ACRF-184/);
  });

  it.each([
    { title: 'a folder to sign', args: () => signArgs(dir, join(dir, 'FS.dir')) },
    { title: 'a device to verify', args: () => ['verify', '/dev/zero', join(dir, 'FS.pem')] },
    { title: 'a device as FS', args: () => ['verify', fi, '/dev/zero'] },
  ])('refuses $title: not a regular file', async ({ args }) => {
    const run = await cli(args());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/not a regular file/);
  });

  it('refuses an FS file far larger than a signature', async () => {
    const huge = join(dir, 'FS.huge');
    writeFileSync(huge, Buffer.alloc(2 * 1024 * 1024, 0x41));
    const run = await cli(['verify', fi, huge]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/FS_FORMAT/);
  });

  it('never echoes a password typed where a variable name belongs', async () => {
    const asName = await cli([...signArgs(fi, join(dir, 'p')), '--key-password-env', 'MyS3cret!']);
    expect(asName.code).toBe(2);
    expect(asName.stderr).not.toContain('MyS3cret');
    const asFlag = await cli([...signArgs(fi, join(dir, 'p')), '--key-password=MyS3cret']);
    expect(asFlag.code).toBe(2);
    expect(asFlag.stderr).toMatch(/unknown option/);
    expect(asFlag.stderr).not.toContain('MyS3cret');
  });

  it('names the output the user gave when it cannot be written', async () => {
    const out = join(dir, 'no-such-folder', 'FS.x');
    const run = await cli(signArgs(fi, out));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot write ${out}`);
  });
});

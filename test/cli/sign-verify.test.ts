import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

  it('md5 is refused', async () => {
    const run = await cli(signArgs(fi, join(dir, 'm'), '--digest', 'md5'));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('DIGEST_REFUSED');
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

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { todayInBrussels } from '../../shared/names';
import { cli } from '../helpers/cli';
import { start, type TestFtpServer } from '../helpers/ftp-server';
import { makeIdentity, opensslVerify, scratchDir } from '../helpers/pki';

const today = todayInBrussels();
const PASSWORD = 'ftp-Secret-9';
const { dir, cleanup } = scratchDir('onss-cli-send-');
const root = join(dir, 'server');
let server: TestFtpServer;
let key = '';
let cert = '';

beforeAll(async () => {
  server = await start({
    root,
    user: 'onss',
    password: PASSWORD,
    folders: ['IN', 'INTEST', 'INTEST-S'],
  });
  const id = await makeIdentity('rsa2048', { commonName: 'CLI Send' });
  key = join(dir, 'key.pem');
  cert = join(dir, 'cert.pem');
  writeFileSync(key, id.keyPem);
  writeFileSync(cert, id.certPem);
});
afterAll(async () => {
  await server?.stop();
  cleanup();
});

let counter = 0;
function declaration(workers: number, name?: string): string {
  const path = join(dir, name ?? `dmfa-${++counter}.xml`);
  writeFileSync(path, sampleDmfaXml({ quarter: '20263', date: today, workers }));
  return path;
}

function sendArgs(file: string, ...extra: string[]): string[] {
  return [
    'send',
    file,
    '--host',
    '127.0.0.1',
    '--port',
    String(server.port),
    '--user',
    'onss',
    '--password-env',
    'FTP_PW',
    '--ledger',
    join(dir, 'ledger.sqlite'),
    ...extra,
  ];
}
const env = { FTP_PW: PASSWORD };
const naming = ['--app', 'DMFA', '--sender', '123456'];

describe('onss-transfer plan', () => {
  it('prints the files of a declaration, GO last, and sends nothing', async () => {
    const file = declaration(40);
    const size = readFileSync(file).length;
    const run = await cli([
      'plan',
      file,
      ...naming,
      '--env',
      'R',
      '--part-size',
      String(Math.ceil(size / 2)),
    ]);
    expect(run.code).toBe(0);
    const names = run.stdout
      .split('\n')
      .filter((l) => /^\s+(FI|FS|GO)\./.test(l))
      .map((l) => l.trim().split(' ')[0]);
    expect(names).toEqual([
      `FI.DMFA.123456.${today}.00001.R.2.1`,
      `FS.DMFA.123456.${today}.00001.R.2.1`,
      `FI.DMFA.123456.${today}.00001.R.2.2`,
      `FS.DMFA.123456.${today}.00001.R.2.2`,
      `GO.DMFA.123456.${today}.00001.R.2`,
    ]);
    expect(readdirSync(join(root, 'IN'))).toEqual([]);
  });

  it('prints JSON with --json and takes the names of a file named by the rules', async () => {
    const file = declaration(2, `FI.DMFA.123456.${today}.00042.T.1.1`);
    const run = await cli(['plan', file, '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      setId: `DMFA.123456.${today}.00042.T`,
      folder: 'INTEST',
      signed: false,
      nparts: 1,
    });
  });

  it.each([
    {
      title: 'a file too large for 9 parts',
      extra: ['--env', 'T', '--part-size', '100'],
      code: 1,
      message: /ACRF-128/,
    },
    {
      title: 'an unknown application',
      extra: ['--env', 'T', '--app', 'ZZZZ'],
      code: 1,
      message: /ACRF-129/,
    },
    { title: 'a missing --env', extra: [], code: 2, message: /missing --env/ },
  ])('refuses $title', async ({ extra, code, message }) => {
    const run = await cli(['plan', declaration(3), ...naming, ...extra]);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
  });
});

describe('onss-transfer send', () => {
  it('sends a signed R declaration in parts; every FS passes OpenSSL', async () => {
    const file = declaration(40);
    const size = readFileSync(file).length;
    const run = await cli(
      sendArgs(
        file,
        ...naming,
        '--env',
        'R',
        '--key',
        key,
        '--cert',
        cert,
        '--part-size',
        String(Math.ceil(size / 2)),
      ),
      env,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^launched GO\\.DMFA\\.123456\\.${today}\\.00001\\.R\\.2: 2 part`),
    );
    const inbox = readdirSync(join(root, 'IN')).sort();
    expect(inbox).toHaveLength(5);
    for (const part of [1, 2]) {
      const fi = join(root, 'IN', `FI.DMFA.123456.${today}.00001.R.2.${part}`);
      expect(opensslVerify(fi, fi.replace('/FI.', '/FS.')).ok).toBe(true);
    }
  });

  it('sends a T declaration named by the rules under its own name, JSON out, no password shown', async () => {
    const file = declaration(3, `FI.DMFA.123456.${today}.00077.T.1.1`);
    const run = await cli(sendArgs(file, '--json'), env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      launched: true,
      set: `DMFA.123456.${today}.00077.T`,
    });
    expect(existsSync(join(root, 'INTEST', `GO.DMFA.123456.${today}.00077.T.1`))).toBe(true);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  it('refuses to send the same file twice, and sends it again with --resend', async () => {
    const file = declaration(4);
    expect((await cli(sendArgs(file, ...naming, '--env', 'T'), env)).code).toBe(0);
    const again = await cli(sendArgs(file, ...naming, '--env', 'T'), env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/DUPLICATE_SOURCE/);
    expect((await cli(sendArgs(file, ...naming, '--env', 'T', '--resend'), env)).code).toBe(0);
  });

  it('refuses R without a key before connecting', async () => {
    const before = server.connections;
    const run = await cli(sendArgs(declaration(2), ...naming, '--env', 'R'), env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/SIGNING_MATERIAL_REQUIRED/);
    expect(server.connections).toBe(before);
  });

  it('a wrong FTP password fails with TRANSPORT_AUTH and never shows the password', async () => {
    const run = await cli(sendArgs(declaration(2), ...naming, '--env', 'T'), {
      FTP_PW: 'Wrong-Pa55',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/TRANSPORT_AUTH/);
    expect(run.stderr).not.toContain('Wrong-Pa55');
  });

  it('an upload the server cuts is retried and launched', async () => {
    server.dropNextUploadAfter(2000);
    const run = await cli(sendArgs(declaration(30), ...naming, '--env', 'T', '--json'), env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ launched: true });
  });
});

describe('naming flags with a file named by the rules', () => {
  it('--seq and --date override the name of the file', async () => {
    const yesterday = todayInBrussels(new Date(Date.now() - 86_400_000));
    const file = declaration(2, `FI.DMFA.123456.${today}.00001.T.1.1`);
    const run = await cli(['plan', file, '--seq', '00099', '--date', yesterday, '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ setId: `DMFA.123456.${yesterday}.00099.T` });
  });
});

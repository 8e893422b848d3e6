import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INSECURE_WARNING } from '../../cli/commands/server-options';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { todayInBrussels } from '../../shared/names';
import { createTlsIdentity, startSimulator, type Simulator } from '../../transfer-point';
import { cli } from '../helpers/cli';
import { scratchDir } from '../helpers/pki';

// `send` and `pull` over explicit FTPS: --protocol, --ca-file, --insecure, and the mistakes
// they refuse before connecting.
const today = todayInBrussels();
const PASSWORD = 'sim-Secret-7';
const env = { SIM_PW: PASSWORD };
const { dir, cleanup } = scratchDir('onss-cli-ftps-');
const caFile = join(dir, 'simulator-ca.pem');
const strangerCa = join(dir, 'stranger-ca.pem');
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ tls: true, password: PASSWORD, root: join(dir, 'home') });
  writeFileSync(caFile, sim.caPem ?? '');
  writeFileSync(strangerCa, (await createTlsIdentity('127.0.0.1', 'a stranger')).cert);
});
afterAll(async () => {
  await sim?.stop();
  cleanup();
});

let counter = 0;
function declaration(): string {
  const path = join(dir, `dmfa-${++counter}.xml`);
  writeFileSync(path, sampleDmfaXml({ quarter: '20263', date: today, workers: 3 + counter }));
  return path;
}

function server(...extra: string[]): string[] {
  return [
    '--host',
    sim.host,
    '--port',
    String(sim.port),
    '--user',
    sim.user,
    '--password-env',
    'SIM_PW',
    '--ledger',
    join(dir, 'ledger.sqlite'),
    ...extra,
  ];
}

const NAMING = ['--app', 'DMFA', '--sender', '123456', '--env', 'T'];
const send = (...extra: string[]) =>
  cli(['send', declaration(), ...NAMING, ...server(...extra)], env);

describe('send and pull over explicit FTPS', () => {
  it('sends with --protocol ftps --ca-file: launched, judged, nothing on stderr', async () => {
    const run = await send('--protocol', 'ftps', '--ca-file', caFile);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const go = /launched (GO\.\S+):/.exec(run.stdout)?.[1];
    expect(await sim.waitForJudgement((j) => j.goName === go)).toMatchObject({ accepted: true });
  });

  it('pulls with --protocol ftps --ca-file', async () => {
    await sim.idle();
    const run = await cli(
      [
        'pull',
        '--env',
        'T',
        '--dest',
        join(dir, 'answers'),
        ...server('--protocol', 'ftps', '--ca-file', caFile),
        ...['--answer-fingerprint', sim.certificateFingerprint],
      ],
      env,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/pulled [1-9]\d* response set/);
  });

  it('--insecure works and warns on stderr, every time, for send and pull alike', async () => {
    const sent = await send('--protocol', 'ftps', '--insecure');
    expect(sent.code).toBe(0);
    expect(sent.stderr).toBe(INSECURE_WARNING);
    expect(INSECURE_WARNING).toBe(
      "onss-transfer: WARNING: --insecure: the server's certificate is not checked\n",
    );
    const pulled = await cli(
      [
        'pull',
        '--env',
        'T',
        '--dest',
        join(dir, 'answers'),
        ...server('--protocol', 'ftps', '--insecure'),
        ...['--answer-fingerprint', sim.certificateFingerprint],
      ],
      env,
    );
    expect(pulled.stderr).toBe(INSECURE_WARNING);
  });

  it('refuses a certificate the --ca-file does not vouch for: exit 1, says what to do', async () => {
    const run = await send('--protocol', 'ftps', '--ca-file', strangerCa);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /certificate is not trusted; give the CA .*--ca-file.*\[TRANSPORT_TLS\]/,
    );
    expect(run.stderr).not.toContain(PASSWORD);
  });

  it('without --ca-file, the system CAs do not vouch for a self-signed server', async () => {
    const run = await send('--protocol', 'ftps');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('TRANSPORT_TLS');
  });

  it('sends with --server-cert-sha256, the pin of the server certificate, quietly', async () => {
    const pin = new X509Certificate(sim.caPem ?? '').fingerprint256;
    const run = await send('--protocol', 'ftps', '--ca-file', caFile, '--server-cert-sha256', pin);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it("refuses a server certificate other than a channel's pin, naming both: exit 1", async () => {
    const actual = new X509Certificate(sim.caPem ?? '').fingerprint256.toUpperCase();
    const pinned = new X509Certificate(readFileSync(strangerCa, 'utf8')).fingerprint256;
    const channels = join(dir, 'channels.json');
    writeFileSync(
      channels,
      JSON.stringify({
        channels: [
          {
            name: 'pinned',
            sender: '123456',
            host: sim.host,
            port: sim.port,
            user: sim.user,
            protocol: 'ftps',
            passwordEnv: 'SIM_PW',
            caFile,
            serverCertSha256: pinned,
          },
        ],
      }),
    );
    const run = await cli(
      [
        'send',
        declaration(),
        ...['--app', 'DMFA', '--env', 'T', '--channel', 'pinned', '--channels', channels],
        ...['--ledger', join(dir, 'ledger.sqlite')],
      ],
      env,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the server's certificate ${actual} is not the pinned ${pinned}`);
    expect(run.stderr).toContain('nothing was sent');
    expect(run.stderr).toContain('TRANSPORT_SERVER_CERT');
    expect(run.stderr).not.toContain(PASSWORD);
  });

  it('plain FTP (the default) to the FTPS-only server: login refused', async () => {
    const run = await send();
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/wants TLS first \(AUTH TLS\)/);
  });

  const usage: Array<[string, string[], RegExp]> = [
    [
      'an unknown protocol',
      ['--protocol', 'ftpes'],
      /--protocol must be ftp, ftps or sftp, not "ftpes"/,
    ],
    ['an SSH key for FTPS', ['--protocol', 'ftps', '--ssh-key', caFile], /--ssh-key is for SFTP/],
    [
      'a pin with trust on first use',
      ['--protocol', 'sftp', '--host-key-sha256', 'SHA256:x', '--trust-on-first-use'],
      /give one or the other/,
    ],
    ['--ca-file for SFTP', ['--protocol', 'sftp', '--ca-file', caFile], /is for FTPS, not SFTP/],
    [
      'an unreadable SSH key',
      ['--protocol', 'sftp', '--ssh-key', join(dir, 'missing-key')],
      /--ssh-key .*missing-key cannot be read \(ENOENT\)/,
    ],
    ['--ca-file without ftps', ['--ca-file', caFile], /--ca-file is for FTPS: add --protocol ftps/],
    ['--insecure without ftps', ['--insecure'], /--insecure is for FTPS: add --protocol ftps/],
    [
      '--server-cert-sha256 without ftps',
      ['--server-cert-sha256', 'AB'.repeat(32)],
      /--server-cert-sha256 is for FTPS: add --protocol ftps/,
    ],
    [
      '--server-cert-sha256 for SFTP',
      ['--protocol', 'sftp', '--server-cert-sha256', 'AB'.repeat(32)],
      /--server-cert-sha256 is for FTPS, not SFTP/,
    ],
    [
      '--server-cert-sha256 with --insecure',
      ['--protocol', 'ftps', '--insecure', '--server-cert-sha256', 'AB'.repeat(32)],
      /--server-cert-sha256 and --insecure contradict each other/,
    ],
    [
      '--server-cert-sha256 that is not a fingerprint',
      ['--protocol', 'ftps', '--server-cert-sha256', 'SHA256:abc'],
      /--server-cert-sha256 "SHA256:abc" is not a SHA-256 certificate fingerprint/,
    ],
    [
      '--ca-file with --insecure',
      ['--protocol', 'ftps', '--ca-file', caFile, '--insecure'],
      /--ca-file and --insecure contradict each other/,
    ],
  ];
  it.each(usage)('refuses %s: exit 2, before connecting', async (_title, flags, message) => {
    const run = await send(...flags);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('WARNING');
  });

  it('refuses a --ca-file it cannot read, naming it', async () => {
    const run = await send('--protocol', 'ftps', '--ca-file', join(dir, 'missing.pem'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/caFile .*missing\.pem cannot be read \(ENOENT\).*TRANSPORT_CONFIG/);
  });
});

describe('send over SFTP', () => {
  let sftp: Simulator;
  const keyFile = join(dir, 'sftp-key.pem');

  beforeAll(async () => {
    sftp = await startSimulator({ sftp: true, password: PASSWORD, root: join(dir, 'sftp-home') });
    writeFileSync(keyFile, sftp.privateKeyPem ?? '', { mode: 0o600 });
  });
  afterAll(async () => {
    await sftp?.stop();
  });

  /** The flags that reach the SFTP server with the key, and the ledger of these tests. */
  const sftpFlags = (): string[] => [
    '--host',
    sftp.host,
    '--port',
    String(sftp.port),
    '--user',
    sftp.user,
    '--protocol',
    'sftp',
    '--ssh-key',
    keyFile,
    '--ledger',
    join(dir, 'sftp-ledger.sqlite'),
  ];

  const sftpSend = (...extra: string[]) =>
    cli(['send', declaration(), ...NAMING, ...sftpFlags(), ...extra], {});

  it('sends with a pinned host key, quietly', async () => {
    const run = await sftpSend('--host-key-sha256', sftp.hostKeySha256 ?? '');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('with --trust-on-first-use, sends and prints the fingerprint to pin', async () => {
    const run = await sftpSend('--trust-on-first-use');
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`pin it with --host-key-sha256 ${sftp.hostKeySha256 ?? '?'}`);
  });

  it('without a pin, refuses and names the fingerprint to pin', async () => {
    const run = await sftpSend();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(sftp.hostKeySha256 ?? '?');
  });

  it('pull refuses a server whose host key is not the pinned one and keeps server.identity-changed in events.jsonl', async () => {
    // Prepare: a pin of another key
    const pinned = `SHA256:${'A'.repeat(43)}`;
    const dest = join(dir, 'pull-changed');

    // Act
    const run = await cli(
      ['pull', '--env', 'all', '--dest', dest, ...sftpFlags(), '--host-key-sha256', pinned],
      {},
    );

    // Assess: refused, naming both keys; the event kept with both
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(pinned);
    expect(run.stderr).toContain(sftp.hostKeySha256 ?? '?');
    const events = readFileSync(join(dest, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events).toMatchObject([
      {
        type: 'server.identity-changed',
        serverIdentity: { kind: 'host-key', pinned, presented: sftp.hostKeySha256 },
      },
    ]);
  });
});

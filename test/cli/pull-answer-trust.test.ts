import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../cli/program';
import { ANSWER_TRUST_HINT } from '../../cli/commands/answer-trust';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { openSqliteLedger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import type { TransferEvent } from '../../shared/notify';
import { certificateFingerprint, NO_ANSWER_TRUST_WARNING, signFile } from '../../shared/signing';
import { startSimulator, type Simulator } from '../../transfer-point';
import { captureIo, cli } from '../helpers/cli';
import { makeIdentity, scratchDir, type Identity } from '../helpers/pki';

// `pull --answer-fingerprint` and `--answer-ca-file`: answers of the local transfer point
// verified against its own certificate; a stranger's signature kept and not applied; no trust
// said once on stderr; and `simulator --answer-key --answer-cert --answer-cert-out`.

const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-cli-answer-trust-');
const ledger = join(dir, 'ledger.sqlite');
const WARNING = `onss-transfer: WARNING: ${NO_ANSWER_TRUST_WARNING}; ${ANSWER_TRUST_HINT}\n`;
let simulator: Simulator;
let stranger: Identity;
let signing: string[];

beforeAll(async () => {
  simulator = await startSimulator();
  stranger = await makeIdentity('rsa2048', { commonName: 'local transfer point' });
  const sender = await makeIdentity('ec256', { commonName: 'CLI Sender' });
  writeFileSync(join(dir, 'key.pem'), sender.keyPem);
  writeFileSync(join(dir, 'cert.pem'), sender.certPem);
  signing = ['--key', join(dir, 'key.pem'), '--cert', join(dir, 'cert.pem')];
});
afterAll(async () => {
  await simulator?.stop();
  cleanup();
});

const env = () => ({ FTP_PW: simulator.password });
const serverOf = (site: { host: string; port: number; user: string }, ledgerFile = ledger) => [
  ...['--host', site.host, '--port', String(site.port), '--user', site.user],
  ...['--password-env', 'FTP_PW', '--ledger', ledgerFile],
];

let counter = 0;
/** Sends one declaration with the CLI and waits for its ACRF; returns the set id and names. */
async function sendOne(site: Simulator = simulator, ledgerFile = ledger) {
  counter += 1;
  const file = join(dir, `dmfa-${counter}.xml`);
  writeFileSync(file, sampleDmfaXml({ quarter: '20263', date: today, workers: 2 + counter }));
  const sent = await cli(
    [
      'send',
      file,
      ...['--app', 'DMFA', '--sender', '123456', '--env', 'T'],
      ...signing,
      ...serverOf(site, ledgerFile),
    ],
    { FTP_PW: site.password },
  );
  expect(sent.code).toBe(0);
  const go = /launched (GO\.\S+):/.exec(sent.stdout)?.[1] ?? '';
  const judgement = await site.waitForJudgement((j) => j.goName === go);
  await site.idle();
  const [fo = '', fs = ''] = judgement.responseNames;
  return { setId: go.slice(3, -2), fo, fs };
}

let pulls = 0;
/** `pull --env T` into a fresh folder, with extra flags: the run and the events it wrote. */
async function pull(...extra: string[]) {
  pulls += 1;
  const dest = join(dir, `answers-${pulls}`);
  const run = await cli(
    ['pull', '--env', 'T', '--dest', dest, ...serverOf(simulator), ...extra],
    env(),
  );
  const eventsFile = join(dest, 'events.jsonl');
  const events = existsSync(eventsFile)
    ? readFileSync(eventsFile, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as TransferEvent)
    : [];
  return { ...run, events };
}

async function stateOf(setId: string): Promise<string | undefined> {
  const records = openSqliteLedger(ledger);
  try {
    return (await records.get(setId))?.state;
  } finally {
    await records.close();
  }
}

describe('onss-transfer pull --answer-fingerprint', () => {
  it("applies the local transfer point's answers, pinned: nothing on stderr", async () => {
    const { setId } = await sendOne();
    const run = await pull('--answer-fingerprint', simulator.certificateFingerprint);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^pulled 1 response set\(s\)$/m);
    expect(run.events.map((event) => event.type)).toEqual(['declaration.acknowledged']);
    expect(await stateOf(setId)).toBe('acknowledged');
  });

  it("keeps a stranger's answer and does not apply it; says so in the summary", async () => {
    const { setId, fo, fs } = await sendOne();
    const forged = await signFile(simulator.pathOf('OUTTEST', fo), stranger.material, {
      format: 'line',
    });
    writeFileSync(simulator.pathOf('OUTTEST', fs), forged.fs);
    // Several pins, repeated and comma-separated: none is the stranger's.
    const other = 'ab'.repeat(32);
    const run = await pull(
      ...['--answer-fingerprint', `${other},${simulator.certificateFingerprint.toLowerCase()}`],
      ...['--answer-fingerprint', other.toUpperCase()],
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(
      'pulled 1 response set(s), 1 not applied (signature not valid or not trusted)',
    );
    const strangerFingerprint = certificateFingerprint(stranger.material.certificate);
    expect(run.stdout).toContain('response.signature-invalid');
    expect(run.events).toEqual([
      expect.objectContaining({
        type: 'response.signature-invalid',
        message: expect.stringContaining(
          `(SHA-256 ${strangerFingerprint}) is not a pinned certificate); kept, not applied`,
        ),
      }),
    ]);
    expect(await stateOf(setId)).toBe('launched');
  });

  it('--json reports the trust the run held the answers to', async () => {
    await sendOne();
    const run = await pull('--json', '--answer-fingerprint', simulator.certificateFingerprint);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      signatureTrust: 'fingerprints',
      sets: [{ interpretation: { signature: 'valid', signer: { via: 'fingerprint' } } }],
    });
  });
});

describe('onss-transfer pull --answer-ca-file', () => {
  it("applies answers whose signer chains to the bundle (here the local transfer point's own certificate)", async () => {
    const { setId } = await sendOne();
    const caFile = join(dir, 'answers-ca.pem');
    writeFileSync(caFile, simulator.answerCertificatePem);
    const run = await pull('--answer-ca-file', caFile);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await stateOf(setId)).toBe('acknowledged');
  });
});

describe('onss-transfer pull without a trust', () => {
  it('warns once on stderr, and applies the answers as before', async () => {
    const { setId } = await sendOne();
    const run = await pull();
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(WARNING);
    expect(await stateOf(setId)).toBe('acknowledged');
  });
});

describe('onss-transfer pull: trust flags it refuses before connecting (exit 2)', () => {
  const noCertificate = join(dir, 'no-certificate.pem');
  beforeAll(() => writeFileSync(noCertificate, 'not a bundle\n'));

  it.each([
    [
      'a fingerprint that is not one',
      ['--answer-fingerprint', 'SHA256:abc'],
      'onss-transfer: --answer-fingerprint: "SHA256:abc" is not a SHA-256 certificate fingerprint (64 hex digits, colons optional) [USAGE]\n',
    ],
    [
      'an empty fingerprint',
      ['--answer-fingerprint', ''],
      'onss-transfer: --answer-fingerprint is empty: give a SHA-256 certificate fingerprint [USAGE]\n',
    ],
    [
      'a CA file that is not there',
      ['--answer-ca-file', join(dir, 'missing.pem')],
      `onss-transfer: --answer-ca-file ${join(dir, 'missing.pem')} cannot be read (ENOENT) [USAGE]\n`,
    ],
    [
      'a CA file without a certificate',
      ['--answer-ca-file', noCertificate],
      `onss-transfer: --answer-ca-file ${noCertificate} holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----) [USAGE]\n`,
    ],
  ])('%s', async (_, flags, stderr) => {
    const run = await cli(
      ['pull', '--env', 'T', '--dest', join(dir, 'refused'), ...serverOf(simulator), ...flags],
      env(),
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 2, stderr });
  });
});

describe('onss-transfer simulator --answer-key --answer-cert --answer-cert-out', () => {
  it('signs its answers with the given identity, prints its fingerprint and writes its certificate', async () => {
    const identity = await makeIdentity('ec256', { commonName: 'Answers Of The Simulator' });
    writeFileSync(join(dir, 'answer-key.pem'), identity.keyPem);
    writeFileSync(join(dir, 'answer-cert.pem'), identity.certPem);
    const certOut = join(dir, 'answer-cert-out.pem');
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const { io, stdout } = captureIo({ SIM_PW: 'local-Pass-9' }, { waitForStop: () => stopped });
    const running = runCli(
      [
        ...['simulator', '--port', '0', '--password-env', 'SIM_PW'],
        ...['--answer-key', join(dir, 'answer-key.pem')],
        ...['--answer-cert', join(dir, 'answer-cert.pem')],
        ...['--answer-cert-out', certOut],
      ],
      io,
    );
    while (!stdout().includes('Ctrl-C')) await new Promise((r) => setTimeout(r, 20));
    const fingerprint = certificateFingerprint(identity.material.certificate);
    expect(stdout()).toContain(
      `answers signed with the certificate SHA-256 ${fingerprint} (certificate in ${certOut}); ` +
        `pull with --answer-fingerprint ${fingerprint}\n`,
    );
    expect(readFileSync(certOut, 'utf8')).toBe(identity.material.certificate.toString());

    // An answer of it, pulled pinned to the printed fingerprint, applies.
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(stdout())?.[1]);
    const site = { host: '127.0.0.1', port, user: 'onss' };
    const otherLedger = join(dir, 'simulator-ledger.sqlite');
    const file = join(dir, 'dmfa-simulator.xml');
    writeFileSync(file, sampleDmfaXml({ quarter: '20263', date: today, workers: 11 }));
    const flags = [...serverOf(site, otherLedger)].map((flag) =>
      flag === 'FTP_PW' ? 'SIM_PW' : flag,
    );
    const sent = await cli(
      [
        'send',
        file,
        ...['--app', 'DMFA', '--sender', '123456', '--env', 'T'],
        ...signing,
        ...flags,
      ],
      { SIM_PW: 'local-Pass-9' },
    );
    expect(sent.code).toBe(0);
    while (!stdout().includes('accepted GO.')) await new Promise((r) => setTimeout(r, 20));
    const pulled = await cli(
      [
        ...['pull', '--env', 'T', '--dest', join(dir, 'answers-simulator'), ...flags],
        ...['--answer-fingerprint', fingerprint, '--json'],
      ],
      { SIM_PW: 'local-Pass-9' },
    );
    stop();
    expect(await running).toBe(0);
    expect(pulled.stderr).toBe('');
    expect(JSON.parse(pulled.stdout)).toMatchObject({
      sets: [
        {
          interpretation: {
            signature: 'valid',
            changes: [{ state: 'acknowledged' }],
            signer: { subject: 'CN=Answers Of The Simulator' },
          },
        },
      ],
    });
  });

  it('refuses --answer-key without --answer-cert (exit 2)', async () => {
    const run = await cli(['simulator', '--port', '0', '--answer-key', join(dir, 'key.pem')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'onss-transfer: --answer-key and --answer-cert go together: give both, or neither [USAGE]\n',
    );
  });
});

/**
 * Answer signatures: the pull holds the FS of every answer to a trust. Answers signed by the
 * local transfer point's own key are applied when its certificate is pinned (or its CA given);
 * an answer whose FS is by a stranger, or missing, is kept, recorded and raised
 * (`response.signature-invalid`), and moves no declaration. Without a trust the pull says so
 * in its report and applies answers as before.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { createMemoryLedger, type Ledger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { memoryNotifier } from '../../shared/notify';
import { pullResponses, type PullRequest } from '../../shared/pull';
import { openFileSource, sendDeclaration } from '../../shared/send';
import {
  certificateFingerprint,
  makeAnswerTrust,
  signFile,
  type AnswerTrust,
  type SigningMaterial,
} from '../../shared/signing';
import { localFolderStore } from '../../shared/store';
import { ftpConnector } from '../../shared/transport';
import { startSimulator, type Judgement, type Simulator } from '../../transfer-point';
import { identityOf, issue, makeCa, type TestCa } from '../helpers/ca';
import { makeIdentity, scratchDir, type Identity } from '../helpers/pki';

const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-answer-signatures-');
let simulator: Simulator;
let stranger: Identity;
let sender: Identity;
// One ledger for the file: its sequence numbers keep each declaration's name new to the
// transfer point (a name sent twice is refused as a duplicate).
const ledger: Ledger = createMemoryLedger();

beforeAll(async () => {
  [simulator, stranger, sender] = await Promise.all([
    startSimulator({}),
    makeIdentity('rsa2048', { commonName: 'local transfer point' }), // same name, another key
    makeIdentity('ec256', { commonName: 'sender' }),
  ]);
});
afterAll(async () => {
  await simulator?.stop();
  cleanup();
});

const pinnedToSimulator = (): AnswerTrust =>
  makeAnswerTrust({ fingerprints: [simulator.certificateFingerprint] }) as AnswerTrust;

let counter = 0;
/** Sends one declaration to `site`, waits for its ACRF: the set id and the judgement. */
async function sendAndJudge(
  ledger: Ledger,
  site: Simulator = simulator,
): Promise<{ setId: string; judgement: Judgement }> {
  counter += 1;
  const path = join(dir, `decl-${counter}.xml`);
  writeFileSync(path, sampleDmfaXml({ quarter: '20263', date: today, workers: 2 + counter }));
  const sent = await sendDeclaration(
    {
      source: await openFileSource(path),
      declaration: { app: 'DMFA', sender: '123456', env: 'T' },
    },
    { ledger, connector: connectorTo(site), material: sender.material },
  );
  const judgement = await site.waitForJudgement((j) => j.goName === sent.plan.go);
  await site.idle();
  return { setId: sent.plan.setId, judgement };
}

function connectorTo(site: Simulator) {
  return ftpConnector({
    host: site.host,
    port: site.port,
    user: site.user,
    password: site.password,
  });
}

async function pull(
  ledger: Ledger,
  store: string,
  trust: AnswerTrust | undefined,
  site: Simulator = simulator,
) {
  const notifier = memoryNotifier();
  const request: PullRequest = { environments: ['T'], ...(trust ? { answerTrust: trust } : {}) };
  const report = await pullResponses(request, {
    ledger,
    connector: connectorTo(site),
    store: localFolderStore(store),
    notifier,
  });
  return { report, events: notifier.events };
}

/** The ACRF set a judgement was answered with: its id and its FO and FS names. */
function answerOf(judgement: Judgement) {
  const [fo = '', fs = ''] = judgement.responseNames;
  return { id: fo.slice(3), fo, fs };
}

/** Signs the FO of an answer on the server again, with `material`: a forged FS. */
async function resign(site: Simulator, judgement: Judgement, material: SigningMaterial) {
  const { fo, fs } = answerOf(judgement);
  const signature = await signFile(site.pathOf('OUTTEST', fo), material, { format: 'line' });
  writeFileSync(site.pathOf('OUTTEST', fs), signature.fs);
}

const stored = (store: string, name: string) => join(store, 'responses', 'T', today, 'ACRF', name);

describe('answers signed by the local transfer point, its certificate pinned', () => {
  it('verify, also for OpenSSL trusting its certificate, and move the declaration', async () => {
    const { setId, judgement } = await sendAndJudge(ledger);
    const { id, fo, fs } = answerOf(judgement);
    // OpenSSL: the FS verifies with the local transfer point's certificate as the only CA.
    const caFile = join(dir, 'answer-ca.pem');
    writeFileSync(caFile, simulator.answerCertificatePem);
    expect(
      opensslVerify(simulator.pathOf('OUTTEST', fo), simulator.pathOf('OUTTEST', fs), caFile),
    ).toEqual({ ok: true, stderr: expect.stringContaining('Verification successful') });
    const store = join(dir, 'store-trusted');

    const { report, events } = await pull(ledger, store, pinnedToSimulator());

    expect(report.signatureTrust).toBe('fingerprints');
    expect(report.failed).toEqual([]);
    expect(report.sets).toEqual([
      expect.objectContaining({
        id,
        interpretation: {
          kind: 'acrf',
          signature: 'valid',
          changes: [{ declaration: setId, state: 'acknowledged' }],
          orphans: 0,
          signer: {
            subject: 'CN=local transfer point',
            fingerprint: simulator.certificateFingerprint,
            via: 'fingerprint',
          },
        },
      }),
    ]);
    expect(events.map((event) => event.type)).toEqual(['declaration.acknowledged']);
    expect((await ledger.get(setId))?.state).toBe('acknowledged');
    expect(await ledger.getResponse(id)).toMatchObject({
      signature: 'valid',
      signatureDetail: `signed by CN=local transfer point, a pinned certificate (SHA-256 ${simulator.certificateFingerprint})`,
      declarationId: setId,
    });
  });
});

describe("an answer signed by a stranger's key, the local transfer point's certificate pinned", () => {
  it('is kept and raised as response.signature-invalid; the declaration does not move', async () => {
    const { setId, judgement } = await sendAndJudge(ledger);
    const { id, fo, fs } = answerOf(judgement);
    await resign(simulator, judgement, stranger.material);
    const forged = readFileSync(simulator.pathOf('OUTTEST', fs));
    const store = join(dir, 'store-stranger');

    const { report, events } = await pull(ledger, store, pinnedToSimulator());

    // Kept: stored byte for byte, recorded, then deleted from the server.
    expect(report.failed).toEqual([]);
    expect(simulator.files('OUTTEST')).toEqual([]);
    expect(readFileSync(stored(store, fs))).toEqual(forged);
    expect(existsSync(stored(store, fo))).toBe(true);
    // Not applied: no change, no tie, the declaration still launched, no acknowledgement.
    expect(report.sets[0]?.interpretation).toEqual({
      kind: 'acrf',
      signature: 'invalid',
      changes: [],
      orphans: 0,
      withheld: true,
    });
    expect(await ledger.get(setId)).toMatchObject({ state: 'launched' });
    expect((await ledger.get(setId))?.acknowledgement).toBeUndefined();
    const strangerFingerprint = certificateFingerprint(stranger.material.certificate);
    const record = await ledger.getResponse(id);
    expect(record).toMatchObject({ signature: 'invalid', kind: 'acrf', orphan: false });
    expect(record?.declarationId).toBeUndefined();
    expect(record?.signatureDetail).toBe(
      `${fs}: the signer CN=local transfer point (SHA-256 ${strangerFingerprint}) is not a pinned certificate`,
    );
    // Raised once, with the stored files, saying it was not applied.
    expect(events).toEqual([
      expect.objectContaining({
        type: 'response.signature-invalid',
        response: id,
        files: expect.arrayContaining([expect.stringContaining(fs)]),
        message: `response ${id}: signature invalid (${record?.signatureDetail}); kept, not applied: no declaration moved`,
      }),
    ]);
  });

  it('OpenSSL refuses it too, trusting the local transfer point only', async () => {
    const { judgement } = await sendAndJudge(ledger);
    const { fo, fs } = answerOf(judgement);
    await resign(simulator, judgement, stranger.material);
    const caFile = join(dir, 'answer-ca-2.pem');
    writeFileSync(caFile, simulator.answerCertificatePem);
    expect(
      opensslVerify(simulator.pathOf('OUTTEST', fo), simulator.pathOf('OUTTEST', fs), caFile).ok,
    ).toBe(false);
    await pull(ledger, join(dir, 'store-openssl'), pinnedToSimulator()); // empties OUTTEST
  });
});

describe('an answer without its FS', () => {
  it('with a trust: missing, raised, kept, and the declaration does not move', async () => {
    const { setId, judgement } = await sendAndJudge(ledger);
    const { id, fo, fs } = answerOf(judgement);
    rmSync(simulator.pathOf('OUTTEST', fs));
    const store = join(dir, 'store-missing');

    const { report, events } = await pull(ledger, store, pinnedToSimulator());

    expect(report.sets[0]?.interpretation).toMatchObject({
      signature: 'missing',
      changes: [],
      withheld: true,
    });
    expect(existsSync(stored(store, fo))).toBe(true);
    expect((await ledger.get(setId))?.state).toBe('launched');
    expect(await ledger.getResponse(id)).toMatchObject({
      signature: 'missing',
      signatureDetail: 'the set came without an FS',
    });
    expect(events.map((event) => [event.type, event.message])).toEqual([
      [
        'response.signature-invalid',
        `response ${id}: signature missing (the set came without an FS); kept, not applied: no declaration moved`,
      ],
    ]);
  });

  it('without a trust: applied as before, raised all the same, and the report says none', async () => {
    const { setId, judgement } = await sendAndJudge(ledger);
    const { id, fs } = answerOf(judgement);
    rmSync(simulator.pathOf('OUTTEST', fs));

    const { report, events } = await pull(ledger, join(dir, 'store-untrusted'), undefined);

    expect(report.signatureTrust).toBe('none');
    expect(report.sets[0]?.interpretation).toEqual({
      kind: 'acrf',
      signature: 'missing',
      changes: [{ declaration: setId, state: 'acknowledged' }],
      orphans: 0,
    });
    expect((await ledger.get(setId))?.state).toBe('acknowledged');
    expect(events.map((event) => [event.type, event.message])).toEqual([
      [
        'response.signature-invalid',
        `response ${id}: signature missing (the set came without an FS); kept`,
      ],
      ['declaration.acknowledged', expect.stringContaining('accepted by the reception')],
    ]);
  });
});

describe('a local transfer point signing with a certificate of a CA, the CA given as the trust', () => {
  let root: TestCa;
  let site: Simulator;

  beforeAll(async () => {
    root = makeCa(dir, 'Transfer Point CA');
    const intermediate = issue(dir, root, 'Transfer Point Issuing CA', { ca: true });
    const signer = identityOf(issue(dir, intermediate, 'Transfer Point Answers'), [intermediate]);
    site = await startSimulator({ identity: signer.material });
  });
  afterAll(async () => {
    await site?.stop();
  });

  it("applies its answers; a stranger's CA as the trust keeps them unapplied", async () => {
    const trusted = makeAnswerTrust({
      caBundle: { pem: root.certPem, source: 'ca.pem' },
    }) as AnswerTrust;
    const strangerCa = makeCa(dir, 'Stranger CA');
    const wrong = makeAnswerTrust({
      caBundle: { pem: strangerCa.certPem, source: 'stranger.pem' },
    }) as AnswerTrust;
    // Its own ledger: this transfer point numbers its answers from 00001 too.
    const ledger = createMemoryLedger();

    const first = await sendAndJudge(ledger, site);
    const refused = await pull(ledger, join(dir, 'store-ca'), wrong, site);
    expect(refused.report.signatureTrust).toBe('ca-bundle');
    expect(refused.report.sets[0]?.interpretation).toMatchObject({
      signature: 'invalid',
      withheld: true,
    });
    expect(refused.events[0]?.message).toMatch(/does not chain to the CA bundle/);
    expect((await ledger.get(first.setId))?.state).toBe('launched');

    const second = await sendAndJudge(ledger, site);
    const applied = await pull(ledger, join(dir, 'store-ca'), trusted, site);
    expect(applied.report.sets[0]?.interpretation).toMatchObject({
      signature: 'valid',
      signer: { via: 'ca-bundle', anchor: 'CN=Transfer Point CA' },
    });
    expect((await ledger.get(second.setId))?.state).toBe('acknowledged');
  });
});

/** `openssl cms -verify -binary` of an FS (base64 on one line) against its FO, given CAs. */
function opensslVerify(fo: string, fs: string, caFile: string): { ok: boolean; stderr: string } {
  const der = join(dir, `${fs.slice(fs.lastIndexOf('/') + 1)}.der`);
  writeFileSync(der, Buffer.from(readFileSync(fs, 'latin1').replace(/\r/g, ''), 'base64'));
  const result = spawnSync(
    'openssl',
    [
      ...['cms', '-verify', '-binary', '-inform', 'DER', '-in', der, '-content', fo],
      ...['-CAfile', caFile, '-out', '/dev/null'],
    ],
    { encoding: 'utf8' },
  );
  rmSync(der);
  return { ok: result.status === 0, stderr: result.stderr };
}

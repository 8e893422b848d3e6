/**
 * The pull function and the answers' trust: its configuration (ONSS_ANSWER_FINGERPRINTS, and
 * ONSS_ANSWER_CA_SECRET_ID naming a secret that holds a PEM CA bundle), the loader that reads
 * the bundle through the secrets' cache, and a scheduled run against the local transfer point:
 * pinned, its answers apply; signed by a stranger, they are kept, raised and not applied
 * (counted `withheld`); with no trust, the run logs one warning.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPullConfig } from '../../../functions/config/environment';
import { ANSWER_TRUST_ENV_NAMES } from '../../../functions/config/names';
import {
  ANSWER_TRUST_MISSING,
  runScheduledPull,
  type PullDependencies,
} from '../../../functions/pull/process';
import { answerTrustLoader } from '../../../functions/runtime';
import { sampleDmfaXml } from '../../../shared/demo/sample-dmfa';
import { createMemoryLedger, type Ledger } from '../../../shared/ledger';
import { todayInBrussels } from '../../../shared/names';
import { memoryNotifier } from '../../../shared/notify';
import type { SecretSource } from '../../../shared/secrets';
import { openFileSource, sendDeclaration } from '../../../shared/send';
import {
  certificateFingerprint,
  makeAnswerTrust,
  NO_ANSWER_TRUST_WARNING,
  signFile,
  type AnswerTrust,
} from '../../../shared/signing';
import { localFolderStore } from '../../../shared/store';
import { ftpConnector } from '../../../shared/transport';
import { startSimulator, type Simulator } from '../../../transfer-point';
import { makeCa } from '../../helpers/ca';
import { makeIdentity, scratchDir, type Identity } from '../../helpers/pki';
import { FUNCTION_ENV } from '../helpers/function-env';
import { recordingLog, recordingMetrics } from '../helpers/emulated-aws';

const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-pull-answer-trust-');
const PIN = 'ab'.repeat(32);
const PIN_NORMALISED = PIN.toUpperCase().match(/../g)?.join(':') ?? '';

let simulator: Simulator;
let stranger: Identity;
let sender: Identity;
// One ledger: its sequence numbers keep each declaration's name new to the transfer point.
const ledger: Ledger = createMemoryLedger();

beforeAll(async () => {
  [simulator, stranger, sender] = await Promise.all([
    startSimulator({}),
    makeIdentity('rsa2048', { commonName: 'local transfer point' }),
    makeIdentity('ec256', { commonName: 'sender' }),
  ]);
});
afterAll(async () => {
  await simulator?.stop();
  cleanup();
});

/** Secrets as Secrets Manager would give them, counting the reads. */
function secretsOf(values: Record<string, string>): SecretSource & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    getSecretString: async (id) => {
      reads.push(id);
      const value = values[id];
      if (value === undefined) throw new Error(`no secret ${id}`);
      return value;
    },
  };
}

describe('the pull function reads the answers trust from its environment', () => {
  it('ONSS_ANSWER_FINGERPRINTS and ONSS_ANSWER_CA_SECRET_ID, both optional', () => {
    expect(readPullConfig(FUNCTION_ENV).channels[0]?.answerTrust).toEqual({ fingerprints: [] });
    expect(
      readPullConfig({
        ...FUNCTION_ENV,
        [ANSWER_TRUST_ENV_NAMES.fingerprints]: ` ${PIN} , ${'CD'.repeat(32)}`,
        [ANSWER_TRUST_ENV_NAMES.caSecretId]: 'onss/answer-ca',
      }).channels[0]?.answerTrust,
    ).toEqual({
      fingerprints: [PIN_NORMALISED, 'CD'.repeat(32).match(/../g)?.join(':')],
      caSecretId: 'onss/answer-ca',
    });
  });

  it('refuses a fingerprint that is not one, naming the variable', () => {
    expect(() =>
      readPullConfig({ ...FUNCTION_ENV, [ANSWER_TRUST_ENV_NAMES.fingerprints]: 'SHA256:abc' }),
    ).toThrow('ONSS_ANSWER_FINGERPRINTS: "SHA256:abc" is not a SHA-256 certificate fingerprint');
  });
});

describe('answerTrustLoader', () => {
  it('gives no trust when none is configured, the pins alone without a CA secret', async () => {
    const secrets = secretsOf({});
    expect(await answerTrustLoader(secrets, { fingerprints: [] })()).toBeUndefined();
    expect(await answerTrustLoader(secrets, { fingerprints: [PIN_NORMALISED] })()).toEqual({
      fingerprints: [PIN_NORMALISED],
      anchors: [],
    });
    expect(secrets.reads).toEqual([]);
  });

  it('reads the CA bundle from its secret each time, parsing it again only when it changed', async () => {
    const first = makeCa(dir, 'Answers CA');
    const second = makeCa(dir, 'Answers CA 2');
    const values: Record<string, string> = { 'onss/answer-ca': first.certPem };
    const secrets = secretsOf(values);
    const load = answerTrustLoader(secrets, { fingerprints: [], caSecretId: 'onss/answer-ca' });
    const a = await load();
    const b = await load();
    expect(a?.anchors.map((cert) => cert.subject)).toEqual(['CN=Answers CA']);
    expect(b).toBe(a);
    values['onss/answer-ca'] = second.certPem;
    expect((await load())?.anchors.map((cert) => cert.subject)).toEqual(['CN=Answers CA 2']);
    expect(secrets.reads).toHaveLength(3);
  });

  it('throws, naming the secret, when the bundle cannot be read', async () => {
    const secrets = secretsOf({ 'onss/answer-ca': '{"not":"a bundle"}' });
    await expect(
      answerTrustLoader(secrets, { fingerprints: [], caSecretId: 'onss/answer-ca' })(),
    ).rejects.toMatchObject({
      code: 'ANSWER_TRUST_INVALID',
      message: expect.stringContaining(
        'the CA bundle secret onss/answer-ca holds no PEM certificate',
      ),
    });
  });
});

let counter = 0;
/** Sends one declaration and waits for its ACRF: the set id and the answer's FO and FS names. */
async function sendAndJudge() {
  counter += 1;
  const path = join(dir, `decl-${counter}.xml`);
  writeFileSync(path, sampleDmfaXml({ quarter: '20263', date: today, workers: 2 + counter }));
  const sent = await sendDeclaration(
    {
      source: await openFileSource(path),
      declaration: { app: 'DMFA', sender: '123456', env: 'T' },
    },
    { ledger, connector: connector(), material: sender.material },
  );
  const judgement = await simulator.waitForJudgement((j) => j.goName === sent.plan.go);
  await simulator.idle();
  const [fo = '', fs = ''] = judgement.responseNames;
  return { setId: sent.plan.setId, fo, fs };
}

function connector() {
  return ftpConnector({
    host: simulator.host,
    port: simulator.port,
    user: simulator.user,
    password: simulator.password,
  });
}

let runs = 0;
/** A scheduled run's dependencies on the local transfer point, with the given trust. */
function pullDependencies(trust: AnswerTrust | undefined, storeName?: string) {
  runs += 1;
  const log = recordingLog();
  const metrics = recordingMetrics();
  const notifier = memoryNotifier();
  const answers: string[] = [];
  const deps: PullDependencies = {
    environments: ['T'],
    ledger,
    store: localFolderStore(join(dir, storeName ?? `store-${runs}`)),
    notifier,
    connector: async () => connector(),
    signingMaterial: async () => sender.material,
    log,
    metrics,
    countAnswer: (result) => answers.push(result),
    owner: `request-${runs}`,
    leaseMs: 60_000,
    answerTrust: async () => trust,
  };
  return { deps, log, notifier, answers };
}

describe('a scheduled pull holds the answers to the trust', () => {
  it("pinned to the local transfer point's certificate: its answer applies, no warning", async () => {
    const { setId } = await sendAndJudge();
    const trust = makeAnswerTrust({ fingerprints: [simulator.certificateFingerprint] });
    const { deps, log, answers } = pullDependencies(trust);

    const outcome = await runScheduledPull(deps);

    expect(outcome).toMatchObject({ status: 'pulled', report: { signatureTrust: 'fingerprints' } });
    expect(answers).toEqual(['acknowledged']);
    expect((await ledger.get(setId))?.state).toBe('acknowledged');
    expect(log.lines.filter((line) => line.level !== 'info')).toEqual([]);
  });

  it('signed by a stranger: kept, raised, counted withheld, and the declaration stays', async () => {
    const { setId, fo, fs } = await sendAndJudge();
    const forged = await signFile(simulator.pathOf('OUTTEST', fo), stranger.material, {
      format: 'line',
    });
    writeFileSync(simulator.pathOf('OUTTEST', fs), forged.fs);
    const trust = makeAnswerTrust({ fingerprints: [simulator.certificateFingerprint] });
    const { deps, notifier, answers } = pullDependencies(trust);

    await runScheduledPull(deps);

    expect(answers).toEqual(['withheld']);
    expect((await ledger.get(setId))?.state).toBe('launched');
    expect(notifier.events).toEqual([
      expect.objectContaining({
        type: 'response.signature-invalid',
        message: expect.stringContaining(
          `(SHA-256 ${certificateFingerprint(stranger.material.certificate)}) is not a pinned certificate`,
        ),
      }),
    ]);
    expect(simulator.files('OUTTEST')).toEqual([]);
  });

  it('withheld under a wrong pin, applied by the next run once the pin is right', async () => {
    const { setId } = await sendAndJudge();
    const wrong = makeAnswerTrust({ fingerprints: ['AB'.repeat(32)] });
    const right = makeAnswerTrust({ fingerprints: [simulator.certificateFingerprint] });
    const first = pullDependencies(wrong, 'store-fixed');
    await runScheduledPull(first.deps);
    expect(first.answers).toEqual(['withheld']);
    expect((await ledger.get(setId))?.state).toBe('launched');

    const second = pullDependencies(right, 'store-fixed');
    const outcome = await runScheduledPull(second.deps);

    expect(outcome).toMatchObject({ status: 'pulled', report: { sets: [] } });
    expect(second.answers).toEqual(['acknowledged']);
    expect((await ledger.get(setId))?.state).toBe('acknowledged');
    expect(second.notifier.events.map((event) => event.type)).toEqual(['declaration.acknowledged']);
    expect(second.log.lines).toContainEqual(
      expect.objectContaining({
        message: 'pulled',
        extra: expect.objectContaining({ reapplied: 1 }),
      }),
    );
  });

  it('with no trust: one warning in the run, and the answers apply as before', async () => {
    const { setId } = await sendAndJudge();
    const { deps, log, answers } = pullDependencies(undefined);

    const outcome = await runScheduledPull(deps);

    expect(outcome).toMatchObject({ status: 'pulled', report: { signatureTrust: 'none' } });
    expect(answers).toEqual(['acknowledged']);
    expect((await ledger.get(setId))?.state).toBe('acknowledged');
    const warnings = log.lines.filter((line) => line.level === 'warn');
    expect(warnings.map((line) => line.message)).toEqual([ANSWER_TRUST_MISSING]);
    expect(ANSWER_TRUST_MISSING).toBe(
      `${NO_ANSWER_TRUST_WARNING}; set the stack's answerFingerprints or answerCaSecretArn context`,
    );
  });

  it('a trust configured but unreadable stops the run before anything is pulled', async () => {
    await sendAndJudge();
    const { deps, log } = pullDependencies(undefined);
    deps.answerTrust = async () => {
      throw new Error('the CA secret is gone');
    };

    await expect(runScheduledPull(deps)).rejects.toThrow('the CA secret is gone');

    expect(log.lines.map((line) => [line.level, line.message])).toContainEqual([
      'error',
      "the answers' trust could not be read: nothing pulled",
    ]);
    expect(simulator.files('OUTTEST').length).toBeGreaterThan(0);
    await runScheduledPull(pullDependencies(undefined).deps); // empties OUTTEST
  });
});

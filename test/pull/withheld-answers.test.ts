/**
 * An answer withheld because the trust was the wrong one (an old pin) is applied by the first
 * pull whose trust accepts it: the declaration moves, the event is raised, once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { createMemoryLedger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { memoryNotifier } from '../../shared/notify';
import { isWithheld, pullResponses } from '../../shared/pull';
import { openFileSource, sendDeclaration } from '../../shared/send';
import { makeAnswerTrust, type AnswerTrust } from '../../shared/signing';
import { localFolderStore } from '../../shared/store';
import { ftpConnector } from '../../shared/transport';
import { startSimulator, type Simulator } from '../../transfer-point';
import { makeIdentity, scratchDir, type Identity } from '../helpers/pki';

const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-withheld-');
let simulator: Simulator;
let sender: Identity;

beforeAll(async () => {
  [simulator, sender] = await Promise.all([startSimulator({}), makeIdentity('ec256')]);
});
afterAll(async () => {
  await simulator?.stop();
  cleanup();
});

const connector = () =>
  ftpConnector({
    host: simulator.host,
    port: simulator.port,
    user: simulator.user,
    password: simulator.password,
  });

const trustIn = (fingerprint: string): AnswerTrust =>
  makeAnswerTrust({ fingerprints: [fingerprint] }) as AnswerTrust;

it('applies a withheld answer once the trust accepts its signer, and only once', async () => {
  // Prepare: a declaration answered by the transfer point, pulled with an old pin
  const ledger = createMemoryLedger();
  const path = join(dir, 'dmfa.xml');
  writeFileSync(path, sampleDmfaXml({ quarter: '20263', date: today, workers: 3 }));
  const sent = await sendDeclaration(
    {
      source: await openFileSource(path),
      declaration: { app: 'DMFA', sender: '123456', env: 'T' },
    },
    { ledger, connector: connector(), material: sender.material },
  );
  await simulator.waitForJudgement((j) => j.goName === sent.plan.go);
  await simulator.idle();
  const store = localFolderStore(join(dir, 'store'));
  const pull = async (trust: AnswerTrust) => {
    const notifier = memoryNotifier();
    const report = await pullResponses(
      { environments: ['T'], answerTrust: trust },
      { ledger, connector: connector(), store, notifier },
    );
    return { report, events: notifier.events };
  };
  const oldPin = trustIn('AB'.repeat(32));
  const withheld = await pull(oldPin);
  expect(withheld.report.sets[0]?.interpretation).toMatchObject({ withheld: true });
  const [answer] = await ledger.listResponses();
  expect(answer && isWithheld(answer)).toBe(true);

  // Act: the old pin again (nothing changes), then the fixed one, then once more
  const still = await pull(oldPin);
  const fixed = await pull(trustIn(simulator.certificateFingerprint));
  const after = await pull(trustIn(simulator.certificateFingerprint));

  // Assess: withheld until the trust accepts it, not raised again meanwhile; then applied
  // once, its declaration acknowledged and its event raised; never again after
  expect(still.report.reapplied).toEqual([]);
  expect(still.events).toEqual([]);
  expect((await ledger.get(sent.plan.setId))?.state).toBe('acknowledged');
  expect(fixed.report.reapplied).toEqual([
    {
      id: answer?.id,
      interpretation: expect.objectContaining({
        signature: 'valid',
        changes: [{ declaration: sent.plan.setId, state: 'acknowledged' }],
      }),
    },
  ]);
  expect(fixed.events.map((event) => [event.type, event.declaration])).toEqual([
    ['declaration.acknowledged', sent.plan.setId],
  ]);
  expect(await ledger.getResponse(answer?.id ?? '')).toMatchObject({
    signature: 'valid',
    declarationId: sent.plan.setId,
  });
  expect(after.report.reapplied).toEqual([]);
  expect(after.events).toEqual([]);
});

/**
 * A slow reception: with an answer delay the local transfer point takes a set at once (its files
 * leave the upload folder, it gets its ticket) and writes the ACRF later; `setAnswerDelay`
 * changes the delay while running and `flushAnswers` writes the held answers now. Without it,
 * the ACRF comes at once as before.
 */
import type { Client } from 'basic-ftp';
import type { SigningMaterial } from '../../shared/signing';
import { SimulatorOptionsError, startSimulator } from '../../transfer-point';
import type { Simulator, SimulatorOptions } from '../../transfer-point';
import { makeIdentity } from '../helpers/pki';
import {
  connect,
  declarationXml,
  eventually,
  sequences,
  setNames,
  uploadAll,
  withSession,
} from './helpers';

const nextSeq = sequences();
let identity: SigningMaterial;

beforeAll(async () => {
  identity = (await makeIdentity('rsa2048')).material;
});

/** A session on a simulator signing with this file's identity (see withSession). */
const withSimulator = (
  options: Partial<SimulatorOptions>,
  body: (sim: Simulator, client: Client) => Promise<void>,
): Promise<void> => withSession({ identity, ...options }, body);

/** Uploads one accepted T set; returns its GO name. */
async function sendSet(client: Client): Promise<string> {
  const names = setNames({ seq: nextSeq(), env: 'T' });
  await uploadAll(client, 'INTEST', [
    [names.fi(1), declarationXml()],
    [names.go, ''],
  ]);
  return names.go;
}

describe('answer delay', () => {
  it('takes the set at once and writes its ACRF after answerDelayMs, then the NOTI', async () => {
    await withSimulator({ answerDelayMs: 400, notificationDelayMs: 20 }, async (sim, client) => {
      // Act
      const started = Date.now();
      const go = await sendSet(client);
      await sim.idle();

      // Assess: taken, not answered yet.
      expect(sim.files('INTEST')).toEqual([]);
      expect(sim.files('OUTTEST')).toEqual([]);
      expect(sim.judgements).toEqual([]);
      const judgement = await sim.waitForJudgement((j) => j.goName === go);
      expect(Date.now() - started).toBeGreaterThanOrEqual(390);
      expect(judgement).toMatchObject({ accepted: true, responseFolder: 'OUTTEST' });
      expect(sim.files('OUTTEST')).toEqual(expect.arrayContaining([...judgement.responseNames]));
      await eventually(() => sim.notifications.length === 1, 3_000, 'the notification');
      expect(sim.notifications[0]).toMatchObject({ goName: go, ticket: judgement.ticket });
    });
  });

  it('holds answers set by setAnswerDelay until flushAnswers, in the order judged', async () => {
    await withSimulator({}, async (sim, client) => {
      // Prepare: the first set answered at once, the next two held for a minute.
      const first = await sendSet(client);
      await sim.waitForJudgement((j) => j.goName === first);
      sim.setAnswerDelay(60_000);
      const second = await sendSet(client);
      const third = await sendSet(client);
      await sim.idle();
      expect(sim.judgements.map((j) => j.goName)).toEqual([first]);
      expect(sim.files('INTEST')).toEqual([]);

      // Act
      await sim.flushAnswers();

      // Assess
      expect(sim.judgements.map((j) => j.goName)).toEqual([first, second, third]);
      const [, secondTicket, thirdTicket] = sim.judgements.map((j) => Number(j.ticket.slice(-6)));
      expect(thirdTicket).toBeGreaterThan(secondTicket ?? Infinity);
      expect(sim.files('OUTTEST').filter((name) => name.startsWith('GO.ACRF'))).toHaveLength(3);

      // Back to answering at once.
      sim.setAnswerDelay(undefined);
      const fourth = await sendSet(client);
      await sim.waitForJudgement((j) => j.goName === fourth, 5_000);
    });
  });

  it('drops held answers on stop, leaving no timer behind', async () => {
    const sim = await startSimulator({ identity, answerDelayMs: 60_000 });
    const client = await connect(sim);
    await sendSet(client);
    await sim.idle();
    client.close();
    await sim.stop(); // a 60 s timer left running would hold the test process open
    expect(sim.judgements).toEqual([]);
  });

  it('refuses a delay that is not a whole number of milliseconds', async () => {
    await expect(startSimulator({ answerDelayMs: -1 })).rejects.toThrow(SimulatorOptionsError);
    await expect(startSimulator({ answerDelayMs: 1.5 })).rejects.toThrow(/options\.answerDelayMs/);
    await withSimulator({}, async (sim) => {
      expect(() => sim.setAnswerDelay(-5)).toThrow(/must be a whole number of milliseconds/);
    });
  });
});

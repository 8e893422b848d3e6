/**
 * Scripted misbehaviour and the life of the simulator: rejectNext, dropAfterBytes,
 * setThrottle, sets waiting for their GO, TD cancels, renames, logins, waiting, and what a
 * failure on the simulator's side looks like.
 */
import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { startSimulator } from '../../transfer-point';
import {
  SimulatorProcessingError,
  SimulatorStoppedError,
  SimulatorTimeoutError,
} from '../../transfer-point';
import type { Simulator, SimulatorError, UploadRecord } from '../../transfer-point';
import type { SigningMaterial } from '../../shared/signing';
import { makeIdentity } from '../helpers/pki';
import {
  connect,
  declarationXml,
  eventually,
  sequences,
  setNames,
  upload,
  uploadAll,
} from './helpers';

const nextSeq = sequences();
let identity: SigningMaterial;
let sim: Simulator;

beforeAll(async () => {
  identity = (await makeIdentity('rsa2048')).material;
  sim = await startSimulator({ identity });
});

afterAll(() => sim.stop());

/** Sends a valid single-part T set and returns its verdict. */
async function sendValidSet() {
  const names = setNames({ seq: nextSeq(), env: 'T' });
  const client = await connect(sim);
  try {
    await uploadAll(client, 'INTEST', [
      [names.fi(1), declarationXml()],
      [names.go, ''],
    ]);
  } finally {
    client.close();
  }
  return sim.waitForJudgement((j) => j.goName === names.go);
}

function sizeOf(path: string): number | undefined {
  return statSync(path, { throwIfNoEntry: false })?.size;
}

describe('rejectNext', () => {
  it('rejects the next set with the code, whatever it holds, then judges normally', async () => {
    sim.rejectNext(277);
    const scripted = await sendValidSet();
    const normal = await sendValidSet();
    expect(scripted).toMatchObject({ accepted: false, codes: [277], scripted: true });
    expect(scripted.errorIds).toEqual(['ACRF-277']);
    expect(normal).toMatchObject({ accepted: true, scripted: false });
  });
});

describe('dropAfterBytes', () => {
  it('cuts the next upload past the limit, keeps its bytes, lets the next through', async () => {
    // Prepare
    const names = setNames({ seq: nextSeq(), env: 'T' });
    const cutAt = 64 * 1024;
    sim.dropAfterBytes(cutAt);
    const client = await connect(sim);

    // Act
    const attempt = upload(client, `/INTEST/${names.fi(1)}`, Buffer.alloc(4 * 1024 * 1024, 65));

    // Assess
    await expect(attempt).rejects.toThrow();
    client.close();
    const partial = sim.pathOf('INTEST', names.fi(1));
    await eventually(() => sizeOf(partial) === cutAt, 3_000, 'a partial file of 64 KiB');

    const again = await connect(sim);
    await upload(again, `/INTEST/${names.fi(1)}`, declarationXml());
    again.close();
    expect(sizeOf(partial)).toBe(Buffer.byteLength(declarationXml()));
  });
});

describe('setThrottle', () => {
  it('slows uploads down to about the rate, then lets them run free again', async () => {
    const client = await connect(sim);
    try {
      sim.setThrottle(100_000);
      let started = Date.now();
      await upload(client, '/INTEST/slow.bin', Buffer.alloc(50_000));
      const slow = Date.now() - started;

      sim.setThrottle(undefined);
      started = Date.now();
      await upload(client, '/INTEST/fast.bin', Buffer.alloc(50_000));
      const fast = Date.now() - started;

      expect(slow).toBeGreaterThanOrEqual(400); // 50 kB at 100 kB/s, first slice free
      expect(fast).toBeLessThan(slow);
    } finally {
      client.close();
    }
  });
});

describe('sets without a GO and TD files', () => {
  it('leaves the files of a set alone until its GO comes', async () => {
    const names = setNames({ seq: nextSeq(), env: 'R' });
    const client = await connect(sim);
    await uploadAll(client, 'IN', [
      [names.fi(1), declarationXml()],
      [names.fs(1), 'c2lnbmF0dXJl'],
    ]);
    client.close();
    await sim.idle();
    expect(sim.files('IN')).toEqual(expect.arrayContaining([names.fi(1), names.fs(1)]));
    expect(sim.judgements.map((j) => j.goName)).not.toContain(names.go);
  });

  it('removes a set on its TD, without an answer', async () => {
    // Prepare
    const names = setNames({ seq: nextSeq(), env: 'T', nparts: 2 });
    const other = setNames({ seq: nextSeq(), env: 'T' });
    const answersBefore = sim.files('OUTTEST');
    const judgedBefore = sim.judgements.length;
    const cancelled = new Promise((resolve) => sim.on('cancelled', resolve));
    const client = await connect(sim);

    // Act
    await uploadAll(client, 'INTEST', [
      [other.fi(1), declarationXml()],
      [names.fi(1), 'part one'],
      [names.fi(2), 'part two'],
      [names.td, ''],
    ]);
    client.close();
    await sim.idle();

    // Assess
    expect(await cancelled).toMatchObject({
      tdName: names.td,
      setKey: names.td.slice(3),
      folder: 'INTEST',
      removed: [names.fi(1), names.fi(2), names.td],
    });
    expect(sim.files('INTEST')).toContain(other.fi(1));
    expect(sim.files('INTEST')).not.toEqual(expect.arrayContaining([names.fi(1)]));
    expect(sim.files('INTEST')).not.toContain(names.td);
    expect(sim.files('OUTTEST')).toEqual(answersBefore);
    expect(sim.judgements).toHaveLength(judgedBefore);
  });
});

describe('sessions', () => {
  it('judges a GO uploaded under another name and renamed last', async () => {
    const names = setNames({ seq: nextSeq(), env: 'T' });
    const client = await connect(sim);
    await upload(client, `/INTEST/${names.fi(1)}`, declarationXml());
    await upload(client, '/INTEST/go.part', '');
    await client.rename('/INTEST/go.part', `/INTEST/${names.go}`);
    client.close();
    expect(await sim.waitForJudgement((j) => j.goName === names.go)).toMatchObject({
      accepted: true,
    });
  });

  it('reports each file that arrives in an upload folder, with the user that put it', async () => {
    // Prepare
    const names = setNames({ seq: nextSeq(), env: 'T' });
    const uploaded: UploadRecord[] = [];
    const onUploaded = (record: UploadRecord): void => void uploaded.push(record);
    sim.on('uploaded', onUploaded);
    const client = await connect(sim);

    // Act
    try {
      await upload(client, '/OUTTEST/not-watched', 'x');
      await uploadAll(client, 'INTEST', [
        [names.fi(1), declarationXml()],
        [names.go, ''],
      ]);
    } finally {
      client.close();
      await sim.waitForJudgement((j) => j.goName === names.go).catch(() => undefined);
      sim.off('uploaded', onUploaded);
    }

    // Assess
    expect(uploaded.map(({ folder, name, user }) => ({ folder, name, user }))).toEqual([
      { folder: 'INTEST', name: names.fi(1), user: sim.user },
      { folder: 'INTEST', name: names.go, user: sim.user },
    ]);
  });

  it('refuses a wrong password (530) and a wrong user', async () => {
    await expect(connect(sim, { password: 'not-the-password' })).rejects.toMatchObject({
      code: 530,
    });
    await expect(connect(sim, { user: 'someone' })).rejects.toMatchObject({ code: 530 });
  });

  it('shows the home layout to the client', async () => {
    const client = await connect(sim);
    const names = (await client.list('/')).map((entry) => entry.name).sort();
    client.close();
    expect(names).toEqual(['IN', 'INTEST', 'INTEST-S', 'OUT', 'OUTTEST', 'OUTTEST-S']);
  });
});

describe('waiting', () => {
  it('times out with what was judged so far', async () => {
    await expect(sim.waitForJudgement(() => false, 30)).rejects.toBeInstanceOf(
      SimulatorTimeoutError,
    );
  });

  it('without a predicate, returns each judgement once, oldest first', async () => {
    const local = await startSimulator({ identity });
    try {
      const gos: string[] = [];
      const client = await connect(local);
      for (let i = 0; i < 3; i += 1) {
        const names = setNames({ seq: nextSeq(), env: 'T' });
        await uploadAll(client, 'INTEST', [
          [names.fi(1), declarationXml()],
          [names.go, ''],
        ]);
        gos.push(names.go);
      }
      client.close();
      const seen = [];
      for (let i = 0; i < 3; i += 1) seen.push((await local.waitForJudgement()).goName);
      expect(seen).toEqual(gos);
      await expect(local.waitForJudgement(undefined, 20)).rejects.toBeInstanceOf(
        SimulatorTimeoutError,
      );
      expect(local.judgements.map((j) => j.goName)).toEqual(gos);
    } finally {
      await local.stop();
    }
  });

  it('rejects waiting callers on stop', async () => {
    const local = await startSimulator({ identity });
    const pending = expect(local.waitForJudgement(undefined, 5_000)).rejects.toBeInstanceOf(
      SimulatorStoppedError,
    );
    await local.stop();
    await pending;
    await expect(local.waitForJudgement()).rejects.toBeInstanceOf(SimulatorStoppedError);
  });
});

describe('failures on the simulator side', () => {
  it('reports a listener that throws as a failed event, and records the verdict', async () => {
    const failures: SimulatorError[] = [];
    const broken = (): void => {
      throw new Error('listener bug');
    };
    const onFailed = (error: SimulatorError): void => {
      failures.push(error);
    };
    sim.on('judged', broken).on('failed', onFailed);
    try {
      const judgement = await sendValidSet();
      await sim.idle();
      expect(judgement.accepted).toBe(true);
      expect(failures).toHaveLength(1);
      expect(failures[0]?.message).toMatch(/'judged' listener.*listener bug/);
    } finally {
      sim.off('judged', broken).off('failed', onFailed);
    }
  });

  it('reports a response it cannot write as a failed event, and keeps serving', async () => {
    const local = await startSimulator({ identity });
    try {
      const failures: SimulatorError[] = [];
      local.on('failed', (error) => failures.push(error));
      await rm(local.pathOf('OUTTEST'), { recursive: true });
      const names = setNames({ seq: nextSeq(), env: 'T' });
      const client = await connect(local);
      await uploadAll(client, 'INTEST', [
        [names.fi(1), declarationXml()],
        [names.go, ''],
      ]);
      await local.idle();
      expect(failures).toHaveLength(1);
      expect(failures[0]).toBeInstanceOf(SimulatorProcessingError);
      expect(failures[0]).toMatchObject({
        code: 'SIMULATOR_PROCESSING_FAILED',
        fileName: names.go,
      });
      expect(local.judgements).toEqual([]);
      expect((await client.list('/INTEST')).length).toBe(0);
      client.close();
    } finally {
      await local.stop();
    }
  });
});

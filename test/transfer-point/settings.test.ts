/**
 * Settings of the simulator and its life cycle: signer trust, size limit, channel sender,
 * signatures for T, notifications, option validation, and a stop that leaves nothing behind.
 */
import { createHook } from 'node:async_hooks';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'basic-ftp';
import { MAX_FILE_BYTES } from '../../shared/names';
import { signFile, verifyFile } from '../../shared/signing';
import type { SigningMaterial } from '../../shared/signing';
import {
  certificateFingerprint,
  SIMULATOR_CODES,
  SimulatorOptionsError,
  startSimulator,
} from '../../transfer-point';
import type { NotificationRecord, Simulator, SimulatorOptions } from '../../transfer-point';
import { makeIdentity, scratchDir } from '../helpers/pki';
import type { Identity } from '../helpers/pki';
import {
  connect,
  declarationXml,
  readXml,
  sequences,
  setNames,
  uploadAll,
  withSession,
} from './helpers';

const { dir, cleanup } = scratchDir('onss-sim-settings-');
const nextSeq = sequences();
let identity: SigningMaterial;
let trusted: Identity;
let stranger: Identity;

beforeAll(async () => {
  [identity, trusted, stranger] = await Promise.all([
    makeIdentity('rsa2048').then((made) => made.material),
    makeIdentity('ec256', { commonName: 'Trusted Sender' }),
    makeIdentity('rsa2048', { commonName: 'Unknown Sender' }),
  ]);
});
afterAll(cleanup);

/** A session on a simulator signing with this file's identity (see withSession). */
const withSimulator = (
  options: Partial<SimulatorOptions>,
  body: (sim: Simulator, client: Client) => Promise<void>,
): Promise<void> => withSession({ identity, ...options }, body);

async function signed(content: string, signer: Identity): Promise<string> {
  const path = join(dir, `fi-${nextSeq()}`);
  writeFileSync(path, content);
  return (await signFile(path, signer.material)).fs;
}

/** Uploads a single-part R set signed by `signer` and returns its verdict. */
async function sendSigned(sim: Simulator, client: Client, signer: Identity) {
  const names = setNames({ seq: nextSeq(), env: 'R' });
  const xml = declarationXml();
  await uploadAll(client, 'IN', [
    [names.fi(1), xml],
    [names.fs(1), await signed(xml, signer)],
    [names.go, ''],
  ]);
  return sim.waitForJudgement((j) => j.goName === names.go);
}

describe('trusted signers', () => {
  it('refuses a signer outside the trust list (153) and accepts one in it', async () => {
    // A fingerprint as people paste it: lower case, no colons.
    const pasted = certificateFingerprint(trusted.material.certificate)
      .replace(/:/g, '')
      .toLowerCase();
    await withSimulator({ trustedCertificates: [pasted] }, async (sim, client) => {
      const refused = await sendSigned(sim, client, stranger);
      const accepted = await sendSigned(sim, client, trusted);
      expect(refused).toMatchObject({ accepted: false, codes: [153] });
      expect(refused.reasons[0]).toMatch(/not trusted/);
      expect(accepted).toMatchObject({ accepted: true, codes: [] });
    });
  });

  it('accepts any signer whose signature verifies when no list is given', async () => {
    await withSimulator({}, async (sim, client) => {
      expect((await sendSigned(sim, client, stranger)).accepted).toBe(true);
    });
  });
});

describe('size limit', () => {
  it('refuses a part over maxFileBytes (184) and takes one at the limit', async () => {
    const xml = declarationXml();
    const limit = Buffer.byteLength(xml);
    await withSimulator({ maxFileBytes: limit }, async (sim, client) => {
      const over = setNames({ seq: nextSeq(), env: 'T' });
      const at = setNames({ seq: nextSeq(), env: 'T' });
      await uploadAll(client, 'INTEST', [
        [over.fi(1), `${xml} `],
        [over.go, ''],
        [at.fi(1), xml],
        [at.go, ''],
      ]);
      expect((await sim.waitForJudgement((j) => j.goName === over.go)).codes).toEqual([184]);
      expect((await sim.waitForJudgement((j) => j.goName === at.go)).codes).toEqual([]);
    });
  });
});

describe('channel settings', () => {
  it('refuses names of another sender (108) when a sender is set', async () => {
    await withSimulator({ sender: '123456' }, async (sim, client) => {
      const mine = setNames({ seq: nextSeq(), env: 'T' });
      const theirs = setNames({ seq: nextSeq(), env: 'T', sender: '654321' });
      await uploadAll(client, 'INTEST', [
        [theirs.fi(1), declarationXml()],
        [theirs.go, ''],
        [mine.fi(1), declarationXml()],
        [mine.go, ''],
      ]);
      expect((await sim.waitForJudgement((j) => j.goName === theirs.go)).codes).toEqual([108]);
      expect((await sim.waitForJudgement((j) => j.goName === mine.go)).codes).toEqual([]);
    });
  });

  it('wants an FS per part for T when signatureRequiredFor.T is set', async () => {
    await withSimulator({ signatureRequiredFor: { T: true } }, async (sim, client) => {
      const bare = setNames({ seq: nextSeq(), env: 'T' });
      const signedSet = setNames({ seq: nextSeq(), env: 'T' });
      const xml = declarationXml();
      await uploadAll(client, 'INTEST', [
        [bare.fi(1), xml],
        [bare.go, ''],
        [signedSet.fi(1), xml],
        [signedSet.fs(1), await signed(xml, stranger)],
        [signedSet.go, ''],
      ]);
      expect((await sim.waitForJudgement((j) => j.goName === bare.go)).codes).toEqual([122]);
      expect((await sim.waitForJudgement((j) => j.goName === signedSet.go)).codes).toEqual([]);
    });
  });

  it('judges dates against nameRules.today when given', async () => {
    await withSimulator({ nameRules: { today: '20260105' } }, async (sim, client) => {
      const names = setNames({ seq: nextSeq(), env: 'S', date: '20260105' });
      await uploadAll(client, 'INTEST-S', [
        [names.fi(1), declarationXml()],
        [names.go, ''],
      ]);
      const judgement = await sim.waitForJudgement((j) => j.goName === names.go);
      expect(judgement).toMatchObject({ accepted: true, responseFolder: 'OUTTEST-S' });
    });
  });
});

describe('notifications', () => {
  it('sends a signed NOTI set after the delay for an accepted set only', async () => {
    await withSimulator({ notificationDelayMs: 50 }, async (sim, client) => {
      // Prepare
      const refused = setNames({ seq: nextSeq(), env: 'T' });
      const accepted = setNames({ seq: nextSeq(), env: 'T' });
      const notified = new Promise<NotificationRecord>((resolve) => sim.on('notified', resolve));

      // Act
      await uploadAll(client, 'INTEST', [
        [refused.fi(1), declarationXml('DIMONA')],
        [refused.go, ''],
        [accepted.fi(1), declarationXml()],
        [accepted.go, ''],
      ]);
      const judgement = await sim.waitForJudgement((j) => j.goName === accepted.go);
      const record = await notified;
      await new Promise((resolve) => setTimeout(resolve, 120)); // room for a wrong second one

      // Assess
      expect(sim.notifications).toEqual([record]);
      expect(record).toMatchObject({
        goName: accepted.go,
        ticket: judgement.ticket,
        responseFolder: 'OUTTEST',
      });
      const [fo, fs, go] = record.responseNames as [string, string, string];
      expect(fo).toMatch(/^FO\.NOTI\.999999\.\d{8}\.\d{5}\.T$/);
      expect(sim.files('OUTTEST')).toEqual(expect.arrayContaining([fo, fs, go]));
      const foPath = sim.pathOf('OUTTEST', fo);
      await verifyFile(foPath, readFileSync(sim.pathOf('OUTTEST', fs)));
      const { root, values } = readXml(readFileSync(foPath, 'utf8'));
      expect(root).toBe('NOTIFICATION');
      expect(values.get('NOTIFICATION/Form/Identification')).toEqual(['NOTI001']);
      expect(values.get('NOTIFICATION/Form/HandledOriginalForm/Identification')).toEqual(['DMFA']);
      expect(values.get('NOTIFICATION/Form/FileReference/FileName')).toEqual([accepted.go]);
      expect(values.get('NOTIFICATION/Form/FileReference/ReferenceNbr')).toEqual([
        judgement.ticket,
      ]);
      expect(values.get('NOTIFICATION/Form/HandledReference/ReferenceNbr')).toEqual([
        record.declarationTicket,
      ]);
      expect(values.get('NOTIFICATION/Form/HandlingResult/ResultCode')).toEqual(['1']);
    });
  });

  it('cancels pending notifications on stop', async () => {
    const sim = await startSimulator({ identity, notificationDelayMs: 60_000 });
    const client = await connect(sim);
    const names = setNames({ seq: nextSeq(), env: 'T' });
    await uploadAll(client, 'INTEST', [
      [names.fi(1), declarationXml()],
      [names.go, ''],
    ]);
    await sim.waitForJudgement((j) => j.goName === names.go);
    client.close();
    await sim.stop(); // a 60 s timer left running would hold the test process open
    expect(sim.notifications).toEqual([]);
  });
});

describe('options', () => {
  it.each([
    { title: 'an unknown option', options: { prt: 21 }, option: 'options.prt' },
    { title: 'a host name', options: { host: 'localhost' }, option: 'options.host' },
    { title: 'a port out of range', options: { port: 70_000 }, option: 'options.port' },
    {
      title: 'a passive range upside down',
      options: { passivePorts: { min: 40_010, max: 40_000 } },
      option: 'options.passivePorts',
    },
    { title: 'a password with a quote', options: { password: 'a"b' }, option: 'options.password' },
    { title: 'a 5-digit sender', options: { sender: '12345' }, option: 'options.sender' },
    {
      title: 'an unknown environment setting',
      options: { signatureRequiredFor: { R: false } },
      option: 'options.signatureRequiredFor.R',
    },
    {
      title: 'a short fingerprint',
      options: { trustedCertificates: ['AB:CD'] },
      option: 'options.trustedCertificates[0]',
    },
    { title: 'a zero size limit', options: { maxFileBytes: 0 }, option: 'options.maxFileBytes' },
    {
      title: 'a size limit above the transfer point',
      options: { maxFileBytes: MAX_FILE_BYTES + 1 },
      option: 'options.maxFileBytes',
    },
    {
      title: 'a negative delay',
      options: { notificationDelayMs: -1 },
      option: 'options.notificationDelayMs',
    },
    {
      title: 'a folder rule',
      options: { nameRules: { folder: 'IN' } },
      option: 'options.nameRules.folder',
    },
    {
      title: 'a bad reference day',
      options: { nameRules: { today: '20260230' } },
      option: 'options.nameRules',
    },
    {
      title: 'a bad transfer point sender',
      options: { transferPointSender: 'X' },
      option: 'options.transferPointSender',
    },
  ])('refuses $title', async ({ options, option }) => {
    const start = startSimulator({ identity, ...(options as Partial<SimulatorOptions>) });
    await expect(start).rejects.toBeInstanceOf(SimulatorOptionsError);
    await expect(start).rejects.toMatchObject({ option, code: SIMULATOR_CODES.OPTIONS_INVALID });
  });

  it('refuses bad scripting arguments', async () => {
    const sim = await startSimulator({ identity });
    try {
      const code = { code: SIMULATOR_CODES.SCRIPT_INVALID };
      expect(() => sim.rejectNext(0)).toThrow(expect.objectContaining(code));
      expect(() => sim.rejectNext(1000)).toThrow(expect.objectContaining(code));
      expect(() => sim.dropAfterBytes(-1)).toThrow(expect.objectContaining(code));
      expect(() => sim.setThrottle(0)).toThrow(expect.objectContaining(code));
      expect(() => sim.pathOf('OUT', '../IN')).toThrow(expect.objectContaining(code));
    } finally {
      await sim.stop();
    }
  });
});

describe('life cycle', () => {
  /**
   * Records the sockets, servers and timers created while it is enabled and drops each one
   * when it is destroyed, as `jest --detectOpenHandles` does; an unref'd timer does not count.
   */
  function trackHandles(): { open(): string[]; disable(): void } {
    const watched = new Set(['Timeout', 'TCPWRAP', 'TCPSERVERWRAP']);
    const alive = new Map<number, { type: string; resource: object }>();
    const hook = createHook({
      init(id, type, _trigger, resource: object) {
        if (watched.has(type)) alive.set(id, { type, resource });
      },
      destroy(id) {
        alive.delete(id);
      },
    }).enable();
    const refed = (resource: object): boolean => {
      const { hasRef } = resource as { hasRef?: () => boolean };
      return typeof hasRef !== 'function' || hasRef.call(resource);
    };
    return {
      open: () => [...alive.values()].filter((e) => refed(e.resource)).map((e) => e.type),
      disable: () => hook.disable(),
    };
  }

  it('stops leaving no server, socket, timer, signal handler or temporary root', async () => {
    // Prepare
    const handles = trackHandles();
    const signalHandlers = process.listeners('SIGINT').length;

    try {
      // Act: a full session with a notification timer and a timed-out wait, then stop.
      const sim = await startSimulator({ identity, notificationDelayMs: 60_000 });
      expect(process.listeners('SIGINT')).toHaveLength(signalHandlers);
      const client = await connect(sim);
      const names = setNames({ seq: nextSeq(), env: 'T' });
      await uploadAll(client, 'INTEST', [
        [names.fi(1), declarationXml()],
        [names.go, ''],
      ]);
      await sim.waitForJudgement((j) => j.goName === names.go);
      await expect(sim.waitForJudgement(() => false, 10)).rejects.toThrow();
      await client.list('/OUTTEST');
      client.close();
      await sim.stop();
      await sim.stop(); // twice is fine

      // Assess: closed sockets are destroyed on a later turn of the event loop; a timer
      // left behind (ftp-srv's own disconnect timer lasts 1 s) outlives this short grace.
      const deadline = Date.now() + 300;
      while (handles.open().length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(handles.open()).toEqual([]);
      expect(existsSync(sim.root)).toBe(false);
    } finally {
      handles.disable();
    }
  });

  it('cleans up after a failed start (port taken)', async () => {
    const first = await startSimulator({ identity });
    // os.tmpdir() reads TMPDIR at each call: a private one shows what the failed start left.
    const privateTmp = mkdtempSync(join(dir, 'tmp-'));
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp;
    try {
      await expect(startSimulator({ identity, port: first.port })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
      expect(readdirSync(privateTmp)).toEqual([]);
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
      await first.stop();
    }
  });

  it('keeps a root it was given, and answers without overwriting answers left there', async () => {
    const root = mkdtempSync(join(tmpdir(), 'onss-sim-root-'));
    try {
      const first = await startSimulator({ identity, root });
      const [kept] = await sendOne(first);
      await first.stop();
      expect(existsSync(join(root, 'OUTTEST', kept ?? ''))).toBe(true);

      const second = await startSimulator({ identity, root });
      const [fresh] = await sendOne(second);
      await second.stop();
      expect(fresh).not.toBe(kept); // the same sequence would have replaced the first answer
      expect(readFileSync(join(root, 'OUTTEST', kept ?? ''), 'utf8')).toMatch(/ResultCode>1</);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  /** One accepted T set; returns the names of its answer. */
  async function sendOne(sim: Simulator): Promise<readonly string[]> {
    const client = await connect(sim);
    const names = setNames({ seq: nextSeq(), env: 'T' });
    await uploadAll(client, 'INTEST', [
      [names.fi(1), declarationXml()],
      [names.go, ''],
    ]);
    client.close();
    return (await sim.waitForJudgement((j) => j.goName === names.go)).responseNames;
  }
});

/**
 * How the local transfer point meets a network that breaks, found by the fault runs: a command
 * line cut in two, a GO whose upload is cut, and what it records of each launched set.
 */
import { createHash } from 'node:crypto';
import { connect as connectTcp, type Socket } from 'node:net';
import { startSimulator, type Simulator } from '../../transfer-point';
import { makeIdentity } from '../helpers/pki';
import { connect, declarationXml, sequences, setNames, uploadAll } from './helpers';

const nextSeq = sequences();
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ identity: (await makeIdentity('rsa2048')).material });
});
afterAll(() => sim.stop());

/** A raw control connection: write bytes as they are, read replies line by line. */
interface RawSession {
  socket: Socket;
  /** Resolves with the next reply line starting with `code`. */
  reply(code: string): Promise<string>;
  send(bytes: string): void;
}

async function rawSession(port: number): Promise<RawSession> {
  const socket = connectTcp({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  let buffered = '';
  const waiting: Array<{ code: string; resolve: (line: string) => void }> = [];
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    let end = buffered.indexOf('\r\n');
    while (end >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const index = waiting.findIndex((w) => line.startsWith(`${w.code} `));
      if (index >= 0) waiting.splice(index, 1)[0]?.resolve(line);
      end = buffered.indexOf('\r\n');
    }
  });
  socket.on('error', () => undefined);
  const session: RawSession = {
    socket,
    reply: (code) => new Promise((resolve) => waiting.push({ code, resolve })),
    send: (bytes) => void socket.write(bytes),
  };
  const greeting = session.reply('220');
  await greeting;
  const user = session.reply('331');
  session.send(`USER ${sim.user}\r\n`);
  await user;
  const pass = session.reply('230');
  session.send(`PASS ${sim.password}\r\n`);
  await pass;
  return session;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the control connection', () => {
  it('runs a command cut in two TCP chunks once, whole', async () => {
    const session = await rawSession(sim.port);
    try {
      const done = session.reply('200');
      session.send('NO');
      await pause(50);
      session.send('OP\r\n');
      await expect(done).resolves.toMatch(/^200 /);
    } finally {
      session.socket.destroy();
    }
  });

  it('never runs the unterminated end of a command cut by the network', async () => {
    const session = await rawSession(sim.port);
    const cut = 'GO.DMFA.1234';
    session.send(`STOR INTEST/${cut}`);
    await pause(50);
    session.socket.destroy();
    await pause(100);
    expect(sim.files('INTEST')).not.toContain(cut);
  });
});

describe('a launched set', () => {
  it('is launched by a GO whose upload was cut, since the GO is on disk all the same', async () => {
    const names = setNames({ seq: nextSeq(), env: 'T' });
    const client = await connect(sim);
    await uploadAll(client, 'INTEST', [[names.fi(1), declarationXml()]]);
    client.close();

    const session = await rawSession(sim.port);
    try {
      const passive = session.reply('229');
      session.send('EPSV\r\n');
      const port = Number(/\(\|\|\|(\d+)\|\)/.exec(await passive)?.[1]);
      const data = connectTcp({ host: '127.0.0.1', port });
      await new Promise((resolve) => data.once('connect', resolve));
      const opened = session.reply('150');
      session.send(`STOR INTEST/${names.go}\r\n`);
      await opened;
      data.resetAndDestroy(); // a reset, not an end: the upload did not complete
      const judgement = await sim.waitForJudgement((j) => j.goName === names.go, 5_000);
      expect(judgement.accepted).toBe(true);
    } finally {
      session.socket.destroy();
    }
  });

  it('records the SHA-256 of its FI parts in part order, as received', async () => {
    const names = setNames({ seq: nextSeq(), env: 'T', nparts: 2 });
    const xml = Buffer.from(declarationXml());
    const [head, tail] = [xml.subarray(0, 100), xml.subarray(100)];
    const client = await connect(sim);
    await uploadAll(client, 'INTEST', [
      [names.fi(2), tail],
      [names.fi(1), head],
      [names.go, ''],
    ]);
    client.close();
    const judgement = await sim.waitForJudgement((j) => j.goName === names.go);
    expect(judgement.received).toEqual({
      sha256: createHash('sha256').update(xml).digest('hex'),
      size: xml.length,
      parts: [names.fi(1), names.fi(2)],
    });
  });
});

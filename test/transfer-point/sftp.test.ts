/**
 * The SFTP mode of the local transfer point: its throwaway keys, key login only with the
 * transfer point's `ssh-rsa` host key, sets judged as over FTP (a plain upload, a GO renamed
 * into place), the answers pulled back, a scripted cut, and the option checks.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Client, utils } from 'ssh2';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { openSqliteLedger, type Ledger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { memoryNotifier } from '../../shared/notify';
import { pullResponses } from '../../shared/pull';
import { openFileSource, sendDeclaration } from '../../shared/send';
import { createSelfSigned } from '../../shared/signing';
import {
  SimulatorOptionsError,
  startSimulator,
  type Simulator,
  type UploadRecord,
} from '../../transfer-point';
import { localFolderStore } from '../../shared/store';
import {
  authorizedKeyLine,
  loadPrivateKey,
  sftpConnector,
  TransportAuthError,
  TransportConnectError,
  type SftpConnectorOptions,
  type Transport,
} from '../../shared/transport';
import { scratchDir } from '../helpers/pki';
import { rejection } from '../helpers/streams';
import { declarationXml, setNames } from './helpers';

const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-sim-sftp-');
let sim: Simulator;
let ledger: Ledger;

beforeAll(async () => {
  sim = await startSimulator({ sftp: true });
  ledger = openSqliteLedger(join(dir, 'ledger.sqlite'));
});
afterAll(async () => {
  await ledger?.close();
  await sim?.stop();
  cleanup();
});

function options(overrides: Partial<SftpConnectorOptions> = {}): SftpConnectorOptions {
  return {
    host: sim.host,
    port: sim.port,
    user: sim.user,
    privateKey: sim.privateKeyPem,
    hostKeySha256: sim.hostKeySha256,
    timeoutMs: 5000,
    connectRetry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    operationRetry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    ...overrides,
  };
}

async function withTransport<T>(body: (transport: Transport) => Promise<T>): Promise<T> {
  const transport = await sftpConnector(options()).connect();
  try {
    return await body(transport);
  } finally {
    await transport.close();
  }
}

/** The host key algorithm a plain ssh2 client ends up with, offering `offer`. */
function negotiatedHostKey(offer: ('rsa-sha2-256' | 'ssh-rsa')[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on('handshake', (negotiated) => {
      resolve(negotiated.serverHostKey);
      client.end();
    });
    client.on('error', (error) => {
      reject(error);
      client.end();
    });
    client.connect({
      host: sim.host,
      port: sim.port,
      username: sim.user,
      algorithms: { serverHostKey: offer },
      hostVerifier: () => true,
    });
  });
}

describe('simulator over SFTP', () => {
  it('says sftp and hands out its host key fingerprint and a throwaway user key', () => {
    expect(sim.protocol).toBe('sftp');
    expect(sim.url).toBe(`sftp://onss@127.0.0.1:${sim.port}`);
    expect(sim.hostKeySha256).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(loadPrivateKey(sim.privateKeyPem ?? '').type).toBe('ssh-rsa');
    expect(sim.caPem).toBeUndefined();
  });

  it('offers its RSA host key with ssh-rsa signatures only, as the transfer point', async () => {
    expect(await negotiatedHostKey(['ssh-rsa'])).toBe('ssh-rsa');
    await expect(negotiatedHostKey(['rsa-sha2-256'])).rejects.toThrow(/no matching/i);
  });

  it('takes its key only: another key, or the password, is refused', async () => {
    const stranger = utils.generateKeyPairSync('rsa', { bits: 2048 });
    expect(
      await rejection(sftpConnector(options({ privateKey: stranger.private })).connect()),
    ).toBeInstanceOf(TransportAuthError);
    expect(
      await rejection(
        sftpConnector(options({ privateKey: undefined, password: sim.password })).connect(),
      ),
    ).toBeInstanceOf(TransportAuthError);
  });

  it('judges a set sent by the send pipeline, and its answer comes back by pull', async () => {
    const path = join(dir, 'decl.xml');
    writeFileSync(path, sampleDmfaXml({ quarter: '20263', date: today, workers: 200 }));
    const { record, plan } = await sendDeclaration(
      {
        source: await openFileSource(path),
        declaration: { app: 'DMFA', sender: '123456', env: 'T' },
        plan: { partSize: 40_000 },
      },
      { ledger, connector: sftpConnector(options()), material: await createSelfSigned({}) },
    );
    expect(record.state).toBe('launched');
    expect(plan.parts.length).toBeGreaterThan(1);
    const judgement = await sim.waitForJudgement((j) => j.goName === plan.go);
    expect(judgement).toMatchObject({ accepted: true, codes: [] });

    const notifier = memoryNotifier();
    const report = await pullResponses(
      { environments: ['T'] },
      {
        ledger,
        connector: sftpConnector(options()),
        store: localFolderStore(join(dir, 'store')),
        notifier,
      },
    );
    expect(report.failed).toEqual([]);
    expect(sim.files('OUTTEST')).toEqual([]);
    expect(await ledger.get(plan.setId)).toMatchObject({
      state: 'acknowledged',
      acknowledgement: { accepted: true },
    });
    expect(notifier.events.map((event) => event.type)).toEqual(['declaration.acknowledged']);
  });

  it('judges a GO uploaded under another name and renamed into place', () =>
    withTransport(async (transport) => {
      const names = setNames({ seq: '00101', env: 'T' });
      const uploaded: string[] = [];
      const onUploaded = (record: UploadRecord): void =>
        void uploaded.push(`${record.user} ${record.folder}/${record.name}`);
      sim.on('uploaded', onUploaded);
      try {
        await transport.put(Readable.from([declarationXml()]), `INTEST/${names.fi(1)}`);
        await transport.put(Readable.from([]), 'INTEST/go.part');
        expect(sim.judgements.find((j) => j.goName === names.go)).toBeUndefined();
        await transport.rename('INTEST/go.part', `INTEST/${names.go}`);
        const judgement = await sim.waitForJudgement((j) => j.goName === names.go);
        expect(judgement.accepted).toBe(true);
      } finally {
        sim.off('uploaded', onUploaded);
      }
      // Each file once it is complete under its name, and the GO once renamed into place.
      expect(uploaded).toEqual([
        `${sim.user} INTEST/${names.fi(1)}`,
        `${sim.user} INTEST/go.part`,
        `${sim.user} INTEST/${names.go}`,
      ]);
    }));

  it('cuts an upload with dropAfterBytes: the partial file stays, the client may send again', () =>
    withTransport(async (transport) => {
      const data = Buffer.alloc(300_000, 0x41);
      sim.dropAfterBytes(100_000);
      const error = await rejection(transport.put(Readable.from([data]), 'OUT/cut'));
      expect(error).toBeInstanceOf(TransportConnectError);
      expect(await transport.size('OUT/cut')).toBe(100_000);
      expect(await transport.put(Readable.from([data]), 'OUT/cut')).toBe(data.length);
      expect(await transport.size('OUT/cut')).toBe(data.length);
    }));
});

describe('simulator SFTP options', () => {
  it('logs in with a key of the caller, and makes no user key then', async () => {
    const own = utils.generateKeyPairSync('rsa', { bits: 2048 });
    const parsed = loadPrivateKey(own.private);
    const other = await startSimulator({
      sftp: { authorizedKeys: [authorizedKeyLine(parsed.publicBlob)] },
    });
    try {
      expect(other.privateKeyPem).toBeUndefined();
      const transport = await sftpConnector({
        host: other.host,
        port: other.port,
        user: other.user,
        privateKey: own.private,
        hostKeySha256: other.hostKeySha256,
      }).connect();
      expect((await transport.list('')).map((entry) => entry.name).sort()).toEqual(
        ['IN', 'INTEST', 'INTEST-S', 'OUT', 'OUTTEST', 'OUTTEST-S'].sort(),
      );
      await transport.close();
    } finally {
      await other.stop();
    }
  });

  it.each([
    ['with tls', { sftp: true, tls: true }, /options\.sftp: cannot be combined with tls/],
    ['not an object', { sftp: 'yes' }, /options\.sftp: must be true/],
    ['an unknown setting', { sftp: { port: 22 } }, /options\.sftp\.port/],
    ['a bad host key', { sftp: { hostKeyPem: 'nope' } }, /options\.sftp\.hostKeyPem/],
    ['a bad public key', { sftp: { authorizedKeys: ['nope'] } }, /authorizedKeys\[0\]/],
    ['no public key', { sftp: { authorizedKeys: [] } }, /authorizedKeys/],
  ])('refuses sftp %s', async (_title, given, message) => {
    const attempt = startSimulator(given as Parameters<typeof startSimulator>[0]);
    await expect(attempt).rejects.toBeInstanceOf(SimulatorOptionsError);
    await expect(attempt).rejects.toThrow(message);
  });
});

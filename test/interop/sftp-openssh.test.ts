import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { createMemoryLedger, openSqliteLedger, type Ledger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { memoryNotifier } from '../../shared/notify';
import { pullResponses } from '../../shared/pull';
import { openFileSource } from '../../shared/send/source';
import { sendDeclaration } from '../../shared/send/send-declaration';
import { buildAcrfXml } from '../../transfer-point';
import { createSelfSigned, type SigningMaterial } from '../../shared/signing';
import { localFolderStore } from '../../shared/store';
import {
  sftpConnector,
  TransportAuthError,
  TransportConfigError,
  TransportConnectError,
  TransportHostKeyError,
  TransportTimeoutError,
  type HostKeyEvent,
  type SftpConnectorOptions,
  type TransportConnector,
} from '../../shared/transport';
import { faultyConnector } from '../helpers/faulty-transport';
import { opensslVerify, scratchDir } from '../helpers/pki';
import { collector, rejection } from '../helpers/streams';
import { startTcpProxy } from '../helpers/tcp-proxy';
import { TRANSFER_POINT_FOLDERS } from './harness';
import { KEY_PASSPHRASE, startOpenSsh, type OpenSsh } from './openssh';

// The SFTP adapter against Debian's OpenSSH: internal-sftp chrooted into the login folder,
// key login only, and, like the transfer point, `ssh-rsa` (SHA-1) signatures only for the
// host key and the user key. A second, modern sshd takes ed25519 keys and rsa-sha2.

const MIB = 1024 * 1024;
const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-sftp-openssh-');
let server: OpenSsh;
let ledger: Ledger;
let material: SigningMaterial;

beforeAll(async () => {
  server = await startOpenSsh({ legacy: true });
  ledger = openSqliteLedger(join(dir, 'ledger.sqlite'));
  material = await createSelfSigned({ commonName: 'Interop Signer' });
});
afterAll(async () => {
  await ledger?.close();
  await server?.stop();
  cleanup();
});

function options(overrides: Partial<SftpConnectorOptions> = {}): SftpConnectorOptions {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    privateKey: server.keys.rsa,
    hostKeySha256: server.hostKeySha256,
    timeoutMs: 5000,
    connectRetry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    operationRetry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    ...overrides,
  };
}

/** Adds sshd's log to a failure: the server's side of the story. */
async function explained<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof Error) error.message += `\n--- sshd log ---\n${server.log()}`;
    throw error;
  }
}

/** What sshd logged while `body` ran. */
async function logged(body: () => Promise<void>): Promise<string> {
  const mark = server.log().length;
  await body();
  // sshd writes its last lines as the connection ends: give them a moment.
  await new Promise((resolve) => setTimeout(resolve, 150));
  return server.log().slice(mark);
}

/** Every file under the transfer point's folders, for "nothing was sent" checks. */
function everything(): string[] {
  return TRANSFER_POINT_FOLDERS.flatMap((folder) =>
    readdirSync(join(server.root, folder)).map((name) => `${folder}/${name}`),
  ).sort();
}

const onServer = (path: string): string => join(server.root, path);

describe('sftpConnector against OpenSSH offering ssh-rsa only', () => {
  it('logs in with an RSA key signing ssh-rsa, chrooted to the transfer point folders', () =>
    explained(async () => {
      const connector = sftpConnector(options());
      const first = await logged(async () => {
        const transport = await connector.connect();
        const home = await transport.list('');
        expect(home.map((entry) => entry.name).sort()).toEqual([...TRANSFER_POINT_FOLDERS].sort());
        expect(home.every((entry) => entry.type === 'directory')).toBe(true);
        await transport.close();
      });
      // The server lists rsa-sha2 in server-sig-algs but refuses it: the key went again as ssh-rsa.
      expect(first).toMatch(/signature algorithm rsa-sha2-256 not in PubkeyAcceptedAlgorithms/);
      expect(first).toMatch(/Accepted publickey for onss-interop/);
      // The connector remembers: its next session signs with ssh-rsa straight away.
      const second = await logged(async () => (await connector.connect()).close());
      expect(second).toMatch(/Accepted publickey for onss-interop/);
      expect(second).not.toMatch(/not in PubkeyAcceptedAlgorithms/);
    }));

  it('sends a multi-part R declaration through the send pipeline: FS pass OpenSSL, empty GO last', () =>
    explained(async () => {
      const path = join(dir, 'multi.xml');
      writeFileSync(path, sampleDmfaXml({ quarter: '20263', date: today, workers: 400 }));
      const size = statSync(path).size;
      const connector = faultyConnector(sftpConnector(options()), []);
      const { record, plan } = await sendDeclaration(
        {
          source: await openFileSource(path),
          declaration: { app: 'DMFA', sender: '123456', env: 'R' },
          plan: { partSize: Math.ceil(size / 3) },
        },
        { ledger, connector, material, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } },
      );
      expect(record.state).toBe('launched');
      expect(plan.parts).toHaveLength(3);
      const puts = connector.calls.filter((call) => call.startsWith('put '));
      expect(puts.at(-1)).toBe(`put IN/${plan.go}`);
      const parts = plan.parts.map((part) => readFileSync(onServer(`IN/${part.fi}`)));
      expect(Buffer.concat(parts).equals(readFileSync(path))).toBe(true);
      for (const part of plan.parts) {
        const verdict = opensslVerify(onServer(`IN/${part.fi}`), onServer(`IN/${part.fs ?? ''}`));
        expect(verdict.ok).toBe(true);
      }
      expect(statSync(onServer(`IN/${plan.go}`)).size).toBe(0);
    }));

  it('puts, sizes, gets, renames over an existing file (posix-rename) and deletes', () =>
    explained(async () => {
      const transport = await sftpConnector(options()).connect();
      try {
        const data = randomBytes(3 * MIB + 7);
        expect(await transport.put(Readable.from([data]), 'INTEST/tmp.upload')).toBe(data.length);
        expect(await transport.put(Readable.from([]), 'INTEST/GO.empty')).toBe(0);
        expect(await transport.size('INTEST/GO.empty')).toBe(0);
        writeFileSync(onServer('INTEST/FI.final'), 'older, to be replaced');
        await transport.rename('INTEST/tmp.upload', 'INTEST/FI.final');
        expect(await transport.size('INTEST/FI.final')).toBe(data.length);
        expect(await transport.size('INTEST/tmp.upload')).toBeUndefined();
        expect(await transport.size('INTEST')).toBeUndefined();
        const sink = collector();
        expect(await transport.get('INTEST/FI.final', sink.stream)).toBe(data.length);
        expect(sink.bytes().equals(data)).toBe(true);
        const listed = await transport.list('INTEST');
        expect(listed).toContainEqual({ name: 'FI.final', size: data.length, type: 'file' });
        expect(await transport.delete('INTEST/FI.final')).toBe(true);
        expect(await transport.delete('INTEST/FI.final')).toBe(false);
        expect(existsSync(onServer('INTEST/FI.final'))).toBe(false);
        await expect(transport.list('NOPE')).rejects.toMatchObject({ code: 'TRANSPORT_NOT_FOUND' });
      } finally {
        await transport.close();
      }
    }));

  it('pulls answers and deletes them from the server', () =>
    explained(async () => {
      const ids = [1, 2].map((seq) => {
        const id = `ACRF.999999.20261125.${String(seq).padStart(5, '0')}.T`;
        const xml = buildAcrfXml({
          fileName: `GO.DMFA.123456.20261125.${String(seq).padStart(5, '0')}.T.1`,
          ticket: `T${seq}`,
          codes: [],
          createdAt: new Date(),
        });
        writeFileSync(onServer(`OUTTEST/FO.${id}`), xml);
        writeFileSync(onServer(`OUTTEST/GO.${id}`), '');
        return id;
      });
      const notifier = memoryNotifier();
      const report = await pullResponses(
        { environments: ['T'] },
        {
          ledger: createMemoryLedger(),
          connector: sftpConnector(options()),
          store: localFolderStore(join(dir, 'store')),
          notifier,
        },
      );
      expect(report.failed).toEqual([]);
      expect(report.sets.map((set) => set.id)).toEqual(ids);
      expect(report.sets.every((set) => set.stored && set.deleted)).toBe(true);
      expect(readdirSync(onServer('OUTTEST'))).toEqual([]);
      const stored = readdirSync(join(dir, 'store', 'responses', 'T', '20261125', 'ACRF'));
      expect(stored.sort()).toEqual(ids.flatMap((id) => [`FO.${id}`, `GO.${id}`]).sort());
    }));

  it('refuses an unknown key: permanent, and nothing is sent', () =>
    explained(async () => {
      const before = everything();
      let error: Error | undefined;
      const log = await logged(async () => {
        error = await rejection(
          sftpConnector(options({ privateKey: server.keys.stranger })).connect(),
        );
      });
      expect(error).toBeInstanceOf(TransportAuthError);
      expect(error).toMatchObject({ transient: false });
      expect(error?.message).toMatch(/tried with rsa-sha2 and with ssh-rsa/);
      expect(log).not.toMatch(/Accepted publickey/);
      expect(everything()).toEqual(before);
    }));

  it('refuses a host key that is not the pinned one before authenticating: nothing is sent', () =>
    explained(async () => {
      const pinned = `SHA256:${'A'.repeat(43)}`;
      const before = everything();
      let error: Error | undefined;
      const log = await logged(async () => {
        error = await rejection(sftpConnector(options({ hostKeySha256: pinned })).connect());
      });
      expect(error).toBeInstanceOf(TransportHostKeyError);
      expect(error).toMatchObject({ actual: server.hostKeySha256, expected: pinned });
      // sshd saw the key exchange end, never a user: no userauth line, only [preauth] ones.
      expect(log).toMatch(/\[preauth\]/);
      expect(log).not.toMatch(/publickey|userauth|authenticating user|Accepted/);
      expect(everything()).toEqual(before);
    }));

  it('without a pin, refuses and prints the fingerprint ssh-keygen prints; trustOnFirstUse accepts it', () =>
    explained(async () => {
      let error: Error | undefined;
      const log = await logged(async () => {
        error = await rejection(sftpConnector(options({ hostKeySha256: undefined })).connect());
      });
      expect(error).toBeInstanceOf(TransportHostKeyError);
      expect(error?.message).toContain(server.hostKeySha256);
      expect(log).not.toMatch(/publickey|userauth|authenticating user|Accepted/);

      const events: HostKeyEvent[] = [];
      const transport = await sftpConnector(
        options({
          hostKeySha256: undefined,
          trustOnFirstUse: true,
          onHostKey: (event) => events.push(event),
        }),
      ).connect();
      await transport.close();
      expect(events).toMatchObject([
        { fingerprint: server.hostKeySha256, keyType: 'ssh-rsa', trust: 'first-use' },
      ]);
    }));

  it.each([
    ['OpenSSH format (bcrypt)', 'rsaEncrypted'],
    ['PKCS#1 PEM (ssh-keygen -m PEM)', 'rsaPemEncrypted'],
  ] as const)('logs in with a passphrase-protected RSA key, %s', (_title, which) =>
    explained(async () => {
      const key = server.keys[which];
      expect(() => sftpConnector(options({ privateKey: key }))).toThrow(TransportConfigError);
      expect(() =>
        sftpConnector(options({ privateKey: key, passphrase: `${KEY_PASSPHRASE}!` })),
      ).toThrow(/could not be decrypted|cannot be read/);
      const transport = await sftpConnector(
        options({ privateKey: key, passphrase: KEY_PASSPHRASE }),
      ).connect();
      expect(await transport.list('IN')).toBeDefined();
      await transport.close();
    }),
  );

  it('a connection cut mid-upload fails the put at once, then a new put goes through', () =>
    explained(async () => {
      const proxy = await startTcpProxy(server.port);
      const transport = await sftpConnector(options({ port: proxy.port })).connect();
      try {
        const data = randomBytes(8 * MIB);
        proxy.cutAfter(2 * MIB);
        const started = Date.now();
        const error = await rejection(transport.put(Readable.from([data]), 'INTEST/FI.cut'));
        expect(error).toBeInstanceOf(TransportConnectError);
        expect(error.transient).toBe(true);
        expect(Date.now() - started).toBeLessThan(3000);
        expect(await transport.put(Readable.from([data]), 'INTEST/FI.cut')).toBe(data.length);
        expect(readFileSync(onServer('INTEST/FI.cut')).equals(data)).toBe(true);
      } finally {
        await transport.close();
        await proxy.close();
      }
    }));

  it('a session killed on the server mid-upload: the send pipeline sends the part again', () =>
    explained(async () => {
      const path = join(dir, 'killed.xml');
      writeFileSync(path, sampleDmfaXml({ quarter: '20263', date: today, workers: 2000 }));
      const size = statSync(path).size;
      // The first upload of part 1 holds back after 512 KiB until the session is killed, so
      // the kill always lands in the middle of it; the retry goes at full speed.
      let killed = false;
      let release = (): void => undefined;
      const afterKill = new Promise<void>((resolve) => {
        release = resolve;
      });
      let held = false;
      const inner: TransportConnector = sftpConnector(options());
      const holding: TransportConnector = {
        describe: () => inner.describe(),
        async connect() {
          const transport = await inner.connect();
          return {
            put: (source, remote) => {
              if (held || !/\.R\.2\.1$/.test(remote)) return transport.put(source, remote);
              held = true;
              const gated = source.pipe(holdAfter(512 * 1024, afterKill));
              gated.once('close', () => source.destroy());
              return transport.put(gated, remote);
            },
            size: (remote) => transport.size(remote),
            list: (folder) => transport.list(folder),
            get: (remote, destination) => transport.get(remote, destination),
            delete: (remote) => transport.delete(remote),
            rename: (from, to) => transport.rename(from, to),
            close: () => transport.close(),
          };
        },
      };
      const connector = faultyConnector(holding, []);
      const watcher = setInterval(() => {
        if (killed) return;
        const first = readdirSync(onServer('IN')).find((name) => /^FI\..*\.R\.2\.1$/.test(name));
        if (first && statSync(onServer(`IN/${first}`)).size >= 256 * 1024) {
          killed = true;
          void server.dropSessions().then(release);
        }
      }, 5);
      try {
        const { record, plan } = await sendDeclaration(
          {
            source: await openFileSource(path),
            declaration: { app: 'DMFA', sender: '123456', env: 'R' },
            plan: { partSize: Math.ceil(size / 2) },
          },
          { ledger, connector, material, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } },
        );
        expect(killed).toBe(true);
        expect(record.state).toBe('launched');
        expect(
          connector.calls.filter((call) => call === `put IN/${plan.parts[0]?.fi}`),
        ).toHaveLength(2);
        const parts = plan.parts.map((part) => readFileSync(onServer(`IN/${part.fi}`)));
        expect(Buffer.concat(parts).equals(readFileSync(path))).toBe(true);
      } finally {
        clearInterval(watcher);
      }
    }));

  it('a network that stops moving bytes mid-upload times out, no hang', () =>
    explained(async () => {
      const proxy = await startTcpProxy(server.port);
      const transport = await sftpConnector(
        options({ port: proxy.port, timeoutMs: 1000 }),
      ).connect();
      try {
        proxy.stallAfter(MIB);
        const started = Date.now();
        const error = await rejection(
          transport.put(Readable.from([randomBytes(4 * MIB)]), 'INTEST/FI.stalled'),
        );
        expect(error).toBeInstanceOf(TransportTimeoutError);
        expect(Date.now() - started).toBeLessThan(5000);
      } finally {
        await transport.close();
        await proxy.close();
      }
    }));
});

describe('sftpConnector against a modern OpenSSH', () => {
  let modern: OpenSsh;
  beforeAll(async () => {
    modern = await startOpenSsh({ legacy: false });
  });
  afterAll(async () => {
    await modern?.stop();
  });

  it('logs in with a passphrase-protected ed25519 key, and with RSA over rsa-sha2 at once', async () => {
    for (const privateKey of [modern.keys.ed25519Encrypted, modern.keys.rsa]) {
      const mark = modern.log().length;
      const transport = await sftpConnector({
        host: modern.host,
        port: modern.port,
        user: modern.user,
        privateKey,
        passphrase: privateKey === modern.keys.rsa ? undefined : KEY_PASSPHRASE,
        hostKeySha256: modern.hostKeySha256,
        timeoutMs: 5000,
      }).connect();
      expect((await transport.list('')).length).toBe(TRANSFER_POINT_FOLDERS.length);
      await transport.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const log = modern.log().slice(mark);
      expect(log).toMatch(/Accepted publickey for onss-interop/);
      expect(log).not.toMatch(/Failed publickey|not in PubkeyAcceptedAlgorithms/);
    }
  });
});

/** A Transform that passes `limit` bytes, then holds the rest until `until` resolves. */
function holdAfter(limit: number, until: Promise<void>): Transform {
  let passed = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (passed >= limit) {
        void until.then(() => callback(null, chunk));
        return;
      }
      passed += chunk.length;
      callback(null, chunk);
    },
  });
}

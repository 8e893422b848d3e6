import { randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ftpConnector, type FtpConnectorOptions, type Transport } from '../../shared/transport';
import { bridgeErrorRealms } from '../helpers/ftp-server';
import { startVsftpd, TRANSFER_POINT_FOLDERS, type Vsftpd } from './vsftpd';
import { collector, rejection } from '../helpers/streams';

bridgeErrorRealms();

const MIB = 1024 * 1024;

let server: Vsftpd;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'onss-vsftpd-test-'));
  server = await startVsftpd();
});

afterAll(async () => {
  await server?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function options(overrides: Partial<FtpConnectorOptions> = {}): FtpConnectorOptions {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    timeoutMs: 5000,
    connectRetry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    operationRetry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    ...overrides,
  };
}

let transport: Transport;
beforeEach(async () => {
  transport = await ftpConnector(options()).connect();
});
afterEach(async () => {
  await transport?.close();
});

/** Adds vsftpd's own log to a failure: the server's side of the story. */
async function explained<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof Error) error.message += `\n--- vsftpd log ---\n${server.log()}`;
    throw error;
  }
}

describe('ftpConnector against Debian vsftpd on loopback', () => {
  it('logs in chrooted to a login folder holding the transfer point folders', () =>
    explained(async () => {
      const home = await transport.list('');
      for (const name of TRANSFER_POINT_FOLDERS) {
        expect(home).toContainEqual(expect.objectContaining({ name, type: 'directory' }));
      }
    }));

  it('puts a multi-MB stream: bytes sent, SIZE and the file on disk agree', () =>
    explained(async () => {
      const data = randomBytes(6 * MIB + 5);
      const local = join(scratch, 'six-mb');
      writeFileSync(local, data);
      const remote = 'INTEST/FI.DMFA.123456.20261125.00001.T.1.1';

      const sent = await transport.put(createReadStream(local, { highWaterMark: MIB }), remote);

      expect(sent).toBe(data.length);
      expect(await transport.size(remote)).toBe(data.length);
      const onDisk = join(server.root, remote);
      expect(readFileSync(onDisk).equals(data)).toBe(true);
      expect(statSync(onDisk).uid).toBe(server.uid);
    }));

  it('puts an empty stream as a zero-byte GO file', () =>
    explained(async () => {
      const remote = 'INTEST/GO.DMFA.123456.20261125.00001.T.1';

      const sent = await transport.put(Readable.from([]), remote);

      expect(sent).toBe(0);
      expect(await transport.size(remote)).toBe(0);
      expect(statSync(join(server.root, remote)).size).toBe(0);
    }));

  it('lists a folder with names, sizes and types', () =>
    explained(async () => {
      await transport.put(
        Readable.from([Buffer.alloc(1234, 0x41)]),
        'OUTTEST/FO.ACRF.999999.20261125.00001.T',
      );
      await transport.put(Readable.from([]), 'OUTTEST/GO.ACRF.999999.20261125.00001.T');

      const entries = await transport.list('OUTTEST');

      expect([...entries].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
        { name: 'FO.ACRF.999999.20261125.00001.T', size: 1234, type: 'file' },
        { name: 'GO.ACRF.999999.20261125.00001.T', size: 0, type: 'file' },
      ]);
    }));

  it('gets a file into a Writable', () =>
    explained(async () => {
      const data = randomBytes(2 * MIB + 1);
      await transport.put(Readable.from([data]), 'OUT/FO.ACRF.999999.20261125.00002.R');
      const sink = collector();

      const received = await transport.get('OUT/FO.ACRF.999999.20261125.00002.R', sink.stream);

      expect(received).toBe(data.length);
      expect(sink.bytes().equals(data)).toBe(true);
      expect(sink.stream.writableFinished).toBe(true);
    }));

  it('deletes a present file (true) and an absent one (false)', () =>
    explained(async () => {
      const remote = 'OUT/FO.ACRF.999999.20261125.00003.R';
      await transport.put(Readable.from([Buffer.from('answer')]), remote);

      expect(await transport.delete(remote)).toBe(true);
      expect(await transport.delete(remote)).toBe(false);
      expect(existsSync(join(server.root, remote))).toBe(false);
    }));

  it('renames (moves) a file between folders', () =>
    explained(async () => {
      await transport.put(Readable.from([Buffer.from('declaration')]), 'INTEST/upload.part');

      await transport.rename('INTEST/upload.part', 'INTEST-S/FI.DMFA.123456.20261125.00002.S.1.1');

      expect(await transport.size('INTEST/upload.part')).toBeUndefined();
      expect(
        readFileSync(join(server.root, 'INTEST-S/FI.DMFA.123456.20261125.00002.S.1.1'), 'utf8'),
      ).toBe('declaration');
    }));

  it('reports missing files: size undefined, get and rename TRANSPORT_NOT_FOUND', () =>
    explained(async () => {
      expect(await transport.size('INTEST/no-such-file')).toBeUndefined();
      const getError = await rejection(transport.get('INTEST/no-such-file', collector().stream));
      expect(getError).toMatchObject({ code: 'TRANSPORT_NOT_FOUND', ftpCode: 550 });
      const renameError = await rejection(transport.rename('INTEST/no-such-file', 'INTEST/x'));
      expect(renameError).toMatchObject({ code: 'TRANSPORT_NOT_FOUND', ftpCode: 550 });
      // A refusal leaves the session usable.
      expect(Array.isArray(await transport.list('INTEST'))).toBe(true);
    }));

  it('refuses a wrong password with TRANSPORT_AUTH, never showing it', () =>
    explained(async () => {
      const wrong = `${server.password}-wrong`;

      const error = await rejection(ftpConnector(options({ password: wrong })).connect());

      expect(error).toMatchObject({ code: 'TRANSPORT_AUTH', transient: false, ftpCode: 530 });
      expect(error.message).not.toContain(wrong);
      expect(error.message).not.toContain(server.password);
    }));
});

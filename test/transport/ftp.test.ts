import { randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import {
  ftpConnector,
  TransportConfigError,
  TransportError,
  type FtpConnectorOptions,
  type Transport,
} from '../../shared/transport';
import { bridgeErrorRealms, start, type TestFtpServer } from '../helpers/ftp-server';
import { collector, rejection } from '../helpers/streams';

bridgeErrorRealms();

const USER = 'onss-test';
const PASSWORD = 'Pa55-word-never-shown';
const FOLDERS = ['IN', 'INTEST', 'INTEST-S', 'OUT', 'OUTTEST', 'OUTTEST-S'];
const MIB = 1024 * 1024;
/** Tiny delays: the retry logic runs for real, the clock barely moves. */
const FAST_RETRY = { attempts: 3, baseDelayMs: 2, maxDelayMs: 10 };

let scratch: string;
let root: string;
let server: TestFtpServer;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'onss-ftp-test-'));
  root = join(scratch, 'home');
  server = await start({ root, user: USER, password: PASSWORD, folders: FOLDERS });
});

afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function options(overrides: Partial<FtpConnectorOptions> = {}): FtpConnectorOptions {
  return {
    host: '127.0.0.1',
    port: server.port,
    user: USER,
    password: PASSWORD,
    timeoutMs: 5000,
    connectRetry: FAST_RETRY,
    operationRetry: FAST_RETRY,
    ...overrides,
  };
}

/** Runs `body` on a fresh session and always closes it. */
async function withTransport<T>(
  body: (transport: Transport) => Promise<T>,
  overrides: Partial<FtpConnectorOptions> = {},
): Promise<T> {
  const transport = await ftpConnector(options(overrides)).connect();
  try {
    return await body(transport);
  } finally {
    await transport.close();
  }
}

/** A local file of random bytes, read back in 1 MiB chunks as the sender does. */
function sourceFile(
  name: string,
  bytes: number,
): { path: string; data: Buffer; stream: () => Readable } {
  const data = randomBytes(bytes);
  const path = join(scratch, name);
  writeFileSync(path, data);
  return { path, data, stream: () => createReadStream(path, { highWaterMark: MIB }) };
}

function emptyStream(): Readable {
  return new Readable({
    read() {
      this.push(null);
    },
  });
}

/** A loopback port that nobody listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('ftpConnector against ftp-srv on loopback', () => {
  it('puts a multi-MB stream: the bytes sent, SIZE and the file on disk all agree', async () => {
    const source = sourceFile('five-mb', 5 * MIB + 3);
    const remote = 'INTEST/FI.DMFA.123456.20261125.00001.T.1.1';

    const [sent, size] = await withTransport(async (transport) => [
      await transport.put(source.stream(), remote),
      await transport.size(remote),
    ]);

    expect(sent).toBe(source.data.length);
    expect(size).toBe(source.data.length);
    expect(readFileSync(join(root, remote)).equals(source.data)).toBe(true);
  });

  it('puts an empty stream as a zero-byte file (the GO file)', async () => {
    const remote = 'INTEST/GO.DMFA.123456.20261125.00001.T.1';

    const [sent, size] = await withTransport(async (transport) => [
      await transport.put(emptyStream(), remote),
      await transport.size(remote),
    ]);

    expect(sent).toBe(0);
    expect(size).toBe(0);
    expect(readFileSync(join(root, remote))).toHaveLength(0);
  });

  it('replaces a file of the same name', async () => {
    const remote = 'INTEST-S/replaced';
    writeFileSync(join(root, remote), 'a much longer earlier content');

    await withTransport((transport) => transport.put(Readable.from([Buffer.from('new')]), remote));

    expect(readFileSync(join(root, remote), 'utf8')).toBe('new');
  });

  it('lists a folder with names, sizes and types', async () => {
    writeFileSync(join(root, 'OUTTEST', 'FO.ACRF.999999.20261125.00001.T'), 'x'.repeat(1234));
    writeFileSync(join(root, 'OUTTEST', 'GO.ACRF.999999.20261125.00001.T'), '');

    const [folder, home] = await withTransport(async (transport) => [
      await transport.list('OUTTEST'),
      await transport.list(''),
    ]);

    expect([...folder].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'FO.ACRF.999999.20261125.00001.T', size: 1234, type: 'file' },
      { name: 'GO.ACRF.999999.20261125.00001.T', size: 0, type: 'file' },
    ]);
    for (const name of FOLDERS) {
      expect(home).toContainEqual(expect.objectContaining({ name, type: 'directory' }));
    }
  });

  it('gets a file into a Writable, ends it, and counts the bytes', async () => {
    const data = randomBytes(2 * MIB + 17);
    writeFileSync(join(root, 'OUT', 'FO.ACRF.999999.20261125.00002.R'), data);
    const sink = collector();
    let finished = false;
    sink.stream.on('finish', () => {
      finished = true;
    });

    const received = await withTransport((transport) =>
      transport.get('OUT/FO.ACRF.999999.20261125.00002.R', sink.stream),
    );

    expect(received).toBe(data.length);
    expect(sink.bytes().equals(data)).toBe(true);
    expect(finished).toBe(true);
  });

  it('gets into a PassThrough that the caller reads only afterwards', async () => {
    writeFileSync(join(root, 'OUT', 'small'), 'small answer');
    const through = new PassThrough();

    const received = await withTransport((transport) => transport.get('OUT/small', through));

    expect(received).toBe(12);
    expect((await through.toArray()).join('')).toBe('small answer');
  });

  it("passes the destination's own failure through unchanged and keeps working", async () => {
    writeFileSync(join(root, 'OUT', 'big'), randomBytes(MIB));
    const diskFull = Object.assign(new Error('ENOSPC: no space left on device'), {
      code: 'ENOSPC',
    });
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        callback(diskFull);
      },
    });

    await withTransport(async (transport) => {
      await expect(transport.get('OUT/big', failing)).rejects.toBe(diskFull);
      expect(await transport.size('OUT/big')).toBe(MIB);
    });
  });

  it('gets an empty file', async () => {
    writeFileSync(join(root, 'OUT', 'GO.ACRF.999999.20261125.00002.R'), '');
    const sink = collector();

    const received = await withTransport((transport) =>
      transport.get('OUT/GO.ACRF.999999.20261125.00002.R', sink.stream),
    );

    expect(received).toBe(0);
    expect(sink.stream.writableFinished).toBe(true);
  });

  it('deletes a present file (true) and an absent one (false)', async () => {
    const remote = 'OUTTEST/FO.ACRF.999999.20261125.00009.T';
    writeFileSync(join(root, remote), 'answer');

    const [first, second] = await withTransport(async (transport) => [
      await transport.delete(remote),
      await transport.delete(remote),
    ]);

    expect(first).toBe(true);
    expect(second).toBe(false);
    expect(existsSync(join(root, remote))).toBe(false);
  });

  it('renames (moves) a file between folders', async () => {
    writeFileSync(join(root, 'INTEST', 'upload.part'), 'declaration');

    await withTransport((transport) =>
      transport.rename('INTEST/upload.part', 'INTEST-S/FI.DMFA.123456.20261125.00003.S.1.1'),
    );

    expect(existsSync(join(root, 'INTEST', 'upload.part'))).toBe(false);
    expect(
      readFileSync(join(root, 'INTEST-S', 'FI.DMFA.123456.20261125.00003.S.1.1'), 'utf8'),
    ).toBe('declaration');
  });

  it('reports missing files: size undefined, get and rename TRANSPORT_NOT_FOUND', async () => {
    const sink = collector();

    const [size, getError, renameError, afterwards] = await withTransport(async (transport) => [
      await transport.size('INTEST/no-such-file'),
      await rejection(transport.get('INTEST/no-such-file', sink.stream)),
      await rejection(transport.rename('INTEST/no-such-file', 'INTEST/other')),
      // The session survives a refusal.
      await transport.list('INTEST'),
    ]);

    expect(size).toBeUndefined();
    expect(getError).toMatchObject({ code: 'TRANSPORT_NOT_FOUND', transient: false, ftpCode: 551 });
    expect(getError.message).toContain('get INTEST/no-such-file');
    expect(renameError).toMatchObject({ code: 'TRANSPORT_NOT_FOUND', ftpCode: 550 });
    expect(sink.stream.destroyed).toBe(true);
    expect(Array.isArray(afterwards)).toBe(true);
  });

  it('runs operations called at once one after the other on the one session', async () => {
    writeFileSync(join(root, 'IN', 'a'), 'aa');
    writeFileSync(join(root, 'IN', 'b'), 'bbb');
    const loginsBefore = server.logins;

    const results = await withTransport((transport) =>
      Promise.all([transport.size('IN/a'), transport.list('IN'), transport.size('IN/b')]),
    );

    expect(results[0]).toBe(2);
    expect(results[2]).toBe(3);
    expect(server.logins - loginsBefore).toBe(1);
  });

  it('refuses a wrong password with TRANSPORT_AUTH, once, never showing the password', async () => {
    const wrong = 'Wrong-pa55word-secret';
    const before = { connections: server.connections, logins: server.logins };
    const entries = readdirSync(join(root, 'IN'));

    const error = await rejection(ftpConnector(options({ password: wrong })).connect());

    expect(error).toMatchObject({ code: 'TRANSPORT_AUTH', transient: false, ftpCode: 530 });
    expect(error.name).toBe('TransportAuthError');
    for (const text of [error.message, String(error.stack), String(error.cause)]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(PASSWORD);
    }
    expect(error.message).toContain(`ftp://${USER}@127.0.0.1:${server.port}`);
    expect(server.connections - before.connections).toBe(1); // not retried
    expect(server.logins).toBe(before.logins);
    expect(readdirSync(join(root, 'IN'))).toEqual(entries);
  });

  it('gives up on a refused connection with TRANSPORT_CONNECT after the configured attempts', async () => {
    const port = await closedPort();
    const retries: number[] = [];

    const error = await rejection(
      ftpConnector(
        options({
          port,
          connectRetry: {
            ...FAST_RETRY,
            attempts: 3,
            onRetry: (_e, attempt) => retries.push(attempt),
          },
        }),
      ).connect(),
    );

    expect(error).toMatchObject({ code: 'TRANSPORT_CONNECT', transient: true });
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain('gave up after 3 attempts');
    expect(retries).toEqual([1, 2]);
  });

  it('times out on a server that never greets (TRANSPORT_TIMEOUT)', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    try {
      const error = await rejection(
        ftpConnector(
          options({ port: address.port, timeoutMs: 150, connectRetry: { attempts: 1 } }),
        ).connect(),
      );
      expect(error).toMatchObject({ code: 'TRANSPORT_TIMEOUT', transient: true });
      expect(error.message).toMatch(/^connect ftp:\/\/onss-test@127\.0\.0\.1:\d+: Timeout/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('survives a session dropped mid-upload: transient error, then a reconnect and a fresh put', async () => {
    const source = sourceFile('three-mb', 3 * MIB);
    const remote = 'INTEST/FI.DMFA.123456.20261125.00004.T.1.1';
    const loginsBefore = server.logins;

    await withTransport(async (transport) => {
      server.dropNextUploadAfter(256 * 1024);
      const stream = source.stream();
      const error = await rejection(transport.put(stream, remote));
      expect(error).toBeInstanceOf(TransportError);
      expect(error.transient).toBe(true);
      expect(['TRANSPORT_CONNECT', 'TRANSPORT_TIMEOUT']).toContain(error.code);
      expect(error.message).toContain(`put ${remote}`);
      expect(stream.destroyed).toBe(true); // the caller re-opens its source

      // Same Transport: the dead session is replaced without the caller noticing.
      const sent = await transport.put(source.stream(), remote);
      expect(sent).toBe(source.data.length);
      expect(await transport.size(remote)).toBe(source.data.length);
    });

    expect(readFileSync(join(root, remote)).equals(source.data)).toBe(true);
    expect(server.logins - loginsBefore).toBe(2);
  });

  it('reopens a session the server dropped while idle, even for a put', async () => {
    const remote = 'INTEST/FI.DMFA.123456.20261125.00006.T.1.1';
    const loginsBefore = server.logins;
    const retried: string[] = [];
    const operationRetry = {
      ...FAST_RETRY,
      onRetry: (error: unknown) => retried.push((error as TransportError).code),
    };

    await withTransport(
      async (transport) => {
        await transport.list('INTEST');
        // The client has not seen the drop yet when the put starts: its first
        // command fails, and the put, whose stream was never read, is retried.
        server.dropSessions();
        expect(await transport.put(Readable.from([Buffer.from('after the drop')]), remote)).toBe(
          14,
        );
        expect(retried).toEqual(['TRANSPORT_CONNECT']);

        // Seen while idle: the next operation reconnects first, no retry needed.
        server.dropSessions();
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await transport.size(remote)).toBe(14);
        expect(retried).toHaveLength(1);
      },
      { operationRetry },
    );

    expect(server.logins - loginsBefore).toBe(3);
  });

  it('retries a download that failed before its first byte, transparently', async () => {
    const data = randomBytes(300_000);
    writeFileSync(join(root, 'OUT', 'retried'), data);
    const sink = collector();
    const loginsBefore = server.logins;

    server.dropNextDownloadAfter(0);
    const received = await withTransport((transport) => transport.get('OUT/retried', sink.stream));

    expect(received).toBe(data.length);
    expect(sink.bytes().equals(data)).toBe(true);
    expect(server.logins - loginsBefore).toBe(2);
  });

  it('does not retry a download once bytes were written; the next operation reconnects', async () => {
    const data = randomBytes(3 * MIB);
    writeFileSync(join(root, 'OUT', 'cut'), data);
    const sink = collector();

    await withTransport(async (transport) => {
      server.dropNextDownloadAfter(1);
      const error = await rejection(transport.get('OUT/cut', sink.stream));
      expect(error.transient).toBe(true);
      expect(sink.bytes().length).toBeGreaterThan(0);
      expect(sink.stream.destroyed).toBe(true);

      expect(await transport.size('OUT/cut')).toBe(data.length);
    });
  });

  it("passes the caller's own stream failure through unchanged", async () => {
    const own = new Error('content check failed: XML not well-formed');
    const remote = 'INTEST/FI.DMFA.123456.20261125.00005.T.1.1';
    let pushed = 0;
    const source = new Readable({
      read() {
        pushed += 1;
        if (pushed < 3) this.push(Buffer.alloc(64 * 1024, 0x41));
        else this.destroy(own);
      },
    });

    await withTransport(async (transport) => {
      await expect(transport.put(source, remote)).rejects.toBe(own);
      // The session that carried the half upload is replaced; work goes on.
      expect(await transport.put(Readable.from([Buffer.from('ok')]), remote)).toBe(2);
    });
  });

  const badPaths: Array<{ title: string; path: string; message: RegExp }> = [
    { title: 'absolute', path: '/INTEST/FI.x', message: /is absolute/ },
    { title: 'parent folder', path: '../etc/passwd', message: /contains "\.\."/ },
    { title: 'parent inside', path: 'INTEST/../../x', message: /contains "\.\."/ },
    { title: 'NUL', path: 'INTEST/a\0b', message: /NUL, CR or LF/ },
    { title: 'CR LF command injection', path: 'INTEST/a\r\nDELE IN/x', message: /NUL, CR or LF/ },
    { title: 'LF', path: 'INTEST/a\n', message: /NUL, CR or LF/ },
    { title: 'empty', path: '', message: /is empty/ },
  ];

  describe.each(badPaths)('a bad remote path ($title)', ({ path, message }) => {
    it('is refused with TRANSPORT_PATH before anything is sent', async () => {
      const transport = await ftpConnector(options()).connect();
      const before = { connections: server.connections, logins: server.logins };
      const files = readdirSync(join(root, 'INTEST')).sort();
      const source = Readable.from([Buffer.from('data')]);
      const sink = collector();
      try {
        const errors = [
          await rejection(transport.put(source, path)),
          await rejection(transport.size(path)),
          await rejection(transport.get(path, sink.stream)),
          await rejection(transport.delete(path)),
          await rejection(transport.rename(path, 'INTEST/x')),
          await rejection(transport.rename('INTEST/x', path)),
          ...(path === '' ? [] : [await rejection(transport.list(path))]),
        ];
        for (const error of errors) {
          expect(error).toMatchObject({ code: 'TRANSPORT_PATH', transient: false });
          expect(error.message).toMatch(message);
          expect(error.message).not.toMatch(/[\0\r\n]/);
        }
        expect(source.readableDidRead).toBe(false);
        expect(source.destroyed).toBe(true);
        expect({ connections: server.connections, logins: server.logins }).toEqual(before);
        expect(readdirSync(join(root, 'INTEST')).sort()).toEqual(files);
      } finally {
        await transport.close();
      }
    });
  });

  it('refuses a bad path even when the server is gone (nothing is attempted)', async () => {
    const gone = await start({ root: join(scratch, 'gone'), user: USER, password: PASSWORD });
    const transport = await ftpConnector(options({ port: gone.port })).connect();
    await gone.stop();

    const error = await rejection(transport.size('/etc/passwd'));

    expect(error.code).toBe('TRANSPORT_PATH');
    await transport.close();
  });

  it('closes idempotently; operations after close are refused', async () => {
    const transport = await ftpConnector(options()).connect();

    await transport.close();
    await transport.close();

    const error = await rejection(transport.size('INTEST/x'));
    expect(error).toMatchObject({ code: 'TRANSPORT_CLOSED', transient: false });
  });

  it('describes where it connects without the password', () => {
    const connector = ftpConnector(options());
    expect(connector.describe()).toBe(`ftp://${USER}@127.0.0.1:${server.port}`);
    expect(ftpConnector({ ...options(), host: '::1', port: 2121 }).describe()).toBe(
      `ftp://${USER}@[::1]:2121`,
    );
  });
});

describe('ftpConnector options', () => {
  const base: FtpConnectorOptions = {
    host: 'ftp.socialsecurity.be',
    user: 'T123456',
    password: 'secret-value',
  };
  const refused: Array<{ title: string; options: FtpConnectorOptions; message: RegExp }> = [
    { title: 'empty host', options: { ...base, host: ' ' }, message: /host is missing/ },
    {
      title: 'a URL as host',
      options: { ...base, host: 'ftp://ftp.socialsecurity.be' },
      message: /is a URL/,
    },
    {
      title: 'host with port',
      options: { ...base, host: 'ftp.socialsecurity.be:21' },
      message: /holds a port/,
    },
    {
      title: 'host with a space',
      options: { ...base, host: 'ftp social' },
      message: /not a valid host/,
    },
    {
      title: 'port 0',
      options: { ...base, port: 0 },
      message: /port must be a whole number from 1 to 65535.*got 0/,
    },
    { title: 'port 70000', options: { ...base, port: 70_000 }, message: /port .* got 70000/ },
    { title: 'port 21.5', options: { ...base, port: 21.5 }, message: /port/ },
    {
      title: 'port as text',
      options: { ...base, port: '21' as unknown as number },
      message: /got "21"/,
    },
    { title: 'empty user', options: { ...base, user: '' }, message: /user is missing/ },
    {
      title: 'user with CRLF',
      options: { ...base, user: 'a\r\nDELE x' },
      message: /user contains a line break/,
    },
    { title: 'empty password', options: { ...base, password: '' }, message: /password is missing/ },
    {
      title: 'password with LF',
      options: { ...base, password: 'secret\nvalue' },
      message: /password contains/,
    },
    { title: 'timeout 0', options: { ...base, timeoutMs: 0 }, message: /timeoutMs .* at least 1/ },
    {
      title: 'connectRetry attempts 0',
      options: { ...base, connectRetry: { attempts: 0 } },
      message: /connectRetry: retry attempts/,
    },
    {
      title: 'operationRetry negative',
      options: { ...base, operationRetry: { baseDelayMs: -5 } },
      message: /operationRetry: retry baseDelayMs/,
    },
    {
      title: 'implicit FTPS',
      options: { ...base, secure: 'implicit' as unknown as boolean },
      message: /implicit.*not supported.*explicit TLS/,
    },
    {
      title: 'secure as text',
      options: { ...base, secure: 'yes' as unknown as boolean },
      message: /secure must be true or false/,
    },
    {
      title: 'a CA without FTPS',
      options: { ...base, caFile: '/etc/hostname' },
      message: /caFile is a TLS setting: it needs secure: true/,
    },
    {
      title: 'insecure without FTPS',
      options: { ...base, insecure: true },
      message: /insecure is a TLS setting/,
    },
    {
      title: 'a CA file that is missing',
      options: { ...base, secure: true, caFile: '/no/such/ca.pem' },
      message: /caFile \/no\/such\/ca.pem cannot be read \(ENOENT\)/,
    },
    {
      title: 'a CA that is no PEM certificate',
      options: { ...base, secure: true, ca: 'secret-looking text' },
      message: /ca holds no PEM certificate/,
    },
    {
      title: 'a broken PEM certificate',
      options: {
        ...base,
        secure: true,
        ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      },
      message: /ca: certificate 1 cannot be read/,
    },
    {
      title: 'ca and caFile together',
      options: { ...base, secure: true, ca: 'x', caFile: '/etc/hostname' },
      message: /ca and caFile are both given/,
    },
  ];

  it.each(refused)(
    'refuses $title with TRANSPORT_CONFIG at once',
    ({ options: given, message }) => {
      let caught: unknown;
      try {
        ftpConnector(given);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(TransportConfigError);
      expect(caught).toMatchObject({ code: 'TRANSPORT_CONFIG', transient: false });
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).not.toContain('secret');
    },
  );

  it('accepts the defaults and an IPv6 literal', () => {
    expect(ftpConnector(base).describe()).toBe('ftp://T123456@ftp.socialsecurity.be:21');
    expect(ftpConnector({ ...base, host: '[2001:db8::1]' }).describe()).toBe(
      'ftp://T123456@[2001:db8::1]:21',
    );
  });
});

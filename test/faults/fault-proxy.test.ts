/**
 * The fault proxy of the fault runs, between the product's transports and the local transfer
 * point on loopback: traffic relayed unchanged (FTP data connections included, through
 * rewritten EPSV and PASV replies), then each fault seen from the client's side, and raw mode
 * relaying an SFTP session.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { startSimulator, type Simulator } from '../../transfer-point';
import {
  ftpConnector,
  sftpConnector,
  TransportConnectError,
  TransportRefusedError,
  TransportTimeoutError,
  type FtpConnectorOptions,
  type SftpConnectorOptions,
  type Transport,
} from '../../shared/transport';
import { collector, rejection } from '../helpers/streams';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

const KIB = 1024;
const MIB = 1024 * KIB;
/** Tiny delays: the retry logic runs for real, the clock barely moves. */
const FAST_RETRY = { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 };
const ONE_ATTEMPT = { attempts: 1, baseDelayMs: 5, maxDelayMs: 20 };

let sim: Simulator;
let proxy: FaultProxy;
let names = 0;

beforeAll(async () => {
  sim = await startSimulator({});
});
afterAll(async () => {
  await sim?.stop();
});
beforeEach(async () => {
  proxy = await startFaultProxy({ targetPort: sim.port, ftp: true });
});
afterEach(async () => {
  await proxy?.close();
});

/** A fresh remote name in INTEST (not a GO: the simulator only stores it). */
function remoteName(): string {
  names += 1;
  return `blob-${names}`;
}

function ftpOptions(overrides: Partial<FtpConnectorOptions> = {}): FtpConnectorOptions {
  return {
    host: '127.0.0.1',
    port: proxy.port,
    user: sim.user,
    password: sim.password,
    timeoutMs: 1500,
    connectRetry: FAST_RETRY,
    operationRetry: FAST_RETRY,
    ...overrides,
  };
}

/** Runs `body` on a fresh FTP session through the proxy and always closes it. */
async function withFtp<T>(
  body: (transport: Transport) => Promise<T>,
  overrides: Partial<FtpConnectorOptions> = {},
): Promise<T> {
  const transport = await ftpConnector(ftpOptions(overrides)).connect();
  try {
    return await body(transport);
  } finally {
    await transport.close();
  }
}

/** Uploads `data` as INTEST/`name`. */
function put(transport: Transport, name: string, data: Buffer): Promise<number> {
  return transport.put(Readable.from([data]), `INTEST/${name}`);
}

function onServer(name: string): Buffer {
  return readFileSync(sim.pathOf('INTEST', name));
}

/** A minimal FTP client on a raw socket, to see exactly what the proxy sends back. */
interface RawControl {
  socket: Socket;
  /** Everything received so far, as text. */
  text(): string;
  /** Waits (up to 3 s) until the text received matches `pattern`. */
  waitFor(pattern: RegExp): Promise<string>;
  /** Resolves once the other side ended or closed the connection. */
  ended: Promise<void>;
}

function rawControl(port: number): Promise<RawControl> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const waiters = new Set<() => void>();
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      for (const waiter of [...waiters]) waiter();
    });
    const ended = new Promise<void>((done) => {
      socket.once('end', () => done());
      socket.once('close', () => done());
    });
    socket.on('error', reject);
    socket.once('connect', () =>
      resolve({
        socket,
        text: () => received,
        ended,
        waitFor: (pattern) =>
          new Promise((found, fail) => {
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no ${pattern} in ${JSON.stringify(received)}`));
            }, 3000);
            const check = (): void => {
              if (!pattern.test(received)) return;
              clearTimeout(timer);
              waiters.delete(check);
              found(received);
            };
            waiters.add(check);
            check();
          }),
      }),
    );
  });
}

describe('fault proxy in FTP mode, unarmed', () => {
  it('relays an upload and a download byte for byte, each over a relayed data connection', async () => {
    const upload = randomBytes(MIB + 7);
    const download = randomBytes(300 * KIB + 1);
    writeFileSync(sim.pathOf('OUTTEST', 'answer-1'), download);
    const name = remoteName();
    const sink = collector();

    const [sent, received] = await withFtp(async (transport) => [
      await put(transport, name, upload),
      await transport.get('OUTTEST/answer-1', sink.stream),
    ]);

    expect(sent).toBe(upload.length);
    expect(onServer(name).equals(upload)).toBe(true);
    expect(received).toBe(download.length);
    expect(sink.bytes().equals(download)).toBe(true);
    expect(proxy.stats).toEqual({ controlConnections: 1, dataConnections: 2, fired: [] });
  });

  it('relays listings too (data down)', async () => {
    writeFileSync(sim.pathOf('OUTTEST', 'listed-1'), 'x'.repeat(1234));

    const entries = await withFtp((transport) => transport.list('OUTTEST'));

    expect(entries).toContainEqual({ name: 'listed-1', size: 1234, type: 'file' });
    expect(proxy.stats.dataConnections).toBeGreaterThanOrEqual(1);
  });

  it('rewrites PASV as well: with EPSV answered 425, basic-ftp falls back to PASV through the proxy', async () => {
    proxy.arm({ kind: 'reply', command: 'epsv', code: 425 });
    const data = randomBytes(64 * KIB);
    const name = remoteName();

    await withFtp((transport) => put(transport, name, data));

    expect(onServer(name).equals(data)).toBe(true);
    expect(proxy.stats.fired).toEqual(['reply EPSV 425']);
    // The client's data connection came to the proxy: the 227 named the proxy's port.
    expect(proxy.stats.dataConnections).toBe(1);
    expect(proxy.pending()).toEqual([]);
  });

  it('finds commands split over several chunks and several in one chunk', async () => {
    const control = await rawControl(proxy.port);
    try {
      await control.waitFor(/^220[ -]/m);
      proxy.arm({ kind: 'reply', command: 'TYPE', code: 451 });
      control.socket.write('NO');
      control.socket.write('OP\r\nTY');
      await new Promise((resolve) => setTimeout(resolve, 50));
      control.socket.write('PE I\r\nNOOP\r\n');

      const text = await control.waitFor(/injected[\s\S]*\r\n2\d\d [^\r\n]*\r\n/);

      const replies = text.split('\r\n').filter((line) => line !== '' && !line.startsWith('220'));
      expect(replies).toEqual([
        expect.stringMatching(/^2\d\d /),
        '451 injected transient failure',
        expect.stringMatching(/^2\d\d /),
      ]);
      expect(proxy.stats.fired).toEqual(['reply TYPE 451']);
    } finally {
      control.socket.destroy();
    }
  });
});

describe('fault proxy in FTP mode, each fault', () => {
  it('cut data up during a 1 MB upload: the put fails (transient), the next put passes', async () => {
    const data = randomBytes(MIB);
    const name = remoteName();
    proxy.arm({ kind: 'cut', channel: 'data', direction: 'up', afterBytes: 256 * KIB });

    await withFtp(async (transport) => {
      const error = await rejection(put(transport, name, data));
      expect(error.transient).toBe(true);
      expect(error).toBeInstanceOf(TransportConnectError);
      expect(proxy.stats.fired).toEqual([`cut data up after ${256 * KIB}`]);
      // The server kept at most what was relayed before the cut.
      if (existsSync(sim.pathOf('INTEST', name))) {
        expect(statSync(sim.pathOf('INTEST', name)).size).toBeLessThanOrEqual(256 * KIB);
      }

      await put(transport, name, data);
    });
    expect(onServer(name).equals(data)).toBe(true);
  });

  it('cut data down during a download: the get fails', async () => {
    writeFileSync(sim.pathOf('OUTTEST', 'answer-cut'), randomBytes(MIB));
    proxy.arm({ kind: 'cut', channel: 'data', direction: 'down', afterBytes: 100 * KIB });

    const error = await withFtp(
      (transport) => rejection(transport.get('OUTTEST/answer-cut', collector().stream)),
      { operationRetry: ONE_ATTEMPT },
    );

    expect(error.transient).toBe(true);
    expect(proxy.stats.fired).toEqual([`cut data down after ${100 * KIB}`]);
  });

  it('reply STOR 450: the put fails with a transient refusal and nothing arrives', async () => {
    const name = remoteName();
    proxy.arm({ kind: 'reply', command: 'STOR', code: 450 });

    // The session ends after the refusal: ftp-srv keeps the data connection the client had
    // opened for the refused STOR paused and forgets it at the next EPSV of the session (left
    // open for good, even by stop()); ending the session closes it.
    await withFtp(
      async (transport) => {
        const error = await rejection(put(transport, name, randomBytes(10 * KIB)));
        expect(error).toBeInstanceOf(TransportRefusedError);
        expect(error.ftpCode).toBe(450);
        expect(error.transient).toBe(true);
        expect(error.message).toContain('injected transient failure');
      },
      { operationRetry: ONE_ATTEMPT },
    );
    await sim.idle();
    expect(sim.files('INTEST')).not.toContain(name);
    expect(proxy.stats.dataConnections).toBe(1);

    // One-shot: the next STOR goes through.
    await withFtp((transport) => put(transport, name, Buffer.from('second')));
    expect(onServer(name).toString()).toBe('second');
    expect(proxy.stats.fired).toEqual(['reply STOR 450']);
  });

  it('refuse: the connect fails with one attempt; with three it gets through the third', async () => {
    proxy.arm({ kind: 'refuse', connections: 1 });
    const error = await rejection(
      ftpConnector(ftpOptions({ connectRetry: ONE_ATTEMPT })).connect(),
    );
    expect(error).toBeInstanceOf(TransportConnectError);
    expect(error.transient).toBe(true);
    expect(proxy.stats.fired).toEqual(['refuse control connection 1/1']);

    proxy.arm({ kind: 'refuse', connections: 2 });
    const entries = await withFtp((transport) => transport.list('OUTTEST'), {
      connectRetry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    });
    expect(Array.isArray(entries)).toBe(true);
    expect(proxy.stats.controlConnections).toBe(4);
    expect(proxy.stats.fired.slice(1)).toEqual([
      'refuse control connection 1/2',
      'refuse control connection 2/2',
    ]);
    expect(proxy.pending()).toEqual([]);
  });

  it('stall data up mid-upload: a timeout error within a few seconds', async () => {
    proxy.arm({
      kind: 'stall',
      channel: 'data',
      direction: 'up',
      afterBytes: 128 * KIB,
      forMs: 10_000,
    });
    const started = Date.now();

    const error = await withFtp((transport) =>
      rejection(put(transport, remoteName(), randomBytes(MIB))),
    );

    expect(error).toBeInstanceOf(TransportTimeoutError);
    expect(error.transient).toBe(true);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(proxy.stats.fired).toEqual([`stall data up after ${128 * KIB} for 10000 ms`]);
  });

  it('stall control down: the next reply never comes, the operation times out', async () => {
    await withFtp(
      async (transport) => {
        proxy.arm({
          kind: 'stall',
          channel: 'control',
          direction: 'down',
          afterBytes: 0,
          forMs: 10_000,
        });
        const started = Date.now();
        const error = await rejection(transport.size('INTEST/nothing-here'));
        expect(error).toBeInstanceOf(TransportTimeoutError);
        expect(Date.now() - started).toBeLessThan(4000);
      },
      { operationRetry: ONE_ATTEMPT },
    );
    expect(proxy.stats.fired).toEqual(['stall control down after 0 for 10000 ms']);
  });

  it('slow: the bytes still arrive intact, at about the rate asked', async () => {
    const data = randomBytes(200 * KIB);
    const name = remoteName();
    await withFtp(async (transport) => {
      proxy.arm({ kind: 'slow', bytesPerSecond: 250 * KIB, forMs: 5000 });
      const started = Date.now();
      await put(transport, name, data);
      // 200 KiB at 250 KiB/s: about 0.8 s, replies included.
      expect(Date.now() - started).toBeGreaterThanOrEqual(600);

      // clear() ends the slow-down at once.
      proxy.clear();
      const fast = Date.now();
      await put(transport, `${name}-fast`, data);
      expect(Date.now() - fast).toBeLessThan(500);
    });
    expect(onServer(name).equals(data)).toBe(true);
    expect(proxy.stats.fired).toEqual([`slow ${250 * KIB} B/s for 5000 ms`]);
  });

  it('reply 421 on LIST: the proxy answers 421 and closes the control connection', async () => {
    const control = await rawControl(proxy.port);
    try {
      await control.waitFor(/^220[ -]/m);
      proxy.arm({ kind: 'reply', command: 'LIST', code: 421 });
      control.socket.write('LIST\r\n');

      await control.ended;

      expect(control.text()).toMatch(/\r\n421 injected transient failure\r\n$/);
      expect(proxy.stats.fired).toEqual(['reply LIST 421']);
    } finally {
      control.socket.destroy();
    }
  });

  it('reply 421 on LIST through the transport: the list fails, a new session serves the next one', async () => {
    writeFileSync(sim.pathOf('OUTTEST', 'listed-421'), 'x');
    await withFtp(
      async (transport) => {
        proxy.arm({ kind: 'reply', command: 'LIST', code: 421 });
        const error = await rejection(transport.list('OUTTEST'));
        expect(error.transient).toBe(true);
        expect(proxy.stats.controlConnections).toBe(1);

        const entries = await transport.list('OUTTEST');
        expect(entries.map((entry) => entry.name)).toContain('listed-421');
        expect(proxy.stats.controlConnections).toBe(2);
      },
      { operationRetry: ONE_ATTEMPT },
    );
  });

  it('cut control: the control connection and its open data connection are both reset', async () => {
    const control = await rawControl(proxy.port);
    let data: Socket | undefined;
    try {
      await control.waitFor(/^220[ -]/m);
      control.socket.write(`USER ${sim.user}\r\n`);
      await control.waitFor(/^331[ -]/m);
      control.socket.write(`PASS ${sim.password}\r\n`);
      await control.waitFor(/^230[ -]/m);
      control.socket.write('EPSV\r\n');
      const text = await control.waitFor(/^229 .*\|\|\|(\d+)\|/m);
      const port = Number(/^229 .*\|\|\|(\d+)\|/m.exec(text)?.[1]);
      const opened = connect({ host: '127.0.0.1', port });
      data = opened;
      const dataClosed = new Promise<void>((resolve) => opened.once('close', () => resolve()));
      opened.on('error', () => undefined);
      await new Promise<void>((resolve) => opened.once('connect', () => resolve()));
      // The data connection reached the server before the control connection is cut.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(proxy.stats.dataConnections).toBe(1);

      proxy.arm({ kind: 'cut', channel: 'control', direction: 'up', afterBytes: 0 });
      control.socket.write('NOOP\r\n');
      control.socket.on('error', () => undefined);

      await Promise.all([control.ended, dataClosed]);
      expect(proxy.stats.fired).toEqual(['cut control up after 0']);
    } finally {
      control.socket.destroy();
      data?.destroy();
    }
  });

  it('pending() lists what has not fired, and clear() disarms it all', async () => {
    proxy.arm({ kind: 'cut', channel: 'data', direction: 'up', afterBytes: 10 });
    proxy.arm({ kind: 'reply', command: 'STOR', code: 452 });
    proxy.arm({ kind: 'slow', bytesPerSecond: 1000, forMs: 60_000 });
    expect(proxy.pending().map((fault) => fault.kind)).toEqual(['cut', 'reply']);
    proxy.clear();
    expect(proxy.pending()).toEqual([]);

    const data = randomBytes(100 * KIB);
    const name = remoteName();
    await withFtp((transport) => put(transport, name, data));

    expect(onServer(name).equals(data)).toBe(true);
    expect(proxy.stats.fired).toEqual(['slow 1000 B/s for 60000 ms']);
  });
});

describe('fault proxy and FTPS (explicit TLS)', () => {
  let ftpsSim: Simulator;

  beforeAll(async () => {
    ftpsSim = await startSimulator({ tls: true });
  });
  afterAll(async () => {
    await ftpsSim?.stop();
  });

  async function roundTrip(mode: { ftp: boolean }): Promise<FaultProxy> {
    const relay = await startFaultProxy({ targetPort: ftpsSim.port, ...mode });
    const data = randomBytes(100 * KIB);
    const name = remoteName();
    try {
      const transport = await ftpConnector({
        ...ftpOptions({ port: relay.port, user: ftpsSim.user, password: ftpsSim.password }),
        secure: true,
        ca: ftpsSim.caPem,
      }).connect();
      try {
        await put(transport, name, data);
      } finally {
        await transport.close();
      }
    } finally {
      await relay.close();
    }
    expect(readFileSync(ftpsSim.pathOf('INTEST', name)).equals(data)).toBe(true);
    return relay;
  }

  it('raw mode relays the encrypted control connection; data goes straight to the server', async () => {
    const relay = await roundTrip({ ftp: false });
    expect(relay.stats).toEqual({ controlConnections: 1, dataConnections: 0, fired: [] });
  });

  it('FTP mode turns to bytes after AUTH TLS instead of breaking the handshake', async () => {
    const relay = await roundTrip({ ftp: true });
    expect(relay.stats).toEqual({ controlConnections: 1, dataConnections: 0, fired: [] });
  });
});

describe('fault proxy in raw mode, relaying SFTP', () => {
  let sftpSim: Simulator;
  let raw: FaultProxy;

  beforeAll(async () => {
    sftpSim = await startSimulator({ sftp: true });
  });
  afterAll(async () => {
    await sftpSim?.stop();
  });
  beforeEach(async () => {
    raw = await startFaultProxy({ targetPort: sftpSim.port, ftp: false });
  });
  afterEach(async () => {
    await raw?.close();
  });

  function sftpOptions(overrides: Partial<SftpConnectorOptions> = {}): SftpConnectorOptions {
    return {
      host: '127.0.0.1',
      port: raw.port,
      user: sftpSim.user,
      privateKey: sftpSim.privateKeyPem,
      hostKeySha256: sftpSim.hostKeySha256,
      timeoutMs: 1500,
      connectRetry: FAST_RETRY,
      operationRetry: FAST_RETRY,
      ...overrides,
    };
  }

  it('relays a whole session: an upload and a download, byte for byte', async () => {
    const data = randomBytes(512 * KIB + 3);
    const sink = collector();
    const transport = await sftpConnector(sftpOptions()).connect();
    try {
      await put(transport, 'sftp-blob', data);
      await transport.get('INTEST/sftp-blob', sink.stream);
    } finally {
      await transport.close();
    }

    expect(readFileSync(sftpSim.pathOf('INTEST', 'sftp-blob')).equals(data)).toBe(true);
    expect(sink.bytes().equals(data)).toBe(true);
    expect(raw.stats).toEqual({ controlConnections: 1, dataConnections: 0, fired: [] });
  });

  it('a raw cut mid-upload fails the put (transient)', async () => {
    const transport = await sftpConnector(sftpOptions()).connect();
    try {
      raw.arm({ kind: 'cut', channel: 'control', direction: 'up', afterBytes: 200 * KIB });
      const error = await rejection(put(transport, 'sftp-cut', randomBytes(MIB)));
      expect(error.transient).toBe(true);
      expect(raw.stats.fired).toEqual([`cut control up after ${200 * KIB}`]);
    } finally {
      await transport.close();
    }
  });

  it('refuses a reply fault: without FTP there are no commands to answer', () => {
    expect(() => raw.arm({ kind: 'reply', command: 'STOR', code: 450 })).toThrow(/FTP mode/);
  });
});

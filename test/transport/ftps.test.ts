import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { createSelfSigned } from '../../shared/signing';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../transfer-point';
import {
  ftpConnector,
  serverIdentityChange,
  TransportConfigError,
  TransportServerCertificateError,
  TransportTlsError,
  type FtpConnectorOptions,
  type Transport,
} from '../../shared/transport';
import { scratchDir } from '../helpers/pki';
import { collector, rejection } from '../helpers/streams';

// Explicit FTPS against the local transfer point (ftp-srv with TLS): the options, the
// certificate checks and their errors, and the transfers. The same against vsftpd and
// pure-ftpd is in test/interop.
const FAST_RETRY = { attempts: 3, baseDelayMs: 2, maxDelayMs: 10 };
const { dir, cleanup } = scratchDir('onss-ftps-test-');
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ tls: true });
});
afterAll(async () => {
  await sim?.stop();
  cleanup();
});

function options(
  target: Pick<Simulator, 'host' | 'port' | 'user' | 'password' | 'caPem'>,
  overrides: Partial<FtpConnectorOptions> = {},
): FtpConnectorOptions {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    secure: true,
    ...(target.caPem === undefined ? {} : { ca: target.caPem }),
    timeoutMs: 5000,
    connectRetry: FAST_RETRY,
    operationRetry: FAST_RETRY,
    ...overrides,
  };
}

async function withTransport<T>(body: (transport: Transport) => Promise<T>): Promise<T> {
  const transport = await ftpConnector(options(sim)).connect();
  try {
    return await body(transport);
  } finally {
    await transport.close();
  }
}

/** A simulator showing another certificate, for the refusals; stopped after `body`. */
async function withSimulator<T>(
  given: Partial<SimulatorOptions>,
  body: (other: Simulator) => Promise<T>,
): Promise<T> {
  const other = await startSimulator(given);
  try {
    return await body(other);
  } finally {
    await other.stop();
  }
}

/** A TLS identity as PEM, for a certificate with chosen names and dates. */
async function serverIdentity(serverNames: string[], dates: { notAfter?: Date } = {}) {
  const material = await createSelfSigned({
    commonName: 'test FTPS server',
    serverNames,
    ...dates,
  });
  return {
    key: material.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    cert: material.certificate.toString(),
  };
}

describe('ftpConnector, explicit FTPS', () => {
  it('describes itself as ftps://user@host:port', () => {
    expect(ftpConnector(options(sim)).describe()).toBe(`ftps://onss@127.0.0.1:${sim.port}`);
    expect(
      ftpConnector({
        host: 'ftp.socialsecurity.be',
        user: 'T1',
        password: 'x',
        secure: true,
      }).describe(),
    ).toBe('ftps://T1@ftp.socialsecurity.be:21');
  });

  it('puts, lists, gets, renames and deletes over TLS, zero-byte files included', () =>
    withTransport(async (transport) => {
      const data = Buffer.alloc(300_000, 0x41);
      expect(
        await transport.put(Readable.from([data]), 'OUT/FO.ACRF.999999.20261125.00001.R'),
      ).toBe(data.length);
      for (let i = 1; i <= 10; i += 1) {
        expect(
          await transport.put(Readable.from([]), `OUT/GO.ACRF.999999.20261125.0000${i}.R`),
        ).toBe(0);
      }
      const names = (await transport.list('OUT')).map((entry) => entry.name);
      expect(names).toContain('GO.ACRF.999999.20261125.00001.R');
      expect(readFileSync(sim.pathOf('OUT', 'GO.ACRF.999999.20261125.00001.R'))).toEqual(
        Buffer.alloc(0),
      );
      const sink = collector();
      expect(await transport.get('OUT/FO.ACRF.999999.20261125.00001.R', sink.stream)).toBe(
        data.length,
      );
      expect(sink.bytes().equals(data)).toBe(true);
      const empty = collector();
      expect(await transport.get('OUT/GO.ACRF.999999.20261125.00001.R', empty.stream)).toBe(0);
      await transport.rename('OUT/GO.ACRF.999999.20261125.00002.R', 'OUT/renamed');
      expect(await transport.delete('OUT/renamed')).toBe(true);
      expect(await transport.size('OUT/renamed')).toBeUndefined();
    }));

  it('a data connection cut mid-upload fails transient, and the next put opens a new session', () =>
    withTransport(async (transport) => {
      sim.dropAfterBytes(64 * 1024);
      const error = await rejection(
        transport.put(Readable.from([Buffer.alloc(1024 * 1024, 1)]), 'INTEST/cut'),
      );
      expect(error.transient).toBe(true);
      expect(await transport.put(Readable.from([Buffer.from('again')]), 'INTEST/cut')).toBe(5);
      expect(readFileSync(sim.pathOf('INTEST', 'cut'), 'utf8')).toBe('again');
    }));

  it('reads the CA file once, when the connector is made', async () => {
    const caFile = join(dir, 'pinned.pem');
    writeFileSync(caFile, sim.caPem ?? '');
    const connector = ftpConnector({ ...options(sim), ca: undefined, caFile });
    rmSync(caFile);
    const transport = await connector.connect();
    await transport.close();
  });

  it('refuses insecure together with a CA: one of them would be ignored', () => {
    expect(() => ftpConnector({ ...options(sim), insecure: true })).toThrow(
      /insecure skips the certificate check, so a CA would never be used/,
    );
  });

  it('connects with insecure: no certificate check, still TLS', async () => {
    const transport = await ftpConnector({
      ...options(sim),
      ca: undefined,
      insecure: true,
    }).connect();
    try {
      expect(await transport.list('IN')).toEqual(expect.any(Array));
    } finally {
      await transport.close();
    }
  });

  const refusals: Array<{
    title: string;
    setup: () => Promise<{
      simulator: Partial<SimulatorOptions>;
      client?: Partial<FtpConnectorOptions>;
    }>;
    problem: string;
    message: RegExp;
  }> = [
    {
      title: 'a self-signed certificate with no CA given (the system CAs)',
      setup: async () => ({ simulator: { tls: true }, client: { ca: undefined } }),
      problem: 'untrusted-certificate',
      message: /certificate is not trusted; give the CA that issued it.*self-signed certificate/,
    },
    {
      title: 'a certificate from an unknown CA',
      setup: async () => ({
        simulator: { tls: true },
        client: { ca: (await serverIdentity(['127.0.0.1'])).cert },
      }),
      problem: 'untrusted-certificate',
      message: /certificate is not trusted/,
    },
    {
      title: 'a certificate for another host name',
      setup: async () => {
        const identity = await serverIdentity(['ftp.example.org']);
        return { simulator: { tls: identity }, client: { ca: identity.cert } };
      },
      problem: 'hostname-mismatch',
      message: /certificate is for another host name.*IP: 127\.0\.0\.1 is not in the cert's list/,
    },
    {
      title: 'an expired certificate',
      setup: async () => {
        const identity = await serverIdentity(['127.0.0.1'], {
          notAfter: new Date(Date.now() - 86_400_000),
        });
        return { simulator: { tls: identity }, client: { ca: identity.cert } };
      },
      problem: 'certificate-dates',
      message: /certificate has expired or is not valid yet/,
    },
    {
      title: 'a server without AUTH TLS',
      setup: async () => ({ simulator: {}, client: { insecure: true, ca: undefined } }),
      problem: 'no-auth-tls',
      message: /does not offer explicit TLS \(AUTH TLS\) \(502/,
    },
  ];

  it.each(refusals)(
    'refuses $title: TRANSPORT_TLS, permanent, tried once, no password shown',
    async ({ setup, problem, message }) => {
      const { simulator, client } = await setup();
      await withSimulator(simulator, async (other) => {
        const error = await rejection(ftpConnector({ ...options(other), ...client }).connect());
        expect(error).toBeInstanceOf(TransportTlsError);
        expect(error).toMatchObject({ code: 'TRANSPORT_TLS', transient: false, problem });
        expect(error.message).toMatch(message);
        expect(error.message).toContain(`connect ftps://onss@127.0.0.1:${other.port}`);
        expect(error.message).not.toMatch(/gave up after/);
        expect(error.message).not.toContain(other.password);
      });
    },
  );

  it('a plain FTP client is refused by the FTPS simulator (TRANSPORT_AUTH, 530)', async () => {
    const error = await rejection(
      ftpConnector({ ...options(sim), secure: false, ca: undefined }).connect(),
    );
    expect(error).toMatchObject({ code: 'TRANSPORT_AUTH', ftpCode: 530 });
    expect(error.message).toContain('wants TLS first (AUTH TLS)');
  });
});

/** The SHA-256 fingerprint of a PEM certificate, `AB:CD:...`. */
function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256.toUpperCase();
}

/**
 * An FTPS server that logs every command it receives, in clear and under TLS: AUTH TLS (then
 * the handshake with `identity`), 331 to USER, 530 to PASS, 200 to anything else. Enough to
 * see whether a client sent its user name.
 */
async function startLoggingFtps(identity: { key: string; cert: string }) {
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const listen = (socket: Socket, onAuthTls?: () => void): void => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n')) !== -1) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const verb = line.split(' ')[0]?.toUpperCase() ?? '';
        commands.push(verb === 'PASS' ? 'PASS ***' : line);
        if (verb === 'AUTH' && onAuthTls !== undefined) {
          socket.off('data', onData);
          socket.write('234 AUTH TLS OK\r\n');
          onAuthTls();
          return;
        }
        socket.write(
          verb === 'USER' ? '331 Password\r\n' : verb === 'PASS' ? '530 No\r\n' : '200 OK\r\n',
        );
      }
    };
    socket.on('data', onData);
  };
  const server = createServer((control) => {
    control.write('220 logging FTPS\r\n');
    listen(control, () => {
      listen(new TLSSocket(control, { isServer: true, key: identity.key, cert: identity.cert }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    commands,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('ftpConnector, FTPS with the server certificate pinned (serverCertSha256)', () => {
  const WRONG = 'AB:'.repeat(31) + 'AB';

  it('connects and uploads with the pin, written in any case, with or without colons', async () => {
    const pin = fingerprintOf(sim.caPem ?? '')
      .replace(/:/g, '')
      .toLowerCase();
    const transport = await ftpConnector(options(sim, { serverCertSha256: pin })).connect();
    try {
      expect(await transport.put(Readable.from([Buffer.from('pinned')]), 'INTEST/pinned')).toBe(6);
    } finally {
      await transport.close();
    }
    expect(readFileSync(sim.pathOf('INTEST', 'pinned'), 'utf8')).toBe('pinned');
  });

  it('refuses another certificate: permanent, tried once, both fingerprints named, no password', async () => {
    const actual = fingerprintOf(sim.caPem ?? '');
    const error = await rejection(
      ftpConnector(options(sim, { serverCertSha256: WRONG })).connect(),
    );
    expect(error).toBeInstanceOf(TransportServerCertificateError);
    expect(error).toMatchObject({
      code: 'TRANSPORT_SERVER_CERT',
      transient: false,
      kind: 'tls-certificate',
      expected: WRONG,
      actual,
    });
    expect(error.message).toContain(`connect ftps://onss@127.0.0.1:${sim.port}`);
    expect(error.message).toContain(
      `the server's certificate ${actual} is not the pinned ${WRONG}`,
    );
    expect(error.message).toContain('before logging in: nothing was sent');
    expect(error.message).not.toMatch(/gave up after/);
    expect(error.message).not.toContain(sim.password);
    expect(serverIdentityChange(error)).toEqual({
      kind: 'tls-certificate',
      expected: WRONG,
      actual,
    });
  });

  it('sends neither USER nor PASS to a server whose certificate is not the pinned one', async () => {
    const identity = await serverIdentity(['127.0.0.1']);
    const server = await startLoggingFtps(identity);
    try {
      const target = { ...identity, host: '127.0.0.1', port: server.port };
      const connect = (pin: string) =>
        rejection(
          ftpConnector(
            options(
              { ...target, user: sim.user, password: sim.password, caPem: identity.cert },
              { serverCertSha256: pin },
            ),
          ).connect(),
        );
      const refused = await connect(WRONG);
      expect(refused).toBeInstanceOf(TransportServerCertificateError);
      expect(server.commands).toEqual(['AUTH TLS']);
      // The same server with the right pin: the client goes on and logs in (refused: 530).
      server.commands.length = 0;
      const loggedIn = await connect(fingerprintOf(identity.cert));
      expect(loggedIn).toMatchObject({ code: 'TRANSPORT_AUTH', ftpCode: 530 });
      expect(server.commands).toEqual(
        expect.arrayContaining(['AUTH TLS', `USER ${sim.user}`, 'PASS ***']),
      );
    } finally {
      await server.stop();
    }
  });

  it('names a new certificate no CA vouches for as a change of the pinned one, before logging in', async () => {
    // A server whose certificate is neither the pinned one nor from a trusted CA: a transfer
    // point gone to a new CA, or someone posing as it.
    const identity = await serverIdentity(['127.0.0.1']);
    const server = await startLoggingFtps(identity);
    try {
      const target = {
        host: '127.0.0.1',
        port: server.port,
        user: sim.user,
        password: sim.password,
      };
      const connect = (pin: string) =>
        rejection(
          ftpConnector(
            options({ ...target, caPem: undefined }, { serverCertSha256: pin }),
          ).connect(),
        );

      // The wrong pin: the change, with both fingerprints; nothing but AUTH TLS was sent.
      const changed = await connect(WRONG);
      expect(changed).toBeInstanceOf(TransportServerCertificateError);
      expect(serverIdentityChange(changed)).toEqual({
        kind: 'tls-certificate',
        expected: WRONG,
        actual: fingerprintOf(identity.cert),
      });
      expect(server.commands).toContain('AUTH TLS');
      expect(server.commands.filter((command) => /^(USER|PASS)\b/.test(command))).toEqual([]);

      // The right pin but no CA vouching for it: still refused, as an untrusted certificate.
      server.commands.length = 0;
      const untrusted = await connect(fingerprintOf(identity.cert));
      expect(untrusted).toBeInstanceOf(TransportTlsError);
      expect(untrusted).toMatchObject({ problem: 'untrusted-certificate' });
      expect(server.commands).toContain('AUTH TLS');
      expect(server.commands.filter((command) => /^(USER|PASS)\b/.test(command))).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('keeps the host name check when the pin matches', async () => {
    const identity = await serverIdentity(['ftp.example.org']);
    await withSimulator({ tls: identity }, async (other) => {
      const error = await rejection(
        ftpConnector(
          options(other, { ca: identity.cert, serverCertSha256: fingerprintOf(identity.cert) }),
        ).connect(),
      );
      expect(error).toBeInstanceOf(TransportTlsError);
      expect(error).toMatchObject({ problem: 'hostname-mismatch' });
    });
  });

  it.each([
    {
      title: 'a pin without FTPS',
      given: { secure: false, ca: undefined, serverCertSha256: WRONG },
      message: /FTP serverCertSha256 is a TLS setting: it needs secure: true/,
    },
    {
      title: 'a pin with insecure',
      given: { ca: undefined, insecure: true, serverCertSha256: WRONG },
      message: /insecure skips the certificate check, so the pinned serverCertSha256/,
    },
    {
      title: 'a pin that is not a SHA-256 fingerprint',
      given: { serverCertSha256: 'SHA256:abc' },
      message: /serverCertSha256 must be the SHA-256 fingerprint .*64 hex digits/,
    },
  ])('refuses $title when the connector is made', ({ given, message }) => {
    const make = () => ftpConnector(options(sim, given));
    expect(make).toThrow(TransportConfigError);
    expect(make).toThrow(message);
  });
});

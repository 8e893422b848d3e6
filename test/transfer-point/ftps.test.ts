/**
 * The FTPS mode of the local transfer point: explicit TLS on ftp-srv, its throwaway
 * certificate, the option checks, TLS session resumption on the data connections, and a set
 * judged as over plain FTP.
 */
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { Client } from 'basic-ftp';
import { SimulatorOptionsError, startSimulator, type Simulator } from '../../transfer-point';
import { makeIdentity } from '../helpers/pki';
import { connect, declarationXml, setNames, upload, uploadAll } from './helpers';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tls: true });
});
afterAll(async () => {
  await sim?.stop();
});

/** Runs `body` with an FTPS session on the simulator (certificate pinned), then closes it. */
async function withSession(body: (client: Client) => Promise<void>): Promise<void> {
  const client = await connect(sim);
  try {
    await body(client);
  } finally {
    client.close();
  }
}

/** Whether the data connection of a running transfer resumed the control session. */
function resumed(client: Client): boolean | undefined {
  const socket = client.ftp.dataSocket as
    (Socket & { isSessionReused?: () => boolean }) | undefined;
  return socket?.isSessionReused?.();
}

describe('simulator, explicit FTPS', () => {
  it('says ftps, and hands out the certificate it shows, made for its address', () => {
    expect(sim.protocol).toBe('ftps');
    expect(sim.url).toBe(`ftps://onss@127.0.0.1:${sim.port}`);
    const certificate = new X509Certificate(sim.caPem ?? '');
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certificate.checkHost('localhost')).toBe('localhost');
  });

  it('runs the control and every data connection in TLS, each data one resuming the session', () =>
    withSession(async (client) => {
      expect(client.ftp.hasTLS).toBe(true);
      await upload(client, '/OUT/resumption', Buffer.alloc(10_000, 0x41));
      const seen: Array<boolean | undefined> = [];
      for (let i = 0; i < 3; i += 1) {
        // Asked while the data connection is open: basic-ftp forgets it once the transfer ends.
        const sink = new Writable({
          write: (_chunk, _encoding, callback) => {
            seen.push(resumed(client));
            callback();
          },
        });
        await client.downloadTo(sink, '/OUT/resumption');
      }
      expect(seen.length).toBeGreaterThanOrEqual(3);
      expect(seen.every((value) => value === true)).toBe(true);
    }));

  it('judges a set uploaded over FTPS, its zero-byte GO included', () =>
    withSession(async (client) => {
      const names = setNames({ seq: '00001', env: 'T' });
      await uploadAll(client, 'INTEST', [
        [names.fi(1), declarationXml()],
        [names.go, ''],
      ]);
      const judgement = await sim.waitForJudgement((j) => j.goName === names.go);
      expect(judgement).toMatchObject({ accepted: true, codes: [] });
    }));

  it('a plain FTP simulator says ftp and has no certificate', async () => {
    const plain = await startSimulator();
    try {
      expect(plain.protocol).toBe('ftp');
      expect(plain.url).toMatch(/^ftp:\/\//);
      expect(plain.caPem).toBeUndefined();
    } finally {
      await plain.stop();
    }
  });

  it('refuses a tls option that cannot work, saying why', async () => {
    const [one, other] = await Promise.all([makeIdentity('rsa2048'), makeIdentity('ec256')]);
    const refused: Array<[unknown, RegExp]> = [
      ['yes', /options\.tls.*true .* or \{ key, cert \}/],
      [{ key: one.keyPem }, /options\.tls.*\{ key, cert \}/],
      [{ key: one.keyPem, cert: 'not a certificate' }, /cert is not a PEM certificate/],
      [{ key: 'not a key', cert: one.certPem }, /key is not a PEM private key/],
      [{ key: other.keyPem, cert: one.certPem }, /key is not the key of cert/],
    ];
    for (const [tls, message] of refused) {
      const error = await startSimulator({ tls: tls as true }).then(
        async (started) => {
          await started.stop();
          return undefined;
        },
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(SimulatorOptionsError);
      expect((error as Error).message).toMatch(message);
    }
  });
});

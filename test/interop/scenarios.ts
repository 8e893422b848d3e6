import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { createMemoryLedger, openSqliteLedger, type Ledger } from '../../shared/ledger';
import { todayInBrussels, type Environment } from '../../shared/names';
import { memoryNotifier } from '../../shared/notify';
import { pullResponses } from '../../shared/pull';
import { openFileSource } from '../../shared/send/source';
import { sendDeclaration } from '../../shared/send/send-declaration';
import { createSelfSigned, type SigningMaterial } from '../../shared/signing';
import { buildAcrfXml, createTlsIdentity } from '../../transfer-point';
import { localFolderStore } from '../../shared/store';
import { ftpConnector, type FtpConnectorOptions } from '../../shared/transport';
import { faultyConnector, type Fault } from '../helpers/faulty-transport';
import { opensslVerify, scratchDir } from '../helpers/pki';
import { rejection } from '../helpers/streams';
import type { InteropServer } from './harness';

/**
 * The transfer point's whole loop against a real server, the same for each one (vsftpd
 * FTPS, pure-ftpd plain and FTPS): send a signed multi-part declaration, put zero-byte
 * files, pull answers and delete them, and the refusals that must leave nothing behind (a
 * wrong password, an unknown CA, FTPS asked of a plain server). A session killed in the
 * middle of an upload is retried cleanly. Each test file starts its own server.
 */

/** Connector options for `server`: FTPS with its certificate pinned when it speaks FTPS. */
export function interopOptions(
  server: InteropServer,
  overrides: Partial<FtpConnectorOptions> = {},
): FtpConnectorOptions {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    secure: server.secure,
    ...(server.caPem === undefined ? {} : { ca: server.caPem }),
    timeoutMs: 5000,
    connectRetry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    operationRetry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    ...overrides,
  };
}

/** Adds the server's own log to a failure: its side of the story. */
export async function explained<T>(server: InteropServer, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof Error) error.message += `\n--- ${server.name} log ---\n${server.log()}`;
    throw error;
  }
}

/** Writes an answer set (FO, and GO unless told) in `folder` as the transfer point leaves it. */
export function writeAnswerSet(
  folder: string,
  seq: number,
  options: { go?: boolean; env?: Environment } = {},
): string {
  const env = options.env ?? 'T';
  const padded = String(seq).padStart(5, '0');
  const id = `ACRF.999999.20261125.${padded}.${env}`;
  const xml = buildAcrfXml({
    fileName: `GO.DMFA.123456.20261125.${padded}.${env}.1`,
    ticket: `${env}${seq}`,
    codes: [],
    createdAt: new Date(),
  });
  writeFileSync(join(folder, `FO.${id}`), xml);
  if (options.go !== false) writeFileSync(join(folder, `GO.${id}`), '');
  return id;
}

/** Registers the scenarios; `server()` gives the server the file started in beforeAll. */
export function transferPointScenarios(server: () => InteropServer): void {
  const today = todayInBrussels();
  const { dir, cleanup } = scratchDir('onss-interop-');
  let ledger: Ledger;
  let material: SigningMaterial;

  beforeAll(async () => {
    ledger = openSqliteLedger(join(dir, 'ledger.sqlite'));
    material = await createSelfSigned({ commonName: 'Interop Signer' });
  });
  afterAll(async () => {
    await ledger?.close();
    cleanup();
  });

  let counter = 0;
  /** A declaration file of its own content (a send never meets another's duplicate). */
  function declaration(workers: number): { path: string; size: number } {
    const path = join(dir, `decl-${++counter}.xml`);
    writeFileSync(
      path,
      sampleDmfaXml({ quarter: '20263', date: today, workers: workers + counter }),
    );
    return { path, size: readFileSync(path).length };
  }

  async function send(
    path: string,
    options: { faults?: Fault[]; partSize?: number; connector?: Partial<FtpConnectorOptions> } = {},
  ) {
    const connector = faultyConnector(
      ftpConnector(interopOptions(server(), options.connector)),
      options.faults ?? [],
    );
    const retries: string[] = [];
    const result = sendDeclaration(
      {
        source: await openFileSource(path),
        declaration: { app: 'DMFA', sender: '123456', env: 'R' },
        plan: { ...(options.partSize ? { partSize: options.partSize } : {}) },
      },
      {
        ledger,
        connector,
        material,
        retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
        onEvent: (event) => {
          if (event.type === 'retry') retries.push(`${event.name}: ${event.reason}`);
        },
      },
    );
    return { result, connector, retries };
  }

  const inbox = (): string[] => readdirSync(join(server().root, 'IN')).sort();
  const onDisk = (name: string): Buffer => readFileSync(join(server().root, 'IN', name));

  /** The parts on the server, concatenated, are the declaration; each FS verifies with OpenSSL. */
  function expectSetOnServer(
    plan: { parts: readonly { fi: string; fs?: string }[]; go: string },
    path: string,
  ) {
    expect(
      Buffer.concat(plan.parts.map((part) => onDisk(part.fi))).equals(readFileSync(path)),
    ).toBe(true);
    for (const part of plan.parts) {
      const root = join(server().root, 'IN');
      expect(opensslVerify(join(root, part.fi), join(root, part.fs as string)).ok).toBe(true);
    }
    expect(onDisk(plan.go).length).toBe(0);
  }

  it('sends a signed 3-part R declaration: parts concatenate, FS files verify, GO last and empty', () =>
    explained(server(), async () => {
      const { path, size } = declaration(60);
      const { result, connector } = await send(path, { partSize: Math.ceil(size / 3) });
      const { record, plan } = await result;
      expect(record.state).toBe('launched');
      expect(plan.parts).toHaveLength(3);
      const puts = connector.calls.filter((call) => call.startsWith('put '));
      expect(puts).toHaveLength(7);
      expect(puts.at(-1)).toBe(`put IN/${plan.go}`);
      expectSetOnServer(plan, path);
    }));

  it('puts twenty zero-byte files in a row on one session, each one 0 bytes on disk', () =>
    explained(server(), async () => {
      const transport = await ftpConnector(interopOptions(server())).connect();
      try {
        for (let i = 1; i <= 20; i += 1) {
          const remote = `INTEST/GO.DMFA.123456.20261125.${String(i).padStart(5, '0')}.T.1`;
          expect(await transport.put(Readable.from([]), remote)).toBe(0);
          expect(await transport.size(remote)).toBe(0);
        }
      } finally {
        await transport.close();
      }
      const gos = readdirSync(join(server().root, 'INTEST')).filter((n) => n.startsWith('GO.'));
      expect(gos).toHaveLength(20);
      for (const name of gos)
        expect(readFileSync(join(server().root, 'INTEST', name))).toEqual(Buffer.alloc(0));
    }));

  it('pulls complete answer sets (empty GO files too), leaves an incomplete one, deletes what it took', () =>
    explained(server(), async () => {
      const folder = join(server().root, 'OUTTEST');
      const complete = [writeAnswerSet(folder, 1), writeAnswerSet(folder, 2)];
      const waiting = writeAnswerSet(folder, 3, { go: false });
      const store = join(dir, 'answers');
      const report = await pullResponses(
        { environments: ['T'] },
        {
          ledger: createMemoryLedger(),
          connector: ftpConnector(interopOptions(server())),
          store: localFolderStore(store),
          notifier: memoryNotifier(),
        },
      );
      expect(report.failed).toEqual([]);
      expect(report.sets.map((set) => set.id)).toEqual(complete);
      expect(report.incomplete).toEqual([`OUTTEST/${waiting}`]);
      expect(readdirSync(folder)).toEqual([`FO.${waiting}`]);
      const kept = join(store, 'responses', 'T', '20261125', 'ACRF');
      expect(readdirSync(kept).sort()).toEqual(
        complete.flatMap((id) => [`FO.${id}`, `GO.${id}`]).sort(),
      );
      for (const id of complete) expect(readFileSync(join(kept, `GO.${id}`)).length).toBe(0);
    }));

  it('refuses a wrong password: TRANSPORT_AUTH, never shown, nothing sent', () =>
    explained(server(), async () => {
      const before = inbox();
      const wrong = `${server().password}-wrong`;
      const { path } = declaration(5);
      // pure-ftpd answers a wrong password only after a random sleep of up to 6 s (its
      // PASSWD_FAILURE_DELAY of 3 s, random, plus 3 s per failure): the reply must be
      // waited for, not taken for a silent server.
      const { result, connector } = await send(path, {
        connector: { password: wrong, timeoutMs: 20_000 },
      });
      const error = await rejection(result);
      expect(error).toMatchObject({ code: 'TRANSPORT_AUTH', transient: false });
      expect(error.message).not.toContain(wrong);
      expect(connector.calls).toEqual([]);
      expect(inbox()).toEqual(before);
    }));

  it('a session killed in the middle of an upload: the part is sent again and the set completes', () =>
    explained(server(), async () => {
      const { path, size } = declaration(80);
      const { result, connector, retries } = await send(path, {
        partSize: Math.ceil(size / 2),
        faults: [
          {
            op: 'put',
            path: /FI\..*\.2\.2$/,
            times: 1,
            afterBytes: 4096,
            act: () => server().dropSessions(),
          },
        ],
      });
      const { plan } = await result;
      expect(connector.calls.filter((call) => call === `put IN/${plan.parts[1]?.fi}`)).toHaveLength(
        2,
      );
      // The real failure (ECONNRESET, a premature close, a TLS record broken by a dying
      // process), met once and taken for a cut connection: retried with a new session.
      const [first, second] = plan.parts;
      expect(retries.filter((retried) => retried.startsWith(`${second?.fi}:`))).toHaveLength(1);
      // Every session is killed, and part 1 may still be closing or sending its FS on the
      // other session (part 2 flows beside it): that operation is retried too, nothing else.
      for (const retried of retries)
        expect([second?.fi, first?.fi, first?.fs]).toContain(
          retried.slice(0, retried.indexOf(':')),
        );
      expectSetOnServer(plan, path);
    }));
}

/** The refusals only an FTPS server can give. */
export function ftpsRefusalScenarios(server: () => InteropServer): void {
  it('refuses a certificate from an unknown CA: TRANSPORT_TLS, nothing sent', () =>
    explained(server(), async () => {
      const stranger = await createTlsIdentity('127.0.0.1', 'an unknown CA');
      const before = readdirSync(join(server().root, 'IN'));
      const error = await rejection(
        ftpConnector(interopOptions(server(), { ca: stranger.cert })).connect(),
      );
      expect(error).toMatchObject({
        code: 'TRANSPORT_TLS',
        problem: 'untrusted-certificate',
        transient: false,
      });
      expect(error.message).toMatch(/certificate is not trusted.*--ca-file/);
      expect(error.message).not.toContain(server().password);
      expect(readdirSync(join(server().root, 'IN'))).toEqual(before);
    }));

  it('refuses the system CAs alone (a self-signed server certificate): TRANSPORT_TLS', () =>
    explained(server(), async () => {
      const options = interopOptions(server());
      delete options.ca;
      const error = await rejection(ftpConnector(options).connect());
      expect(error).toMatchObject({ code: 'TRANSPORT_TLS', problem: 'untrusted-certificate' });
    }));

  it('connects with insecure (no certificate check), still encrypted', () =>
    explained(server(), async () => {
      const options = interopOptions(server(), { insecure: true });
      delete options.ca;
      const transport = await ftpConnector(options).connect();
      try {
        expect(Array.isArray(await transport.list('IN'))).toBe(true);
      } finally {
        await transport.close();
      }
    }));

  it('a plain FTP client is refused by the FTPS-only server', () =>
    explained(server(), async () => {
      const options = interopOptions(server(), { secure: false, connectRetry: { attempts: 1 } });
      delete options.ca;
      const error = await rejection(ftpConnector(options).connect());
      expect(error.transient === false || error.ftpCode === 421).toBe(true);
    }));
}

/** The refusal of a plain server to a client asking for FTPS. */
export function plainRefusalScenarios(server: () => InteropServer): void {
  it('FTPS asked of a plain server: TRANSPORT_TLS no-auth-tls, no login tried', () =>
    explained(server(), async () => {
      const error = await rejection(
        ftpConnector(interopOptions(server(), { secure: true, insecure: true })).connect(),
      );
      expect(error).toMatchObject({
        code: 'TRANSPORT_TLS',
        problem: 'no-auth-tls',
        transient: false,
      });
      expect(error.message).toMatch(/does not offer explicit TLS \(AUTH TLS\)/);
    }));
}

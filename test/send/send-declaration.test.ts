import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { createMemoryLedger } from '../../shared/ledger/memory';
import { DEFAULT_LEASE_MS, type DeclarationRecord, type Ledger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { openFileSource } from '../../shared/send/source';
import { LAUNCH_LEASE_MS } from '../../shared/send/launch';
import { sendDeclaration } from '../../shared/send/send-declaration';
import type { SendEvent } from '../../shared/send/send-types';
import { createSelfSigned, type SigningMaterial } from '../../shared/signing';
import { memoryConnector } from '../../shared/transport/memory';
import { TransportConnectError, TransportRefusedError } from '../../shared/transport';
import { faultyConnector, type Fault } from '../helpers/faulty-transport';
import { opensslVerify, scratchDir } from '../helpers/pki';

const { dir, cleanup } = scratchDir();
afterAll(cleanup);

const today = todayInBrussels();
// No real waits: neither between retries nor before a second look at a set left launching.
const FAST_RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, sleep: () => Promise.resolve() };
let material: SigningMaterial;
beforeAll(async () => {
  material = await createSelfSigned({ commonName: 'Pipeline Signer' });
});

let counter = 0;
function declarationFile(content: string | Buffer): string {
  const path = join(dir, `decl-${++counter}.xml`);
  writeFileSync(path, content);
  return path;
}

const dmfa = (workers = 20) => sampleDmfaXml({ quarter: '20263', date: today, workers });

interface Harness {
  ledger: Ledger;
  server: ReturnType<typeof memoryConnector>;
  connector: ReturnType<typeof faultyConnector>;
  events: SendEvent[];
}

function harness(
  faults: Fault[] = [],
  ledger = createMemoryLedger(),
  server = memoryConnector(),
): Harness {
  return { ledger, server, connector: faultyConnector(server, faults), events: [] };
}

async function send(
  h: Harness,
  path: string,
  options: {
    env?: 'R' | 'T' | 'S';
    partSize?: number;
    seq?: string;
    resend?: boolean;
    refuseAfterFailure?: boolean;
  } = {},
) {
  return sendDeclaration(
    {
      source: await openFileSource(path),
      declaration: {
        app: 'DMFA',
        sender: '123456',
        env: options.env ?? 'T',
        ...(options.seq ? { seq: options.seq } : {}),
      },
      plan: { ...(options.partSize ? { partSize: options.partSize } : {}) },
      ...(options.resend ? { resend: true } : {}),
      ...(options.refuseAfterFailure ? { refuseAfterFailure: true } : {}),
    },
    {
      ledger: h.ledger,
      connector: h.connector,
      material,
      retry: FAST_RETRY,
      onEvent: (event) => h.events.push(event),
    },
  );
}

const puts = (h: Harness) =>
  h.connector.calls.filter((c) => c.startsWith('put ')).map((c) => c.slice(4));
const remote = (h: Harness) => [...h.server.files.keys()].sort();

/**
 * A first send whose GO fails with `faults` (GO_UNCERTAIN, the set left launching), on a ledger
 * whose clock `pastLaunchLease` moves beyond the launch lease; `again` sends the same file anew.
 */
async function uncertainLaunch(
  faults: (server: ReturnType<typeof memoryConnector>) => Fault[],
): Promise<{
  ledger: Ledger;
  server: ReturnType<typeof memoryConnector>;
  again: () => Promise<{ h: Harness; result: Awaited<ReturnType<typeof send>> }>;
  path: string;
  pastLaunchLease: () => void;
}> {
  let at = Date.now();
  const ledger = createMemoryLedger({ now: () => new Date(at) });
  const server = memoryConnector();
  const path = declarationFile(dmfa());
  await expect(send(harness(faults(server), ledger, server), path)).rejects.toMatchObject({
    code: 'GO_UNCERTAIN',
  });
  return {
    ledger,
    server,
    path,
    pastLaunchLease: () => {
      at += LAUNCH_LEASE_MS + 1;
    },
    again: async () => {
      const h = harness([], ledger, server);
      return { h, result: await send(h, path) };
    },
  };
}

describe('sendDeclaration', () => {
  it('sends a T declaration as FI then GO, and records it launched', async () => {
    const h = harness();
    const path = declarationFile(dmfa());
    const result = await send(h, path);
    const set = `DMFA.123456.${today}.00001.T`;
    expect(puts(h)).toEqual([`INTEST/FI.${set}.1.1`, `INTEST/GO.${set}.1`]);
    expect(h.server.files.get(`INTEST/FI.${set}.1.1`)?.equals(readFileSync(path))).toBe(true);
    expect(h.server.files.get(`INTEST/GO.${set}.1`)?.length).toBe(0);
    expect(result.record).toMatchObject({ id: set, state: 'launched', attempt: 1 });
    expect(result.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
  });

  it('cuts an R declaration into signed parts that concatenate to the source; GO last', async () => {
    const h = harness();
    const path = declarationFile(dmfa(40));
    const size = readFileSync(path).length;
    const partSize = Math.ceil(size / 4);
    const result = await send(h, path, { env: 'R', partSize });
    const set = `DMFA.123456.${today}.00001.R`;
    // Part k+1 flows while part k closes and its FS goes up (two sessions): the parts start in
    // order, each FS follows its FI, and the GO comes last, once.
    const order = puts(h);
    expect([...order].sort()).toEqual(
      [
        ...[1, 2, 3, 4].flatMap((i) => [`IN/FI.${set}.4.${i}`, `IN/FS.${set}.4.${i}`]),
        `IN/GO.${set}.4`,
      ].sort(),
    );
    expect(order[order.length - 1]).toBe(`IN/GO.${set}.4`);
    const at = (name: string) => order.indexOf(`IN/${name}`);
    for (const i of [1, 2, 3, 4]) {
      expect(at(`FS.${set}.4.${i}`)).toBeGreaterThan(at(`FI.${set}.4.${i}`));
      if (i > 1) expect(at(`FI.${set}.4.${i}`)).toBeGreaterThan(at(`FI.${set}.4.${i - 1}`));
    }
    const parts = [1, 2, 3, 4].map((i) => h.server.files.get(`IN/FI.${set}.4.${i}`) as Buffer);
    expect(Buffer.concat(parts).equals(readFileSync(path))).toBe(true);
    for (const i of [1, 2, 3, 4]) {
      const fi = join(dir, `part-${i}`);
      const fs = join(dir, `part-${i}.fs`);
      writeFileSync(fi, parts[i - 1] as Buffer);
      writeFileSync(fs, h.server.files.get(`IN/FS.${set}.4.${i}`) as Buffer);
      expect(opensslVerify(fi, fs).ok).toBe(true);
    }
    expect(result.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
    expect(result.record.files.map((f) => f.role)).toEqual([
      'FI',
      'FS',
      'FI',
      'FS',
      'FI',
      'FS',
      'FI',
      'FS',
      'GO',
    ]);
  });

  it.each([
    {
      title: 'malformed XML at the very end',
      content: () => dmfa(30).replace('</DmfAOriginal>', ''),
      code: 'ACRF-102',
    },
    {
      title: 'the wrong form',
      content: () => dmfa(30).replace('<Identification>DMFA<', '<Identification>DIMONA<'),
      code: 'ACRF-158',
    },
  ])(
    'refuses $title: no GO, uploaded parts removed, failure recorded',
    async ({ content, code }) => {
      const h = harness();
      const path = declarationFile(content());
      const partSize = Math.ceil(readFileSync(path).length / 3);
      await expect(send(h, path, { partSize })).rejects.toMatchObject({ code });
      expect(puts(h).some((p) => p.includes('/GO.'))).toBe(false);
      expect(remote(h)).toEqual([]);
      const [record] = await h.ledger.list();
      expect(record).toMatchObject({ state: 'failed', failure: { code } });
      expect(h.events).toContainEqual({
        type: 'abandoned',
        setId: record?.id,
        code,
        message: expect.any(String),
      });
    },
  );

  it('a source whose set failed: sent again under a new name when a person asks, refused with EARLIER_FAILURE for a sender that does not retry refusals', async () => {
    const h = harness();
    const path = declarationFile(dmfa(30).replace('</DmfAOriginal>', ''));
    await expect(send(h, path)).rejects.toMatchObject({ code: 'ACRF-102' });
    const [failed] = await h.ledger.list();

    // A queue-driven sender: nothing claimed, nothing uploaded, the failed set named.
    const before = h.connector.calls.length;
    await expect(send(h, path, { refuseAfterFailure: true })).rejects.toMatchObject({
      code: 'EARLIER_FAILURE',
      record: { id: failed?.id },
    });
    expect(h.connector.calls).toHaveLength(before);
    expect(await h.ledger.list()).toHaveLength(1);

    // A person running send again: a new set (the content is still refused, under its own name).
    await expect(send(h, path)).rejects.toMatchObject({ code: 'ACRF-102' });
    expect((await h.ledger.list()).map((record) => record.state)).toEqual(['failed', 'failed']);
  });

  it('refuses to send the same source twice, and sends it with resend', async () => {
    const h = harness();
    const path = declarationFile(dmfa());
    await send(h, path);
    const before = puts(h).length;
    await expect(send(h, path)).rejects.toMatchObject({ code: 'DUPLICATE_SOURCE' });
    expect(puts(h)).toHaveLength(before);
    const again = await send(h, path, { resend: true });
    expect(again.record.id).toBe(`DMFA.123456.${today}.00002.T`);
  });

  it('refuses the same bytes from another file before GO (DUPLICATE_CONTENT)', async () => {
    const h = harness();
    const content = dmfa();
    await send(h, declarationFile(content));
    await expect(send(h, declarationFile(content))).rejects.toMatchObject({
      code: 'DUPLICATE_CONTENT',
    });
    expect(remote(h).filter((p) => p.includes('.00002.'))).toEqual([]);
  });

  it('refuses a name already sent (ACRF-133)', async () => {
    const h = harness();
    await send(h, declarationFile(dmfa(3)), { seq: '00007' });
    await expect(send(h, declarationFile(dmfa(4)), { seq: '00007' })).rejects.toMatchObject({
      code: 'ACRF-133',
    });
  });

  it('allocates sequences in order', async () => {
    const h = harness();
    const a = await send(h, declarationFile(dmfa(1)));
    const b = await send(h, declarationFile(dmfa(2)));
    expect([a.record.key.seq, b.record.key.seq]).toEqual(['00001', '00002']);
  });

  it('retries a part whose upload dies half-way, feeding each byte to the checks once', async () => {
    const h = harness([{ op: 'put', path: /FI\..*\.3\.2$/, times: 1, afterBytes: 500 }]);
    const path = declarationFile(dmfa(30));
    const size = readFileSync(path).length;
    const result = await send(h, path, { partSize: Math.ceil(size / 3) });
    expect(result.record.state).toBe('launched');
    expect(h.events.filter((e) => e.type === 'retry')).toHaveLength(1);
    // Had the XML checker or the source hash seen bytes twice, these would fail.
    expect(result.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
  });

  it('a network failure that outlasts the retries leaves the set resumable; the next run finishes it', async () => {
    const ledger = createMemoryLedger();
    const path = declarationFile(dmfa(30));
    const size = readFileSync(path).length;
    const first = harness([{ op: 'put', path: /FS\..*\.2\.2$/, times: 10 }], ledger);
    await expect(
      send(first, path, { env: 'R', partSize: Math.ceil(size / 2) }),
    ).rejects.toMatchObject({
      code: 'TRANSPORT_CONNECT',
    });
    const [stuck] = await ledger.list();
    expect(stuck?.state).toBe('uploading');
    expect(puts(first).some((p) => p.includes('/GO.'))).toBe(false);

    const second = harness([], ledger);
    const result = await send(second, path, { env: 'R', partSize: Math.ceil(size / 2) });
    expect(result).toMatchObject({
      resumed: true,
      record: { id: stuck?.id, state: 'launched', attempt: 2 },
    });
    expect(puts(second).filter((p) => p.includes('/GO.'))).toHaveLength(1);
  });

  it('a GO whose reply is lost but which arrived is not sent twice', async () => {
    const h = harness([{ op: 'put', path: /GO\./, times: 1, landAnyway: true }]);
    const result = await send(h, declarationFile(dmfa()));
    expect(result.record.state).toBe('launched');
    expect(puts(h).filter((p) => p.includes('/GO.'))).toHaveLength(1);
  });

  it.each([
    { title: 'a reset after the GO went out', error: () => new TransportConnectError('reset', {}) },
    { title: 'a refusal', error: () => new TransportRefusedError('552 refused', 552) },
  ])(
    'a GO whose fate is unknown ($title) waits for the launch lease, then goes once, when absent',
    async ({ error }) => {
      const first = await uncertainLaunch(() => [{ op: 'put', path: /GO\./, times: 1, error }]);
      const [record] = await first.ledger.list();
      expect(record?.state).toBe('launching');

      // While the first run's launch lease runs, a second run touches nothing.
      const early = harness([], first.ledger, first.server);
      await expect(send(early, first.path)).rejects.toMatchObject({ code: 'LAUNCH_IN_PROGRESS' });
      expect(early.connector.calls).toEqual([]);

      // Once it has ended, the set is complete on the server without a GO: the GO goes, once.
      first.pastLaunchLease();
      const { h, result } = await first.again();
      expect(result).toMatchObject({
        resumed: true,
        record: { id: record?.id, state: 'launched' },
      });
      expect(puts(h)).toEqual([expect.stringMatching(/\/GO\./)]);
      expect(remote(h).filter((name) => name.includes('/GO.'))).toHaveLength(1);
      await expect(first.again()).rejects.toMatchObject({ code: 'DUPLICATE_SOURCE' });
    },
  );

  it('a GO that arrived, though neither its reply nor a SIZE said so, is never sent again', async () => {
    const first = await uncertainLaunch(() => [
      { op: 'put', path: /GO\./, times: 1, landAnyway: true },
      { op: 'size', path: /GO\./, times: 1 },
    ]);
    first.pastLaunchLease();
    const { h, result } = await first.again();
    expect(result.record.state).toBe('launched');
    expect(puts(h)).toEqual([]);
  });

  it('a set the transfer point took away (its GO went out) is recorded launched, no GO sent', async () => {
    // The GO lands, its reply is lost, and the server takes the set away at once: no SIZE
    // can find the GO any more.
    const first = await uncertainLaunch((server) => [
      {
        op: 'put',
        path: /GO\./,
        times: 1,
        landAnyway: true,
        error: () => {
          server.files.clear();
          return new TransportConnectError('reset', {});
        },
      },
    ]);
    first.pastLaunchLease();
    const { h, result } = await first.again();
    expect(result.record.state).toBe('launched');
    expect(puts(h)).toEqual([]);
  });

  it('a resumed set keeps the plan it was claimed with, whatever the new flags say', async () => {
    const ledger = createMemoryLedger();
    const server = memoryConnector();
    const path = declarationFile(dmfa(30));
    const partSize = Math.ceil(readFileSync(path).length / 2);
    const first = {
      ledger,
      server,
      connector: faultyConnector(server, [{ op: 'put', path: /FI\..*\.2\.2$/, times: 10 }]),
      events: [],
    };
    await expect(send(first, path, { env: 'R', partSize })).rejects.toMatchObject({
      code: 'TRANSPORT_CONNECT',
    });
    const second = {
      ledger,
      server,
      connector: faultyConnector(server, []),
      events: [] as SendEvent[],
    };
    const result = await send(second, path, { env: 'R', partSize: partSize * 2 });
    expect(result).toMatchObject({ resumed: true, plan: { nparts: 2 } });
    expect([...server.files.keys()].filter((k) => k.includes('/FI.'))).toHaveLength(2);
  });

  it('removes a file of the set that is not in the plan before the GO', async () => {
    const h = harness();
    const set = `DMFA.123456.${today}.00001.T`;
    h.server.files.set(`INTEST/FS.${set}.1.1`, Buffer.from('stray signature'));
    const result = await send(h, declarationFile(dmfa()));
    expect(result.plan.signed).toBe(false);
    expect(remote(h)).toEqual([`INTEST/FI.${set}.1.1`, `INTEST/GO.${set}.1`]);
    expect(h.events).toContainEqual({ type: 'cleanup', name: `FS.${set}.1.1` });
  });

  it('a changed file sent again retires the unlaunched set of its older version', async () => {
    const ledger = createMemoryLedger();
    const server = memoryConnector();
    const path = declarationFile(dmfa(30));
    const partSize = Math.ceil(readFileSync(path).length / 2);
    const stuck = {
      ledger,
      server,
      connector: faultyConnector(server, [{ op: 'put', path: /FI\..*\.2\.2$/, times: 10 }]),
      events: [],
    };
    await expect(send(stuck, path, { partSize })).rejects.toMatchObject({
      code: 'TRANSPORT_CONNECT',
    });
    writeFileSync(path, dmfa(31)); // a corrected file at the same path
    const result = await send(
      { ledger, server, connector: faultyConnector(server, []), events: [] },
      path,
    );
    const [older] = await ledger.list({ state: 'failed' });
    expect(older).toMatchObject({
      id: `DMFA.123456.${today}.00001.T`,
      failure: { code: 'SOURCE_REPLACED' },
    });
    expect(result.record.id).toBe(`DMFA.123456.${today}.00002.T`);
    expect([...server.files.keys()].filter((k) => k.includes('.00001.'))).toEqual([]);
  });

  it('records the files it could not remove after a refusal', async () => {
    const h = harness([
      {
        op: 'delete',
        path: /FI\..*\.3\.1$/,
        times: 5,
        error: () => new TransportRefusedError('550 denied', 550),
      },
    ]);
    const path = declarationFile(dmfa(30).replace('</DmfAOriginal>', ''));
    await expect(
      send(h, path, { partSize: Math.ceil(readFileSync(path).length / 3) }),
    ).rejects.toMatchObject({ code: 'ACRF-102' });
    const [record] = await h.ledger.list();
    expect(record?.state).toBe('failed');
    expect(record?.failure?.message).toMatch(/could not be removed.*FI\..*\.3\.1/);
  });

  it('refuses a source that changes while it is sent, and removes what was uploaded', async () => {
    const h = harness();
    const path = declarationFile(dmfa(10));
    const source = await openFileSource(path);
    appendFileSync(path, '<!-- changed -->');
    await expect(
      sendDeclaration(
        { source, declaration: { app: 'DMFA', sender: '123456', env: 'T' } },
        { ledger: h.ledger, connector: h.connector, retry: FAST_RETRY },
      ),
    ).rejects.toMatchObject({ code: 'SOURCE_CHANGED' });
    expect(remote(h)).toEqual([]);
  });

  it.each([
    { title: 'an empty file', content: '', options: {}, code: 'ACRF-134' },
    { title: 'ten parts', content: 'x'.repeat(1001), options: { partSize: 100 }, code: 'ACRF-128' },
  ])('refuses $title before connecting or claiming', async ({ content, options, code }) => {
    const h = harness();
    await expect(send(h, declarationFile(content), options)).rejects.toMatchObject({ code });
    expect(h.connector.calls).toEqual([]);
    expect(await h.ledger.list()).toEqual([]);
  });

  it('two runs of one file started at once: one launches, the other is refused SEND_IN_PROGRESS', async () => {
    // Prepare: one ledger, one server, each run with its own connection; both sources opened
    // first so the two sends start in the same tick and reach the ledger in lockstep
    const ledger = createMemoryLedger();
    const server = memoryConnector();
    const path = declarationFile(dmfa(30));
    const bytes = readFileSync(path);
    const partSize = Math.ceil(bytes.length / 3);
    const runs = [harness([], ledger), harness([], ledger)].map((h) => ({
      ...h,
      server,
      connector: faultyConnector(server, []),
    }));
    const sources = await Promise.all(runs.map(() => openFileSource(path)));

    // Act
    const outcomes = await Promise.allSettled(
      runs.map((h, i) =>
        sendDeclaration(
          {
            source: sources[i] as Awaited<ReturnType<typeof openFileSource>>,
            declaration: { app: 'DMFA', sender: '123456', env: 'T' },
            plan: { partSize },
          },
          { ledger, connector: h.connector, material, retry: FAST_RETRY },
        ),
      ),
    );

    // Assess: exactly one launched, the other refused before it touched the server
    const winner = outcomes.findIndex((o) => o.status === 'fulfilled');
    const loser = outcomes.findIndex((o) => o.status === 'rejected');
    expect([winner, loser].sort()).toEqual([0, 1]);
    const launched = outcomes[winner] as PromiseFulfilledResult<
      Awaited<ReturnType<typeof sendDeclaration>>
    >;
    const refused = outcomes[loser] as PromiseRejectedResult;
    const set = launched.value.record.id;
    expect(refused.reason).toMatchObject({ code: 'SEND_IN_PROGRESS' });
    expect((refused.reason as Error).message).toContain(set);
    expect(runs[loser]?.connector.calls).toEqual([]);
    // ...and the server holds one complete set, its parts the source's bytes, one GO
    expect([...server.files.keys()].sort()).toEqual([
      `INTEST/FI.${set}.3.1`,
      `INTEST/FI.${set}.3.2`,
      `INTEST/FI.${set}.3.3`,
      `INTEST/GO.${set}.3`,
    ]);
    const parts = [1, 2, 3].map((i) => server.files.get(`INTEST/FI.${set}.3.${i}`) as Buffer);
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    const records = await ledger.list({ includeSuperseded: true });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ id: set, state: 'launched', attempt: 1 });
    expect(records[0]?.owner).toBeUndefined();
    expect(records[0]?.leaseUntil).toBeUndefined();
  });

  it('a run whose lease another run took over stops before the GO and removes nothing', async () => {
    // Prepare: before part 2, run A's lease runs out and run B takes the set over
    let clock = Date.parse('2026-07-01T08:00:00Z');
    const ledger = createMemoryLedger({ now: () => new Date(clock) });
    // The run checks it still holds the set before each part (a read); the second check, before
    // part 2, is where run B takes it over.
    let checks = 0;
    const stalling: Ledger = {
      ...ledger,
      get: async (id) => {
        checks += 1;
        if (checks === 2) {
          clock += DEFAULT_LEASE_MS;
          const set = (await ledger.get(id)) as DeclarationRecord;
          const { key, nparts, folder, source, files } = set;
          await ledger.claim({ key, nparts, folder, source, files }, { owner: 'run-b' });
        }
        return ledger.get(id);
      },
    };
    const h = harness([], ledger);
    const path = declarationFile(dmfa(30));
    const partSize = Math.ceil(readFileSync(path).length / 3);

    // Act
    const outcome = sendDeclaration(
      {
        source: await openFileSource(path),
        declaration: { app: 'DMFA', sender: '123456', env: 'T' },
        plan: { partSize },
      },
      { ledger: stalling, connector: h.connector, retry: FAST_RETRY },
    );

    // Assess: A stopped after part 1, left it on the server for B, and never sent a GO
    await expect(outcome).rejects.toMatchObject({ code: 'LEASE_LOST' });
    const set = `DMFA.123456.${today}.00001.T`;
    expect(puts(h)).toEqual([`INTEST/FI.${set}.3.1`]);
    expect(remote(h)).toEqual([`INTEST/FI.${set}.3.1`]);
    expect(await ledger.get(set)).toMatchObject({ state: 'uploading', owner: 'run-b', attempt: 2 });
  });

  it('refuses R without signing material', async () => {
    const h = harness();
    const source = await openFileSource(declarationFile(dmfa()));
    await expect(
      sendDeclaration(
        { source, declaration: { app: 'DMFA', sender: '123456', env: 'R' } },
        { ledger: h.ledger, connector: h.connector },
      ),
    ).rejects.toMatchObject({ code: 'SIGNING_MATERIAL_REQUIRED' });
    expect(h.connector.calls).toEqual([]);
  });
});

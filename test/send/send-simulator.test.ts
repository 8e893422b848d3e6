import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { createMemoryLedger, type Ledger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { openFileSource, sendDeclaration } from '../../shared/send';
import { createSelfSigned, type SigningMaterial } from '../../shared/signing';
import { startSimulator, type Simulator } from '../../transfer-point';
import { ftpConnector } from '../../shared/transport';
import { scratchDir } from '../helpers/pki';

// The send pipeline against the local transfer point: the answers say whether
// what we sent is what the reception wants.
const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-send-sim-');
let simulator: Simulator;
let material: SigningMaterial;
let ledger: Ledger;

beforeAll(async () => {
  material = await createSelfSigned({ commonName: 'Simulator Test Signer' });
  simulator = await startSimulator({ trustedCertificates: [fingerprint(material)] });
  // One ledger for the file: the transfer point remembers accepted names, so must we.
  ledger = createMemoryLedger();
});
afterAll(async () => {
  await simulator?.stop();
  cleanup();
});

function fingerprint(m: SigningMaterial): string {
  return m.certificate.fingerprint256;
}

let counter = 0;
function declaration(content: string | Buffer): string {
  const path = join(dir, `decl-${++counter}`);
  writeFileSync(path, content);
  return path;
}

async function send(path: string, env: 'R' | 'T' | 'S', partSize?: number, signer = material) {
  return sendDeclaration(
    {
      source: await openFileSource(path),
      declaration: { app: 'DMFA', sender: '123456', env },
      plan: { ...(partSize ? { partSize } : {}) },
    },
    {
      ledger,
      connector: ftpConnector({
        host: simulator.host,
        port: simulator.port,
        user: simulator.user,
        password: simulator.password,
      }),
      material: signer,
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
    },
  );
}

describe('send to the local transfer point', () => {
  it('a signed multi-part R declaration is accepted', async () => {
    const path = declaration(sampleDmfaXml({ quarter: '20263', date: today, workers: 50 }));
    const result = await send(path, 'R', Math.ceil(readFileSync(path).length / 3));
    const verdict = await simulator.waitForJudgement((j) => j.goName === result.plan.go);
    expect(verdict).toMatchObject({ accepted: true, codes: [] });
    expect(simulator.files('IN')).toEqual([]);
  });

  it('a T declaration without FS is accepted (the FAQ rule)', async () => {
    const result = await send(
      declaration(sampleDmfaXml({ quarter: '20263', date: today, workers: 3 })),
      'T',
    );
    expect(result.plan.signed).toBe(false);
    const verdict = await simulator.waitForJudgement((j) => j.goName === result.plan.go);
    expect(verdict.accepted).toBe(true);
  });

  it('an untrusted signer gets ACRF-153 from the transfer point', async () => {
    const stranger = await createSelfSigned({ commonName: 'Stranger' });
    const result = await send(
      declaration(sampleDmfaXml({ quarter: '20263', date: today, workers: 4 })),
      'R',
      undefined,
      stranger,
    );
    const verdict = await simulator.waitForJudgement((j) => j.goName === result.plan.go);
    expect(verdict).toMatchObject({ accepted: false, codes: [153] });
  });

  it.each([
    {
      title: 'invalid XML',
      content: () =>
        sampleDmfaXml({ quarter: '20263', date: today, workers: 9 }).replace('<Form>', '<Form'),
      code: 'ACRF-102',
    },
    { title: 'an empty file', content: () => '', code: 'ACRF-134' },
  ])('$title is refused here: nothing reaches the transfer point', async ({ content, code }) => {
    const judged = simulator.judgements.length;
    await expect(send(declaration(content()), 'T')).rejects.toMatchObject({ code });
    await simulator.idle();
    expect(simulator.files('INTEST')).toEqual([]);
    expect(simulator.judgements).toHaveLength(judged);
  });

  it('an upload the server cuts is retried; the set is judged once, accepted', async () => {
    const path = declaration(sampleDmfaXml({ quarter: '20263', date: today, workers: 300 }));
    simulator.dropAfterBytes(64 * 1024);
    const result = await send(path, 'R');
    const verdict = await simulator.waitForJudgement((j) => j.goName === result.plan.go);
    expect(verdict.accepted).toBe(true);
    expect(simulator.judgements.filter((j) => j.goName === result.plan.go)).toHaveLength(1);
  });
});

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { openSqliteLedger, type Ledger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { openFileSource } from '../../shared/send/source';
import { sendDeclaration } from '../../shared/send/send-declaration';
import { createSelfSigned, type SigningMaterial } from '../../shared/signing';
import { ftpConnector } from '../../shared/transport';
import { faultyConnector, type Fault } from '../helpers/faulty-transport';
import { opensslVerify, scratchDir } from '../helpers/pki';
import { startVsftpd, type Vsftpd } from './vsftpd';

// The send pipeline against Debian's vsftpd: a real server, real passive
// data connections, real files on disk.
const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-send-vsftpd-');
let server: Vsftpd;
let ledger: Ledger;
let material: SigningMaterial;

beforeAll(async () => {
  server = await startVsftpd();
  ledger = openSqliteLedger(join(dir, 'ledger.sqlite'));
  material = await createSelfSigned({ commonName: 'Interop Signer' });
});
afterAll(async () => {
  await ledger?.close();
  await server?.stop();
  cleanup();
});

let counter = 0;
function declaration(content: string): string {
  const path = join(dir, `decl-${++counter}.xml`);
  writeFileSync(path, content);
  return path;
}

async function send(path: string, options: { faults?: Fault[]; partSize?: number } = {}) {
  const connector = faultyConnector(
    ftpConnector({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
    }),
    options.faults ?? [],
  );
  const result = sendDeclaration(
    {
      source: await openFileSource(path),
      declaration: { app: 'DMFA', sender: '123456', env: 'R' },
      plan: { ...(options.partSize ? { partSize: options.partSize } : {}) },
    },
    { ledger, connector, material, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } },
  );
  return { result, connector };
}

const inbox = () => readdirSync(join(server.root, 'IN')).sort();

describe('send to vsftpd', () => {
  it('sends a multi-part R declaration: parts concatenate, every FS passes OpenSSL, GO last', async () => {
    const path = declaration(sampleDmfaXml({ quarter: '20263', date: today, workers: 60 }));
    const size = readFileSync(path).length;
    const { result, connector } = await send(path, { partSize: Math.ceil(size / 3) });
    const { record, plan } = await result;
    expect(record.state).toBe('launched');
    const puts = connector.calls.filter((c) => c.startsWith('put '));
    expect(puts.at(-1)).toBe(`put IN/${plan.go}`);
    const parts = plan.parts.map((p) => readFileSync(join(server.root, 'IN', p.fi)));
    expect(Buffer.concat(parts).equals(readFileSync(path))).toBe(true);
    for (const part of plan.parts) {
      expect(
        opensslVerify(join(server.root, 'IN', part.fi), join(server.root, 'IN', part.fs as string))
          .ok,
      ).toBe(true);
    }
    expect(readFileSync(join(server.root, 'IN', plan.go)).length).toBe(0);
  });

  it('refuses an invalid declaration and leaves no file behind', async () => {
    const before = inbox();
    const path = declaration(
      sampleDmfaXml({ quarter: '20263', date: today, workers: 60 }).replace('</Form>', ''),
    );
    const size = readFileSync(path).length;
    const { result } = await send(path, { partSize: Math.ceil(size / 2) });
    await expect(result).rejects.toMatchObject({ code: 'ACRF-102' });
    expect(inbox()).toEqual(before);
  });

  it('an upload cut half-way is retried and the set completes', async () => {
    const path = declaration(sampleDmfaXml({ quarter: '20263', date: today, workers: 80 }));
    const size = readFileSync(path).length;
    const { result, connector } = await send(path, {
      partSize: Math.ceil(size / 2),
      faults: [{ op: 'put', path: /FI\..*\.2\.2$/, times: 1, afterBytes: 4096 }],
    });
    const { plan } = await result;
    expect(connector.calls.filter((c) => c === `put IN/${plan.parts[1]?.fi}`)).toHaveLength(2);
    const parts = plan.parts.map((p) => readFileSync(join(server.root, 'IN', p.fi)));
    expect(Buffer.concat(parts).equals(readFileSync(path))).toBe(true);
  });

  it('refuses to send the same file twice', async () => {
    const path = declaration(sampleDmfaXml({ quarter: '20263', date: today, workers: 5 }));
    await (
      await send(path)
    ).result;
    const before = inbox();
    const { result, connector } = await send(path);
    await expect(result).rejects.toMatchObject({ code: 'DUPLICATE_SOURCE' });
    expect(connector.calls).toEqual([]);
    expect(inbox()).toEqual(before);
  });
});

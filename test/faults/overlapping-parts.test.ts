/**
 * A multi-part send uploads part k+1 on a second session while the server closes part k. This
 * cuts that second data connection just then (the fault runs' `cut-overlapping`), against a
 * scripted server that takes its time to close part 1, so the overlap is certain: the part
 * is sent again, the set is launched once, whole and in order.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { createMemoryLedger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { sendDeclaration } from '../../shared/send/send-declaration';
import { openFileSource } from '../../shared/send/source';
import { ftpConnector } from '../../shared/transport';
import { startScriptedFtp, type ScriptedFtpServer } from '../hostile/helpers/scripted-ftp';
import { scratchDir } from '../helpers/pki';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

const FAST_RETRY = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 };

let server: ScriptedFtpServer;
let proxy: FaultProxy;
const scratch = scratchDir();

beforeEach(async () => {
  // Part 1 closes slowly: part 2 is flowing on the other session meanwhile.
  server = await startScriptedFtp({ closeMs: (path) => (/FI\.[^/]*\.1$/.test(path) ? 400 : 0) });
  proxy = await startFaultProxy({ targetPort: server.port, ftp: true });
});
afterEach(async () => {
  await proxy?.close();
  await server?.close();
});
afterAll(() => scratch.cleanup());

it('cut of the second session while part 1 closes: part 2 sent again, one GO, the set whole', async () => {
  const path = join(scratch.dir, 'dmfa.xml');
  writeFileSync(path, sampleDmfaXml({ quarter: '20263', date: todayInBrussels(), workers: 400 }));
  const source = readFileSync(path);
  proxy.arm({ kind: 'cut-overlapping' });

  const result = await sendDeclaration(
    {
      source: await openFileSource(path),
      declaration: { app: 'DMFA', sender: '123456', env: 'T' },
      plan: { partSize: Math.ceil(source.length / 2) },
    },
    {
      ledger: createMemoryLedger(),
      connector: ftpConnector({
        host: '127.0.0.1',
        port: proxy.port,
        user: server.user,
        password: server.password,
        timeoutMs: 3000,
        connectRetry: FAST_RETRY,
        operationRetry: { attempts: 1, baseDelayMs: 5, maxDelayMs: 20 },
      }),
      retry: { ...FAST_RETRY, sleep: () => Promise.resolve() },
    },
  );

  expect(proxy.stats.fired).toEqual(['cut data up while another upload closes']);
  expect(proxy.stats.controlConnections).toBeGreaterThanOrEqual(2); // two sessions
  const set = `DMFA.123456.${todayInBrussels()}.00001.T`;
  const stored = server.stored();
  // Part 2 went up twice (cut, then whole); the GO once, last.
  expect(stored.filter((name) => name === `INTEST/FI.${set}.2.2`)).toHaveLength(2);
  expect(stored.filter((name) => name.startsWith('INTEST/GO.'))).toEqual([`INTEST/GO.${set}.2`]);
  expect(stored[stored.length - 1]).toBe(`INTEST/GO.${set}.2`);
  const parts = [1, 2].map((i) => server.files.get(`INTEST/FI.${set}.2.${i}`) as Buffer);
  expect(Buffer.concat(parts).equals(source)).toBe(true);
  expect(result.record.state).toBe('launched');
  expect(result.sha256).toBe(createHash('sha256').update(source).digest('hex'));
});

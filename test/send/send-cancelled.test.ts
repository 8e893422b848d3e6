/**
 * A set an operator cancels while a run is sending it (a run whose lease lapsed, say, stuck on
 * a slow line): the run stops at its next ledger step, before its GO, and says it was
 * cancelled rather than showing the lease or state conflict the cancel caused.
 */
import type { Readable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { createMemoryLedger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { cancelDeclaration } from '../../shared/operations';
import { classifySendFailure, SetCancelledError } from '../../shared/send';
import { sendDeclaration } from '../../shared/send/send-declaration';
import { openFileSource } from '../../shared/send/source';
import { memoryConnector } from '../../shared/transport/memory';
import type { TransportConnector } from '../../shared/transport';
import { scratchDir } from '../helpers/pki';

const { dir, cleanup } = scratchDir();
afterAll(cleanup);
const today = todayInBrussels();

it('stops before the GO and says the set was cancelled when it is cancelled mid-run', async () => {
  // Prepare: the first upload of the run cancels its set, as an operator would
  const ledger = createMemoryLedger();
  const files = new Map<string, Buffer>();
  const tds = new Map<string, Buffer>();
  const memory = memoryConnector(files);
  const id = `DMFA.123456.${today}.00001.T`;
  const cancelling: TransportConnector = {
    describe: () => memory.describe(),
    async connect() {
      const transport = await memory.connect();
      return {
        ...transport,
        async put(source: Readable, path: string) {
          const written = await transport.put(source, path);
          const current = await ledger.get(id);
          if (current?.state === 'uploading' && current.owner !== undefined) {
            // The run's lease lapses (a stalled line), and an operator cancels the set.
            await ledger.releaseLease(id, current.owner);
            await cancelDeclaration(id, { ledger, connector: memoryConnector(tds) });
          }
          return written;
        },
      };
    },
  };
  const path = join(dir, 'dmfa.xml');
  writeFileSync(path, sampleDmfaXml({ quarter: '20263', date: today, workers: 3 }));

  // Act
  const run = sendDeclaration(
    {
      source: await openFileSource(path),
      declaration: { app: 'DMFA', sender: '123456', env: 'T' },
    },
    { ledger, connector: cancelling },
  );

  // Assess: the cancel's message and code; no GO; the set stays cancelled; a queue drops it
  const error = await run.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SetCancelledError);
  expect(error).toMatchObject({ code: 'CANCELLED' });
  expect((error as Error).message).toMatch(
    new RegExp(`^${id} was cancelled at .* it will never be launched$`),
  );
  expect([...files.keys()].some((name) => name.includes('/GO.'))).toBe(false);
  expect((await ledger.get(id))?.state).toBe('cancelled');
  expect([...tds.keys()]).toEqual([`INTEST/TD.${id}.1`]);
  expect(classifySendFailure(error)).toBe('done');
});

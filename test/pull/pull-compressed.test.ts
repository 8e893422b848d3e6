import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { createMemoryLedger, type Ledger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { memoryNotifier } from '../../shared/notify';
import { pullResponses } from '../../shared/pull';
import { openFileSource, sendDeclaration } from '../../shared/send';
import { createSelfSigned } from '../../shared/signing';
import { SimulatorOptionsError, startSimulator, type Simulator } from '../../transfer-point';
import { localFolderStore } from '../../shared/store';
import { ftpConnector } from '../../shared/transport';
import { scratchDir } from '../helpers/pki';

// Compressed answers (CO) end to end: the local transfer point compresses its NOTIFICATIONs,
// the pull keeps the CO, unpacks it beside it, reads the unpacked XML and ties it to its
// declaration as it would an FO, then empties the folder.
const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-pull-co-');
afterAll(() => cleanup());

async function withSimulator(
  compression: 'zip' | 'gzip',
  run: (simulator: Simulator) => Promise<void>,
): Promise<void> {
  const simulator = await startSimulator({
    notificationDelayMs: 10,
    notificationCompression: compression,
  });
  try {
    await run(simulator);
  } finally {
    await simulator.stop();
  }
}

function connector(simulator: Simulator) {
  return ftpConnector({
    host: simulator.host,
    port: simulator.port,
    user: simulator.user,
    password: simulator.password,
  });
}

async function pull(simulator: Simulator, ledger: Ledger, store: string) {
  const notifier = memoryNotifier();
  const report = await pullResponses(
    { environments: ['T'] },
    { ledger, connector: connector(simulator), store: localFolderStore(store), notifier },
  );
  return { report, events: notifier.events };
}

describe('compressed (CO) answers from the local transfer point', () => {
  it.each([
    { compression: 'zip' as const, entry: (co: string) => co.replace(/^CO\./, 'FO.') },
    { compression: 'gzip' as const, entry: (co: string) => co },
  ])(
    'a $compression NOTIFICATION is kept, unpacked beside it, read and tied',
    async ({ compression, entry }) => {
      await withSimulator(compression, async (simulator) => {
        // Prepare: one declaration sent, acknowledged, then notified with a CO answer.
        const ledger = createMemoryLedger();
        const path = join(dir, `decl-${compression}.xml`);
        writeFileSync(path, sampleDmfaXml({ quarter: '20263', date: today, workers: 2 }));
        const notified = new Promise<string[]>((resolve) =>
          simulator.on('notified', (record) => resolve([...record.responseNames])),
        );
        const sent = await sendDeclaration(
          {
            source: await openFileSource(path),
            declaration: { app: 'DMFA', sender: '123456', env: 'T' },
          },
          { ledger, connector: connector(simulator), material: await createSelfSigned({}) },
        );
        const [co] = (await notified) as [string];
        await simulator.idle();
        expect(co).toMatch(/^CO\.NOTI\.999999\.\d{8}\.\d{5}\.T$/);

        // Act
        const store = join(dir, `store-${compression}`);
        const { report, events } = await pull(simulator, ledger, store);

        // Assess
        expect(report.failed).toEqual([]);
        expect(simulator.files('OUTTEST')).toEqual([]);
        const folder = `responses/T/${today}/NOTI/${co}.unpacked/`;
        const unpackedKey = `${folder}${entry(co)}`;
        const set = report.sets.find((s) => s.id.startsWith('NOTI.'));
        expect(set).toMatchObject({
          stored: true,
          deleted: true,
          unpacked: [unpackedKey],
          interpretation: {
            kind: 'notification',
            signature: 'valid',
            orphans: 0,
            unpacked: { format: compression, outcome: 'unpacked', folder, problems: [] },
          },
        });
        const original = readFileSync(join(store, 'responses', 'T', today, 'NOTI', co));
        expect(original.subarray(0, 2).toString('hex')).toBe(
          compression === 'zip' ? '504b' : '1f8b',
        );
        expect(readFileSync(join(store, unpackedKey), 'utf8')).toMatch(
          new RegExp(`<FileName>${sent.plan.go.replace(/\./g, '\\.')}</FileName>`),
        );
        expect(await ledger.get(sent.plan.setId)).toMatchObject({
          state: 'notified',
          notifications: [{ accepted: true, response: set?.id }],
        });
        const event = events.find((e) => e.type === 'declaration.notified');
        expect(event?.files).toEqual(
          expect.arrayContaining([
            join(store, 'responses', 'T', today, 'NOTI', co),
            join(store, unpackedKey),
          ]),
        );
        expect(events.map((e) => e.type)).not.toContain('response.unpack-problem');
      });
    },
  );

  it('a CO that does not unpack is kept, raised, and deleted from the server all the same', async () => {
    await withSimulator('zip', async (simulator) => {
      // Prepare: a corrupt zip and a CO that is not compressed at all, each with its GO.
      const corrupt = 'NOTI.999999.20261125.09991.T';
      const plain = 'NOTI.999999.20261125.09992.T';
      writeFileSync(simulator.pathOf('OUTTEST', `CO.${corrupt}`), 'PK\x03\x04 not really a zip');
      writeFileSync(simulator.pathOf('OUTTEST', `GO.${corrupt}`), '');
      writeFileSync(simulator.pathOf('OUTTEST', `CO.${plain}`), '<NOTIFICATION/>');
      writeFileSync(simulator.pathOf('OUTTEST', `GO.${plain}`), '');
      const store = join(dir, 'store-bad');

      // Act
      const { report, events } = await pull(simulator, createMemoryLedger(), store);

      // Assess
      expect(report.failed).toEqual([]);
      expect(simulator.files('OUTTEST')).toEqual([]);
      expect(report.sets.map((s) => [s.id, s.deleted, s.interpretation?.kind, s.unpacked])).toEqual(
        [
          [corrupt, true, 'malformed', []],
          [plain, true, 'other', []],
        ],
      );
      expect(report.sets.map((s) => s.interpretation?.unpacked?.outcome)).toEqual([
        'failed',
        'kept',
      ]);
      for (const id of [corrupt, plain]) {
        expect(existsSync(join(store, 'responses', 'T', '20261125', 'NOTI', `CO.${id}`))).toBe(
          true,
        );
      }
      const problems = events.filter((e) => e.type === 'response.unpack-problem');
      expect(problems.map((e) => e.response)).toEqual([corrupt, plain]);
      expect(problems[0]?.message).toMatch(/\(zip\) failed: the zip archive could not be unpacked/);
      expect(problems[1]?.message).toMatch(/\(unknown\) kept: neither zip nor gzip/);
      expect(problems[0]?.files).toEqual([
        join(store, 'responses', 'T', '20261125', 'NOTI', `CO.${corrupt}`),
        join(store, 'responses', 'T', '20261125', 'NOTI', `GO.${corrupt}`),
      ]);
    });
  });

  it('the simulator takes zip or gzip, nothing else', async () => {
    const option = { notificationCompression: 'rar' } as unknown as {
      notificationCompression: 'zip';
    };
    await expect(startSimulator(option)).rejects.toThrow(SimulatorOptionsError);
    await expect(startSimulator(option)).rejects.toThrow(/notificationCompression.*zip or gzip/);
  });
});

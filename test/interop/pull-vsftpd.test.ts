import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMemoryLedger } from '../../shared/ledger';
import { memoryNotifier } from '../../shared/notify';
import { pullResponses } from '../../shared/pull';
import { buildAcrfXml } from '../../transfer-point';
import { localFolderStore } from '../../shared/store';
import { ftpConnector } from '../../shared/transport';
import { scratchDir } from '../helpers/pki';
import { startVsftpd, type Vsftpd } from './vsftpd';

// The receive path against Debian's vsftpd: the answers are written into
// its OUTTEST folder as the transfer point would leave them.
const { dir, cleanup } = scratchDir('onss-pull-vsftpd-');
let server: Vsftpd;

beforeAll(async () => {
  server = await startVsftpd();
});
afterAll(async () => {
  await server?.stop();
  cleanup();
});

function writeSet(seq: number, options: { go?: boolean } = {}): string {
  const id = `ACRF.999999.20261125.${String(seq).padStart(5, '0')}.T`;
  const xml = buildAcrfXml({
    fileName: `GO.DMFA.123456.20261125.${String(seq).padStart(5, '0')}.T.1`,
    ticket: `T${seq}`,
    codes: [],
    createdAt: new Date(),
  });
  writeFileSync(join(server.root, 'OUTTEST', `FO.${id}`), xml);
  if (options.go !== false) writeFileSync(join(server.root, 'OUTTEST', `GO.${id}`), '');
  return id;
}

async function pull(store: string) {
  const notifier = memoryNotifier();
  const report = await pullResponses(
    { environments: ['T'] },
    {
      ledger: createMemoryLedger(),
      connector: ftpConnector({
        host: server.host,
        port: server.port,
        user: server.user,
        password: server.password,
      }),
      store: localFolderStore(store),
      notifier,
    },
  );
  return { report, events: notifier.events };
}

describe('pull from vsftpd', () => {
  it('takes complete sets, leaves an incomplete one and a foreign file', async () => {
    const complete = [writeSet(1), writeSet(2)];
    const waiting = writeSet(3, { go: false });
    writeFileSync(join(server.root, 'OUTTEST', 'README'), 'not an answer');
    const { report } = await pull(join(dir, 'a'));
    expect(report.sets.map((s) => s.id)).toEqual(complete);
    expect(report.incomplete).toEqual([`OUTTEST/${waiting}`]);
    expect(report.foreign).toEqual(['OUTTEST/README']);
    expect(readdirSync(join(server.root, 'OUTTEST')).sort()).toEqual([`FO.${waiting}`, 'README']);
    // Unmatched answers (no declaration in this ledger) are kept and counted as orphans.
    expect(report.sets.every((s) => s.interpretation?.orphans === 1)).toBe(true);
    expect(readdirSync(join(dir, 'a', 'responses', 'T', '20261125', 'ACRF')).sort()).toEqual(
      complete.flatMap((id) => [`FO.${id}`, `GO.${id}`]).sort(),
    );
  });

  it('takes 1,000 small sets in one run', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => writeSet(1000 + i));
    const { report } = await pull(join(dir, 'b'));
    expect(report.failed).toEqual([]);
    expect(report.sets.filter((s) => ids.includes(s.id))).toHaveLength(1000);
    expect(readdirSync(join(server.root, 'OUTTEST')).filter((n) => n.startsWith('GO.'))).toEqual(
      [],
    );
  }, 180_000);
});

import { join } from 'node:path';
import { openSqliteLedger, type Ledger } from '../../shared/ledger';
import { findOverdue } from '../../shared/watchdog';
import {
  acknowledgement,
  claimRequest,
  driveToLaunched,
  idOf,
  notification,
  own,
  responseIdOf,
  source,
} from '../ledger/fixtures';
import { cli } from '../helpers/cli';
import { scratchDir } from '../helpers/pki';

// `status --overdue`: the declarations whose answer is late, by the watchdog's rule: no ACRF 60
// minutes after the GO, or no notification 24 hours after the ACRF of a DmfA.

const { dir, cleanup } = scratchDir('onss-cli-overdue-');
const path = join(dir, 'ledger.sqlite');
const HOUR = 3_600_000;
let at = Date.now();
let answers = 0;

/** Drives a new set of `seq` to `launched` at `launchedHoursAgo`, then what `then` does. */
async function launched(ledger: Ledger, seq: string, launchedHoursAgo: number): Promise<string> {
  at = Date.now() - launchedHoursAgo * HOUR;
  const { record } = await ledger.claim(claimRequest(seq, source(seq)), own());
  await driveToLaunched(ledger, record.id, new Date(at).toISOString());
  return record.id;
}

async function acknowledged(ledger: Ledger, id: string, hoursAgo: number): Promise<void> {
  at = Date.now() - hoursAgo * HOUR;
  answers += 1;
  await ledger.transition(id, 'launched', 'acknowledged', {
    acknowledgement: acknowledgement(responseIdOf(String(answers).padStart(5, '0'), 'ACRF'), {
      ticket: `T${answers}`,
      at: new Date(at).toISOString(),
    }),
  });
}

beforeAll(async () => {
  const ledger = openSqliteLedger(path, { now: () => new Date(at) });
  try {
    await launched(ledger, '00001', 2); // no ACRF for 2 h: overdue by about 60 min
    await launched(ledger, '00002', 0.1); // 6 minutes: not yet
    await acknowledged(ledger, await launched(ledger, '00003', 31), 30); // no NOTI for 30 h
    await acknowledged(ledger, await launched(ledger, '00004', 2), 1); // 1 h: not yet
    const answered = await launched(ledger, '00005', 50);
    await acknowledged(ledger, answered, 49);
    answers += 1;
    await ledger.transition(answered, 'acknowledged', 'notified', {
      notification: notification(responseIdOf(String(answers).padStart(5, '0'), 'NOTI')),
    });
  } finally {
    await ledger.close();
  }
});
afterAll(() => cleanup());

describe('onss-transfer status --overdue', () => {
  it('lists only the late ones, saying what each waits for', async () => {
    const run = await cli(['status', '--overdue', '--ledger', path]);
    expect(run.code).toBe(0);
    const sets = run.stdout.split('\n').filter((line) => /^DMFA/.test(line));
    expect(sets.map((line) => line.split('  ')[0]).sort()).toEqual([idOf('00001'), idOf('00003')]);
    expect(run.stdout).toMatch(
      /overdue: no ACRF since its GO at \S+, (59|60) min past the allowed wait/,
    );
    expect(run.stdout).toMatch(
      /overdue: no notification since its ACRF at \S+, (359|360) min past/,
    );
  });

  it('takes the waits from --ack-within and --notification-within, and says it in JSON', async () => {
    const run = await cli([
      'status',
      '--overdue',
      '--ack-within',
      '180',
      '--notification-within',
      '48',
      '--ledger',
      path,
      '--json',
    ]);
    expect(JSON.parse(run.stdout)).toEqual([]);
    const shorter = await cli([
      'status',
      '--overdue',
      '--ack-within',
      '3',
      '--ledger',
      path,
      '--json',
    ]);
    const lines = JSON.parse(shorter.stdout) as Array<{
      set: string;
      overdue?: { waitingFor: string };
    }>;
    expect(lines.map((line) => [line.set, line.overdue?.waitingFor]).sort()).toEqual([
      [idOf('00001'), 'acknowledgement'],
      [idOf('00002'), 'acknowledgement'],
      [idOf('00003'), 'notification'],
    ]);
  });

  it('marks late declarations in the plain listing too', async () => {
    const run = await cli(['status', '--ledger', path, '--json']);
    const lines = JSON.parse(run.stdout) as Array<{ set: string; overdue?: unknown }>;
    expect(
      lines
        .filter((line) => line.overdue)
        .map((line) => line.set)
        .sort(),
    ).toEqual([idOf('00001'), idOf('00003')]);
    expect(lines).toHaveLength(5);
  });

  it.each([
    [
      ['--ack-within', '0', '--overdue'],
      /--ack-within takes a whole number of at least 1, not "0"/,
    ],
    [['--ack-within', '1.5', '--overdue'], /--ack-within takes a whole number/],
    [['--notification-within', '12'], /go with --overdue/],
  ])('refuses %j', async (flags, message) => {
    const run = await cli(['status', ...flags, '--ledger', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describe('findOverdue', () => {
  it('judges launching sets by their last update, and never answered or failed ones', () => {
    const base = {
      id: 'X',
      key: { app: 'DMFA', sender: '1', date: '20260701', seq: '00001', env: 'R' as const },
      nparts: 1,
      source: source('x'),
      folder: 'IN' as const,
      files: [],
      attempt: 1,
      createdAt: '2026-07-01T00:00:00.000Z',
      updatedAt: '2026-07-01T08:00:00.000Z',
    };
    const now = new Date('2026-07-01T10:00:00.000Z');
    expect(findOverdue([{ ...base, state: 'launching' }], now)).toMatchObject([
      { waitingFor: 'acknowledgement', since: base.updatedAt, lateByMinutes: 60 },
    ]);
    expect(
      findOverdue(
        [
          { ...base, state: 'failed' },
          { ...base, state: 'rejected' },
          { ...base, state: 'uploading' },
        ],
        now,
      ),
    ).toEqual([]);
    const dimona = {
      ...base,
      key: { ...base.key, app: 'DIMN' },
      state: 'acknowledged' as const,
      acknowledgement: acknowledgement(responseIdOf('00001', 'ACRF'), {
        at: '2026-06-01T00:00:00.000Z',
      }),
    };
    expect(findOverdue([dimona], now)).toEqual([]); // an application that does not notify
  });
});

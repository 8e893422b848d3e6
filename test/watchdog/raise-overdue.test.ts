/**
 * The scheduled watchdog's core: `raiseOverdue` over the memory ledger and a recording notifier.
 * Each wait is raised once whatever the number of runs, a failure on one declaration does not
 * stop the others, and answered declarations raise nothing.
 */
import { createMemoryLedger, type Ledger } from '../../shared/ledger';
import { memoryNotifier, type Notifier, type TransferEvent } from '../../shared/notify';
import { DEFAULT_OVERDUE_RULES, newlyOverdue, raiseOverdue } from '../../shared/watchdog';
import {
  acknowledgement,
  claimRequest,
  driveToLaunched,
  idOf,
  keyOf,
  notification,
  own,
  responseIdOf,
  source,
  testClock,
  type TestClock,
} from '../ledger/fixtures';

const NOW = new Date('2026-07-02T12:00:00.000Z');
const HOUR = 3_600_000;
const hoursAgo = (hours: number): string => new Date(NOW.getTime() - hours * HOUR).toISOString();

let clock: TestClock;
let ledger: Ledger;
let answers = 0;

beforeEach(() => {
  clock = testClock(); // when the ledger writes (the marks' time)
  ledger = createMemoryLedger({ now: clock.now });
});
afterEach(async () => {
  await ledger.close();
});

/** A set of `seq` (DMFA unless told) launched `hours` before NOW. */
async function launched(seq: string, hours: number, app = 'DMFA'): Promise<string> {
  const request = claimRequest(seq, source(`${app}-${seq}`), { key: keyOf(seq, 'R', app) });
  const { record } = await ledger.claim(request, own());
  await driveToLaunched(ledger, record.id, hoursAgo(hours));
  return record.id;
}

/** Moves a launched set to acknowledged (or rejected) by an ACRF `hours` before NOW. */
async function answered(id: string, hours: number, accepted = true): Promise<void> {
  answers += 1;
  await ledger.transition(id, 'launched', accepted ? 'acknowledged' : 'rejected', {
    acknowledgement: acknowledgement(responseIdOf(String(answers).padStart(5, '0')), {
      accepted,
      errors: accepted ? [] : ['ACRF-129'],
      ticket: `T${answers}`,
      at: hoursAgo(hours),
    }),
  });
}

/** Moves an acknowledged set to notified (or refused). */
async function notified(id: string, refused = false): Promise<void> {
  answers += 1;
  await ledger.transition(id, 'acknowledged', refused ? 'refused' : 'notified', {
    notification: notification(responseIdOf(String(answers).padStart(5, '0'), 'NOTI'), {
      ...(refused ? { result: '0', accepted: false } : {}),
    }),
  });
}

/** A notifier that fails for the events of one declaration and records the others. */
function failingFor(declaration: string): Notifier & { events: TransferEvent[] } {
  const inner = memoryNotifier();
  return {
    events: inner.events,
    async notify(event) {
      if (event.declaration === declaration) {
        throw Object.assign(new Error('the bus is down'), { code: 'NOTIFY_FAILED' });
      }
      await inner.notify(event);
    },
  };
}

describe('raiseOverdue', () => {
  it('raises a launched set with no ACRF once, however many runs follow', async () => {
    // Prepare
    const late = await launched('00001', 2);
    await launched('00002', 0.5); // 30 minutes: within the 60 allowed
    const notifier = memoryNotifier();

    // Act
    clock.set('2026-07-02T12:30:00.000Z');
    const first = await raiseOverdue(ledger, notifier, { now: NOW });
    const afterFirst = [...notifier.events];
    const second = await raiseOverdue(ledger, notifier, { now: new Date(NOW.getTime() + HOUR) });

    // Assess
    expect(afterFirst).toEqual([
      {
        type: 'declaration.overdue',
        at: '2026-07-02T12:30:00.000Z',
        declaration: late,
        state: 'launched',
        waitingFor: 'acknowledgement',
        since: hoursAgo(2),
        lateByMinutes: 60,
        message: `${late} has no ACRF 120 minutes after its GO (${hoursAgo(2)}); an ACRF is expected within 60 minutes`,
      },
    ]);
    expect(first).toMatchObject({ overdue: 1, alreadyRaised: 0, failed: [] });
    expect(first.raised).toEqual([
      {
        declaration: late,
        state: 'launched',
        waitingFor: 'acknowledgement',
        since: hoursAgo(2),
        lateByMinutes: 60,
        at: '2026-07-02T12:30:00.000Z',
      },
    ]);
    expect(newlyOverdue(first)).toBe(1);
    // An hour on, the second set is late too: raised once, the first not again.
    expect(second.raised.map((raised) => raised.declaration)).toEqual([idOf('00002')]);
    expect(notifier.events.map((event) => event.declaration)).toEqual([late, idOf('00002')]);
    expect(second).toMatchObject({ overdue: 2, alreadyRaised: 1, failed: [] });
    expect((await ledger.get(late))?.overdue).toEqual([
      { waitingFor: 'acknowledgement', at: '2026-07-02T12:30:00.000Z' },
    ]);
  });

  it('raises an acknowledged DmfA with no notification, with its ACRF ticket; not a Dimona', async () => {
    // Prepare: the DmfA was raised for its ACRF once already, then acknowledged 30 hours ago.
    const dmfa = await launched('00001', 32);
    const notifier = memoryNotifier();
    await raiseOverdue(ledger, notifier, { now: new Date(Date.parse(hoursAgo(30)) - 1) });
    await answered(dmfa, 30);
    const dimona = await launched('00002', 32, 'DIMN');
    await answered(dimona, 30);
    const recent = await launched('00003', 3);
    await answered(recent, 2);

    // Act
    const run = await raiseOverdue(ledger, notifier, { now: NOW });

    // Assess
    expect(notifier.events.map((event) => [event.declaration, event.waitingFor])).toEqual([
      [dmfa, 'acknowledgement'],
      [dmfa, 'notification'],
    ]);
    expect(notifier.events[1]).toMatchObject({
      state: 'acknowledged',
      ticket: 'T1',
      since: hoursAgo(30),
      lateByMinutes: 6 * 60,
      message: `${dmfa} has no notification 30 hours after its ACRF (${hoursAgo(30)}); a DMFA notification is expected within 24 hours`,
    });
    expect(run).toMatchObject({ overdue: 1, alreadyRaised: 0, failed: [] });
    expect((await ledger.get(dmfa))?.overdue?.map((mark) => mark.waitingFor)).toEqual([
      'acknowledgement',
      'notification',
    ]);
  });

  it('follows the rules given: other waits, other notifying applications', async () => {
    // Prepare
    const dimona = await launched('00001', 3, 'DIMN');
    await answered(dimona, 2);
    const launchedOnly = await launched('00002', 0.5);
    const notifier = memoryNotifier();

    // Act
    const run = await raiseOverdue(ledger, notifier, {
      now: NOW,
      rules: { acknowledgementMinutes: 10, notificationHours: 1, notifyingApplications: ['DIMN'] },
    });

    // Assess
    expect(run.raised.map((raised) => [raised.declaration, raised.waitingFor])).toEqual([
      [dimona, 'notification'],
      [launchedOnly, 'acknowledgement'],
    ]);
    expect(notifier.events[1]?.message).toMatch(/expected within 10 minutes$/);
    expect(notifier.events[0]?.message).toMatch(
      /has no notification 2 hours after its ACRF \(\S+\); a DIMN notification is expected within 1 hour$/,
    );
  });

  it('goes on past a declaration whose event fails, which is then not raised again', async () => {
    // Prepare
    const first = await launched('00001', 3);
    const second = await launched('00002', 3);
    const notifier = failingFor(first);

    // Act
    const run = await raiseOverdue(ledger, notifier, { now: NOW });
    const again = await raiseOverdue(ledger, memoryNotifier(), { now: NOW });

    // Assess
    expect(run.failed).toEqual([
      {
        declaration: first,
        waitingFor: 'acknowledgement',
        marked: true,
        code: 'NOTIFY_FAILED',
        message: 'the bus is down',
      },
    ]);
    expect(notifier.events.map((event) => event.declaration)).toEqual([second]);
    expect(newlyOverdue(run)).toBe(2); // the alarm counts the lost event too
    expect(again).toMatchObject({ overdue: 2, raised: [], alreadyRaised: 2, failed: [] });
  });

  it('goes on past a declaration that cannot be marked, which the next run raises', async () => {
    // Prepare: a ledger whose mark fails once for the first set.
    const first = await launched('00001', 3);
    const second = await launched('00002', 3);
    let failures = 1;
    const flaky: Ledger = {
      ...ledger,
      markOverdue: async (id, wait) => {
        if (id === first && failures-- > 0) {
          throw Object.assign(new Error('throttled'), { code: 'LEDGER_STORE' });
        }
        return ledger.markOverdue(id, wait);
      },
    };
    const notifier = memoryNotifier();

    // Act
    const run = await raiseOverdue(flaky, notifier, { now: NOW });
    const next = await raiseOverdue(flaky, notifier, { now: NOW });

    // Assess
    expect(run.failed).toEqual([
      {
        declaration: first,
        waitingFor: 'acknowledgement',
        marked: false,
        code: 'LEDGER_STORE',
        message: 'throttled',
      },
    ]);
    expect(newlyOverdue(run)).toBe(1);
    expect(next.raised.map((raised) => raised.declaration)).toEqual([first]);
    expect(notifier.events.map((event) => event.declaration)).toEqual([second, first]);
  });

  it('raises nothing when another run marked the wait after this one listed it', async () => {
    // Prepare: the listing predates the other run's mark.
    const id = await launched('00001', 3);
    const stale = await ledger.list();
    await ledger.markOverdue(id, 'acknowledgement');
    const notifier = memoryNotifier();

    // Act
    const run = await raiseOverdue({ ...ledger, list: async () => stale }, notifier, { now: NOW });

    // Assess
    expect(run).toMatchObject({ overdue: 1, raised: [], alreadyRaised: 1, failed: [] });
    expect(notifier.events).toEqual([]);
  });

  it('raises nothing for answered, failed or recent declarations', async () => {
    // Prepare
    const rejected = await launched('00001', 50);
    await answered(rejected, 49, false);
    const done = await launched('00002', 50);
    await answered(done, 49);
    await notified(done);
    const refused = await launched('00003', 50);
    await answered(refused, 49);
    await notified(refused, true);
    const { record: failed } = await ledger.claim(claimRequest('00004', source('f')), own());
    await ledger.transition(failed.id, 'planned', 'failed', {
      failure: { code: 'ACRF-129', message: 'unknown application' },
    });
    await ledger.claim(claimRequest('00005', source('p')), own()); // planned, never sent
    await launched('00006', 0.9);
    const notifier = memoryNotifier();

    // Act
    const run = await raiseOverdue(ledger, notifier, { now: NOW });

    // Assess
    expect(run).toEqual({ overdue: 0, raised: [], alreadyRaised: 0, failed: [] });
    expect(notifier.events).toEqual([]);
  });

  it('judges by the default rules when given none', async () => {
    await launched('00001', 1 + 1 / 60 + 1 / 3600); // 61 minutes and a second
    const run = await raiseOverdue(ledger, memoryNotifier(), { now: NOW });
    expect(DEFAULT_OVERDUE_RULES.acknowledgementMinutes).toBe(60);
    expect(run.raised).toMatchObject([{ lateByMinutes: 1 }]);
  });
});

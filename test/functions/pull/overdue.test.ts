/**
 * The pull function's watchdog: after each pull that ran, `runScheduledPull` raises
 * `declaration.overdue` once per late wait and puts the OverdueDeclarations metric; a skipped
 * run does not watch. Its waits come from the ONSS_OVERDUE_* variables, checked with the rest
 * of the configuration; the SNS message says what the declaration waits for.
 */
import {
  ConfigurationError,
  readPullConfig,
  OVERDUE_LIMITS,
} from '../../../functions/config/environment';
import { ENV_NAMES, METRIC_NAMES } from '../../../functions/config/names';
import { snsMessage, snsSubject } from '../../../functions/aws/sns-notifier';
import { runScheduledPull, type PullDependencies } from '../../../functions/pull/process';
import { createMemoryLedger, type Ledger } from '../../../shared/ledger';
import { memoryNotifier, type Notifier } from '../../../shared/notify';
import { PULL_RUN_LEASE } from '../../../shared/pull';
import { localFolderStore } from '../../../shared/store';
import { memoryConnector } from '../../../shared/transport';
import { claimRequest, driveToLaunched, idOf, own, source } from '../../ledger/fixtures';
import { scratchDir } from '../../helpers/pki';
import { recordingLog, recordingMetrics } from '../helpers/emulated-aws';
import { FUNCTION_ENV } from '../helpers/function-env';

const HOUR = 3_600_000;
const { dir, cleanup } = scratchDir('onss-pull-overdue-');
afterAll(() => cleanup());

let now = Date.parse('2026-07-02T12:00:00.000Z');
let ledger: Ledger;

beforeEach(() => {
  now = Date.parse('2026-07-02T12:00:00.000Z');
  ledger = createMemoryLedger({ now: () => new Date(now) });
});
afterEach(async () => {
  await ledger.close();
});

/** A set of `seq` launched `hours` before the current test time. */
async function launched(seq: string, hours: number): Promise<string> {
  const { record } = await ledger.claim(claimRequest(seq, source(seq)), own());
  await driveToLaunched(ledger, record.id, new Date(now - hours * HOUR).toISOString());
  return record.id;
}

/** One scheduled run's dependencies: an empty transfer point, recording log and metrics. */
function deps(notifier: Notifier, extra: Partial<PullDependencies> = {}) {
  const log = recordingLog();
  const metrics = recordingMetrics();
  const dependencies: PullDependencies = {
    environments: ['R'],
    ledger,
    store: localFolderStore(dir),
    notifier,
    connector: async () => memoryConnector(),
    signingMaterial: async () => {
      throw new Error('no signing secret in this test');
    },
    log,
    metrics,
    countAnswer: () => undefined,
    owner: 'request-1',
    leaseMs: 60_000,
    now: () => new Date(now),
    ...extra,
  };
  return { dependencies, log, metrics };
}

describe('the pull function runs the watchdog', () => {
  it('raises declaration.overdue once over two runs, and counts it in OverdueDeclarations', async () => {
    // Prepare
    const late = await launched('00001', 2);
    await launched('00002', 0.5);
    const notifier = memoryNotifier();
    const first = deps(notifier);
    const second = deps(notifier, { owner: 'request-2' });

    // Act
    const outcome = await runScheduledPull(first.dependencies);
    now += 10 * 60_000;
    const next = await runScheduledPull(second.dependencies);

    // Assess
    expect(notifier.events.map((event) => [event.type, event.declaration])).toEqual([
      ['declaration.overdue', late],
    ]);
    expect(outcome).toMatchObject({
      status: 'pulled',
      overdue: { overdue: 1, raised: [{ declaration: late, lateByMinutes: 60 }], failed: [] },
    });
    expect(next).toMatchObject({ status: 'pulled', overdue: { overdue: 1, alreadyRaised: 1 } });
    expect(first.metrics.sum(METRIC_NAMES.overdue)).toBe(1);
    expect(second.metrics.points.filter((p) => p.name === METRIC_NAMES.overdue)).toEqual([
      { name: METRIC_NAMES.overdue, unit: 'Count', value: 0 },
    ]);
    expect(first.metrics.sum(METRIC_NAMES.pullSuccess)).toBe(1);
    expect(first.log.lines.find((line) => line.message === 'pulled')?.extra).toMatchObject({
      overdue: 1,
      overdueRaised: 1,
    });
  });

  it('takes its waits from the dependencies (the ONSS_OVERDUE_* variables)', async () => {
    await launched('00001', 0.5);
    const notifier = memoryNotifier();
    const run = deps(notifier, {
      overdueRules: { acknowledgementMinutes: 20, notificationHours: 1, notifyingApplications: [] },
    });
    await runScheduledPull(run.dependencies);
    expect(notifier.events.map((event) => event.declaration)).toEqual([idOf('00001')]);
    expect(notifier.events[0]?.message).toMatch(/expected within 20 minutes$/);
  });

  it('does not watch in a run skipped because another holds the lease', async () => {
    // Prepare
    await launched('00001', 2);
    await ledger.acquireRunLease(PULL_RUN_LEASE, 'another-request', 60_000);
    const notifier = memoryNotifier();
    const run = deps(notifier);

    // Act
    const outcome = await runScheduledPull(run.dependencies);

    // Assess
    expect(outcome.status).toBe('skipped');
    expect(notifier.events).toEqual([]);
    expect(run.metrics.points.map((point) => point.name)).not.toContain(METRIC_NAMES.overdue);
    expect((await ledger.get(idOf('00001')))?.overdue).toBeUndefined();
  });

  it('counts a wait whose event was lost, and logs it; the run still succeeds', async () => {
    // Prepare
    await launched('00001', 2);
    const failing: Notifier = {
      async notify() {
        throw Object.assign(new Error('EventBridge did not take it'), { code: 'NOTIFY_FAILED' });
      },
    };
    const run = deps(failing);

    // Act
    const outcome = await runScheduledPull(run.dependencies);

    // Assess
    expect(outcome).toMatchObject({
      status: 'pulled',
      overdue: { raised: [], failed: [{ declaration: idOf('00001'), marked: true }] },
    });
    expect(run.metrics.sum(METRIC_NAMES.overdue)).toBe(1);
    expect(run.log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'overdue declaration marked but its event was not sent: it is not raised again',
        extra: expect.objectContaining({ declaration: idOf('00001'), code: 'NOTIFY_FAILED' }),
      }),
    );
  });

  it('fails the invocation when the watchdog cannot list the ledger, after counting the pull', async () => {
    // Prepare
    const broken: Ledger = {
      ...ledger,
      list: async () => {
        throw Object.assign(new Error('table unreachable'), { code: 'LEDGER_STORE' });
      },
    };
    const run = deps(memoryNotifier(), { ledger: broken });

    // Act
    const outcome = runScheduledPull(run.dependencies);

    // Assess
    await expect(outcome).rejects.toThrow('table unreachable');
    expect(run.metrics.sum(METRIC_NAMES.pullSuccess)).toBe(1);
    expect(run.log.lines.map((line) => line.message)).toContain('the watchdog could not run');
    expect(await ledger.acquireRunLease(PULL_RUN_LEASE, 'next', 60_000)).toBe(true);
  });
});

describe('the watchdog configuration', () => {
  it('defaults to 60 minutes, 24 hours and DMFA', () => {
    expect(readPullConfig(FUNCTION_ENV).overdue).toEqual({
      acknowledgementMinutes: 60,
      notificationHours: 24,
      notifyingApplications: ['DMFA'],
    });
  });

  it('reads ONSS_OVERDUE_ACK_MINUTES, ONSS_OVERDUE_NOTIFICATION_HOURS and the applications', () => {
    const config = readPullConfig({
      ...FUNCTION_ENV,
      [ENV_NAMES.overdueAckMinutes]: '90',
      [ENV_NAMES.overdueNotificationHours]: ' 48 ',
      [ENV_NAMES.overdueNotifyingApps]: 'DMFA, DRS1',
    });
    expect(config.overdue).toEqual({
      acknowledgementMinutes: 90,
      notificationHours: 48,
      notifyingApplications: ['DMFA', 'DRS1'],
    });
  });

  it.each([
    [ENV_NAMES.overdueAckMinutes, '0', /ONSS_OVERDUE_ACK_MINUTES must be a whole number from 1/],
    [
      ENV_NAMES.overdueAckMinutes,
      String(OVERDUE_LIMITS.ackMinutes.max + 1),
      /ONSS_OVERDUE_ACK_MINUTES must be a whole number from 1 to 10080, not "10081"/,
    ],
    [ENV_NAMES.overdueNotificationHours, '1.5', /ONSS_OVERDUE_NOTIFICATION_HOURS must be/],
    [ENV_NAMES.overdueNotifyingApps, 'DMFA,dimona', /ONSS_OVERDUE_NOTIFYING_APPS must list/],
    [ENV_NAMES.overdueNotifyingApps, 'DMFA,DMFA', /each once, not "DMFA,DMFA"/],
  ])('refuses %s=%s with a clear message', (name, value, message) => {
    const act = () => readPullConfig({ ...FUNCTION_ENV, [name]: value });
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(message);
  });
});

describe('the SNS message of declaration.overdue', () => {
  it('says what the declaration waits for, since when and how late', () => {
    const event = {
      type: 'declaration.overdue' as const,
      at: '2026-07-02T12:00:05.000Z',
      declaration: 'DMFA.123456.20260702.00001.R',
      state: 'acknowledged',
      waitingFor: 'notification' as const,
      since: '2026-07-01T06:00:00.000Z',
      lateByMinutes: 360,
      ticket: 'T1',
      message: 'DMFA.123456.20260702.00001.R has no notification 30 hours after its ACRF',
    };
    expect(snsSubject(event)).toBe(
      'onss-transfer: DMFA.123456.20260702.00001.R overdue: no notification',
    );
    expect(snsSubject({ ...event, waitingFor: 'acknowledgement' })).toMatch(/overdue: no ACRF$/);
    expect(snsMessage(event)).toBe(
      [
        'DMFA.123456.20260702.00001.R has no notification 30 hours after its ACRF',
        '',
        'Event:       declaration.overdue',
        'Declaration: DMFA.123456.20260702.00001.R',
        'State:       acknowledged',
        'Ticket:      T1',
        'Waiting for: notification',
        'Since:       2026-07-01T06:00:00.000Z',
        'Late by:     360 min',
        'At:          2026-07-02T12:00:05.000Z',
        '',
      ].join('\n'),
    );
  });
});

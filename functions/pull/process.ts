/**
 * The pull function's work for one scheduled run: under the ledger's run lease (so an overlap
 * with a slow previous run does nothing), pull the response folders of the configured
 * environments through the core (`pullResponses`), then run the watchdog (`raiseOverdue`) on
 * the ledger the pull just brought up to date, and report what came back as metrics. The
 * answers themselves are stored, tied and raised by the core.
 */
import type { Ledger } from '../../shared/ledger';
import type { Environment } from '../../shared/names';
import type { Notifier } from '../../shared/notify';
import {
  pullResponses,
  pullRunLease,
  RunInProgressError,
  runExclusively,
  type PullReport,
} from '../../shared/pull';
import type { AnswerTrust, SigningMaterial } from '../../shared/signing';
import { NO_ANSWER_TRUST_WARNING } from '../../shared/signing/answer-trust';
import { summarizeCertificate } from '../../shared/signing/material';
import { credentialAgeDays } from '../../shared/secrets';
import type { ObjectStore } from '../../shared/store';
import type { TransportConnector } from '../../shared/transport';
import {
  newlyOverdue,
  raiseOverdue,
  type OverdueRules,
  type OverdueRun,
} from '../../shared/watchdog';
import { METRIC_NAMES } from '../config/names';
import { reportServerIdentity } from '../server-identity';
import { describeError, MetricUnit, type Log, type MetricSink } from '../observability';

/** The ports and settings the pull function runs with. */
export interface PullDependencies {
  environments: readonly Environment[];
  ledger: Ledger;
  store: ObjectStore;
  notifier: Notifier;
  connector(): Promise<TransportConnector>;
  /** The signing material, only to report the certificate's days left. */
  signingMaterial(): Promise<SigningMaterial>;
  log: Log;
  metrics: MetricSink;
  /** Counts one answer under its result (`acknowledged`, `rejected`, `notified`, `orphan`...). */
  countAnswer(result: string): void;
  /**
   * The named channel whose account is pulled: its answers stored under `<channel>/`, its run
   * lease `pull-<channel>`, the watchdog on its declarations only. Absent: the one unnamed
   * channel.
   */
  channel?: string;
  /**
   * When the channel's server secret (password or SSH key) was last changed: reported as its
   * age in days (ServerCredentialAgeDays) each run. Absent: not reported.
   */
  serverSecretChangedAt?: () => Promise<Date>;
  /** This run's lease token: the Lambda request id. */
  owner: string;
  /** How long the run lease lasts: longer than the function may run. */
  leaseMs: number;
  /** The watchdog's allowed waits (ONSS_OVERDUE_*); default DEFAULT_OVERDUE_RULES. */
  overdueRules?: OverdueRules;
  /**
   * Whose signatures the answers must carry (ONSS_ANSWER_*); absent, or resolving undefined:
   * no trust, and the run logs ANSWER_TRUST_MISSING once.
   */
  answerTrust?: () => Promise<AnswerTrust | undefined>;
  now?: () => Date;
}

/** What one scheduled run did. */
export type PullOutcome =
  | { status: 'pulled'; report: PullReport; overdue: OverdueRun }
  | { status: 'skipped'; reason: string };

/**
 * Runs one pull, then the watchdog. Resolves `skipped` when another run holds the lease;
 * throws when the pull itself could not run (no connection, no ledger), so the invocation
 * counts as an error. A run in which some sets failed still counts as a success (they stay on
 * the server for the next run) but each failure is logged.
 *
 * The watchdog runs only after a pull that ran, under the same lease: its "no ACRF" must mean
 * the folders were just read and nothing came, not that an answer is waiting unread in an OUT
 * folder (a run that could not connect, or one skipped while another run may be tying that
 * very answer). The run that holds the lease runs it after its own pull.
 */
export async function runScheduledPull(deps: PullDependencies): Promise<PullOutcome> {
  await reportCertificate(deps);
  await reportCredentialAge(deps);
  const answerTrust = await loadAnswerTrust(deps);
  const channel = deps.channel === undefined ? {} : { channel: deps.channel };
  let report: PullReport;
  let overdue: OverdueRun | { error: unknown };
  try {
    ({ report, overdue } = await runExclusively(
      deps.ledger,
      pullRunLease(deps.channel),
      { leaseMs: deps.leaseMs, owner: deps.owner },
      async () => {
        const pulled = await pullResponses(
          {
            environments: deps.environments,
            ...channel,
            ...(answerTrust ? { answerTrust } : {}),
          },
          {
            ledger: deps.ledger,
            connector: await deps.connector(),
            store: deps.store,
            notifier: deps.notifier,
            ...(deps.now ? { now: deps.now } : {}),
          },
        );
        // The answers are in: a watchdog that cannot run must not hide them (see below).
        const watched = await watch(deps).catch((error: unknown) => ({ error }));
        return { report: pulled, overdue: watched };
      },
    ));
  } catch (error) {
    if (error instanceof RunInProgressError) {
      deps.log.info('skipped: another pull is running', describeError(error));
      return { status: 'skipped', reason: error.message };
    }
    throw error;
  }
  for (const set of [...report.sets, ...report.reapplied]) {
    for (const change of set.interpretation?.changes ?? []) deps.countAnswer(change.state);
    if (set.interpretation?.orphans) deps.countAnswer('orphan');
    if (set.interpretation?.withheld) deps.countAnswer('withheld');
  }
  for (const failure of report.failed) {
    deps.log.error('response set not pulled: left for the next run', { ...failure });
  }
  deps.metrics.addMetric(METRIC_NAMES.pullSuccess, MetricUnit.Count, 1);
  deps.log.info('pulled', {
    sets: report.sets.length,
    incomplete: report.incomplete.length,
    foreign: report.foreign.length,
    failed: report.failed.length,
    reapplied: report.reapplied.length,
    ...('error' in overdue
      ? {}
      : { overdue: overdue.overdue, overdueRaised: overdue.raised.length }),
  });
  if ('error' in overdue) {
    // The pull counted as a success; the invocation fails so the function's error alarm tells.
    deps.log.error('the watchdog could not run', describeError(overdue.error));
    throw overdue.error;
  }
  return { status: 'pulled', report, overdue };
}

/**
 * The watchdog after a pull: raises `declaration.overdue` once per late wait and puts the
 * number of waits newly marked (the DeclarationsOverdue alarm's metric, 0 included so the
 * dashboard shows every run). A wait that could not be marked or raised is logged and the
 * others go on; one marked whose event was lost still counts, so the alarm fires for it.
 */
async function watch(deps: PullDependencies): Promise<OverdueRun> {
  const run = await raiseOverdue(deps.ledger, deps.notifier, {
    now: (deps.now ?? (() => new Date()))(),
    ...(deps.channel === undefined ? {} : { channel: deps.channel }),
    ...(deps.overdueRules ? { rules: deps.overdueRules } : {}),
  });
  for (const failure of run.failed) {
    deps.log.error(
      failure.marked
        ? 'overdue declaration marked but its event was not sent: it is not raised again'
        : 'overdue declaration not marked: the next run tries again',
      { ...failure },
    );
  }
  deps.metrics.addMetric(METRIC_NAMES.overdue, MetricUnit.Count, newlyOverdue(run));
  return run;
}

/** What the pull function logs, once per run, when no trust is configured for the answers. */
export const ANSWER_TRUST_MISSING = `${NO_ANSWER_TRUST_WARNING}; set the stack's answerFingerprints or answerCaSecretArn context`;

/**
 * The answers' trust for this run, or undefined with one warning. A trust configured but
 * unreadable (the CA secret) fails the run: no answer is taken without the trust it was given.
 */
async function loadAnswerTrust(deps: PullDependencies): Promise<AnswerTrust | undefined> {
  let trust: AnswerTrust | undefined;
  try {
    trust = await deps.answerTrust?.();
  } catch (error) {
    deps.log.error("the answers' trust could not be read: nothing pulled", describeError(error));
    throw error;
  }
  if (trust === undefined) deps.log.warn(ANSWER_TRUST_MISSING, { signatureTrust: 'none' });
  return trust;
}

// The certificate's days left, every run, so the expiry alarm does not wait for a send. A
// secret that cannot be read is logged, never a reason not to collect the answers.
async function reportCertificate(deps: PullDependencies): Promise<void> {
  try {
    const material = await deps.signingMaterial();
    const { daysLeft } = summarizeCertificate(
      material.certificate,
      (deps.now ?? (() => new Date()))(),
    );
    deps.metrics.addMetric(METRIC_NAMES.certificateDaysLeft, MetricUnit.Count, daysLeft);
  } catch (error) {
    deps.log.warn('the signing certificate could not be read', describeError(error));
  }
}

/**
 * The server secret's age in days, every run, for the credential-age alarm. A date that cannot
 * be read is logged, never a reason not to collect the answers.
 */
async function reportCredentialAge(deps: PullDependencies): Promise<void> {
  if (deps.serverSecretChangedAt === undefined) return;
  try {
    const changedAt = await deps.serverSecretChangedAt();
    const days = credentialAgeDays(changedAt, (deps.now ?? (() => new Date()))());
    deps.metrics.addMetric(METRIC_NAMES.serverCredentialAgeDays, MetricUnit.Count, days);
  } catch (error) {
    deps.log.warn("the server secret's last change could not be read", describeError(error));
  }
}

/** One channel's ports for a pull: its account, its secrets, its answers' trust. */
export type PullChannelPorts = Pick<
  PullDependencies,
  'connector' | 'signingMaterial' | 'answerTrust' | 'serverSecretChangedAt'
> & {
  name?: string;
  /** Its server as events name it (`sftp://host:port`), never a secret. */
  server?: string;
};

/** What the pull of one channel came to: its outcome, or the error that stopped it. */
export type ChannelPullOutcome = { channel?: string } & (
  PullOutcome | { status: 'failed'; error: unknown }
);

/** Some channels' pulls failed: the invocation fails so the function's error alarm tells. */
export class ChannelPullsFailedError extends Error {
  override readonly name = 'ChannelPullsFailedError';
  constructor(readonly failed: readonly ChannelPullOutcome[]) {
    super(
      `the pull of ${failed.map((outcome) => outcome.channel ?? 'the channel').join(', ')} ` +
        'failed; the other channels were pulled',
    );
  }
}

/**
 * Pulls each channel (or only `only`, the channel an invocation names) one after the other,
 * each under its own run lease and with its own metrics: one channel's failure is logged and
 * the next still pulled. Throws ChannelPullsFailedError after all ran when any failed.
 */
export async function runChannelPulls(
  base: Omit<PullDependencies, 'connector' | 'signingMaterial' | 'answerTrust' | 'channel'>,
  channels: readonly PullChannelPorts[],
  options: { only?: string; metricsFor?: (channel: string) => MetricSink } = {},
): Promise<ChannelPullOutcome[]> {
  const chosen =
    options.only === undefined
      ? channels
      : channels.filter((channel) => channel.name === options.only);
  if (chosen.length === 0) {
    throw new ChannelPullsFailedError([
      { channel: options.only, status: 'failed', error: new Error('no such channel') },
    ]);
  }
  const outcomes: ChannelPullOutcome[] = [];
  for (const { name, server, ...ports } of chosen) {
    const named = name === undefined ? {} : { channel: name };
    if (name !== undefined) base.log.appendKeys({ channel: name });
    const metrics =
      name === undefined || options.metricsFor === undefined
        ? base.metrics
        : options.metricsFor(name);
    try {
      const outcome = await runScheduledPull({ ...base, ...ports, ...named, metrics });
      outcomes.push({ ...named, ...outcome });
    } catch (error) {
      await reportServerIdentity(
        error,
        {
          ...named,
          server: server ?? name ?? 'the transfer point',
          at: (base.now ?? (() => new Date()))(),
        },
        { notifier: base.notifier, metrics, log: base.log },
      );
      base.log.error('the pull of this channel failed; the others go on', describeError(error));
      outcomes.push({ ...named, status: 'failed', error });
    } finally {
      base.log.removeKeys(['channel']);
    }
  }
  const failed = outcomes.filter((outcome) => outcome.status === 'failed');
  if (failed.length > 0) throw new ChannelPullsFailedError(failed);
  return outcomes;
}

/**
 * The pull function's work for one scheduled run: under the ledger's run lease (so an overlap
 * with a slow previous run does nothing), pull the response folders of the configured
 * environments through the core (`pullResponses`), and report what came back as metrics. The
 * answers themselves are stored, tied and raised by the core.
 */
import type { Ledger } from '../../shared/ledger';
import type { Environment } from '../../shared/names';
import type { Notifier } from '../../shared/notify';
import {
  PULL_RUN_LEASE,
  pullResponses,
  RunInProgressError,
  runExclusively,
  type PullReport,
} from '../../shared/pull';
import type { SigningMaterial } from '../../shared/signing';
import { summarizeCertificate } from '../../shared/signing/material';
import type { ObjectStore } from '../../shared/store';
import type { TransportConnector } from '../../shared/transport';
import { METRIC_NAMES } from '../config/names';
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
  /** This run's lease token: the Lambda request id. */
  owner: string;
  /** How long the run lease lasts: longer than the function may run. */
  leaseMs: number;
  now?: () => Date;
}

/** What one scheduled run did. */
export type PullOutcome =
  { status: 'pulled'; report: PullReport } | { status: 'skipped'; reason: string };

/**
 * Runs one pull. Resolves `skipped` when another run holds the lease; throws when the pull
 * itself could not run (no connection, no ledger), so the invocation counts as an error. A run
 * in which some sets failed still counts as a success (they stay on the server for the next
 * run) but each failure is logged.
 */
export async function runScheduledPull(deps: PullDependencies): Promise<PullOutcome> {
  await reportCertificate(deps);
  let report: PullReport;
  try {
    report = await runExclusively(
      deps.ledger,
      PULL_RUN_LEASE,
      { leaseMs: deps.leaseMs, owner: deps.owner },
      async () =>
        pullResponses(
          { environments: deps.environments },
          {
            ledger: deps.ledger,
            connector: await deps.connector(),
            store: deps.store,
            notifier: deps.notifier,
            ...(deps.now ? { now: deps.now } : {}),
          },
        ),
    );
  } catch (error) {
    if (error instanceof RunInProgressError) {
      deps.log.info('skipped: another pull is running', describeError(error));
      return { status: 'skipped', reason: error.message };
    }
    throw error;
  }
  for (const set of report.sets) {
    for (const change of set.interpretation?.changes ?? []) deps.countAnswer(change.state);
    if (set.interpretation?.orphans) deps.countAnswer('orphan');
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
  });
  return { status: 'pulled', report };
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

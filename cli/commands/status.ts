import type { Command } from 'commander';
import type {
  DeclarationRecord,
  DeclarationState,
  Ledger,
  NotificationOutcome,
} from '../../shared/ledger';
import {
  anomalyIdLabel,
  describeAnomaly,
  describeAnomalyClass,
  describeNotificationVerdict,
  describeReceptionError,
} from '../../shared/responses';
import { findOverdue, type Overdue, type OverdueRules } from '../../shared/watchdog';
import { defaultLedgerPath } from '../defaults';
import { EXIT, printJson, UsageError, type CliIo } from '../io';
import { overdueFlagsGiven, overdueRulesFrom } from './overdue-options';

interface StatusFlags {
  since?: string;
  state?: string;
  channel?: string;
  ledger?: string;
  table?: string;
  region?: string;
  overdue?: boolean;
  ackWithin?: string;
  notificationWithin?: string;
  json?: boolean;
}

/** The waits `status` judges lateness by: the watchdog's defaults or the flags. */
function overdueRules(flags: StatusFlags): OverdueRules {
  if (overdueFlagsGiven(flags) && !flags.overdue) {
    throw new UsageError('--ack-within and --notification-within go with --overdue');
  }
  return overdueRulesFrom(flags);
}

/** The ledger `status` reads, and how to let it go. */
interface OpenedLedger {
  ledger: Ledger;
  close(): Promise<void>;
}

/**
 * The local SQLite ledger, or with `--table` the deployed DynamoDB one, read with the SDK's
 * usual credentials and region (environment, profile, role), or `--region`.
 */
async function openLedger(io: CliIo, flags: StatusFlags): Promise<OpenedLedger> {
  if (flags.table !== undefined && flags.ledger !== undefined) {
    throw new UsageError('give --ledger (a local file) or --table (the deployed ledger), not both');
  }
  if (flags.region !== undefined && flags.table === undefined) {
    throw new UsageError('--region goes with --table');
  }
  if (flags.table === undefined) {
    const { openSqliteLedger } = await import('../../shared/ledger');
    const ledger = openSqliteLedger(flags.ledger ?? defaultLedgerPath(io.env));
    return { ledger, close: () => ledger.close() };
  }
  const [{ DynamoDBClient }, { createDynamoDbLedger }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('../../functions/aws/dynamodb-ledger'),
  ]);
  const client = new DynamoDBClient(flags.region === undefined ? {} : { region: flags.region });
  const ledger = createDynamoDbLedger({ client, tableName: flags.table });
  return {
    ledger,
    close: async () => {
      await ledger.close();
      client.destroy();
    },
  };
}

/** One declaration as `status` shows it. */
interface StatusLine {
  set: string;
  state: DeclarationState;
  /** The channel it was sent through, when named. */
  channel?: string;
  files: string[];
  tickets: string[];
  errors: Array<{ id: string; label: string }>;
  notifications: number;
  /** Each notification's verdict and anomalies, in the order they came. */
  notified: NotifiedLine[];
  /** Set when an answer is late (the watchdog's rule). */
  overdue?: {
    waitingFor: 'acknowledgement' | 'notification';
    since: string;
    lateByMinutes: number;
  };
  /** Each wait the watchdog raised `declaration.overdue` for, and when (once each). */
  overdueRaised?: Array<{ waitingFor: 'acknowledgement' | 'notification'; at: string }>;
  failure?: string;
  /** When an operator cancelled it (state cancelled). */
  cancelledAt?: string;
  /** The refused declaration this one sends again. */
  resendOf?: string;
  /** The declaration that sends this one again, when it was resent. */
  resentAs?: string;
  updatedAt: string;
}

/** One notification as `status` shows it. */
interface NotifiedLine {
  /** In words: accepted, accepted with anomalies, refused: ..., proposal to validate, ... */
  verdict: string;
  /** HandlingResult/ResultCode as its word (refused, accepted, proposal, ...). */
  result: string;
  diagnosis?: number;
  ticket?: string;
  anomalyCount: number;
  /** The first anomalies the ledger kept (all of them up to 20). */
  anomalies: Array<{
    errorId: string;
    label?: string;
    class?: string;
    classInWords?: string;
    tagName?: string;
    path?: string;
    value?: string;
    /** The whole anomaly in words, as the text output shows it. */
    words: string;
  }>;
  at: string;
}

function toNotified(outcome: NotificationOutcome): NotifiedLine {
  return {
    verdict: describeNotificationVerdict(outcome.result, outcome.withAnomalies, outcome.diagnosis),
    result: outcome.result,
    ...(outcome.diagnosis === undefined ? {} : { diagnosis: outcome.diagnosis }),
    ...(outcome.ticket ? { ticket: outcome.ticket } : {}),
    anomalyCount: outcome.anomalyCount,
    anomalies: (outcome.anomalies ?? []).map((anomaly) => {
      const label = anomalyIdLabel(anomaly.errorId);
      return {
        errorId: anomaly.errorId,
        ...(label === undefined ? {} : { label }),
        ...(anomaly.anomalyClass === undefined
          ? {}
          : {
              class: anomaly.anomalyClass,
              classInWords: describeAnomalyClass(anomaly.anomalyClass),
            }),
        ...(anomaly.tagName === undefined ? {} : { tagName: anomaly.tagName }),
        ...(anomaly.path === undefined ? {} : { path: anomaly.path }),
        ...(anomaly.value === undefined ? {} : { value: anomaly.value }),
        words: describeAnomaly(anomaly),
      };
    }),
    at: outcome.at,
  };
}

function toLine(
  record: DeclarationRecord,
  late: Overdue | undefined,
  resentAs: string | undefined,
): StatusLine {
  const errors = (record.acknowledgement?.errors ?? []).map((id) => {
    const described = describeReceptionError(id);
    return { id: described.id, label: described.label };
  });
  return {
    set: record.id,
    state: record.state,
    ...(record.channel === undefined ? {} : { channel: record.channel }),
    files: record.files.map((f) => f.name),
    tickets: record.tickets ?? [],
    errors,
    notifications: (record.notifications ?? []).length,
    notified: (record.notifications ?? []).map(toNotified),
    ...(late
      ? {
          overdue: {
            waitingFor: late.waitingFor,
            since: late.since,
            lateByMinutes: late.lateByMinutes,
          },
        }
      : {}),
    ...(record.overdue?.length
      ? {
          overdueRaised: record.overdue.map((mark) => ({
            waitingFor: mark.waitingFor,
            at: mark.at,
          })),
        }
      : {}),
    ...(record.failure ? { failure: `${record.failure.code}: ${record.failure.message}` } : {}),
    ...(record.cancelledAt ? { cancelledAt: record.cancelledAt } : {}),
    ...(record.resendOf ? { resendOf: record.resendOf } : {}),
    ...(resentAs ? { resentAs } : {}),
    updatedAt: record.updatedAt,
  };
}

function describeOverdue(overdue: NonNullable<StatusLine['overdue']>): string {
  const what = overdue.waitingFor === 'acknowledgement' ? 'no ACRF' : 'no notification';
  const after = overdue.waitingFor === 'acknowledgement' ? 'its GO' : 'its ACRF';
  return `overdue: ${what} since ${after} at ${overdue.since}, ${overdue.lateByMinutes} min past the allowed wait`;
}

function describeRaised(raised: NonNullable<StatusLine['overdueRaised']>[number]): string {
  const what = raised.waitingFor === 'acknowledgement' ? 'no ACRF' : 'no notification';
  return `declaration.overdue raised at ${raised.at}: ${what} within the allowed wait`;
}

function printNotified(io: CliIo, notified: NotifiedLine): void {
  const count = notified.anomalyCount;
  io.stdout(
    `    notification: ${notified.verdict}` +
      `${notified.ticket ? `, ticket ${notified.ticket}` : ''}` +
      `${count ? `, ${count} ${count === 1 ? 'anomaly' : 'anomalies'}` : ''}\n`,
  );
  for (const anomaly of notified.anomalies)
    io.stdout(`      ${anomaly.errorId} ${anomaly.words}\n`);
  const untold = count - notified.anomalies.length;
  if (untold > 0) io.stdout(`      and ${untold} more in the notification file\n`);
}

function isoDay(value: string): string {
  const compact = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(value);
  if (!compact) throw new UsageError(`--since takes a date, YYYY-MM-DD, not "${value}"`);
  return `${compact[1]}-${compact[2]}-${compact[3]}T00:00:00.000Z`;
}

/** `status`: the declarations of the ledger with their state, ticket and errors in words. */
export function registerStatus(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('status')
    .description('show declarations: files, state, ticket and errors in words')
    .argument('[name]', 'a file name or a set id (DMFA.123456.20261125.00001.R)')
    .option('--since <date>', 'only declarations created on or after this day')
    .option('--state <state>', 'only declarations in this state')
    .option('--channel <name>', 'only declarations sent through this channel')
    .option('--ledger <path>', 'the ledger file (default ~/.onss-transfer/ledger.sqlite)')
    .option(
      '--table <name>',
      'read the deployed DynamoDB ledger table instead (AWS credentials: the SDK defaults)',
    )
    .option('--region <region>', 'AWS region of the table (default: the SDK configuration)')
    .option('--overdue', 'only declarations whose answer is late (no ACRF, or no notification)')
    .option('--ack-within <minutes>', 'with --overdue: minutes an ACRF may take (default 60)')
    .option(
      '--notification-within <hours>',
      'with --overdue: hours a DmfA notification may take after its ACRF (default 24)',
    )
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, flags: StatusFlags) => {
      const rules = overdueRules(flags);
      const { ledger, close } = await openLedger(io, flags);
      try {
        let records: DeclarationRecord[];
        if (name !== undefined) {
          const found = (await ledger.get(name)) ?? (await ledger.findByFileName(name));
          records = found ? [found] : [];
        } else {
          records = await ledger.list({
            ...(flags.since ? { since: isoDay(flags.since) } : {}),
            ...(flags.state ? { state: flags.state as DeclarationState } : {}),
          });
        }
        const now = io.now?.() ?? new Date();
        const late = new Map(
          findOverdue(records, now, rules).map((found) => [found.record.id, found]),
        );
        if (flags.overdue) records = records.filter((record) => late.has(record.id));
        if (flags.channel !== undefined) {
          records = records.filter((record) => record.channel === flags.channel);
        }
        // The link back from a refused declaration to its resend, read off the resends.
        const resentAs = new Map(
          (await ledger.list())
            .filter((record) => record.resendOf !== undefined)
            .map((record) => [record.resendOf as string, record.id]),
        );
        const lines = records.map((record) =>
          toLine(record, late.get(record.id), resentAs.get(record.id)),
        );
        if (flags.json) {
          printJson(io, lines);
        } else if (lines.length === 0) {
          io.stdout('no declaration\n');
        } else {
          for (const line of lines) {
            io.stdout(
              `${line.set}  ${line.state}` +
                `${line.tickets.length ? `  ticket ${line.tickets.join(', ')}` : ''}` +
                `${line.notifications ? `  ${line.notifications} notification(s)` : ''}` +
                `${line.channel ? `  channel ${line.channel}` : ''}\n`,
            );
            for (const error of line.errors) io.stdout(`    ${error.id} ${error.label}\n`);
            for (const notified of line.notified) printNotified(io, notified);
            if (line.overdue) io.stdout(`    ${describeOverdue(line.overdue)}\n`);
            for (const raised of line.overdueRaised ?? []) {
              io.stdout(`    ${describeRaised(raised)}\n`);
            }
            if (line.failure) io.stdout(`    ${line.failure}\n`);
            if (line.cancelledAt)
              io.stdout(`    cancelled at ${line.cancelledAt}, never launched\n`);
            if (line.resendOf) io.stdout(`    resend of ${line.resendOf}\n`);
            if (line.resentAs) io.stdout(`    resent as ${line.resentAs}\n`);
          }
        }
        setExit(name !== undefined && lines.length === 0 ? EXIT.failed : EXIT.ok);
      } finally {
        await close();
      }
    });
}

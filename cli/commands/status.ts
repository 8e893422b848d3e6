import type { Command } from 'commander';
import type { DeclarationRecord, DeclarationState, NotificationOutcome } from '../../shared/ledger';
import {
  anomalyIdLabel,
  describeAnomaly,
  describeAnomalyClass,
  describeNotificationVerdict,
  describeReceptionError,
} from '../../shared/responses';
import { defaultLedgerPath } from '../defaults';
import { EXIT, printJson, UsageError, type CliIo } from '../io';

interface StatusFlags {
  since?: string;
  state?: string;
  ledger?: string;
  json?: boolean;
}

/** One declaration as `status` shows it. */
interface StatusLine {
  set: string;
  state: DeclarationState;
  files: string[];
  tickets: string[];
  errors: Array<{ id: string; label: string }>;
  notifications: number;
  /** Each notification's verdict and anomalies, in the order they came. */
  notified: NotifiedLine[];
  failure?: string;
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

function toLine(record: DeclarationRecord): StatusLine {
  const errors = (record.acknowledgement?.errors ?? []).map((id) => {
    const described = describeReceptionError(id);
    return { id: described.id, label: described.label };
  });
  return {
    set: record.id,
    state: record.state,
    files: record.files.map((f) => f.name),
    tickets: record.tickets ?? [],
    errors,
    notifications: (record.notifications ?? []).length,
    notified: (record.notifications ?? []).map(toNotified),
    ...(record.failure ? { failure: `${record.failure.code}: ${record.failure.message}` } : {}),
    updatedAt: record.updatedAt,
  };
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
    .option('--ledger <path>', 'the ledger file (default ~/.onss-transfer/ledger.sqlite)')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, flags: StatusFlags) => {
      const { openSqliteLedger } = await import('../../shared/ledger');
      const ledger = openSqliteLedger(flags.ledger ?? defaultLedgerPath(io.env));
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
        const lines = records.map(toLine);
        if (flags.json) {
          printJson(io, lines);
        } else if (lines.length === 0) {
          io.stdout('no declaration\n');
        } else {
          for (const line of lines) {
            io.stdout(
              `${line.set}  ${line.state}` +
                `${line.tickets.length ? `  ticket ${line.tickets.join(', ')}` : ''}` +
                `${line.notifications ? `  ${line.notifications} notification(s)` : ''}\n`,
            );
            for (const error of line.errors) io.stdout(`    ${error.id} ${error.label}\n`);
            for (const notified of line.notified) printNotified(io, notified);
            if (line.failure) io.stdout(`    ${line.failure}\n`);
          }
        }
        setExit(name !== undefined && lines.length === 0 ? EXIT.failed : EXIT.ok);
      } finally {
        await ledger.close();
      }
    });
}

import type { Command } from 'commander';
import type { DeclarationRecord, DeclarationState } from '../../shared/ledger';
import { describeReceptionError } from '../../shared/responses';
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
  failure?: string;
  updatedAt: string;
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
    ...(record.failure ? { failure: `${record.failure.code}: ${record.failure.message}` } : {}),
    updatedAt: record.updatedAt,
  };
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
            if (line.failure) io.stdout(`    ${line.failure}\n`);
          }
        }
        setExit(name !== undefined && lines.length === 0 ? EXIT.failed : EXIT.ok);
      } finally {
        await ledger.close();
      }
    });
}

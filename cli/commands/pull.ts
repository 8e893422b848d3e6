import { join } from 'node:path';
import type { Command } from 'commander';
import type { Environment } from '../../shared/names';
import { defaultLedgerPath } from '../defaults';
import { displayText, EXIT, printJson, UsageError, type CliIo } from '../io';
import { answerTrustFromFlags, collect, type AnswerTrustFlags } from './answer-trust';
import { channelOf, withChannelFlags, type ChannelFlags } from './channel-options';
import { overdueRulesFrom, type OverdueFlags } from './overdue-options';
import { connectorFromFlags, withServerFlags, type ServerFlags } from './server-options';

interface PullFlags extends ServerFlags, AnswerTrustFlags, OverdueFlags, ChannelFlags {
  env: string;
  dest: string;
  copyForeign?: boolean;
  json?: boolean;
}

const ALL: readonly Environment[] = ['R', 'T', 'S'];

// A pull holds the ledger's run lease while it runs, so a second pull on the same ledger (a
// cron overlapping a slow run) stops at once instead of working the same sets. An hour outlasts
// any real run; one that dies keeps the lease that long at most.
const PULL_LEASE_MS = 3_600_000;

function environments(value: string): readonly Environment[] {
  if (value === 'all') return ALL;
  if (value === 'R' || value === 'T' || value === 'S') return [value];
  throw new UsageError(`--env must be R, T, S or all, not "${value}"`);
}

/** `pull`: copies the response folders into DEST, reads the answers, then cleans the server. */
export function registerPull(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withChannelFlags(withServerFlags(program.command('pull')))
    .description(
      'pull the answers (OUT folders) into a folder, tie them to declarations, then delete them from the server',
    )
    .requiredOption(
      '--env <R|T|S|all>',
      'which response folders: OUT (R), OUTTEST (T), OUTTEST-S (S)',
    )
    .requiredOption(
      '--dest <dir>',
      'where the answers are kept (responses/<env>/<date>/<type>/...)',
    )
    .option('--copy-foreign', 'also copy files whose names are not response names (never deleted)')
    .option(
      '--answer-fingerprint <sha256>',
      'trust answers signed by this certificate only (SHA-256 fingerprint; repeat, or comma-separate, for several)',
      collect,
    )
    .option(
      '--answer-ca-file <pem>',
      'trust answers whose signer certificate chains to a CA of this PEM bundle',
    )
    .option(
      '--ack-within <minutes>',
      'after pulling, raise declaration.overdue for a set with no ACRF this long after its GO (default 60)',
    )
    .option(
      '--notification-within <hours>',
      'after pulling, raise declaration.overdue for a DmfA with no notification this long after its ACRF (default 24)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (flags: PullFlags) => {
      const envs = environments(flags.env);
      const rules = overdueRulesFrom(flags);
      const { newlyOverdue, raiseOverdue } = await import('../../shared/watchdog');
      const [{ openSqliteLedger }, notify, pull, { localFolderStore }] = await Promise.all([
        import('../../shared/ledger'),
        import('../../shared/notify'),
        import('../../shared/pull'),
        import('../../shared/store'),
      ]);
      const { consoleNotifier, fanOut, jsonLinesNotifier } = notify;
      const { pullRunLease, pullResponses, runExclusively } = pull;
      const channel = channelOf(io, flags);
      const connector = await connectorFromFlags(io, flags);
      const answerTrust = await answerTrustFromFlags(io, flags);
      const ledger = openSqliteLedger(flags.ledger ?? defaultLedgerPath(io.env));
      const events = jsonLinesNotifier(join(flags.dest, 'events.jsonl'));
      const notifier = flags.json
        ? events
        : fanOut(
            events,
            // Event messages quote what the server listed: a file name may hold terminal
            // escapes or control characters, shown escaped rather than obeyed.
            consoleNotifier((line) => io.stdout(`${displayText(line.replace(/\n$/, ''))}\n`)),
          );
      try {
        const { report, overdue } = await runExclusively(
          ledger,
          pullRunLease(channel?.name),
          { leaseMs: PULL_LEASE_MS },
          async () => {
            const pulled = await pullResponses(
              {
                environments: envs,
                copyForeign: flags.copyForeign ?? false,
                ...(answerTrust === undefined ? {} : { answerTrust }),
                ...(channel === undefined ? {} : { channel: channel.name }),
              },
              { ledger, connector, store: localFolderStore(flags.dest), notifier },
            );
            // The watchdog, as the pull function runs it: after a pull that ran, under its
            // lease, so "no ACRF" means none was waiting in the folders just read.
            const now = io.now?.() ?? new Date();
            return {
              report: pulled,
              overdue: await raiseOverdue(ledger, notifier, {
                now,
                rules,
                ...(channel === undefined ? {} : { channel: channel.name }),
              }),
            };
          },
        );
        if (flags.json) {
          printJson(io, { ...report, overdue });
        } else {
          const withheld = report.sets.filter((set) => set.interpretation?.withheld).length;
          io.stdout(
            `pulled ${report.sets.length} response set(s)` +
              `${withheld ? `, ${withheld} not applied (signature not valid or not trusted)` : ''}` +
              `${report.reapplied.length ? `, ${report.reapplied.length} withheld earlier applied now (trusted)` : ''}` +
              `${report.incomplete.length ? `, ${report.incomplete.length} incomplete left for the next run` : ''}` +
              `${report.foreign.length ? `, ${report.foreign.length} foreign file(s) left on the server` : ''}` +
              `${report.failed.length ? `, ${report.failed.length} failed` : ''}` +
              `${newlyOverdue(overdue) ? `, ${newlyOverdue(overdue)} declaration(s) newly overdue` : ''}\n`,
          );
          for (const failure of report.failed) {
            io.stderr(
              `onss-transfer: ${failure.id}: ${displayText(failure.message)} [${failure.code}]\n`,
            );
          }
          for (const failure of overdue.failed) {
            io.stderr(
              `onss-transfer: ${failure.declaration}: overdue (${failure.waitingFor}) ` +
                `${failure.marked ? 'marked but its event not sent' : 'not marked'}: ` +
                `${displayText(failure.message)} [${failure.code}]\n`,
            );
          }
        }
        setExit(report.failed.length || overdue.failed.length ? EXIT.failed : EXIT.ok);
      } catch (error) {
        // A server that is not the pinned one: kept in events.jsonl too, as the functions
        // raise it, with both fingerprints; the error itself is printed as usual.
        const change = (await import('../../shared/transport')).serverIdentityChange(error);
        if (change !== undefined) {
          await events
            .notify(
              notify.serverIdentityChangedEvent(change, {
                at: io.now?.() ?? new Date(),
                where: connector.describe(),
                ...(channel === undefined ? {} : { channel: channel.name }),
              }),
            )
            .catch(() => undefined);
        }
        throw error;
      } finally {
        await ledger.close();
      }
    });
}

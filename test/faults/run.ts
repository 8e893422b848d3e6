/**
 * `npm run test:faults [-- --seed N | --seeds COUNT --first N] [--servers a,b] [--verbose]`:
 * the randomized fault runs of issues 8 and 13. Each seed sends random declarations through
 * the send and pull functions' work with network faults, crashes, duplicated deliveries and
 * operators' cancels, over two or three channels (each its own account and sender) on the
 * local transfer point (FTP or SFTP), or over one channel to vsftpd, then checks the
 * invariants. Ends with one summary line per invariant and exits 1 when any seed broke one; a
 * failing seed is printed with the command that replays it alone.
 */
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { makeIdentity } from '../helpers/pki';
import { startVsftpd, VSFTPD, type Vsftpd } from '../interop/vsftpd';
import { INVARIANTS, type Violation } from './invariants';
import { seededRandom } from './random';
import { emptyOutcome, runSeed, type SeedOutcome } from './seed-run';
import {
  channelSpecs,
  makeSftpKeys,
  simulatorTarget,
  vsftpdTarget,
  type FaultTarget,
  type ServerKind,
} from './servers';

const ALL_SERVERS: readonly ServerKind[] = ['simulator-ftp', 'simulator-sftp', 'vsftpd'];

// Six seeds in ten on the local transfer point over FTP, two over SFTP, two on vsftpd.
function serverOf(seed: number, allowed: readonly ServerKind[]): ServerKind {
  const wanted: ServerKind = [6, 7].includes(seed % 10)
    ? 'simulator-sftp'
    : [8, 9].includes(seed % 10)
      ? 'vsftpd'
      : 'simulator-ftp';
  return allowed.includes(wanted) ? wanted : (allowed[seed % allowed.length] as ServerKind);
}

// A seed takes seconds; one that runs for minutes is stuck somewhere without a timeout.
const SEED_LIMIT_MS = 120_000;

/** The seed's outcome, or a failed one naming the hang once SEED_LIMIT_MS have passed. */
async function withinLimit(
  running: Promise<SeedOutcome>,
  seed: number,
  server: ServerKind,
  log: string[],
): Promise<SeedOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<SeedOutcome>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          ...emptyOutcome(seed, server, log),
          violations: [
            {
              invariant: 'unsettled',
              detail: `the seed did not end within ${SEED_LIMIT_MS / 1000} s: something waits without a timeout`,
            },
          ],
          durationMs: SEED_LIMIT_MS,
        }),
      SEED_LIMIT_MS,
    );
  });
  try {
    return await Promise.race([running, hung]);
  } finally {
    clearTimeout(timer);
  }
}

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError('give a whole number of at least 1');
  }
  return parsed;
}

function servers(value: string): ServerKind[] {
  const kinds = value.split(',').map((kind) => kind.trim());
  const unknown = kinds.filter((kind) => !ALL_SERVERS.includes(kind as ServerKind));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `unknown server ${unknown.join(', ')}: use ${ALL_SERVERS.join(', ')}`,
    );
  }
  return kinds as ServerKind[];
}

function describeSeed(outcome: SeedOutcome): string {
  const status =
    outcome.violations.length === 0 ? 'ok' : `${outcome.violations.length} violation(s)`;
  return (
    `seed ${outcome.seed} ${outcome.server}: ${outcome.channels} channel(s), ` +
    `${outcome.sources} declaration(s) (${outcome.misplaced} misplaced) in ${outcome.parts} part(s), ` +
    `${outcome.deliveries} deliveries (${outcome.duplicatesDelivered} duplicated, ${outcome.requeues} put back), ` +
    `${outcome.cancels} cancel(s) (${outcome.cancelled} set(s) cancelled), ${outcome.pulls} pulls, ` +
    `${outcome.crashes.length} crash(es), ${outcome.proxyFaults.length} network fault(s), ` +
    `${outcome.responses} answer file(s): ${status} (${(outcome.durationMs / 1000).toFixed(1)} s)`
  );
}

async function main(): Promise<void> {
  const options = new Command('test:faults')
    .description('randomized fault runs: invariants of sending and pulling under faults')
    .option('--seed <n>', 'run this one seed (replay a failure)', count)
    .option('--seeds <count>', 'how many seeds', count, 200)
    .option('--first <n>', 'the first seed', count, 1)
    .option('--servers <list>', `servers to run against (${ALL_SERVERS.join(',')})`, servers)
    .option('--verbose', 'one line per seed, and the log of a failing seed')
    .parse()
    .opts<{
      seed?: number;
      seeds: number;
      first: number;
      servers?: ServerKind[];
      verbose?: boolean;
    }>();

  const allowed = options.servers ?? [...ALL_SERVERS];
  const seeds =
    options.seed === undefined
      ? Array.from({ length: options.seeds }, (_, i) => options.first + i)
      : [options.seed];
  const started = Date.now();
  const identity = await makeIdentity('rsa2048', {
    notBefore: new Date(Date.now() - 2 * 86_400_000),
  });
  // The transfer point's own key, which signs the answers of every account, and its SSH keys.
  const transferPoint = await makeIdentity('rsa2048');
  const sftpKeys = seeds.some((seed) => serverOf(seed, allowed) === 'simulator-sftp')
    ? makeSftpKeys()
    : undefined;
  let vsftpd: Vsftpd | undefined;
  if (seeds.some((seed) => serverOf(seed, allowed) === 'vsftpd')) {
    if (!existsSync(VSFTPD)) {
      throw new Error(
        `${VSFTPD} is missing: run .ci/install-interop.sh, or leave vsftpd out with --servers`,
      );
    }
    vsftpd = await startVsftpd();
    // vsftpd runs in its own process group: a run stopped from outside must not leave it up.
    const server = vsftpd;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        void server.stop().finally(() => process.exit(130));
      });
    }
  }

  const outcomes: SeedOutcome[] = [];
  try {
    for (const seed of seeds) {
      const kind = serverOf(seed, allowed);
      const flavour = seededRandom(seed ^ 0x5bd1e995);
      const channels = channelSpecs(flavour, kind);
      const targets: FaultTarget[] = [];
      const log: string[] = [];
      let outcome: SeedOutcome;
      try {
        if (kind === 'vsftpd') {
          targets.push(...channels.map((channel) => vsftpdTarget(vsftpd as Vsftpd, channel)));
        } else {
          const notifications = flavour.chance(0.5)
            ? {
                ...(flavour.chance(0.5)
                  ? { compression: flavour.pick(['zip', 'gzip'] as const) }
                  : {}),
              }
            : undefined;
          for (const channel of channels) {
            targets.push(
              await simulatorTarget({
                sftp: kind === 'simulator-sftp' ? sftpKeys : undefined,
                channel,
                identity: transferPoint.material,
                ...(notifications ? { notifications } : {}),
              }),
            );
          }
        }
        outcome = await withinLimit(
          runSeed(seed, targets, identity.material, log),
          seed,
          kind,
          log,
        );
      } finally {
        for (const target of targets) await target.close();
      }
      outcomes.push(outcome);
      if (outcome.violations.length > 0) {
        console.log(`FAILED ${describeSeed(outcome)}`);
        for (const violation of outcome.violations) {
          console.log(`  ${INVARIANTS[violation.invariant]}: ${violation.detail}`);
        }
        console.log(`  crashes: ${outcome.crashes.join('; ') || 'none'}`);
        console.log(`  network faults: ${outcome.proxyFaults.join('; ') || 'none'}`);
        if (options.verbose) for (const line of outcome.log) console.log(`    ${line}`);
        console.log(`  replay: npm run test:faults -- --seed ${seed} --verbose`);
      } else if (options.verbose) {
        console.log(describeSeed(outcome));
      } else if (outcomes.length % 25 === 0) {
        console.log(
          `${outcomes.length} seeds run (${((Date.now() - started) / 1000).toFixed(0)} s)`,
        );
      }
    }
  } finally {
    await vsftpd?.stop();
  }
  const failed = outcomes.filter((outcome) => outcome.violations.length > 0);
  console.log(summary(outcomes, (Date.now() - started) / 1000).join('\n'));
  if (failed.length > 0) {
    console.log(`failing seeds: ${failed.map((outcome) => outcome.seed).join(' ')}`);
    process.exitCode = 1;
  }
}

function summary(outcomes: readonly SeedOutcome[], seconds: number): string[] {
  const sum = (pick: (outcome: SeedOutcome) => number): number =>
    outcomes.reduce((total, outcome) => total + pick(outcome), 0);
  const violations: Violation[] = outcomes.flatMap((outcome) => outcome.violations);
  const broken = (name: Violation['invariant']): number =>
    violations.filter((violation) => violation.invariant === name).length;
  const byServer = ALL_SERVERS.map(
    (kind) => `${kind} ${outcomes.filter((outcome) => outcome.server === kind).length}`,
  ).join(', ');
  const declarations = sum((o) => o.sources);
  const failing = outcomes.filter((outcome) => outcome.violations.length > 0).length;
  const answers = sum((o) => o.responses);
  const cancels = sum((o) => o.cancels);
  return [
    `fault runs: ${outcomes.length} seeds (${byServer}) in ${seconds.toFixed(1)} s: ` +
      `${sum((o) => o.channels)} channels, ` +
      `${declarations} declarations (${sum((o) => o.misplaced)} in another channel's folder) ` +
      `in ${sum((o) => o.parts)} parts, ${sum((o) => o.deliveries)} deliveries ` +
      `(${sum((o) => o.duplicatesDelivered)} duplicated, ${sum((o) => o.concurrentDeliveries)} concurrent, ` +
      `${sum((o) => o.requeues)} put back for a busy channel), ${cancels} cancels, ` +
      `${sum((o) => o.pulls)} pulls, ${sum((o) => o.crashes.length)} crashes, ` +
      `${sum((o) => o.proxyFaults.length)} network faults ` +
      `(${sum((o) => o.proxyFaults.filter((f) => f.includes('cut data up while')).length)} ` +
      'cutting a second session while a part closed)',
    `${INVARIANTS['launched-twice']}: duplicates: ${broken('launched-twice')} (${declarations} declarations)`,
    `${INVARIANTS['bad-set-launched']}: bad sets: ${broken('bad-set-launched')}`,
    `${INVARIANTS['unaccounted-source']}: unaccounted: ${broken('unaccounted-source')} ` +
      `(launched ${sum((o) => o.launched)}, failed ${sum((o) => o.failed)}, ` +
      `cancelled ${sum((o) => o.cancelled)}; cancels refused ${sum((o) => o.cancelsRefused)} of ${cancels})`,
    `${INVARIANTS['answer-untied']}: untied: ${broken('answer-untied')}`,
    `${INVARIANTS['stored-before-deleted']}: deleted before stored: ${broken('stored-before-deleted')}`,
    `${INVARIANTS['response-duplicated']}: duplicates: ${broken('response-duplicated')} (${answers} answer files)`,
    `${INVARIANTS['response-lost']}: lost: ${broken('response-lost')}`,
    `${INVARIANTS['channel-crossed']}: crossed: ${broken('channel-crossed')}`,
    `${INVARIANTS['cancelled-launched']}: cancelled then launched: ${broken('cancelled-launched')} ` +
      `(${sum((o) => o.cancelled)} sets cancelled)`,
    `${INVARIANTS.unsettled}: unsettled: ${broken('unsettled')}`,
    `seeds: ${outcomes.length} run, ${outcomes.length - failing} passed, ${failing} failed`,
  ];
}

// ftp-srv can keep a paused data socket of an abandoned transfer open after its server stopped:
// the run ends when its seeds are done, whatever such a socket does.
main().then(
  () => process.exit(),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(2);
  },
);

/**
 * What must hold after a seed, whatever the faults: checked on each account's record, on the
 * server's side, of what was uploaded with its credentials, what it launched, cancelled and
 * answered, on the ledger, on the events raised and on the store.
 */
import { createHash } from 'node:crypto';
import type { DeclarationRecord, Ledger } from '../../shared/ledger';
import type { Environment } from '../../shared/names';
import { EVENT_TYPES, type TransferEvent } from '../../shared/notify';
import type { FaultTarget, LaunchSeen } from './servers';
import { storedCopies } from './store-scan';

/** The invariants, by the name the summary gives them. */
export const INVARIANTS = {
  'launched-twice': 'no declaration launched twice',
  'bad-set-launched': 'no GO beside an incomplete or corrupted set',
  'unaccounted-source':
    'every source launched exactly once, failed with a reason or cancelled; every cancel answered',
  'answer-untied': 'every launched declaration tied to its answer',
  'stored-before-deleted': 'every answer stored before it left the server',
  'response-duplicated': 'every answer stored exactly once',
  'response-lost': 'no answer lost',
  'channel-crossed':
    "no declaration of one channel ever uploaded with another channel's credentials",
  'cancelled-launched': 'a cancelled set is never launched',
  unsettled: 'the system went quiet',
} as const;

/** One invariant broken, with what shows it. */
export interface Violation {
  invariant: keyof typeof INVARIANTS;
  detail: string;
}

/** A declaration of the seed. */
export interface SourceFacts {
  index: number;
  /** Where its file is (its identity in the ledger). */
  path: string;
  /** The object its S3 events name (`s3://bucket/key`): what the events about it carry. */
  object: string;
  bytes: Buffer;
  env: Environment;
  /** The channel whose outbox folder it was dropped in (undefined: the unnamed channel). */
  channel: string | undefined;
  /**
   * Dropped in a channel's folder under a name with another channel's sender: it must be
   * refused (ACRF-108) before anything is claimed or uploaded.
   */
  misplaced: boolean;
}

/** An operator's cancel of the seed (`outbox/<channel>/cancel/<set>`). */
export interface CancelFacts {
  index: number;
  key: string;
  /** The object its S3 event names: what the cancelled or refused event carries first. */
  object: string;
  /** The set it names. */
  declaration: string;
  /** The set's state in the ledger when the cancel was dropped. */
  stateWhenDropped: string;
  /** The channel whose folder it was dropped in. */
  channel: string | undefined;
  /** Dropped in the folder of another channel than the set's: it must be refused. */
  wrongChannel: boolean;
}

/** One account of the seed, and the store's folder of its channel's answers. */
export interface AccountFacts {
  target: FaultTarget;
  responsesRoot: string;
}

/** What the invariants counted besides the violations. */
export interface InvariantCounts {
  violations: Violation[];
  launched: number;
  /** Sources failed with a reason, and misplaced ones refused. */
  failed: number;
  /** Sources whose set was cancelled. */
  cancelled: number;
  /** Cancels refused. */
  cancelsRefused: number;
  responses: number;
}

const COMMITTED = ['launching', 'launched', 'acknowledged', 'rejected', 'notified', 'refused'];
const SET_FILES = ['FI', 'FS', 'GO', 'TD'];

/** The set id (`APP.SENDER.DATE.SEQ.ENV`) a declaration file name belongs to. */
function setIdOf(name: string): string | undefined {
  const fields = name.split('.');
  return SET_FILES.includes(fields[0] ?? '') && fields.length >= 7
    ? fields.slice(1, 6).join('.')
    : undefined;
}

/** Checks every invariant; counts what was launched, failed, cancelled and answered. */
export async function checkInvariants(input: {
  sources: readonly SourceFacts[];
  cancels: readonly CancelFacts[];
  accounts: readonly AccountFacts[];
  ledger: Ledger;
  events: readonly TransferEvent[];
  quiet: boolean;
  queueLeft: number;
}): Promise<InvariantCounts> {
  const { sources, accounts, ledger } = input;
  const violations: Violation[] = [];
  const launches = accounts.flatMap(({ target }) =>
    target.launches().map((launch) => ({ ...launch, user: target.user })),
  );
  const shaOf = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
  const bySha = new Map(sources.map((source) => [shaOf(source.bytes), source]));
  const records = await ledger.list();
  const counts = { launched: 0, failed: 0, cancelled: 0 };

  for (const launch of launches) {
    if (launch.codes.length > 0) {
      violations.push({
        invariant: 'bad-set-launched',
        detail: `${launch.user}: ${launch.goName} was refused: ${launch.reasons.join('; ')}`,
      });
    } else if (launch.sha256 === undefined || !bySha.has(launch.sha256)) {
      violations.push({
        invariant: 'bad-set-launched',
        detail: `${launch.user}: ${launch.goName} launched content that is no declaration of the seed`,
      });
    }
  }

  for (const source of sources) {
    checkSource(source, launches, records, input.events, violations, counts, shaOf);
  }
  const cancelsRefused = checkCancels(input, records, violations);
  checkChannels(input, records, violations);
  checkCancelledNeverLaunched(input, launches, records, violations);

  let responses = 0;
  for (const { target, responsesRoot } of accounts) {
    for (const answer of target.responses()) {
      responses += 1;
      const copies = storedCopies(responsesRoot, answer.name, answer.sha256);
      if (copies === 0) {
        violations.push({
          invariant: 'response-lost',
          detail: `${target.user}: ${answer.folder}/${answer.name} is not in the store`,
        });
      } else if (copies > 1) {
        violations.push({
          invariant: 'response-duplicated',
          detail: `${target.user}: ${answer.folder}/${answer.name} is in the store ${copies} times`,
        });
      }
    }
  }

  const left = accounts.flatMap(({ target }) => {
    const { uploads, responses: answers } = target.leftovers();
    return [...uploads, ...answers].map((name) => `${target.user}: ${name}`);
  });
  if (!input.quiet || input.queueLeft > 0 || left.length > 0) {
    violations.push({
      invariant: 'unsettled',
      detail:
        `not quiet after the last round: ${input.queueLeft} message(s) queued, ` +
        `left on the server: ${left.join(', ') || 'nothing'}`,
    });
  }
  return { violations, ...counts, cancelsRefused, responses };
}

/** A source: launched exactly once, failed with a reason, cancelled, or (misplaced) refused. */
function checkSource(
  source: SourceFacts,
  launches: ReadonlyArray<LaunchSeen & { user: string }>,
  records: readonly DeclarationRecord[],
  events: readonly TransferEvent[],
  violations: Violation[],
  counts: { launched: number; failed: number; cancelled: number },
  shaOf: (bytes: Buffer) => string,
): void {
  const sha = shaOf(source.bytes);
  const accepted = launches.filter((l) => l.codes.length === 0 && l.sha256 === sha);
  const mine = records.filter((record) => record.source.id === source.path);
  const committed = mine.filter((record) => COMMITTED.includes(record.state));
  const failures = mine.filter((record) => record.state === 'failed');
  const cancelled = mine.filter((record) => record.state === 'cancelled');
  const describe =
    `declaration ${source.index} in ${source.channel ?? 'the outbox'} ` +
    `(${mine.map((r) => `${r.id} ${r.state}`).join(', ') || 'no record'})`;
  if (accepted.length > 1) {
    violations.push({
      invariant: 'launched-twice',
      detail: `${describe} was launched ${accepted.length} times: ${accepted.map((l) => `${l.user} ${l.goName}`).join(', ')}`,
    });
  }
  if (source.misplaced) {
    // Refused on its name before any claim: no record, nothing launched, an ACRF-108 event.
    const refused = events.some(
      (event) =>
        event.type === EVENT_TYPES.failed &&
        event.files?.includes(source.object) === true &&
        event.errors?.some((error) => error.id === 'ACRF-108') === true,
    );
    if (mine.length === 0 && accepted.length === 0 && refused) counts.failed += 1;
    else {
      violations.push({
        invariant: 'unaccounted-source',
        detail:
          `${describe}: dropped with another channel's sender, it must be refused (ACRF-108) ` +
          `and never claimed; ${mine.length} record(s), launched ${accepted.length} time(s), ` +
          `${refused ? 'refused' : 'no ACRF-108 event'}`,
      });
    }
    return;
  }
  if (accepted.length === 1 && committed.length === 1 && cancelled.length === 0) {
    counts.launched += 1;
    const record = committed[0];
    if (record && !['acknowledged', 'notified', 'refused'].includes(record.state)) {
      violations.push({
        invariant: 'answer-untied',
        detail: `${describe}: launched, but its answer was not tied to it`,
      });
    }
  } else if (accepted.length === 0 && committed.length === 0 && cancelled.length > 0) {
    // Cancelled: settled, never launched, never sent again under another name.
    counts.cancelled += 1;
  } else if (accepted.length === 0 && committed.length === 0 && failures.length > 0) {
    counts.failed += 1;
    const reasonless = failures.filter((r) => !r.failure?.message);
    if (reasonless.length > 0) {
      violations.push({
        invariant: 'unaccounted-source',
        detail: `${describe}: failed without a reason`,
      });
    }
  } else if (accepted.length <= 1) {
    violations.push({
      invariant: 'unaccounted-source',
      detail:
        `${describe}: launched ${accepted.length} time(s) on the server, ` +
        `${committed.length} committed record(s), ${cancelled.length} cancelled`,
    });
  }
}

/**
 * Every cancel answered: a `declaration.cancelled` or an `operation.refused` event naming its
 * object; one dropped in another channel's folder only refused. Returns how many were refused.
 */
function checkCancels(
  input: { cancels: readonly CancelFacts[]; events: readonly TransferEvent[] },
  records: readonly DeclarationRecord[],
  violations: Violation[],
): number {
  let refusedCount = 0;
  for (const cancel of input.cancels) {
    const about = input.events.filter((event) => event.files?.[0] === cancel.object);
    const done = about.some((event) => event.type === EVENT_TYPES.cancelled);
    const refused = about.some((event) => event.type === EVENT_TYPES.operationRefused);
    const describe = `cancel ${cancel.index} (${cancel.key}, the set ${cancel.stateWhenDropped} when dropped)`;
    if (!done && !refused) {
      violations.push({
        invariant: 'unaccounted-source',
        detail: `${describe}: neither cancelled nor refused (${about.map((e) => e.type).join(', ') || 'no event'})`,
      });
    }
    if (refused && !done) refusedCount += 1;
    if (done && cancel.wrongChannel) {
      violations.push({
        invariant: 'channel-crossed',
        detail: `${describe}: a cancel in ${cancel.channel ?? 'the outbox'}'s folder cancelled a set of another channel`,
      });
    }
    const states = records.filter((r) => r.id === cancel.declaration).map((r) => r.state);
    if (done && !states.includes('cancelled')) {
      violations.push({
        invariant: 'cancelled-launched',
        detail: `${describe}: reported cancelled, but the ledger has it ${states.join(', ') || 'nowhere'}`,
      });
    }
  }
  return refusedCount;
}

/**
 * No declaration of one channel uploaded with another channel's credentials: every file in an
 * upload folder of an account (as the server saw it, with the user that put it) names a set of
 * the ledger recorded for that account's channel, with that channel's sender; and every set
 * of the ledger is recorded for the channel whose folder its source was dropped in.
 */
function checkChannels(
  input: { sources: readonly SourceFacts[]; accounts: readonly AccountFacts[] },
  records: readonly DeclarationRecord[],
  violations: Violation[],
): void {
  for (const { target } of input.accounts) {
    const { channel } = target;
    const crossed = new Map<string, string[]>();
    for (const upload of target.uploads()) {
      const id = setIdOf(upload.name);
      const sender = upload.name.split('.')[2];
      const mine = records.filter((record) => record.id === id);
      const problem =
        upload.user !== target.user
          ? `put by ${upload.user}`
          : id === undefined
            ? 'names no set'
            : sender !== channel.sender
              ? `is of sender ${sender}`
              : mine.length === 0
                ? 'is of no set of the ledger'
                : mine.some((record) => record.channel !== channel.name)
                  ? `is of a set of channel ${mine.map((r) => r.channel ?? 'unnamed').join(', ')}`
                  : undefined;
      if (problem === undefined) continue;
      const key = id ?? upload.name;
      crossed.set(key, [...(crossed.get(key) ?? []), `${upload.folder}/${upload.name} ${problem}`]);
    }
    for (const [id, files] of crossed) {
      violations.push({
        invariant: 'channel-crossed',
        detail:
          `uploaded with the credentials of ${target.user} (channel ${channel.name ?? 'unnamed'}, ` +
          `sender ${channel.sender}), set ${id}: ${files.join('; ')}`,
      });
    }
  }
  for (const record of records) {
    const source = input.sources.find((s) => s.path === record.source.id);
    const spec = input.accounts.find((a) => a.target.channel.name === record.channel)?.target
      .channel;
    const problem =
      source !== undefined && source.channel !== record.channel
        ? `its source is in ${source.channel ?? 'the outbox'}'s folder`
        : spec === undefined
          ? 'that channel is none of the seed'
          : spec.sender !== record.key.sender
            ? `that channel files for sender ${spec.sender}`
            : undefined;
    if (problem !== undefined) {
      violations.push({
        invariant: 'channel-crossed',
        detail: `${record.id} (${record.state}) is recorded for channel ${record.channel ?? 'unnamed'}, but ${problem}`,
      });
    }
  }
}

/**
 * A cancelled set is never launched: no GO of a set the ledger has cancelled reached any
 * account, none was judged, and no set reported cancelled to the operator was launched.
 */
function checkCancelledNeverLaunched(
  input: { accounts: readonly AccountFacts[]; events: readonly TransferEvent[] },
  launches: ReadonlyArray<LaunchSeen & { user: string }>,
  records: readonly DeclarationRecord[],
  violations: Violation[],
): void {
  const cancelled = new Set(
    records.filter((record) => record.state === 'cancelled').map((record) => record.id),
  );
  for (const event of input.events) {
    if (event.type === EVENT_TYPES.cancelled && event.declaration !== undefined) {
      cancelled.add(event.declaration);
    }
  }
  const goes = new Map<string, string[]>();
  const seen = (id: string | undefined, what: string): void => {
    if (id === undefined || !cancelled.has(id)) return;
    goes.set(id, [...(goes.get(id) ?? []), what]);
  };
  for (const { target } of input.accounts) {
    for (const upload of target.uploads()) {
      if (upload.name.startsWith('GO.')) {
        seen(setIdOf(upload.name), `${upload.user} uploaded ${upload.folder}/${upload.name}`);
      }
    }
  }
  for (const launch of launches) {
    seen(
      setIdOf(launch.goName),
      `${launch.user} judged ${launch.goName} (${launch.codes.length === 0 ? 'accepted' : `refused ${launch.codes.join(', ')}`})`,
    );
  }
  for (const [id, what] of goes) {
    const states = records.filter((r) => r.id === id).map((r) => r.state);
    violations.push({
      invariant: 'cancelled-launched',
      detail: `${id} (${states.join(', ') || 'no record'}) was cancelled, yet: ${what.join('; ')}`,
    });
  }
}

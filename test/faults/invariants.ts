/**
 * What must hold after a seed, whatever the faults: checked on the server's record of what it
 * launched and answered, on the ledger and on the store.
 */
import { createHash } from 'node:crypto';
import type { Ledger } from '../../shared/ledger';
import type { Environment } from '../../shared/names';
import type { FaultTarget } from './servers';
import { storedCopies } from './store-scan';

/** The invariants, by the name the summary gives them. */
export const INVARIANTS = {
  'launched-twice': 'no declaration launched twice',
  'bad-set-launched': 'no GO beside an incomplete or corrupted set',
  'unaccounted-source': 'every source launched exactly once or failed with a reason',
  'answer-untied': 'every launched declaration tied to its answer',
  'stored-before-deleted': 'every answer stored before it left the server',
  'response-duplicated': 'every answer stored exactly once',
  'response-lost': 'no answer lost',
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
  bytes: Buffer;
  env: Environment;
}

const COMMITTED = ['launching', 'launched', 'acknowledged', 'rejected', 'notified'];

/** Checks every invariant; counts what was launched, failed and answered. */
export async function checkInvariants(input: {
  sources: readonly SourceFacts[];
  target: FaultTarget;
  ledger: Ledger;
  storeRoot: string;
  quiet: boolean;
  queueLeft: number;
}): Promise<{ violations: Violation[]; launched: number; failed: number; responses: number }> {
  const { sources, target, ledger, storeRoot } = input;
  const violations: Violation[] = [];
  const launches = target.launches();
  const shaOf = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
  const bySha = new Map(sources.map((source) => [shaOf(source.bytes), source]));
  let launched = 0;
  let failed = 0;

  for (const launch of launches) {
    if (launch.codes.length > 0) {
      violations.push({
        invariant: 'bad-set-launched',
        detail: `${launch.goName} was refused: ${launch.reasons.join('; ')}`,
      });
    } else if (launch.sha256 === undefined || !bySha.has(launch.sha256)) {
      violations.push({
        invariant: 'bad-set-launched',
        detail: `${launch.goName} launched content that is no declaration of the seed`,
      });
    }
  }

  const records = await ledger.list();
  for (const source of sources) {
    const sha = shaOf(source.bytes);
    const accepted = launches.filter((l) => l.codes.length === 0 && l.sha256 === sha);
    const mine = records.filter((record) => record.source.id === source.path);
    const committed = mine.filter((record) => COMMITTED.includes(record.state));
    const failures = mine.filter((record) => record.state === 'failed');
    const describe = `declaration ${source.index} (${mine.map((r) => `${r.id} ${r.state}`).join(', ') || 'no record'})`;
    if (accepted.length > 1) {
      violations.push({
        invariant: 'launched-twice',
        detail: `${describe} was launched ${accepted.length} times: ${accepted.map((l) => l.goName).join(', ')}`,
      });
    }
    if (accepted.length === 1 && committed.length === 1) {
      launched += 1;
      const record = committed[0];
      if (record && !['acknowledged', 'notified'].includes(record.state)) {
        violations.push({
          invariant: 'answer-untied',
          detail: `${describe}: launched, but its answer was not tied to it`,
        });
      }
    } else if (accepted.length === 0 && committed.length === 0 && failures.length > 0) {
      failed += 1;
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
        detail: `${describe}: launched ${accepted.length} time(s) on the server, ${committed.length} committed record(s)`,
      });
    }
  }

  const answers = target.responses();
  for (const answer of answers) {
    const copies = storedCopies(storeRoot, answer.name, answer.sha256);
    if (copies === 0) {
      violations.push({
        invariant: 'response-lost',
        detail: `${answer.folder}/${answer.name} is not in the store`,
      });
    } else if (copies > 1) {
      violations.push({
        invariant: 'response-duplicated',
        detail: `${answer.folder}/${answer.name} is in the store ${copies} times`,
      });
    }
  }

  const left = target.leftovers();
  if (!input.quiet || input.queueLeft > 0 || left.uploads.length > 0 || left.responses.length > 0) {
    violations.push({
      invariant: 'unsettled',
      detail:
        `not quiet after the last round: ${input.queueLeft} message(s) queued, ` +
        `left on the server: ${[...left.uploads, ...left.responses].join(', ') || 'nothing'}`,
    });
  }
  return { violations, launched, failed, responses: answers.length };
}

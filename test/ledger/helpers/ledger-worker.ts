/**
 * One process-like contender in the SQLite concurrency tests: opens its own connection to the
 * shared file, waits at a barrier until every worker is ready, then does its job at the same
 * moment as the others and reports what it got.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  DuplicateSourceError,
  LedgerError,
  NameAlreadySentError,
  SendInProgressError,
  openSqliteLedger,
} from '../../../shared/ledger';
import type { ClaimOptions, ClaimRequest } from '../../../shared/ledger';

/** What a worker is asked to do. */
export type WorkerJob =
  | { kind: 'claim'; request: ClaimRequest; options: ClaimOptions }
  | { kind: 'sequences'; count: number; sender: string; date: string };

/** What the test hands a worker. */
export interface WorkerInput {
  script: string;
  path: string;
  /** Int32Array[1] counting workers that reached the barrier. */
  barrier: SharedArrayBuffer;
  workers: number;
  job: WorkerJob;
}

/** What a worker reports back. */
export type WorkerOutput =
  | { ok: true; id: string; resumed: boolean; attempt: number; owner?: string }
  | { ok: true; sequences: string[] }
  | { ok: false; code: string; name: string; existingId?: string; message: string };

function waitForEveryone(buffer: SharedArrayBuffer, workers: number): void {
  const arrived = new Int32Array(buffer);
  Atomics.add(arrived, 0, 1);
  Atomics.notify(arrived, 0);
  for (let seen = Atomics.load(arrived, 0); seen < workers; seen = Atomics.load(arrived, 0)) {
    Atomics.wait(arrived, 0, seen, 1000);
  }
}

async function main(input: WorkerInput): Promise<WorkerOutput> {
  const ledger = openSqliteLedger(input.path);
  try {
    waitForEveryone(input.barrier, input.workers);
    const { job } = input;
    if (job.kind === 'sequences') {
      const sequences: string[] = [];
      for (let i = 0; i < job.count; i += 1) {
        sequences.push(await ledger.nextSequence(job.sender, job.date, 'R'));
      }
      return { ok: true, sequences };
    }
    const { record, resumed } = await ledger.claim(job.request, job.options);
    return {
      ok: true,
      id: record.id,
      resumed,
      attempt: record.attempt,
      ...(record.owner === undefined ? {} : { owner: record.owner }),
    };
  } catch (error) {
    if (!(error instanceof LedgerError)) throw error;
    const refusal =
      error instanceof DuplicateSourceError ||
      error instanceof NameAlreadySentError ||
      error instanceof SendInProgressError;
    return {
      ok: false,
      code: error.code,
      name: error.name,
      message: error.message,
      ...(refusal ? { existingId: error.existing.id } : {}),
    };
  } finally {
    await ledger.close();
  }
}

void main(workerData as WorkerInput).then((output) => parentPort?.postMessage(output));

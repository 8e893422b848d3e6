import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  LedgerSchemaError,
  LedgerStoreError,
  SQLITE_LEDGER_SCHEMA_VERSION,
  SequenceExhaustedError,
  openSqliteLedger,
} from '../../shared/ledger';
import type { Ledger } from '../../shared/ledger';
import { describeLedgerContract } from './contract';
import { DATE, SENDER, claimRequest, idOf, source } from './fixtures';
import type { WorkerInput, WorkerJob, WorkerOutput } from './helpers/ledger-worker';

let root: string;
let count = 0;

/** A new ledger file path in this suite's temporary folder. */
function freshPath(): string {
  count += 1;
  return join(root, `case-${count}`, 'ledger.sqlite');
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'onss-ledger-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describeLedgerContract('sqlite file', (options) => openSqliteLedger(freshPath(), options));
describeLedgerContract('sqlite :memory:', (options) => openSqliteLedger(':memory:', options));

describe('sqlite ledger: the file', () => {
  const opened: Ledger[] = [];
  const open = (path: string, options?: Parameters<typeof openSqliteLedger>[1]): Ledger => {
    const ledger = openSqliteLedger(path, options);
    opened.push(ledger);
    return ledger;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((ledger) => ledger.close()));
  });

  it('creates the parent folder, WAL mode, a busy timeout and the schema version', async () => {
    // Prepare
    const path = join(root, 'deep', 'er', 'ledger.sqlite');

    // Act
    await open(path).close();

    // Assess
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_LEDGER_SCHEMA_VERSION);
      const indexes = db
        .prepare<[], { name: string; unique: number }>(
          'SELECT name, "unique" FROM pragma_index_list(\'declarations\') ORDER BY name',
        )
        .all();
      expect(indexes).toEqual(
        expect.arrayContaining([
          { name: 'declarations_set_key', unique: 1 },
          { name: 'declarations_source', unique: 0 },
          { name: 'declarations_sha256', unique: 0 },
        ]),
      );
    } finally {
      db.close();
    }
  });

  it('keeps states and sequences across close and reopen', async () => {
    // Prepare
    const path = freshPath();
    const first = open(path);
    const seq = await first.nextSequence(SENDER, DATE, 'R');
    await first.nextSequence(SENDER, DATE, 'R');
    const { record } = await first.claim(claimRequest(seq, source('a')));
    await first.transition(record.id, 'planned', 'uploading', { sourceSize: 42 });
    await first.close();

    // Act
    const second = open(path);

    // Assess
    expect(await second.get(record.id)).toMatchObject({ state: 'uploading', sourceSize: 42 });
    expect(await second.nextSequence(SENDER, DATE, 'R')).toBe('00003');
    expect(await second.claim(claimRequest('00009', source('a')))).toMatchObject({
      resumed: true,
      record: { id: record.id, attempt: 2 },
    });
  });

  it('gives 200 distinct sequences to two connections allocating in turn', async () => {
    // Prepare
    const path = freshPath();
    const one = open(path);
    const two = open(path);

    // Act
    const allocated: string[] = [];
    for (let i = 0; i < 100; i += 1) {
      allocated.push(await one.nextSequence(SENDER, DATE, 'R'));
      allocated.push(await two.nextSequence(SENDER, DATE, 'R'));
    }

    // Assess
    expect(new Set(allocated).size).toBe(200);
    expect([...allocated].sort()).toEqual(
      Array.from({ length: 200 }, (_, i) => String(i + 1).padStart(5, '0')),
    );
  });

  it('sees at once what another connection wrote', async () => {
    // Prepare
    const path = freshPath();
    const writer = open(path);
    const reader = open(path);

    // Act
    const { record } = await writer.claim(claimRequest('00001', source('a')));

    // Assess
    expect(await reader.get(record.id)).toEqual(record);
    await expect(reader.claim(claimRequest('00002', source('a')))).resolves.toMatchObject({
      resumed: true,
    });
  });

  it('throws SequenceExhaustedError past 99999 and leaves the counter as it was', async () => {
    // Prepare: the counter at 99998 and 99999 given by hand
    const path = freshPath();
    const ledger = open(path);
    await ledger.nextSequence(SENDER, DATE, 'R');
    await ledger.claim(claimRequest('99999', source('a')));
    const db = new Database(path);
    db.prepare('UPDATE sequences SET last = 99998').run();
    db.close();

    // Act
    const outcome = ledger.nextSequence(SENDER, DATE, 'R');

    // Assess
    await expect(outcome).rejects.toThrow(SequenceExhaustedError);
    await expect(ledger.nextSequence(SENDER, DATE, 'R')).rejects.toMatchObject({
      code: 'SEQUENCE_EXHAUSTED',
    });
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT last FROM sequences').get()).toEqual({ last: 99998 });
    check.close();
  });

  it('refuses a file written by a newer schema', () => {
    // Prepare
    const path = freshPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const db = new Database(path);
    db.pragma(`user_version = ${SQLITE_LEDGER_SCHEMA_VERSION + 1}`);
    db.close();

    // Act
    const act = () => open(path);

    // Assess
    expect(act).toThrow(LedgerSchemaError);
    expect(act).toThrow(/schema version 2 is newer/);
  });

  it('wraps a file that cannot be opened in LedgerStoreError, keeping the cause', () => {
    // Prepare: the path is a folder
    const path = join(root, 'a-folder');
    mkdirSync(path, { recursive: true });

    // Act
    let error: unknown;
    try {
      open(path);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(LedgerStoreError);
    expect(error).toMatchObject({ code: 'LEDGER_STORE_FAILED' });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('waits for a lock held by another process, then fails with LedgerStoreError', async () => {
    // Prepare: another connection holds the write lock
    const path = freshPath();
    const ledger = open(path, { busyTimeoutMs: 200 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const started = Date.now();

    // Act
    const outcome = ledger.claim(claimRequest('00001', source('a')));

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'LedgerStoreError',
      code: 'LEDGER_STORE_FAILED',
      cause: expect.objectContaining({ code: 'SQLITE_BUSY' }),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    other.exec('ROLLBACK');
    other.close();
    await expect(ledger.claim(claimRequest('00001', source('a')))).resolves.toMatchObject({
      resumed: false,
    });
  });
});

describe('sqlite ledger: workers racing on one file', () => {
  const WORKERS = 6;

  /** Starts `jobs.length` workers on `path`, released together, and collects their reports. */
  async function race(path: string, jobs: WorkerJob[]): Promise<WorkerOutput[]> {
    const barrier = new SharedArrayBuffer(4);
    const runs = jobs.map(
      (job) =>
        new Promise<WorkerOutput>((resolve, reject) => {
          const input: WorkerInput = {
            script: join(__dirname, 'helpers', 'ledger-worker.ts'),
            path,
            barrier,
            workers: jobs.length,
            job,
          };
          const worker = new Worker(join(__dirname, 'helpers', 'ts-worker.js'), {
            workerData: input,
          });
          worker.once('message', (output: WorkerOutput) => resolve(output));
          worker.once('error', reject);
          worker.once('exit', (code) => {
            if (code !== 0) reject(new Error(`worker exited with code ${code}`));
          });
        }),
    );
    return Promise.all(runs);
  }

  it('lets exactly one of several claims of one source create the set', async () => {
    // Prepare: every worker asks its own key for the same source, on a file nobody opened yet
    const path = freshPath();
    const jobs: WorkerJob[] = Array.from({ length: WORKERS }, (_, i) => ({
      kind: 'claim',
      request: claimRequest(`0000${i + 1}`, source('same')),
    }));

    // Act
    const outputs = await race(path, jobs);

    // Assess: one new record, the others resumed it, one attempt each
    const claims = outputs.map((output) => {
      if (!output.ok || !('id' in output)) throw new Error(JSON.stringify(output));
      return output;
    });
    expect(claims.filter((c) => !c.resumed)).toHaveLength(1);
    expect(new Set(claims.map((c) => c.id)).size).toBe(1);
    expect(claims.map((c) => c.attempt).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const ledger = openSqliteLedger(path);
    const records = await ledger.list({ includeSuperseded: true });
    await ledger.close();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ id: claims[0]?.id, attempt: WORKERS, state: 'planned' });
  });

  it('lets exactly one of several sources take one name; the others get ACRF-133', async () => {
    // Prepare
    const path = freshPath();
    await openSqliteLedger(path).close();
    const jobs: WorkerJob[] = Array.from({ length: WORKERS }, (_, i) => ({
      kind: 'claim',
      request: claimRequest('00001', source(`source-${i}`)),
    }));

    // Act
    const outputs = await race(path, jobs);

    // Assess
    const created = outputs.filter((o) => o.ok);
    const refused = outputs.filter((o) => !o.ok);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(WORKERS - 1);
    for (const output of refused) {
      expect(output).toMatchObject({ code: 'ACRF-133', existingId: idOf('00001') });
    }
  });

  it('gives distinct sequences to workers allocating at the same time', async () => {
    // Prepare
    const path = freshPath();
    const jobs: WorkerJob[] = Array.from({ length: WORKERS }, () => ({
      kind: 'sequences',
      count: 40,
      sender: SENDER,
      date: DATE,
    }));

    // Act
    const outputs = await race(path, jobs);

    // Assess
    const all = outputs.flatMap((o) => (o.ok && 'sequences' in o ? o.sequences : []));
    expect(all).toHaveLength(WORKERS * 40);
    expect(new Set(all).size).toBe(WORKERS * 40);
    expect(all.every((seq) => Number(seq) >= 1 && Number(seq) <= WORKERS * 40)).toBe(true);
  });
});

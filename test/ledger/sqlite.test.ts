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
import {
  DATE,
  SENDER,
  acknowledgement,
  claimRequest,
  idOf,
  keyOf,
  newResponse,
  notification,
  OTHER_OWNER,
  OWNER,
  own,
  planFiles,
  responseIdOf,
  source,
} from './fixtures';
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
      const responseIndexes = db
        .prepare<[], { origin: string; unique: number }>(
          'SELECT origin, "unique" FROM pragma_index_list(\'responses\')',
        )
        .all();
      expect(responseIndexes).toContainEqual({ origin: 'u', unique: 1 });
      // findByTicket reads the tickets table by its key, never every declaration.
      const plan = db
        .prepare<[], { detail: string }>(
          "EXPLAIN QUERY PLAN SELECT row_id FROM tickets WHERE ticket = 'T-1'",
        )
        .all();
      expect(plan.map((step) => step.detail).join(' ')).toMatch(/SEARCH tickets USING PRIMARY KEY/);
    } finally {
      db.close();
    }
  });

  it('keeps answers, tickets and response sets across close and reopen', async () => {
    // Prepare
    const path = freshPath();
    const first = open(path);
    const { record } = await first.claim(claimRequest('00001', source('a')), own());
    await first.transition(record.id, 'planned', 'uploading');
    await first.transition(record.id, 'uploading', 'launching');
    await first.transition(record.id, 'launching', 'acknowledged', {
      acknowledgement: acknowledgement(responseIdOf('00001'), { ticket: 'F1' }),
    });
    const notified = await first.transition(record.id, 'acknowledged', 'notified', {
      notification: notification(responseIdOf('00002', 'NOTI'), { ticket: 'D1' }),
    });
    const { record: response } = await first.recordResponse(newResponse('00001'));
    await first.close();

    // Act
    const second = open(path);

    // Assess
    expect(await second.get(record.id)).toEqual(notified);
    expect(await second.findByTicket('D1')).toEqual(notified);
    expect(await second.getResponse(response.id)).toEqual(response);
    expect(await second.recordResponse(newResponse('00001'))).toEqual({
      created: false,
      record: response,
    });
  });

  it('keeps states, leases and sequences across close and reopen', async () => {
    // Prepare
    const path = freshPath();
    const first = open(path);
    const seq = await first.nextSequence(SENDER, DATE, 'R');
    await first.nextSequence(SENDER, DATE, 'R');
    const { record } = await first.claim(claimRequest(seq, source('a')), own());
    const uploading = await first.transition(record.id, 'planned', 'uploading', {
      sourceSize: 42,
    });
    await first.close();

    // Act
    const second = open(path);

    // Assess: the lease too, so another run is still kept out
    expect(await second.get(record.id)).toEqual(uploading);
    expect(uploading).toMatchObject({
      state: 'uploading',
      sourceSize: 42,
      owner: OWNER,
      leaseUntil: record.leaseUntil,
    });
    await expect(
      second.claim(claimRequest('00009', source('a')), own({}, OTHER_OWNER)),
    ).rejects.toMatchObject({ code: 'SEND_IN_PROGRESS' });
    expect(await second.nextSequence(SENDER, DATE, 'R')).toBe('00003');
    expect(await second.claim(claimRequest('00009', source('a')), own())).toMatchObject({
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
    const { record } = await writer.claim(claimRequest('00001', source('a')), own());

    // Assess
    expect(await reader.get(record.id)).toEqual(record);
    await expect(reader.claim(claimRequest('00002', source('a')), own())).resolves.toMatchObject({
      resumed: true,
    });
  });

  it('throws SequenceExhaustedError past 99999 and leaves the counter as it was', async () => {
    // Prepare: the counter at 99998 and 99999 given by hand
    const path = freshPath();
    const ledger = open(path);
    await ledger.nextSequence(SENDER, DATE, 'R');
    await ledger.claim(claimRequest('99999', source('a')), own());
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

  /** The version-1 schema as released, written out so a later edit of the code cannot hide. */
  const V1_SCHEMA = `
    CREATE TABLE declarations (
      row_id          INTEGER PRIMARY KEY AUTOINCREMENT,
      set_key         TEXT    NOT NULL,
      app             TEXT    NOT NULL,
      sender          TEXT    NOT NULL,
      date            TEXT    NOT NULL,
      seq             TEXT    NOT NULL,
      env             TEXT    NOT NULL,
      nparts          INTEGER NOT NULL,
      source_kind     TEXT    NOT NULL CHECK (source_kind IN ('file', 'object')),
      source_id       TEXT    NOT NULL,
      source_version  TEXT    NOT NULL,
      source_sha256   TEXT,
      source_size     INTEGER,
      folder          TEXT    NOT NULL,
      files           TEXT    NOT NULL,
      state           TEXT    NOT NULL,
      failure_code    TEXT,
      failure_message TEXT,
      attempt         INTEGER NOT NULL,
      created_at      TEXT    NOT NULL,
      updated_at      TEXT    NOT NULL,
      launched_at     TEXT,
      superseded_at   TEXT
    );
    CREATE UNIQUE INDEX declarations_set_key ON declarations (set_key) WHERE superseded_at IS NULL;
    CREATE INDEX declarations_source ON declarations (source_kind, source_id, source_version);
    CREATE INDEX declarations_sha256 ON declarations (source_sha256) WHERE source_sha256 IS NOT NULL;
    CREATE INDEX declarations_scope ON declarations (sender, date, env, seq);
    CREATE INDEX declarations_created ON declarations (created_at);
    CREATE TABLE sequences (
      sender TEXT    NOT NULL,
      date   TEXT    NOT NULL,
      env    TEXT    NOT NULL,
      last   INTEGER NOT NULL,
      PRIMARY KEY (sender, date, env)
    ) WITHOUT ROWID;
  `;

  /** Writes a version-1 ledger file holding one launched set and a sequence counter. */
  function writeV1File(path: string, extra = ''): void {
    mkdirSync(join(path, '..'), { recursive: true });
    const db = new Database(path);
    try {
      db.exec(V1_SCHEMA + extra);
      db.prepare(
        `INSERT INTO declarations (set_key, app, sender, date, seq, env, nparts, source_kind,
           source_id, source_version, source_sha256, source_size, folder, files, state, attempt,
           created_at, updated_at, launched_at)
         VALUES (@id, 'DMFA', @sender, @date, '00001', 'R', 1, 'file', '/data/a.xml', 'v1',
           @sha, 100, 'IN', @files, 'launched', 1, '2026-07-01T08:00:00.000Z',
           '2026-07-01T08:00:05.000Z', '2026-07-01T08:00:05.000Z')`,
      ).run({
        id: idOf('00001'),
        sender: SENDER,
        date: DATE,
        sha: 'a'.repeat(64),
        files: JSON.stringify([{ name: `GO.${idOf('00001')}.1`, size: 0, role: 'GO' }]),
      });
      db.prepare('INSERT INTO sequences (sender, date, env, last) VALUES (?, ?, ?, 1)').run(
        SENDER,
        DATE,
        'R',
      );
      db.pragma('user_version = 1');
    } finally {
      db.close();
    }
  }

  it('migrates a version-1 file in place: its sets read back and answers can follow', async () => {
    // Prepare
    const path = freshPath();
    writeV1File(path);

    // Act
    const ledger = open(path);

    // Assess: the old row as it was, with none of the new fields
    expect(await ledger.get(idOf('00001'))).toEqual({
      id: idOf('00001'),
      key: { app: 'DMFA', sender: SENDER, date: DATE, seq: '00001', env: 'R' },
      nparts: 1,
      source: source('a'),
      sourceSha256: 'a'.repeat(64),
      sourceSize: 100,
      folder: 'IN',
      files: [{ name: `GO.${idOf('00001')}.1`, size: 0, role: 'GO' }],
      state: 'launched',
      attempt: 1,
      createdAt: '2026-07-01T08:00:00.000Z',
      updatedAt: '2026-07-01T08:00:05.000Z',
      launchedAt: '2026-07-01T08:00:05.000Z',
    });
    // ...the new methods work on it...
    const acknowledged = await ledger.transition(idOf('00001'), 'launched', 'acknowledged', {
      acknowledgement: acknowledgement(responseIdOf('00001'), { ticket: 'F1' }),
    });
    expect(await ledger.findByTicket('F1')).toEqual(acknowledged);
    const { created } = await ledger.recordResponse(newResponse('00001'));
    expect(created).toBe(true);
    expect(await ledger.listResponses()).toHaveLength(1);
    // ...the old rules still hold, and the counter carried over
    await expect(ledger.claim(claimRequest('00002', source('a')), own())).rejects.toMatchObject({
      code: 'DUPLICATE_SOURCE',
    });
    expect(await ledger.nextSequence(SENDER, DATE, 'R')).toBe('00002');
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_LEDGER_SCHEMA_VERSION);
    db.close();
  });

  it('leaves a version-1 file as it was when its migration fails', () => {
    // Prepare: a v1 file that already has a table of the name the migration creates
    const path = freshPath();
    writeV1File(path, 'CREATE TABLE responses (x TEXT);');

    // Act
    const act = () => open(path);

    // Assess: one transaction, so nothing of version 2 was kept
    expect(act).toThrow(LedgerStoreError);
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      const columns = db
        .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('declarations')")
        .all()
        .map((column) => column.name);
      expect(columns).not.toContain('tickets');
      const tables = db
        .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all()
        .map((table) => table.name);
      expect(tables).not.toContain('tickets');
    } finally {
      db.close();
    }
  });

  /** The 1 -> 2 step as released (the answers), written out like V1_SCHEMA. */
  const V2_STEP = `
    ALTER TABLE declarations ADD COLUMN tickets TEXT;
    ALTER TABLE declarations ADD COLUMN acknowledgement TEXT;
    ALTER TABLE declarations ADD COLUMN notifications TEXT;
    CREATE TABLE tickets (
      ticket TEXT    NOT NULL,
      row_id INTEGER NOT NULL REFERENCES declarations (row_id),
      PRIMARY KEY (ticket, row_id)
    ) WITHOUT ROWID;
    CREATE TABLE responses (
      row_id           INTEGER PRIMARY KEY AUTOINCREMENT,
      id               TEXT    NOT NULL UNIQUE,
      env              TEXT    NOT NULL,
      folder           TEXT    NOT NULL,
      type             TEXT    NOT NULL,
      files            TEXT    NOT NULL,
      state            TEXT    NOT NULL,
      signature        TEXT    NOT NULL,
      signature_detail TEXT,
      kind             TEXT,
      declaration_id   TEXT,
      orphan           INTEGER NOT NULL,
      stored_at        TEXT    NOT NULL,
      deleted_at       TEXT,
      updated_at       TEXT    NOT NULL
    );
    CREATE INDEX responses_stored ON responses (stored_at);
  `;

  /**
   * Writes a version-2 ledger file: the launched set of writeV1File, acknowledged with a
   * ticket, and a set of source b left uploading by a run that died, before leases existed.
   */
  function writeV2File(path: string, extra = ''): void {
    writeV1File(path, V2_STEP);
    const db = new Database(path);
    try {
      db.prepare(
        `UPDATE declarations SET state = 'acknowledged', tickets = '["F1"]',
           acknowledgement = @ack WHERE set_key = @id`,
      ).run({
        id: idOf('00001'),
        ack: JSON.stringify(acknowledgement(responseIdOf('00001'), { ticket: 'F1' })),
      });
      db.prepare('INSERT INTO tickets (ticket, row_id) VALUES (?, 1)').run('F1');
      db.prepare(
        `INSERT INTO declarations (set_key, app, sender, date, seq, env, nparts, source_kind,
           source_id, source_version, folder, files, state, attempt, created_at, updated_at)
         VALUES (@id, 'DMFA', @sender, @date, '00002', 'R', 1, 'file', '/data/b.xml', 'v1',
           'IN', @files, 'uploading', 1, '2026-07-01T09:00:00.000Z',
           '2026-07-01T09:00:01.000Z')`,
      ).run({
        id: idOf('00002'),
        sender: SENDER,
        date: DATE,
        files: JSON.stringify(planFiles(keyOf('00002'))),
      });
      db.exec(extra);
      db.pragma('user_version = 2');
    } finally {
      db.close();
    }
  }

  it('migrates a version-2 file in place: live sets have no lease, and the next run takes one', async () => {
    // Prepare
    const path = freshPath();
    writeV2File(path);

    // Act
    const ledger = open(path);

    // Assess: the rows as they were, with no lease
    const stuck = await ledger.get(idOf('00002'));
    expect(stuck).toEqual({
      id: idOf('00002'),
      key: keyOf('00002'),
      nparts: 1,
      source: source('b'),
      folder: 'IN',
      files: planFiles(keyOf('00002')),
      state: 'uploading',
      attempt: 1,
      createdAt: '2026-07-01T09:00:00.000Z',
      updatedAt: '2026-07-01T09:00:01.000Z',
    });
    expect(await ledger.findByTicket('F1')).toMatchObject({
      id: idOf('00001'),
      state: 'acknowledged',
    });
    expect((await ledger.get(idOf('00001')))?.owner).toBeUndefined();
    // ...the set left uploading is resumed by the first run that comes, which takes the lease
    const resumed = await ledger.claim(claimRequest('00009', source('b')), own({}, OTHER_OWNER));
    expect(resumed).toMatchObject({
      resumed: true,
      record: { id: idOf('00002'), attempt: 2, owner: OTHER_OWNER },
    });
    await expect(ledger.claim(claimRequest('00009', source('b')), own())).rejects.toMatchObject({
      code: 'SEND_IN_PROGRESS',
    });
    // ...and the earlier rules still hold
    await expect(ledger.claim(claimRequest('00003', source('a')), own())).rejects.toMatchObject({
      code: 'DUPLICATE_SOURCE',
    });
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_LEDGER_SCHEMA_VERSION);
      expect(SQLITE_LEDGER_SCHEMA_VERSION).toBe(5);
      const columns = db
        .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('declarations')")
        .all()
        .map((column) => column.name);
      expect(columns).toEqual(
        expect.arrayContaining([
          'owner',
          'lease_until',
          'cancelled_at',
          'resend_of',
          'overdue',
          'channel',
        ]),
      );
      const leaseTable = db
        .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('run_leases')")
        .all()
        .map((column) => column.name);
      expect(leaseTable).toEqual(['name', 'owner', 'until']);
    } finally {
      db.close();
    }
  });

  it('leaves a version-2 file as it was when its migration fails', () => {
    // Prepare: a v2 file that already has a column of a name the migration adds
    const path = freshPath();
    writeV2File(path, 'ALTER TABLE declarations ADD COLUMN owner TEXT;');

    // Act
    const act = () => open(path);

    // Assess: one transaction, so nothing of version 3 was kept
    expect(act).toThrow(LedgerStoreError);
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      const columns = db
        .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('declarations')")
        .all()
        .map((column) => column.name);
      expect(columns).not.toContain('lease_until');
    } finally {
      db.close();
    }
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
    expect(act).toThrow(`schema version ${SQLITE_LEDGER_SCHEMA_VERSION + 1} is newer`);
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
    // By name, not instanceof: better-sqlite3 keeps the SqliteError class of the first jest realm that loaded it.
    expect((error as { cause?: { name?: unknown } }).cause?.name).toBe('SqliteError');
  });

  it('waits for a lock held by another process, then fails with LedgerStoreError', async () => {
    // Prepare: another connection holds the write lock
    const path = freshPath();
    const ledger = open(path, { busyTimeoutMs: 200 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const started = Date.now();

    // Act
    const outcome = ledger.claim(claimRequest('00001', source('a')), own());

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'LedgerStoreError',
      code: 'LEDGER_STORE_FAILED',
      cause: expect.objectContaining({ code: 'SQLITE_BUSY' }),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    other.exec('ROLLBACK');
    other.close();
    await expect(ledger.claim(claimRequest('00001', source('a')), own())).resolves.toMatchObject({
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

  it('lets exactly one of several runs sending one source at once have it; the others get SEND_IN_PROGRESS', async () => {
    // Prepare: every worker is a run of its own (its own owner token) asking its own key for
    // the same source, on a file nobody opened yet
    const path = freshPath();
    const jobs: WorkerJob[] = Array.from({ length: WORKERS }, (_, i) => ({
      kind: 'claim',
      request: claimRequest(`0000${i + 1}`, source('same')),
      options: own({}, `run-${i}`),
    }));

    // Act
    const outputs = await race(path, jobs);

    // Assess: one run created the set and holds it; every other was refused, naming that set
    const won = outputs.filter((o) => o.ok);
    const refused = outputs.filter((o) => !o.ok);
    expect(won).toHaveLength(1);
    const [winner] = won;
    if (!winner || !('id' in winner)) throw new Error(JSON.stringify(outputs));
    expect(winner).toMatchObject({ resumed: false, attempt: 1 });
    expect(refused).toHaveLength(WORKERS - 1);
    for (const output of refused) {
      expect(output).toMatchObject({ code: 'SEND_IN_PROGRESS', existingId: winner.id });
    }
    const ledger = openSqliteLedger(path);
    const records = await ledger.list({ includeSuperseded: true });
    await ledger.close();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      id: winner.id,
      attempt: 1,
      state: 'planned',
      owner: winner.owner,
    });
  });

  it('serializes one run claiming its source again from several connections: no attempt lost', async () => {
    // Prepare: the same owner token everywhere, so each claim after the first resumes the set
    const path = freshPath();
    const jobs: WorkerJob[] = Array.from({ length: WORKERS }, (_, i) => ({
      kind: 'claim',
      request: claimRequest(`0000${i + 1}`, source('same')),
      options: own(),
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
      options: own({}, `run-${i}`),
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

/**
 * The ledger on SQLite (better-sqlite3): one file that several processes share. Every write is
 * one `BEGIN IMMEDIATE` transaction that reads, decides by ./rules and writes, so two processes
 * claiming the same source or allocating a sequence at once are serialized by SQLite's write
 * lock rather than by luck. WAL lets readers run beside the writer; the busy timeout makes a
 * second writer wait instead of failing.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Environment, UploadFolder } from '../names';
import {
  DeclarationNotFoundError,
  LedgerClosedError,
  LedgerError,
  LedgerSchemaError,
  LedgerStoreError,
} from './errors';
import type { Ledger } from './port';
import {
  allocateSequence,
  applyTransition,
  checkTransitionCall,
  decideClaim,
  isDeclarationState,
  keyOfFileName,
  normalizeListFilter,
  normalizeSha256,
  validateClaimRequest,
  validateSequenceScope,
  validateSourceQuery,
} from './rules';
import { STATE_STAGES } from './types';
import type {
  DeclarationRecord,
  DeclarationState,
  LedgerOptions,
  SentFile,
  SourceIdentity,
} from './types';

/** Options of the SQLite ledger. */
export interface SqliteLedgerOptions extends LedgerOptions {
  /** How long a write waits for another process's lock before failing, in ms; default 5000. */
  busyTimeoutMs?: number;
}

/** Schema version this code writes, kept in `PRAGMA user_version`. */
export const SQLITE_LEDGER_SCHEMA_VERSION = 1;

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

// One script per version step: MIGRATIONS[n] takes a file from version n to n + 1. Later issues
// append steps (answer columns, leases) and never edit a released one.
const MIGRATIONS: readonly string[] = [
  `
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
    -- No CHECK on state: later issues add answer states, and SQLite cannot alter a CHECK
    -- without rebuilding the table. The code refuses unknown states on both sides instead.
    state           TEXT    NOT NULL,
    failure_code    TEXT,
    failure_message TEXT,
    attempt         INTEGER NOT NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    launched_at     TEXT,
    superseded_at   TEXT
  );
  -- One current record per set key; superseded ones stay as history.
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
  `,
];

/** A row of `declarations` as better-sqlite3 returns it. */
interface DeclarationRow {
  row_id: number;
  set_key: string;
  app: string;
  sender: string;
  date: string;
  seq: string;
  env: string;
  nparts: number;
  source_kind: string;
  source_id: string;
  source_version: string;
  source_sha256: string | null;
  source_size: number | null;
  folder: string;
  files: string;
  state: string;
  failure_code: string | null;
  failure_message: string | null;
  attempt: number;
  created_at: string;
  updated_at: string;
  launched_at: string | null;
  superseded_at: string | null;
}

/** The named parameters of an insert or a full update. */
type RowParams = Omit<DeclarationRow, 'row_id'>;

// Every column but row_id, once: keyed by RowParams so a column added to one and not the other
// does not compile.
const COLUMN_SET: Record<keyof RowParams, true> = {
  set_key: true,
  app: true,
  sender: true,
  date: true,
  seq: true,
  env: true,
  nparts: true,
  source_kind: true,
  source_id: true,
  source_version: true,
  source_sha256: true,
  source_size: true,
  folder: true,
  files: true,
  state: true,
  failure_code: true,
  failure_message: true,
  attempt: true,
  created_at: true,
  updated_at: true,
  launched_at: true,
  superseded_at: true,
};
const COLUMNS = Object.keys(COLUMN_SET);

function toRow(record: DeclarationRecord): RowParams {
  return {
    set_key: record.id,
    app: record.key.app,
    sender: record.key.sender,
    date: record.key.date,
    seq: record.key.seq,
    env: record.key.env,
    nparts: record.nparts,
    source_kind: record.source.kind,
    source_id: record.source.id,
    // '' stands for "no version": a NULL would never be equal to itself in the look-up.
    source_version: record.source.version ?? '',
    source_sha256: record.sourceSha256 ?? null,
    source_size: record.sourceSize ?? null,
    folder: record.folder,
    files: JSON.stringify(record.files),
    state: record.state,
    failure_code: record.failure?.code ?? null,
    failure_message: record.failure?.message ?? null,
    attempt: record.attempt,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    launched_at: record.launchedAt ?? null,
    superseded_at: record.supersededAt ?? null,
  };
}

function fromRow(row: DeclarationRow, location: string): DeclarationRecord {
  if (!isDeclarationState(row.state)) {
    throw new LedgerStoreError(`${location}: ${row.set_key} has unknown state ${row.state}`);
  }
  const source: SourceIdentity = {
    kind: row.source_kind === 'object' ? 'object' : 'file',
    id: row.source_id,
  };
  if (row.source_version !== '') source.version = row.source_version;
  const record: DeclarationRecord = {
    id: row.set_key,
    key: {
      app: row.app,
      sender: row.sender,
      date: row.date,
      seq: row.seq,
      env: row.env as Environment,
    },
    nparts: row.nparts,
    source,
    folder: row.folder as UploadFolder,
    files: JSON.parse(row.files) as SentFile[],
    state: row.state,
    attempt: row.attempt,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.source_sha256 !== null) record.sourceSha256 = row.source_sha256;
  if (row.source_size !== null) record.sourceSize = row.source_size;
  if (row.failure_code !== null) {
    record.failure = { code: row.failure_code, message: row.failure_message ?? '' };
  }
  if (row.launched_at !== null) record.launchedAt = row.launched_at;
  if (row.superseded_at !== null) record.supersededAt = row.superseded_at;
  return record;
}

// Creates the schema or brings it up to date, under the write lock so two processes opening a
// new file at once do not both run a step.
function migrate(db: Database.Database, location: string): void {
  db.transaction(() => {
    const found = Number(db.pragma('user_version', { simple: true }));
    if (found > SQLITE_LEDGER_SCHEMA_VERSION) {
      throw new LedgerSchemaError(location, found, SQLITE_LEDGER_SCHEMA_VERSION);
    }
    for (let version = found; version < SQLITE_LEDGER_SCHEMA_VERSION; version += 1) {
      db.exec(MIGRATIONS[version] ?? '');
    }
    if (found !== SQLITE_LEDGER_SCHEMA_VERSION) {
      db.pragma(`user_version = ${SQLITE_LEDGER_SCHEMA_VERSION}`);
    }
  }).immediate();
}

function wrap(location: string, what: string, error: unknown): LedgerError {
  if (error instanceof LedgerError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new LedgerStoreError(`${location}: ${what} failed: ${detail}`, error);
}

/**
 * Opens (creating if missing, with its parent folder) the SQLite ledger at `path`, or a private
 * one with `':memory:'`. Sets WAL mode, a busy timeout (default 5000 ms) so processes sharing
 * the file wait for each other, and `synchronous = FULL`: a state change reported done survives
 * a power cut, which matters because `launching` is written before the GO goes out. Throws
 * LedgerSchemaError for a file written by a newer version, LedgerStoreError when the file
 * cannot be opened.
 */
export function openSqliteLedger(
  path: string | ':memory:',
  options: SqliteLedgerOptions = {},
): Ledger {
  const inMemory = path === ':memory:';
  const location = inMemory ? 'in-memory ledger' : resolve(path);
  const clock = options.now ?? (() => new Date());
  const now = (): string => clock().toISOString();
  let db: Database.Database | undefined;
  try {
    if (!inMemory) mkdirSync(dirname(location), { recursive: true });
    // The timeout is set at open, so even the first statements (WAL switch, schema) wait for
    // another process that holds the lock.
    db = new Database(inMemory ? ':memory:' : location, {
      timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrate(db, location);
  } catch (error) {
    db?.close();
    throw wrap(location, 'opening the ledger', error);
  }
  return createSqliteLedger(db, location, now);
}

function createSqliteLedger(db: Database.Database, location: string, now: () => string): Ledger {
  const insert = db.prepare<RowParams>(
    `INSERT INTO declarations (${COLUMNS.join(', ')})
     VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
  // Conditional on the state read in the same transaction: the write lock already makes it
  // hold, the condition makes a broken invariant fail loudly instead of writing over it.
  const update = db.prepare<RowParams & { expected_state: string }>(
    `UPDATE declarations SET ${COLUMNS.map((c) => `${c} = @${c}`).join(', ')}
     WHERE set_key = @set_key AND superseded_at IS NULL AND state = @expected_state`,
  );
  const byKey = db.prepare<[string], DeclarationRow>(
    'SELECT * FROM declarations WHERE set_key = ? AND superseded_at IS NULL',
  );
  const bySource = db.prepare<[string, string, string], DeclarationRow>(
    `SELECT * FROM declarations WHERE source_kind = ? AND source_id = ? AND source_version = ?
     ORDER BY created_at, row_id`,
  );
  const committedStates = Object.entries(STATE_STAGES)
    .filter(([, stage]) => stage === 'committed')
    .map(([state]) => state);
  const bySha256 = db.prepare<string[], DeclarationRow>(
    `SELECT * FROM declarations WHERE source_sha256 = ?
     AND state IN (${committedStates.map(() => '?').join(', ')}) ORDER BY created_at, row_id`,
  );
  const seqUsed = db.prepare<[string, string, string, string], { used: number }>(
    'SELECT 1 AS used FROM declarations WHERE sender = ? AND date = ? AND env = ? AND seq = ?',
  );
  const seqLast = db.prepare<[string, string, string], { last: number }>(
    'SELECT last FROM sequences WHERE sender = ? AND date = ? AND env = ?',
  );
  const seqSave = db.prepare<[string, string, string, number]>(
    `INSERT INTO sequences (sender, date, env, last) VALUES (?, ?, ?, ?)
     ON CONFLICT (sender, date, env) DO UPDATE SET last = excluded.last`,
  );

  const read = (row: DeclarationRow | undefined): DeclarationRecord | undefined =>
    row && fromRow(row, location);
  const save = (record: DeclarationRecord, expected: DeclarationState): void => {
    const result = update.run({ ...toRow(record), expected_state: expected });
    if (result.changes !== 1) {
      throw new LedgerStoreError(`${location}: ${record.id} changed under a write lock`);
    }
  };

  const nextSequenceTx = db.transaction((sender: string, date: string, env: Environment) => {
    const last = seqLast.get(sender, date, env)?.last ?? 0;
    const used = (seq: string): boolean => seqUsed.get(sender, date, env, seq) !== undefined;
    const allocated = allocateSequence({ sender, date, env }, last, used);
    seqSave.run(sender, date, env, allocated.last);
    return allocated.seq;
  });

  const claimTx = db.transaction(
    (request: Parameters<Ledger['claim']>[0], options: Parameters<Ledger['claim']>[1]) => {
      const { id } = validateClaimRequest(request);
      const source = request.source;
      const decision = decideClaim({
        request,
        options,
        now: now(),
        sourceRecords: bySource
          .all(source.kind, source.id, source.version ?? '')
          .map((row) => fromRow(row, location)),
        keyRecord: read(byKey.get(id)),
      });
      if (decision.kind === 'resume') {
        save(decision.record, decision.record.state);
        return { record: decision.record, resumed: true };
      }
      // The key's record steps aside first: the unique index allows one current record per key.
      if (decision.supersede) save(decision.supersede, decision.supersede.state);
      insert.run(toRow(decision.record));
      return { record: decision.record, resumed: false };
    },
  );

  const transitionTx = db.transaction(
    (
      id: string,
      expected: readonly DeclarationState[],
      to: DeclarationState,
      patch: Parameters<Ledger['transition']>[3],
    ) => {
      const stored = read(byKey.get(id));
      if (!stored) throw new DeclarationNotFoundError(id);
      const next = applyTransition(stored, expected, to, patch, now());
      save(next, stored.state);
      return next;
    },
  );

  let closed = false;
  // Every method goes through here: a closed ledger is refused the same way everywhere, and
  // driver errors (lock timeout, disk full, damaged file) become LedgerStoreError with a cause.
  const run = <T>(what: string, body: () => T): T => {
    if (closed) throw new LedgerClosedError();
    try {
      return body();
    } catch (error) {
      throw wrap(location, what, error);
    }
  };

  return {
    async nextSequence(sender, date, env) {
      return run('allocating a sequence', () => {
        validateSequenceScope(sender, date, env);
        return nextSequenceTx.immediate(sender, date, env);
      });
    },

    async claim(request, options) {
      return run('claiming a declaration', () => claimTx.immediate(request, options));
    },

    async transition(id, from, to, patch) {
      return run('changing a state', () =>
        transitionTx.immediate(id, checkTransitionCall(from, to), to, patch),
      );
    },

    async get(id) {
      return run('reading a declaration', () => read(byKey.get(id)));
    },

    async findBySource(source) {
      return run('finding a source', () => {
        validateSourceQuery(source);
        const rows = bySource.all(source.kind, source.id, source.version ?? '');
        return read(rows.at(-1));
      });
    },

    async findByFileName(name) {
      return run('finding a file name', () => {
        const id = keyOfFileName(name);
        return id === undefined ? undefined : read(byKey.get(id));
      });
    },

    async findLaunchedBySha256(sha256) {
      return run('finding a content hash', () =>
        bySha256
          .all(normalizeSha256(sha256), ...committedStates)
          .map((row) => fromRow(row, location)),
      );
    },

    async list(filter) {
      return run('listing declarations', () => {
        const normalized = normalizeListFilter(filter);
        const where: string[] = [];
        const params: string[] = [];
        if (!normalized.includeSuperseded) where.push('superseded_at IS NULL');
        if (normalized.states) {
          where.push(`state IN (${normalized.states.map(() => '?').join(', ')})`);
          params.push(...normalized.states);
        }
        if (normalized.since !== undefined) {
          where.push('created_at >= ?');
          params.push(normalized.since);
        }
        const sql =
          'SELECT * FROM declarations' +
          (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
          ' ORDER BY created_at, row_id';
        return db
          .prepare<string[], DeclarationRow>(sql)
          .all(...params)
          .map((row) => fromRow(row, location));
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

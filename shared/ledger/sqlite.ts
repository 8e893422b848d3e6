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
import type { Environment, ResponseFolder, UploadFolder } from '../names';
import {
  DeclarationNotFoundError,
  LedgerClosedError,
  LedgerError,
  LedgerSchemaError,
  LedgerStoreError,
  ResponseNotFoundError,
} from './errors';
import type { Ledger } from './port';
import {
  allocateSequence,
  applyLeaseRelease,
  applyLeaseRenewal,
  applyResponsePatch,
  applyTransition,
  buildResponseRecord,
  checkTransitionCall,
  decideClaim,
  decideRunLease,
  isDeclarationState,
  keyOfFileName,
  normalizeListFilter,
  normalizeResponseListFilter,
  normalizeSha256,
  validateClaimRequest,
  validateOwner,
  validateRunLeaseName,
  validateSequenceScope,
  validateSourceQuery,
  validateTicket,
} from './rules';
import { STATE_STAGES } from './types';
import type { RunLease } from './rules';
import type {
  Acknowledgement,
  DeclarationRecord,
  DeclarationState,
  LedgerOptions,
  NotificationOutcome,
  ResponseFile,
  ResponseKind,
  ResponseRecord,
  ResponseSignatureStatus,
  SentFile,
  SourceIdentity,
} from './types';

/** Options of the SQLite ledger. */
export interface SqliteLedgerOptions extends LedgerOptions {
  /** How long a write waits for another process's lock before failing, in ms; default 5000. */
  busyTimeoutMs?: number;
}

/** Schema version this code writes, kept in `PRAGMA user_version`. */
export const SQLITE_LEDGER_SCHEMA_VERSION = 4;

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

// One script per version step: MIGRATIONS[n] takes a file from version n to n + 1, all steps in
// one transaction with the user_version bump. Later issues append steps and never edit a
// released one: files of every earlier version must still migrate.
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
  // 1 -> 2: the answers. JSON columns on the declaration (read whole with it, never queried
  // inside), a tickets table so findByTicket is one key look-up, and the response sets.
  `
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
    -- No CHECK on state, signature or kind, as for declarations: the code guards the values.
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
  `,
  // 2 -> 3: the lease of a live set. Read with the record, never queried on their own, so no
  // index. Sets recorded before have none: a live one is free for the next claim to take.
  `
  ALTER TABLE declarations ADD COLUMN owner TEXT;
  ALTER TABLE declarations ADD COLUMN lease_until TEXT;
  `,
  // 3 -> 4: run leases, one row per kind of scheduled job (`pull`).
  `
  CREATE TABLE run_leases (
    name  TEXT NOT NULL PRIMARY KEY,
    owner TEXT NOT NULL,
    until TEXT NOT NULL
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
  /** JSON string[] or NULL. */
  tickets: string | null;
  /** JSON Acknowledgement or NULL. */
  acknowledgement: string | null;
  /** JSON NotificationOutcome[] or NULL. */
  notifications: string | null;
  /** The lease owner token, or NULL when the set has no lease. */
  owner: string | null;
  /** ISO end of the lease, or NULL; set exactly when `owner` is. */
  lease_until: string | null;
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
  tickets: true,
  acknowledgement: true,
  notifications: true,
  owner: true,
  lease_until: true,
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
    tickets: record.tickets === undefined ? null : JSON.stringify(record.tickets),
    acknowledgement:
      record.acknowledgement === undefined ? null : JSON.stringify(record.acknowledgement),
    notifications: record.notifications === undefined ? null : JSON.stringify(record.notifications),
    owner: record.owner ?? null,
    lease_until: record.leaseUntil ?? null,
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
  if (row.tickets !== null) record.tickets = JSON.parse(row.tickets) as string[];
  if (row.acknowledgement !== null) {
    record.acknowledgement = JSON.parse(row.acknowledgement) as Acknowledgement;
  }
  if (row.notifications !== null) {
    record.notifications = JSON.parse(row.notifications) as NotificationOutcome[];
  }
  if (row.owner !== null) record.owner = row.owner;
  if (row.lease_until !== null) record.leaseUntil = row.lease_until;
  return record;
}

/** A row of `responses` as better-sqlite3 returns it. */
interface ResponseRow {
  row_id: number;
  id: string;
  env: string;
  folder: string;
  type: string;
  files: string;
  state: string;
  signature: string;
  signature_detail: string | null;
  kind: string | null;
  declaration_id: string | null;
  orphan: number;
  stored_at: string;
  deleted_at: string | null;
  updated_at: string;
}

/** The named parameters of a response insert or update. */
type ResponseParams = Omit<ResponseRow, 'row_id'>;

const RESPONSE_COLUMN_SET: Record<keyof ResponseParams, true> = {
  id: true,
  env: true,
  folder: true,
  type: true,
  files: true,
  state: true,
  signature: true,
  signature_detail: true,
  kind: true,
  declaration_id: true,
  orphan: true,
  stored_at: true,
  deleted_at: true,
  updated_at: true,
};
const RESPONSE_COLUMNS = Object.keys(RESPONSE_COLUMN_SET);

function toResponseRow(record: ResponseRecord): ResponseParams {
  return {
    id: record.id,
    env: record.env,
    folder: record.folder,
    type: record.type,
    files: JSON.stringify(record.files),
    state: record.state,
    signature: record.signature,
    signature_detail: record.signatureDetail ?? null,
    kind: record.kind ?? null,
    declaration_id: record.declarationId ?? null,
    orphan: record.orphan ? 1 : 0,
    stored_at: record.storedAt,
    deleted_at: record.deletedAt ?? null,
    updated_at: record.updatedAt,
  };
}

function fromResponseRow(row: ResponseRow, location: string): ResponseRecord {
  if (row.state !== 'stored' && row.state !== 'deleted') {
    throw new LedgerStoreError(`${location}: response ${row.id} has unknown state ${row.state}`);
  }
  const record: ResponseRecord = {
    id: row.id,
    env: row.env as Environment,
    folder: row.folder as ResponseFolder,
    type: row.type,
    files: JSON.parse(row.files) as ResponseFile[],
    state: row.state,
    signature: row.signature as ResponseSignatureStatus,
    orphan: row.orphan === 1,
    storedAt: row.stored_at,
    updatedAt: row.updated_at,
  };
  if (row.signature_detail !== null) record.signatureDetail = row.signature_detail;
  if (row.kind !== null) record.kind = row.kind as ResponseKind;
  if (row.declaration_id !== null) record.declarationId = row.declaration_id;
  if (row.deleted_at !== null) record.deletedAt = row.deleted_at;
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

/** Runs a step again while SQLite says the file is locked, up to `timeoutMs`. */
function retryWhileLocked(step: () => void, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      step();
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const locked = code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
      if (!locked || Date.now() >= deadline) throw error;
      // A short synchronous pause: opening is synchronous, like the rest of better-sqlite3.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(5 * 2 ** attempt, 100));
    }
  }
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
    const opened = db;
    // Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is
    // locked" at once, without its busy wait, when processes open a new ledger together:
    // that first step is retried for as long as the busy timeout.
    retryWhileLocked(() => {
      if (opened.pragma('journal_mode', { simple: true }) !== 'wal') {
        opened.pragma('journal_mode = WAL');
      }
    }, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    db.pragma('synchronous = FULL');
    retryWhileLocked(
      () => migrate(opened, location),
      options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    );
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
  // The tickets table's key starts with the ticket, so this is an index look-up, not a scan.
  const byTicket = db.prepare<[string], DeclarationRow>(
    `SELECT d.* FROM tickets t JOIN declarations d ON d.row_id = t.row_id
     WHERE t.ticket = ? AND d.superseded_at IS NULL
     ORDER BY d.created_at DESC, d.row_id DESC LIMIT 1`,
  );
  const ticketSave = db.prepare<[string, number]>(
    'INSERT OR IGNORE INTO tickets (ticket, row_id) VALUES (?, ?)',
  );
  const responseInsert = db.prepare<ResponseParams>(
    `INSERT INTO responses (${RESPONSE_COLUMNS.join(', ')})
     VALUES (${RESPONSE_COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
  // Conditional on the version read in the same transaction, for the same reason as `update`.
  const responseUpdate = db.prepare<ResponseParams & { expected_updated_at: string }>(
    `UPDATE responses SET ${RESPONSE_COLUMNS.map((c) => `${c} = @${c}`).join(', ')}
     WHERE id = @id AND updated_at = @expected_updated_at`,
  );
  const responseById = db.prepare<[string], ResponseRow>('SELECT * FROM responses WHERE id = ?');
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
      options: Parameters<Ledger['transition']>[4],
    ) => {
      const row = byKey.get(id);
      if (!row) throw new DeclarationNotFoundError(id);
      const stored = fromRow(row, location);
      const next = applyTransition(stored, expected, to, patch, now(), options);
      // The rules hand back the stored record itself for a replayed answer: nothing to write.
      if (next === stored) return stored;
      save(next, stored.state);
      for (const ticket of next.tickets ?? []) ticketSave.run(ticket, row.row_id);
      return next;
    },
  );

  // A renewal or a release: read, decide by the rules, write, under the write lock.
  const leaseTx = db.transaction(
    (id: string, decide: (stored: DeclarationRecord) => DeclarationRecord) => {
      const stored = read(byKey.get(id));
      if (!stored) throw new DeclarationNotFoundError(id);
      const next = decide(stored);
      save(next, stored.state);
      return next;
    },
  );

  const runLeaseGet = db.prepare<[string], RunLease>(
    'SELECT name, owner, until FROM run_leases WHERE name = ?',
  );
  const runLeaseSave = db.prepare<RunLease>(
    `INSERT INTO run_leases (name, owner, until) VALUES (@name, @owner, @until)
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until`,
  );
  const runLeaseDelete = db.prepare<[string, string]>(
    'DELETE FROM run_leases WHERE name = ? AND owner = ?',
  );
  const acquireRunLeaseTx = db.transaction((name: string, owner: string, leaseMs: number) => {
    const next = decideRunLease(runLeaseGet.get(name), { name, owner, leaseMs }, now());
    if (next) runLeaseSave.run(next);
    return next !== undefined;
  });

  const recordResponseTx = db.transaction((request: Parameters<Ledger['recordResponse']>[0]) => {
    const record = buildResponseRecord(request, now());
    const existing = responseById.get(record.id);
    if (existing) return { record: fromResponseRow(existing, location), created: false };
    responseInsert.run(toResponseRow(record));
    return { record, created: true };
  });

  const updateResponseTx = db.transaction(
    (id: string, patch: Parameters<Ledger['updateResponse']>[1]) => {
      const row = responseById.get(id);
      if (!row) throw new ResponseNotFoundError(id);
      const stored = fromResponseRow(row, location);
      const next = applyResponsePatch(stored, patch, now());
      if (next === stored) return stored;
      const result = responseUpdate.run({
        ...toResponseRow(next),
        expected_updated_at: stored.updatedAt,
      });
      if (result.changes !== 1) {
        throw new LedgerStoreError(`${location}: response ${id} changed under a write lock`);
      }
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

    async transition(id, from, to, patch, options) {
      return run('changing a state', () =>
        transitionTx.immediate(id, checkTransitionCall(from, to), to, patch, options),
      );
    },

    async renewLease(id, owner, leaseMs) {
      return run('renewing a lease', () =>
        leaseTx.immediate(id, (stored) => applyLeaseRenewal(stored, owner, leaseMs, now())),
      );
    },

    async releaseLease(id, owner) {
      return run('releasing a lease', () =>
        leaseTx.immediate(id, (stored) => applyLeaseRelease(stored, owner, now())),
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

    async findByTicket(ticket) {
      return run('finding a ticket', () => read(byTicket.get(validateTicket(ticket))));
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

    async recordResponse(request) {
      return run('recording a response set', () => recordResponseTx.immediate(request));
    },

    async updateResponse(id, patch) {
      return run('updating a response set', () => updateResponseTx.immediate(id, patch));
    },

    async getResponse(id) {
      return run('reading a response set', () => {
        const row = responseById.get(id);
        return row && fromResponseRow(row, location);
      });
    },

    async listResponses(filter) {
      return run('listing response sets', () => {
        const normalized = normalizeResponseListFilter(filter);
        const where: string[] = [];
        const params: (string | number)[] = [];
        if (normalized.state !== undefined) {
          where.push('state = ?');
          params.push(normalized.state);
        }
        if (normalized.orphan !== undefined) {
          where.push('orphan = ?');
          params.push(normalized.orphan ? 1 : 0);
        }
        if (normalized.since !== undefined) {
          where.push('stored_at >= ?');
          params.push(normalized.since);
        }
        const sql =
          'SELECT * FROM responses' +
          (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
          ' ORDER BY stored_at, row_id';
        return db
          .prepare<(string | number)[], ResponseRow>(sql)
          .all(...params)
          .map((row) => fromResponseRow(row, location));
      });
    },

    async acquireRunLease(name, owner, leaseMs) {
      return run('taking a run lease', () => acquireRunLeaseTx.immediate(name, owner, leaseMs));
    },

    async releaseRunLease(name, owner) {
      return run('releasing a run lease', () => {
        runLeaseDelete.run(validateRunLeaseName(name), validateOwner(owner));
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

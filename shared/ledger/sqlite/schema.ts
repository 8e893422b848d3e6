/** The SQLite ledger's schema: its version, the migration steps, and the migration at open. */
import type Database from 'better-sqlite3';
import { LedgerSchemaError } from '../errors';

/** Schema version this code writes, kept in `PRAGMA user_version`. */
export const SQLITE_LEDGER_SCHEMA_VERSION = 5;

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
  // 4 -> 5: operations: when a set was cancelled, the set a resend sends again, the watchdog's
  // overdue marks (JSON OverdueMark[]) and the channel. Read with the record, never queried alone.
  `
  ALTER TABLE declarations ADD COLUMN cancelled_at TEXT;
  ALTER TABLE declarations ADD COLUMN resend_of TEXT;
  ALTER TABLE declarations ADD COLUMN overdue TEXT;
  ALTER TABLE declarations ADD COLUMN channel TEXT;
  `,
];

/**
 * Creates the schema or brings it up to date, under the write lock so two processes opening a
 * new file at once do not both run a step. Throws LedgerSchemaError for a newer file.
 */
export function migrate(db: Database.Database, location: string): void {
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

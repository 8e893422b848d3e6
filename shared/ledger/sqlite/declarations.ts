/** Declaration records as rows of `declarations`, and the statements the parts share on them. */
import type Database from 'better-sqlite3';
import type { Environment, UploadFolder } from '../../names';
import { LedgerStoreError } from '../errors';
import { isDeclarationState } from '../rules';
import type {
  Acknowledgement,
  DeclarationRecord,
  DeclarationState,
  NotificationOutcome,
  OverdueMark,
  SentFile,
  SourceIdentity,
} from '../types';
import type { SqliteStore } from './store';

/** A row of `declarations` as better-sqlite3 returns it. */
export interface DeclarationRow {
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
  cancelled_at: string | null;
  resend_of: string | null;
  /** JSON OverdueMark[] or NULL. */
  overdue: string | null;
  channel: string | null;
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
  cancelled_at: true,
  resend_of: true,
  overdue: true,
  channel: true,
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
    cancelled_at: record.cancelledAt ?? null,
    resend_of: record.resendOf ?? null,
    overdue: record.overdue === undefined ? null : JSON.stringify(record.overdue),
    channel: record.channel ?? null,
  };
}

/** The record of a row; LedgerStoreError (at `location`) for a state this code does not know. */
export function fromRow(row: DeclarationRow, location: string): DeclarationRecord {
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
  if (row.cancelled_at !== null) record.cancelledAt = row.cancelled_at;
  if (row.resend_of !== null) record.resendOf = row.resend_of;
  if (row.overdue !== null) record.overdue = JSON.parse(row.overdue) as OverdueMark[];
  if (row.channel !== null) record.channel = row.channel;
  return record;
}

/** The statements on `declarations` that claims, transitions and look-ups share. */
export interface SqliteDeclarations {
  /** The current (not superseded) row of a set key. */
  byKey: Database.Statement<[string], DeclarationRow>;
  /** Every row of a source (kind, id, version or ''), superseded ones included, oldest first. */
  bySource: Database.Statement<[string, string, string], DeclarationRow>;
  /** The record of a row, undefined for no row; LedgerStoreError for an unknown state. */
  read(row: DeclarationRow | undefined): DeclarationRecord | undefined;
  /** Inserts a new record. */
  insert(record: DeclarationRecord): void;
  /**
   * Saves `record` over the current row of its key, conditional on that row's state still
   * being `expected`; LedgerStoreError when it is not.
   */
  save(record: DeclarationRecord, expected: DeclarationState): void;
}

/** Prepares the shared statements on `declarations`. */
export function openDeclarations(store: SqliteStore): SqliteDeclarations {
  const { db, location } = store;
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

  return {
    byKey,
    bySource,
    read: (row) => row && fromRow(row, location),
    insert: (record) => {
      insert.run(toRow(record));
    },
    save: (record, expected) => {
      const result = update.run({ ...toRow(record), expected_state: expected });
      if (result.changes !== 1) {
        throw new LedgerStoreError(`${location}: ${record.id} changed under a write lock`);
      }
    },
  };
}

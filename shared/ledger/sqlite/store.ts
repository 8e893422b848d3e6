/** What every part of the SQLite ledger shares: the database, its location, the clock, `run`. */
import type Database from 'better-sqlite3';
import { LedgerClosedError, LedgerError, LedgerStoreError } from '../errors';

/** The open ledger as every part sees it. */
export interface SqliteStore {
  readonly db: Database.Database;
  /** The file's resolved path, or `in-memory ledger`: the start of every store error message. */
  readonly location: string;
  /** Now, as an ISO string, by the ledger's clock. */
  readonly now: () => string;
  /**
   * Runs the body of a method: refuses it with LedgerClosedError once the ledger is closed, and
   * turns a driver error into LedgerStoreError (`what` failed, the error kept as cause).
   */
  readonly run: <T>(what: string, body: () => T) => T;
  /** Closes the database; a second call does nothing. */
  readonly close: () => void;
}

/** The store of an open, migrated database. */
export function createSqliteStore(
  db: Database.Database,
  location: string,
  now: () => string,
): SqliteStore {
  let closed = false;
  return {
    db,
    location,
    now,
    // Every method goes through here: a closed ledger is refused the same way everywhere, and
    // driver errors (lock timeout, disk full, damaged file) become LedgerStoreError with a cause.
    run<T>(what: string, body: () => T): T {
      if (closed) throw new LedgerClosedError();
      try {
        return body();
      } catch (error) {
        throw wrap(location, what, error);
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

/** A LedgerError as it is; anything else as a LedgerStoreError saying what failed, with a cause. */
export function wrap(location: string, what: string, error: unknown): LedgerError {
  if (error instanceof LedgerError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new LedgerStoreError(`${location}: ${what} failed: ${detail}`, error);
}

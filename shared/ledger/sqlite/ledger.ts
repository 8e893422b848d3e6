/** Opens the SQLite ledger (file, WAL, busy timeout, schema) and assembles it from its parts. */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Ledger } from '../port';
import type { LedgerOptions } from '../types';
import { claimMethods } from './claims';
import { openDeclarations } from './declarations';
import { lookupMethods } from './lookups';
import { responseMethods } from './responses';
import { runLeaseMethods } from './run-leases';
import { migrate } from './schema';
import { sequenceMethods } from './sequences';
import { createSqliteStore, wrap } from './store';
import { transitionMethods } from './transitions';

/** Options of the SQLite ledger. */
export interface SqliteLedgerOptions extends LedgerOptions {
  /** How long a write waits for another process's lock before failing, in ms; default 5000. */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

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

// The port's methods in its order, one group a part; every part shares one store.
function createSqliteLedger(db: Database.Database, location: string, now: () => string): Ledger {
  const store = createSqliteStore(db, location, now);
  const declarations = openDeclarations(store);
  return {
    ...sequenceMethods(store),
    ...claimMethods(store, declarations),
    ...transitionMethods(store, declarations),
    ...lookupMethods(store, declarations),
    ...responseMethods(store),
    ...runLeaseMethods(store),
    async close() {
      store.close();
    },
  };
}

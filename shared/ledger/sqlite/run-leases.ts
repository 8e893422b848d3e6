/** Run leases on SQLite: one row of `run_leases` a kind of scheduled job (`pull`). */
import type { Ledger } from '../port';
import { decideRunLease, validateOwner, validateRunLeaseName } from '../rules';
import type { RunLease } from '../rules';
import type { SqliteStore } from './store';

/** acquireRunLease, read and decided in one transaction, and releaseRunLease, one delete. */
export function runLeaseMethods(
  store: SqliteStore,
): Pick<Ledger, 'acquireRunLease' | 'releaseRunLease'> {
  const { db, now, run } = store;
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

  return {
    async acquireRunLease(name, owner, leaseMs) {
      return run('taking a run lease', () => acquireRunLeaseTx.immediate(name, owner, leaseMs));
    },

    async releaseRunLease(name, owner) {
      return run('releasing a run lease', () => {
        runLeaseDelete.run(validateRunLeaseName(name), validateOwner(owner));
      });
    },
  };
}

/** State and lease changes of a set on SQLite: read, decided by the rules, written at once. */
import { DeclarationNotFoundError } from '../errors';
import type { Ledger } from '../port';
import {
  applyLeaseRelease,
  applyLeaseRenewal,
  applyOverdueMark,
  applyTransition,
  checkTransitionCall,
} from '../rules';
import type { DeclarationRecord, DeclarationState } from '../types';
import { fromRow } from './declarations';
import type { SqliteDeclarations } from './declarations';
import type { SqliteStore } from './store';

/**
 * transition, renewLease, releaseLease and markOverdue, each one transaction under the write lock; the
 * tickets an answer brings are indexed in the same transaction.
 */
export function transitionMethods(
  store: SqliteStore,
  declarations: SqliteDeclarations,
): Pick<Ledger, 'transition' | 'renewLease' | 'releaseLease' | 'markOverdue'> {
  const { db, location, now, run } = store;
  const { byKey, read, save } = declarations;
  const ticketSave = db.prepare<[string, number]>(
    'INSERT OR IGNORE INTO tickets (ticket, row_id) VALUES (?, ?)',
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

  // A renewal, a release or an overdue mark: read, decide by the rules, write (unless the rules
  // hand back the stored record: nothing to change), under the write lock.
  const decideTx = db.transaction(
    (id: string, decide: (stored: DeclarationRecord) => DeclarationRecord) => {
      const stored = read(byKey.get(id));
      if (!stored) throw new DeclarationNotFoundError(id);
      const next = decide(stored);
      if (next !== stored) save(next, stored.state);
      return { stored, next };
    },
  );

  return {
    async transition(id, from, to, patch, options) {
      return run('changing a state', () =>
        transitionTx.immediate(id, checkTransitionCall(from, to), to, patch, options),
      );
    },

    async renewLease(id, owner, leaseMs) {
      return run(
        'renewing a lease',
        () =>
          decideTx.immediate(id, (stored) => applyLeaseRenewal(stored, owner, leaseMs, now())).next,
      );
    },

    async releaseLease(id, owner) {
      return run(
        'releasing a lease',
        () => decideTx.immediate(id, (stored) => applyLeaseRelease(stored, owner, now())).next,
      );
    },

    async markOverdue(id, wait) {
      return run('marking a wait overdue', () => {
        const { stored, next } = decideTx.immediate(id, (record) =>
          applyOverdueMark(record, wait, now()),
        );
        return { record: next, marked: next !== stored };
      });
    },
  };
}

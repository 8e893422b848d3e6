/** State and lease changes of a set on DynamoDB: read, decided, saved on the revision read. */
import { DeclarationNotFoundError } from '../../../shared/ledger/errors';
import type { Ledger } from '../../../shared/ledger/port';
import {
  applyLeaseRelease,
  applyLeaseRenewal,
  applyOverdueMark,
  applyTransition,
  checkTransitionCall,
} from '../../../shared/ledger/rules';
import type { DynamoDeclarations } from './declarations';
import type { DynamoStore } from './store';

/** transition, renewLease, releaseLease and markOverdue, each retried while it loses races. */
export function transitionMethods(
  store: DynamoStore,
  declarations: DynamoDeclarations,
): Pick<Ledger, 'transition' | 'renewLease' | 'releaseLease' | 'markOverdue'> {
  const { now, retrying, run } = store;
  const { getCurrent, saveCurrent } = declarations;

  return {
    transition: (id, from, to, patch, transitionOptions) =>
      run('changing a state', () => {
        const expected = checkTransitionCall(from, to);
        return retrying(`moving ${id} to ${to}`, async () => {
          const stored = await getCurrent(id);
          if (!stored) throw new DeclarationNotFoundError(id);
          const next = applyTransition(
            stored.record,
            expected,
            to,
            patch,
            now(),
            transitionOptions,
          );
          // The rules hand back the stored record itself for a replayed answer: nothing to write.
          if (next !== stored.record) await saveCurrent(stored, next);
          return next;
        });
      }),

    renewLease: (id, owner, leaseMs) =>
      run('renewing a lease', () =>
        retrying(`renewing the lease of ${id}`, async () => {
          const stored = await getCurrent(id);
          if (!stored) throw new DeclarationNotFoundError(id);
          const next = applyLeaseRenewal(stored.record, owner, leaseMs, now());
          await saveCurrent(stored, next);
          return next;
        }),
      ),

    releaseLease: (id, owner) =>
      run('releasing a lease', () =>
        retrying(`releasing the lease of ${id}`, async () => {
          const stored = await getCurrent(id);
          if (!stored) throw new DeclarationNotFoundError(id);
          const next = applyLeaseRelease(stored.record, owner, now());
          await saveCurrent(stored, next);
          return next;
        }),
      ),

    markOverdue: (id, wait) =>
      run('marking a wait overdue', () =>
        retrying(`marking ${id} overdue`, async () => {
          const stored = await getCurrent(id);
          if (!stored) throw new DeclarationNotFoundError(id);
          const next = applyOverdueMark(stored.record, wait, now());
          // On the revision read: of two runs marking at once, one writes, the other retries
          // and finds the mark.
          if (next === stored.record) return { record: next, marked: false };
          await saveCurrent(stored, next);
          return { record: next, marked: true };
        }),
      ),
  };
}

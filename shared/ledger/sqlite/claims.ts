/** Send claims on SQLite: the source's and the key's records read, decided and written at once. */
import type { Ledger } from '../port';
import { decideClaim, validateClaimRequest } from '../rules';
import { fromRow } from './declarations';
import type { SqliteDeclarations } from './declarations';
import type { SqliteStore } from './store';

/** claim, in one transaction under the write lock. */
export function claimMethods(
  store: SqliteStore,
  declarations: SqliteDeclarations,
): Pick<Ledger, 'claim'> {
  const { db, location, now, run } = store;
  const { byKey, bySource, read, insert, save } = declarations;
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
      insert(decision.record);
      return { record: decision.record, resumed: false };
    },
  );

  return {
    async claim(request, options) {
      return run('claiming a declaration', () => claimTx.immediate(request, options));
    },
  };
}

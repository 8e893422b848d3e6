/** Sequences on SQLite: the `sequences` counter and the numbers the scope's records use. */
import type { Environment } from '../../names';
import type { Ledger } from '../port';
import { allocateSequence, validateSequenceScope } from '../rules';
import type { SqliteStore } from './store';

/** nextSequence: the counter read, moved past used numbers and saved in one transaction. */
export function sequenceMethods(store: SqliteStore): Pick<Ledger, 'nextSequence'> {
  const { db, run } = store;
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

  const nextSequenceTx = db.transaction((sender: string, date: string, env: Environment) => {
    const last = seqLast.get(sender, date, env)?.last ?? 0;
    const used = (seq: string): boolean => seqUsed.get(sender, date, env, seq) !== undefined;
    const allocated = allocateSequence({ sender, date, env }, last, used);
    seqSave.run(sender, date, env, allocated.last);
    return allocated.seq;
  });

  return {
    async nextSequence(sender, date, env) {
      return run('allocating a sequence', () => {
        validateSequenceScope(sender, date, env);
        return nextSequenceTx.immediate(sender, date, env);
      });
    },
  };
}

/** Declaration look-ups on SQLite: by set key, source, file name, ticket, hash, and the list. */
import type { Ledger } from '../port';
import {
  keyOfFileName,
  normalizeListFilter,
  normalizeSha256,
  validateSourceQuery,
  validateTicket,
} from '../rules';
import { STATE_STAGES } from '../types';
import { fromRow } from './declarations';
import type { DeclarationRow, SqliteDeclarations } from './declarations';
import type { SqliteStore } from './store';

/** get, the finds and list: plain reads, beside the writer thanks to WAL. */
export function lookupMethods(
  store: SqliteStore,
  declarations: SqliteDeclarations,
): Pick<
  Ledger,
  'get' | 'findBySource' | 'findByFileName' | 'findByTicket' | 'findLaunchedBySha256' | 'list'
> {
  const { db, location, run } = store;
  const { byKey, bySource, read } = declarations;
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

  return {
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
  };
}

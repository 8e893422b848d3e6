/** Response sets on SQLite: rows of `responses`, recorded once, updated, read and listed. */
import type { Environment, ResponseFolder } from '../../names';
import { LedgerStoreError, ResponseNotFoundError } from '../errors';
import type { Ledger } from '../port';
import { applyResponsePatch, buildResponseRecord, normalizeResponseListFilter } from '../rules';
import type { ResponseFile, ResponseKind, ResponseRecord, ResponseSignatureStatus } from '../types';
import type { SqliteStore } from './store';

/** A row of `responses` as better-sqlite3 returns it. */
interface ResponseRow {
  row_id: number;
  id: string;
  env: string;
  folder: string;
  type: string;
  files: string;
  state: string;
  signature: string;
  signature_detail: string | null;
  kind: string | null;
  declaration_id: string | null;
  orphan: number;
  stored_at: string;
  deleted_at: string | null;
  updated_at: string;
}

/** The named parameters of a response insert or update. */
type ResponseParams = Omit<ResponseRow, 'row_id'>;

const RESPONSE_COLUMN_SET: Record<keyof ResponseParams, true> = {
  id: true,
  env: true,
  folder: true,
  type: true,
  files: true,
  state: true,
  signature: true,
  signature_detail: true,
  kind: true,
  declaration_id: true,
  orphan: true,
  stored_at: true,
  deleted_at: true,
  updated_at: true,
};
const RESPONSE_COLUMNS = Object.keys(RESPONSE_COLUMN_SET);

function toResponseRow(record: ResponseRecord): ResponseParams {
  return {
    id: record.id,
    env: record.env,
    folder: record.folder,
    type: record.type,
    files: JSON.stringify(record.files),
    state: record.state,
    signature: record.signature,
    signature_detail: record.signatureDetail ?? null,
    kind: record.kind ?? null,
    declaration_id: record.declarationId ?? null,
    orphan: record.orphan ? 1 : 0,
    stored_at: record.storedAt,
    deleted_at: record.deletedAt ?? null,
    updated_at: record.updatedAt,
  };
}

function fromResponseRow(row: ResponseRow, location: string): ResponseRecord {
  if (row.state !== 'stored' && row.state !== 'deleted') {
    throw new LedgerStoreError(`${location}: response ${row.id} has unknown state ${row.state}`);
  }
  const record: ResponseRecord = {
    id: row.id,
    env: row.env as Environment,
    folder: row.folder as ResponseFolder,
    type: row.type,
    files: JSON.parse(row.files) as ResponseFile[],
    state: row.state,
    signature: row.signature as ResponseSignatureStatus,
    orphan: row.orphan === 1,
    storedAt: row.stored_at,
    updatedAt: row.updated_at,
  };
  if (row.signature_detail !== null) record.signatureDetail = row.signature_detail;
  if (row.kind !== null) record.kind = row.kind as ResponseKind;
  if (row.declaration_id !== null) record.declarationId = row.declaration_id;
  if (row.deleted_at !== null) record.deletedAt = row.deleted_at;
  return record;
}

/** recordResponse and updateResponse, each one transaction under the write lock; reads. */
export function responseMethods(
  store: SqliteStore,
): Pick<Ledger, 'recordResponse' | 'updateResponse' | 'getResponse' | 'listResponses'> {
  const { db, location, now, run } = store;
  const responseInsert = db.prepare<ResponseParams>(
    `INSERT INTO responses (${RESPONSE_COLUMNS.join(', ')})
     VALUES (${RESPONSE_COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
  // Conditional on the version read in the same transaction, for the same reason as the update
  // of a declaration (./declarations).
  const responseUpdate = db.prepare<ResponseParams & { expected_updated_at: string }>(
    `UPDATE responses SET ${RESPONSE_COLUMNS.map((c) => `${c} = @${c}`).join(', ')}
     WHERE id = @id AND updated_at = @expected_updated_at`,
  );
  const responseById = db.prepare<[string], ResponseRow>('SELECT * FROM responses WHERE id = ?');

  const recordResponseTx = db.transaction((request: Parameters<Ledger['recordResponse']>[0]) => {
    const record = buildResponseRecord(request, now());
    const existing = responseById.get(record.id);
    if (existing) return { record: fromResponseRow(existing, location), created: false };
    responseInsert.run(toResponseRow(record));
    return { record, created: true };
  });

  const updateResponseTx = db.transaction(
    (id: string, patch: Parameters<Ledger['updateResponse']>[1]) => {
      const row = responseById.get(id);
      if (!row) throw new ResponseNotFoundError(id);
      const stored = fromResponseRow(row, location);
      const next = applyResponsePatch(stored, patch, now());
      if (next === stored) return stored;
      const result = responseUpdate.run({
        ...toResponseRow(next),
        expected_updated_at: stored.updatedAt,
      });
      if (result.changes !== 1) {
        throw new LedgerStoreError(`${location}: response ${id} changed under a write lock`);
      }
      return next;
    },
  );

  return {
    async recordResponse(request) {
      return run('recording a response set', () => recordResponseTx.immediate(request));
    },

    async updateResponse(id, patch) {
      return run('updating a response set', () => updateResponseTx.immediate(id, patch));
    },

    async getResponse(id) {
      return run('reading a response set', () => {
        const row = responseById.get(id);
        return row && fromResponseRow(row, location);
      });
    },

    async listResponses(filter) {
      return run('listing response sets', () => {
        const normalized = normalizeResponseListFilter(filter);
        const where: string[] = [];
        const params: (string | number)[] = [];
        if (normalized.state !== undefined) {
          where.push('state = ?');
          params.push(normalized.state);
        }
        if (normalized.orphan !== undefined) {
          where.push('orphan = ?');
          params.push(normalized.orphan ? 1 : 0);
        }
        if (normalized.since !== undefined) {
          where.push('stored_at >= ?');
          params.push(normalized.since);
        }
        const sql =
          'SELECT * FROM responses' +
          (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
          ' ORDER BY stored_at, row_id';
        return db
          .prepare<(string | number)[], ResponseRow>(sql)
          .all(...params)
          .map((row) => fromResponseRow(row, location));
      });
    },
  };
}

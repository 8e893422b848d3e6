/** Response sets on DynamoDB: one RESPONSE# item each, put if absent, updated on its revision. */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { LedgerStoreError, ResponseNotFoundError } from '../../../shared/ledger/errors';
import type { Ledger } from '../../../shared/ledger/port';
import {
  applyResponsePatch,
  buildResponseRecord,
  matchesResponseListFilter,
  normalizeResponseListFilter,
} from '../../../shared/ledger/rules';
import type { ResponseRecord } from '../../../shared/ledger/types';
import { ABSENT, GSI_PK, GSI_SK, RESPONSES, keyText, keys, orderOf, plain, revIs } from './schema';
import type { Item } from './schema';
import { isConditionFailed } from './store';
import type { DynamoStore } from './store';

/** recordResponse, updateResponse (retried while it loses races), getResponse, listResponses. */
export function responseMethods(
  store: DynamoStore,
): Pick<Ledger, 'recordResponse' | 'updateResponse' | 'getResponse' | 'listResponses'> {
  const { documents, tableName, location, now, getItem, queryByTime, retrying, run } = store;

  const responseOf = (item: Item): ResponseRecord => {
    const record = item.record as ResponseRecord | undefined;
    if (
      typeof record !== 'object' ||
      record === null ||
      (record.state !== 'stored' && record.state !== 'deleted')
    ) {
      throw new LedgerStoreError(`${location}: item ${keyText(item)} holds no response set`);
    }
    return record;
  };

  return {
    recordResponse: (request) =>
      run('recording a response set', async () => {
        const record = buildResponseRecord(request, now());
        const ord = orderOf(record.storedAt);
        try {
          await documents.send(
            new PutCommand({
              TableName: tableName,
              Item: {
                ...keys.response(record.id),
                rev: 1,
                ord,
                record: plain(record),
                [GSI_PK]: RESPONSES,
                [GSI_SK]: ord,
              },
              ...ABSENT,
            }),
          );
          return { record, created: true };
        } catch (error) {
          if (!isConditionFailed(error)) throw error;
        }
        const existing = await getItem(keys.response(record.id));
        if (!existing) throw new LedgerStoreError(`${location}: response ${record.id} vanished`);
        return { record: responseOf(existing), created: false };
      }),

    updateResponse: (id, patch) =>
      run('updating a response set', () =>
        retrying(`updating response set ${id}`, async () => {
          const item = await getItem(keys.response(id));
          if (!item) throw new ResponseNotFoundError(id);
          const stored = responseOf(item);
          const next = applyResponsePatch(stored, patch, now());
          if (next === stored) return stored;
          const rev = Number(item.rev);
          await documents.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...item, rev: rev + 1, record: plain(next) },
              ...revIs(rev),
            }),
          );
          return next;
        }),
      ),

    getResponse: (id) =>
      run('reading a response set', async () => {
        const item = await getItem(keys.response(id));
        return item && responseOf(item);
      }),

    listResponses: (filter) =>
      run('listing response sets', async () => {
        const normalized = normalizeResponseListFilter(filter);
        const items = await queryByTime(RESPONSES, normalized.since);
        return items
          .map(responseOf)
          .filter((record) => matchesResponseListFilter(record, normalized));
      }),
  };
}

/** Declaration records as CURRENT and HIST items, and the reads and saves the parts share. */
import { LedgerStoreError } from '../../../shared/ledger/errors';
import { isDeclarationState } from '../../../shared/ledger/rules';
import type { DeclarationRecord } from '../../../shared/ledger/types';
import { DECLARATIONS, GSI_PK, GSI_SK, SK, keyText, keys, plain } from './schema';
import type { Condition, Item } from './schema';
import type { DynamoStore } from './store';

/** Where a record of a source, a ticket or a hash lives: its set key and creation order. */
export interface Ref {
  id: string;
  ord: string;
}

/** A declaration as read, with where it is stored. */
export interface StoredDeclaration {
  record: DeclarationRecord;
  ord: string;
  /** The revision of the CURRENT item; undefined for a superseded (history) record. */
  rev: number | undefined;
}

function answerIds(record: DeclarationRecord): string[] {
  const ids = (record.notifications ?? []).map((notification) => notification.response);
  return record.acknowledgement ? [record.acknowledgement.response, ...ids] : ids;
}

/** The references `{id, ord}` held by items (a source item's `refs`, ticket and hash items). */
export function refsOf(items: readonly Item[]): Ref[] {
  return items.map((item) => ({ id: String(item.id), ord: String(item.ord) }));
}

/** Creation order, for Array.prototype.sort: by `ord`. */
export function byOrd(a: { ord: string }, b: { ord: string }): number {
  return a.ord < b.ord ? -1 : a.ord > b.ord ? 1 : 0;
}

/** The CURRENT item of a record: revision `rev`, creation order `ord`, its answers' ids. */
export function currentItem(record: DeclarationRecord, ord: string, rev: number): Item {
  return {
    ...keys.current(record.id),
    rev,
    ord,
    record: plain(record),
    answers: answerIds(record),
    [GSI_PK]: DECLARATIONS,
    [GSI_SK]: ord,
  };
}

/** The HIST item of a record superseded by a resend, kept under its creation order `ord`. */
export function historyItem(record: DeclarationRecord, ord: string): Item {
  return {
    ...keys.history(record.id, ord),
    ord,
    record: plain(record),
    [GSI_PK]: DECLARATIONS,
    [GSI_SK]: ord,
  };
}

/** The reads and the save of declaration items that claims, transitions and look-ups share. */
export interface DynamoDeclarations {
  /** The record an item holds, with its order and revision; LedgerStoreError for anything else. */
  declarationOf(item: Item): StoredDeclaration;
  /** The CURRENT record of a set key, or undefined. */
  getCurrent(id: string): Promise<StoredDeclaration | undefined>;
  /**
   * The records references point at, in the order given: the CURRENT item of the set key when
   * its `ord` is the reference's, else the HIST item. A BatchGetItem is not isolated from a
   * transaction, so a record superseded while it was read is looked for again on its own.
   */
  resolve(refs: readonly Ref[]): Promise<StoredDeclaration[]>;
  /**
   * Replaces the current record `stored` by `next`, conditional on the revision read and, for
   * an answer, on its response id being absent; look-ups for a new ticket or hash go in the
   * same transaction.
   */
  saveCurrent(stored: StoredDeclaration, next: DeclarationRecord): Promise<void>;
}

/** The shared reads and save of declaration items, on `store`. */
export function openDeclarations(store: DynamoStore): DynamoDeclarations {
  const { location, getItem, batchGet, put, write } = store;

  const declarationOf = (item: Item): StoredDeclaration => {
    const record = item.record as DeclarationRecord | undefined;
    if (typeof record !== 'object' || record === null || !isDeclarationState(record.state)) {
      throw new LedgerStoreError(`${location}: item ${keyText(item)} holds no declaration`);
    }
    return {
      record,
      ord: String(item.ord),
      rev: item[SK] === 'CURRENT' ? Number(item.rev) : undefined,
    };
  };

  const getCurrent = async (id: string): Promise<StoredDeclaration | undefined> => {
    const item = await getItem(keys.current(id));
    return item && declarationOf(item);
  };

  const resolve = async (refs: readonly Ref[]): Promise<StoredDeclaration[]> => {
    const found = await batchGet(
      refs.flatMap((ref) => [keys.current(ref.id), keys.history(ref.id, ref.ord)]),
    );
    return Promise.all(
      refs.map(async (ref) => {
        const history = found.get(keyText(keys.history(ref.id, ref.ord)));
        if (history) return declarationOf(history);
        const current = found.get(keyText(keys.current(ref.id)));
        if (current && current.ord === ref.ord) return declarationOf(current);
        const late = await getItem(keys.history(ref.id, ref.ord));
        if (late) return declarationOf(late);
        throw new LedgerStoreError(`${location}: no record ${ref.id} created at ${ref.ord}`);
      }),
    );
  };

  const saveCurrent = async (stored: StoredDeclaration, next: DeclarationRecord): Promise<void> => {
    if (stored.rev === undefined) {
      throw new LedgerStoreError(`${location}: ${next.id} is not a current record`);
    }
    const known = answerIds(stored.record);
    const fresh = answerIds(next).filter((id) => !known.includes(id));
    const values: Record<string, unknown> = { ':rev': stored.rev };
    fresh.forEach((id, i) => {
      values[`:answer${i}`] = id;
    });
    const condition: Condition = {
      ConditionExpression: [
        '#rev = :rev',
        ...fresh.map((_, i) => `NOT contains(#answers, :answer${i})`),
      ].join(' AND '),
      ExpressionAttributeNames:
        fresh.length > 0 ? { '#rev': 'rev', '#answers': 'answers' } : { '#rev': 'rev' },
      ExpressionAttributeValues: values,
    };
    const items = [put(currentItem(next, stored.ord, stored.rev + 1), condition)];
    const lookup = { id: next.id, ord: stored.ord };
    for (const ticket of next.tickets ?? []) {
      if (!(stored.record.tickets ?? []).includes(ticket)) {
        items.push(put({ ...keys.ticket(ticket, stored.ord), ...lookup }));
      }
    }
    if (next.sourceSha256 !== undefined && next.sourceSha256 !== stored.record.sourceSha256) {
      items.push(put({ ...keys.sha256(next.sourceSha256, stored.ord), ...lookup }));
    }
    await write(items);
  };

  return { declarationOf, getCurrent, resolve, saveCurrent };
}

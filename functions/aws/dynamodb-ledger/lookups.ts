/** Declaration look-ups on DynamoDB: by set key, source, file name, ticket, hash, and the list. */
import type { Ledger } from '../../../shared/ledger/port';
import {
  keyOfFileName,
  matchesListFilter,
  normalizeListFilter,
  normalizeSha256,
  sameSource,
  stageOf,
  validateSourceQuery,
  validateTicket,
} from '../../../shared/ledger/rules';
import { byOrd, refsOf } from './declarations';
import type { DynamoDeclarations, StoredDeclaration } from './declarations';
import { DECLARATIONS, PK, keyText, keys } from './schema';
import type { Item } from './schema';
import type { DynamoStore } from './store';

/**
 * get, the finds and list: strongly consistent reads, through the look-up items and back to
 * the records; list reads the time index, eventually consistent.
 */
export function lookupMethods(
  store: DynamoStore,
  declarations: DynamoDeclarations,
): Pick<
  Ledger,
  'get' | 'findBySource' | 'findByFileName' | 'findByTicket' | 'findLaunchedBySha256' | 'list'
> {
  const { getItem, queryAll, batchGet, queryByTime, run } = store;
  const { declarationOf, getCurrent, resolve } = declarations;

  return {
    get: (id) => run('reading a declaration', async () => (await getCurrent(id))?.record),

    findBySource: (source) =>
      run('finding a source', async () => {
        validateSourceQuery(source);
        const item = await getItem(keys.source(source));
        const latest = refsOf((item?.refs as Item[] | undefined) ?? [])
          .sort(byOrd)
          .at(-1);
        if (!latest) return undefined;
        const [stored] = await resolve([latest]);
        return stored && sameSource(stored.record.source, source) ? stored.record : undefined;
      }),

    findByFileName: (name) =>
      run('finding a file name', async () => {
        const id = keyOfFileName(name);
        return id === undefined ? undefined : (await getCurrent(id))?.record;
      }),

    findByTicket: (ticket) =>
      run('finding a ticket', async () => {
        const wanted = validateTicket(ticket);
        const refs = refsOf(
          await queryAll({
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':pk': keys.ticket(wanted, '')[PK] },
            ConsistentRead: true,
          }),
        );
        const found = await batchGet(refs.map((ref) => keys.current(ref.id)));
        // Only a current record counts: a superseded one's ref no longer matches CURRENT's ord.
        const holders = refs
          .map((ref) => {
            const item = found.get(keyText(keys.current(ref.id)));
            return item && item.ord === ref.ord ? declarationOf(item) : undefined;
          })
          .filter((stored): stored is StoredDeclaration => stored !== undefined)
          .filter(
            (stored) =>
              stored.record.supersededAt === undefined &&
              (stored.record.tickets ?? []).includes(wanted),
          );
        return holders.sort(byOrd).at(-1)?.record;
      }),

    findLaunchedBySha256: (sha256) =>
      run('finding a content hash', async () => {
        const hash = normalizeSha256(sha256);
        const refs = refsOf(
          await queryAll({
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':pk': keys.sha256(hash, '')[PK] },
            ConsistentRead: true,
          }),
        ).sort(byOrd);
        const records = await resolve(refs);
        return records
          .map((stored) => stored.record)
          .filter((r) => r.sourceSha256 === hash && stageOf(r.state) === 'committed');
      }),

    list: (filter) =>
      run('listing declarations', async () => {
        const normalized = normalizeListFilter(filter);
        const items = await queryByTime(DECLARATIONS, normalized.since);
        return items
          .map((item) => declarationOf(item).record)
          .filter((record) => matchesListFilter(record, normalized));
      }),
  };
}

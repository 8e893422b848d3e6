/** Send claims on DynamoDB: the source and key items read, decided, written in one transaction. */
import { LedgerStoreError } from '../../../shared/ledger/errors';
import type { Ledger } from '../../../shared/ledger/port';
import { decideClaim, validateClaimRequest } from '../../../shared/ledger/rules';
import { byOrd, currentItem, historyItem, refsOf } from './declarations';
import type { DynamoDeclarations } from './declarations';
import { ABSENT, PK, SK, keys, orderOf, plain, revIs } from './schema';
import type { Item } from './schema';
import type { DynamoStore } from './store';

/**
 * claim: a resume is a save of the live CURRENT item; a new record is one transaction that
 * creates it, keeps a superseded one as history, adds it to its source and marks its sequence
 * used.
 */
export function claimMethods(
  store: DynamoStore,
  declarations: DynamoDeclarations,
): Pick<Ledger, 'claim'> {
  const { location, now, getItem, put, write, retrying, run } = store;
  const { getCurrent, resolve, saveCurrent } = declarations;

  const claim: Ledger['claim'] = async (request, claimOptions) => {
    const { id } = validateClaimRequest(request);
    const sourceKey = keys.source(request.source);
    return retrying(`claiming ${id}`, async () => {
      const [sourceItem, keyStored] = await Promise.all([getItem(sourceKey), getCurrent(id)]);
      const refs = refsOf((sourceItem?.refs as Item[] | undefined) ?? []).sort(byOrd);
      const ofSource = await resolve(refs);
      const decision = decideClaim({
        request,
        options: claimOptions,
        now: now(),
        sourceRecords: ofSource.map((stored) => stored.record),
        keyRecord: keyStored?.record,
      });
      if (decision.kind === 'resume') {
        // A live record is never superseded (rule 3), so it is the CURRENT item of its key.
        const live = ofSource.find(
          (stored) => stored.rev !== undefined && stored.record.id === decision.record.id,
        );
        if (!live) throw new LedgerStoreError(`${location}: live ${decision.record.id} not found`);
        await saveCurrent(live, decision.record);
        return { record: decision.record, resumed: true };
      }
      const { record, supersede } = decision;
      const ord = orderOf(record.createdAt);
      const items = [
        put(
          currentItem(record, ord, (keyStored?.rev ?? 0) + 1),
          keyStored?.rev === undefined ? ABSENT : revIs(keyStored.rev),
        ),
      ];
      if (supersede) {
        if (!keyStored) throw new LedgerStoreError(`${location}: ${id} vanished`);
        items.push(put(historyItem(supersede, keyStored.ord), ABSENT));
      }
      const sourceRev = sourceItem === undefined ? undefined : Number(sourceItem.rev);
      items.push(
        put(
          {
            ...sourceKey,
            rev: (sourceRev ?? 0) + 1,
            source: plain(record.source),
            refs: [...refs, { id, ord }],
          },
          sourceRev === undefined ? ABSENT : revIs(sourceRev),
        ),
        put({
          [PK]: keys.scope(record.key.sender, record.key.date, record.key.env),
          [SK]: `USED#${record.key.seq}#${record.key.app}`,
          id,
        }),
      );
      await write(items);
      return { record, resumed: false };
    });
  };

  return {
    claim: (request, claimOptions) =>
      run('claiming a declaration', () => claim(request, claimOptions)),
  };
}

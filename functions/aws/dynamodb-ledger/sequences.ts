/** Sequences on DynamoDB: the scope's atomic counter and its USED# items. */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Ledger } from '../../../shared/ledger/port';
import {
  MAX_SEQUENCE,
  allocateSequence,
  formatSequence,
  validateSequenceScope,
} from '../../../shared/ledger/rules';
import type { Environment } from '../../../shared/names';
import { PK, SK, USED_UPPER_BOUND, keys } from './schema';
import { isConditionFailed } from './store';
import type { DynamoStore } from './store';

/**
 * nextSequence: the atomic counter's next number when no recorded declaration uses it, else
 * the rules' choice written conditional on the counter read.
 */
export function sequenceMethods(store: DynamoStore): Pick<Ledger, 'nextSequence'> {
  const { documents, tableName, queryAll, getItem, retrying, run } = store;

  // The sequences recorded declarations of a scope use, from `from` on.
  const usedFrom = async (scope: string, from: number): Promise<Set<string>> => {
    if (from > MAX_SEQUENCE) return new Set();
    const items = await queryAll({
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: {
        ':pk': scope,
        ':low': `USED#${formatSequence(from)}`,
        ':high': USED_UPPER_BOUND,
      },
      ConsistentRead: true,
    });
    return new Set(items.map((item) => String(item[SK]).split('#')[1] ?? ''));
  };

  const nextSequence = async (sender: string, date: string, env: Environment): Promise<string> => {
    validateSequenceScope(sender, date, env);
    const scope = { sender, date, env };
    const pk = keys.scope(sender, date, env);
    const counter = { [PK]: pk, [SK]: 'COUNTER' };
    // Fast path: the atomic counter hands this call a number no other call gets. It is kept
    // when the rules find it free; a number a declaration recorded by hand uses is skipped.
    let candidate: number | undefined;
    try {
      const out = await documents.send(
        new UpdateCommand({
          TableName: tableName,
          Key: counter,
          UpdateExpression: 'ADD #last :one',
          ConditionExpression: 'attribute_not_exists(#last) OR #last < :max',
          ExpressionAttributeNames: { '#last': 'last' },
          ExpressionAttributeValues: { ':one': 1, ':max': MAX_SEQUENCE },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      candidate = Number(out.Attributes?.last);
    } catch (error) {
      // At 99999 already: the rules below say so with SequenceExhaustedError.
      if (!isConditionFailed(error)) throw error;
    }
    if (candidate !== undefined) {
      const used = await usedFrom(pk, candidate);
      const fast = allocateSequence(scope, candidate - 1, (seq) => used.has(seq));
      if (fast.last === candidate) return fast.seq;
    }
    // Slow path: past used numbers, the counter moves to the rules' choice, conditional on the
    // value read, so no number is handed out twice.
    return retrying(`allocating a sequence of ${pk}`, async () => {
      const item = await getItem(counter);
      const last = item === undefined ? 0 : Number(item.last ?? 0);
      const used = await usedFrom(pk, last + 1);
      const allocated = allocateSequence(scope, last, (seq) => used.has(seq));
      await documents.send(
        new UpdateCommand({
          TableName: tableName,
          Key: counter,
          UpdateExpression: 'SET #last = :next',
          ConditionExpression:
            item === undefined || item.last === undefined
              ? 'attribute_not_exists(#last)'
              : '#last = :last',
          ExpressionAttributeNames: { '#last': 'last' },
          ExpressionAttributeValues:
            item === undefined || item.last === undefined
              ? { ':next': allocated.last }
              : { ':next': allocated.last, ':last': last },
        }),
      );
      return allocated.seq;
    });
  };

  return {
    nextSequence: (sender, date, env) =>
      run('allocating a sequence', () => nextSequence(sender, date, env)),
  };
}

/** Run leases on DynamoDB: one RUNLEASE# item a kind of scheduled job (`pull`). */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Ledger } from '../../../shared/ledger/port';
import { decideRunLease, validateOwner, validateRunLeaseName } from '../../../shared/ledger/rules';
import type { RunLease } from '../../../shared/ledger/rules';
import { ABSENT, keys } from './schema';
import { isConditionFailed } from './store';
import type { DynamoStore } from './store';

/** acquireRunLease, written conditional on the lease read, and releaseRunLease, one delete. */
export function runLeaseMethods(
  store: DynamoStore,
): Pick<Ledger, 'acquireRunLease' | 'releaseRunLease'> {
  const { documents, tableName, now, getItem, retrying, run } = store;

  return {
    acquireRunLease: (name, owner, leaseMs) =>
      run('taking a run lease', () =>
        retrying(`taking the run lease ${String(name)}`, async () => {
          const key = keys.runLease(validateRunLeaseName(name));
          const item = await getItem(key);
          const current: RunLease | undefined = item && {
            name,
            owner: String(item.owner),
            until: String(item.until),
          };
          const next = decideRunLease(current, { name, owner, leaseMs }, now());
          if (next === undefined) return false;
          // Conditional on the lease read: two runs that both saw it free or ended cannot both
          // take it; the loser reads the winner's lease and is refused by the rules.
          await documents.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...key, owner: next.owner, until: next.until },
              ...(current === undefined
                ? ABSENT
                : {
                    ConditionExpression: '#owner = :owner AND #until = :until',
                    ExpressionAttributeNames: { '#owner': 'owner', '#until': 'until' },
                    ExpressionAttributeValues: { ':owner': current.owner, ':until': current.until },
                  }),
            }),
          );
          return true;
        }),
      ),

    releaseRunLease: (name, owner) =>
      run('releasing a run lease', async () => {
        const key = keys.runLease(validateRunLeaseName(name));
        try {
          await documents.send(
            new DeleteCommand({
              TableName: tableName,
              Key: key,
              ConditionExpression: '#owner = :owner',
              ExpressionAttributeNames: { '#owner': 'owner' },
              ExpressionAttributeValues: { ':owner': validateOwner(owner) },
            }),
          );
        } catch (error) {
          // Held by another owner, or by nobody: nothing to release.
          if (!isConditionFailed(error)) throw error;
        }
      }),
  };
}

/**
 * The operator's cancel: a TD file for a set that is on the server but not launched. The ledger
 * moves the set to `cancelled` first, in one conditional write that a sending run's next move
 * cannot pass, and only then is the TD put: so a cancelled set is never launched, whatever the
 * order in which the cancel and a resumed send reach the ledger. A TD that fails to go out
 * leaves the set cancelled; running the cancel again sends it again.
 */
import { Readable } from 'node:stream';
import {
  DeclarationNotFoundError,
  STATE_STAGES,
  type DeclarationRecord,
  type Ledger,
} from '../ledger';
import { buildDeclarationName } from '../names';
import type { TransportConnector } from '../transport';
import { CancelNothingError, CancelTooLateError, OtherChannelError } from './errors';

/** What a cancel did. */
export interface CancelResult {
  /** The set, now `cancelled`. */
  record: DeclarationRecord;
  /** The TD file put on the server, undefined when nothing of the set had been uploaded. */
  td?: string;
  /** True when the set was already cancelled and only its TD was sent again. */
  repeated: boolean;
}

/** The TD name of a set: `TD.APP.SENDER.DATE.SEQ.ENV.NPARTS`. */
export function tdNameOf(record: Pick<DeclarationRecord, 'key' | 'nparts'>): string {
  return buildDeclarationName({ prefix: 'TD', ...record.key, nparts: record.nparts });
}

/**
 * Cancels set `id` through `context.channel` (the connector's; undefined for an unnamed one):
 * refuses a set of another channel (OtherChannelError: its TD would go out with the wrong
 * account), one whose GO went out (CancelTooLateError) or that failed (CancelNothingError), and one a run is sending under a running lease (SendInProgressError,
 * from the ledger); otherwise records it `cancelled` and puts its empty TD in the upload folder,
 * unless it was only `planned` (nothing of it uploaded). A set already cancelled gets its TD
 * again. Throws DeclarationNotFoundError for an unknown id, and the transport's error when the
 * TD could not be put (the set stays cancelled).
 */
export async function cancelDeclaration(
  id: string,
  context: { ledger: Ledger; connector: TransportConnector; channel?: string },
): Promise<CancelResult> {
  const current = await context.ledger.get(id);
  if (current === undefined) throw new DeclarationNotFoundError(id);
  if (current.channel !== context.channel) {
    throw new OtherChannelError(current, 'cancel', context.channel);
  }
  if (STATE_STAGES[current.state] === 'committed') throw new CancelTooLateError(current);
  if (current.state === 'failed') throw new CancelNothingError(current);
  const repeated = current.state === 'cancelled';
  const record = repeated
    ? current
    : await context.ledger.transition(id, ['planned', 'uploading'], 'cancelled');
  // A planned set has no file on the server: the claim comes before the first byte is sent.
  if (current.state === 'planned') return { record, repeated };
  const td = tdNameOf(record);
  const transport = await context.connector.connect();
  try {
    await transport.put(Readable.from([]), `${record.folder}/${td}`);
  } finally {
    await transport.close();
  }
  return { record, td, repeated };
}

/**
 * Answers withheld for their signature, applied once the trust accepts it. With a trust, an
 * answer whose FS did not verify against it is stored but moves no declaration; when the trust
 * was the wrong one (an old pin, a CA bundle missing the transfer point's new CA) and is fixed,
 * the next pull with the fixed trust finds the answer verifying and applies it as if it had
 * just come, so no declaration waits for ever on an answer already in the store.
 */
import { splitResponseSetId, type ResponseRecord } from '../ledger';
import type { AnswerTrust } from '../signing';
import { checkResponseSignatures } from './answer-signature';
import { interpretResponse, type Interpretation } from './interpret';
import type { PullContext } from './pull-responses';
import type { UnpackLimits } from './unpack';

/**
 * How far back a pull looks for withheld answers: a month, time enough to fix a trust, without
 * every pull reading every answer ever stored. An older one is applied by hand (see status).
 */
export const WITHHELD_WINDOW_DAYS = 30;

/** An answer applied after it was withheld. */
export interface AppliedAnswer {
  id: string;
  interpretation: Interpretation;
}

/**
 * Whether a response set was withheld: an ACRF or a notification whose signature was not valid,
 * tied to no declaration and no orphan (it was never applied). One read without a trust was
 * applied whatever its signature, so it is tied or an orphan, never withheld.
 */
export function isWithheld(record: ResponseRecord): boolean {
  return (
    (record.kind === 'acrf' || record.kind === 'notification') &&
    record.signature !== 'valid' &&
    record.declarationId === undefined &&
    !record.orphan
  );
}

/**
 * Applies the withheld answers of `channel` (undefined: those of no named channel) stored in
 * the last WITHHELD_WINDOW_DAYS whose signatures `trust` accepts now; the others stay withheld,
 * not raised again. One that fails
 * to apply is reported in `failed` and the others go on.
 */
export async function applyWithheldAnswers(
  request: { answerTrust: AnswerTrust; channel?: string; unpack?: UnpackLimits },
  context: Pick<PullContext, 'ledger' | 'store' | 'notifier' | 'now'>,
): Promise<{
  applied: AppliedAnswer[];
  failed: Array<{ id: string; code: string; message: string }>;
}> {
  const at = context.now?.() ?? new Date();
  const since = new Date(at.getTime() - WITHHELD_WINDOW_DAYS * 86_400_000).toISOString();
  const candidates = (await context.ledger.listResponses({ since })).filter(
    (record) => isWithheld(record) && splitResponseSetId(record.id).channel === request.channel,
  );
  const applied: AppliedAnswer[] = [];
  const failed: Array<{ id: string; code: string; message: string }> = [];
  for (const record of candidates) {
    try {
      const verdict = await checkResponseSignatures(context.store, record, request.answerTrust, at);
      if (verdict.signature !== 'valid') continue;
      const interpretation = await interpretResponse(record, context, {
        trust: request.answerTrust,
        ...(request.unpack ? { unpack: request.unpack } : {}),
      });
      applied.push({ id: record.id, interpretation });
    } catch (error) {
      const { code, message } = error as { code?: string; message?: string };
      failed.push({
        id: record.id,
        code: code ?? 'PULL_FAILED',
        message: message ?? String(error),
      });
    }
  }
  return { applied, failed };
}

/** What a run claims: its key, its plan's files, and the plan a resumed set keeps. */
import { checkMaterial } from '../signing';
import type { DeclarationRecord, Ledger, SentFile } from '../ledger';
import { STATE_STAGES } from '../ledger';
import { MAX_FILE_BYTES, todayInBrussels, type DeclarationKey } from '../names';
import { EarlierFailureError, SendError, SigningMaterialRequiredError } from './errors';
import { planDeclaration, type SendPlan } from './plan';
import type { SendContext, SendRequest } from './send-types';

/**
 * The key to send under: explicit, the live set of this source (resume), or the next sequence.
 * Throws EarlierFailureError when the source's latest set failed and the request refuses that.
 */
export async function resolveKey(
  request: SendRequest,
  ledger: Ledger,
  now: Date,
): Promise<DeclarationKey> {
  const { app, sender, env } = request.declaration;
  const date = request.declaration.date ?? todayInBrussels(now);
  const seq = request.declaration.seq ?? 'next';
  const previous = await ledger.findBySource(request.source.identity);
  const stage = previous ? STATE_STAGES[previous.state] : undefined;
  // Only an explicit resend sends again a source whose set failed or was cancelled: a resend
  // link alone (an object under resend/) is a source of its own, whose failure is final too.
  if (previous && stage === 'failed' && request.refuseAfterFailure && request.resend !== true) {
    throw new EarlierFailureError(previous);
  }
  if (seq !== 'next') return { app, sender, date, seq, env };
  // A live set of this source resumes under its own names; a committed one is refused by the
  // claim (unless resending): either way no new sequence is spent.
  if (previous && (stage === 'live' || (stage === 'committed' && request.resend !== true))) {
    return previous.key;
  }
  return { app, sender, date, seq: await ledger.nextSequence(sender, date, env), env };
}

/**
 * Whether a request sends on purpose what was sent before: `resend`, or a resend link (a new
 * sequence for its source, the same content allowed again).
 */
export function isResend(request: Pick<SendRequest, 'resend' | 'resendOf'>): boolean {
  return request.resend === true || request.resendOf !== undefined;
}

/** The files a plan makes, as the claim records them (sizes of FS and GO not known yet). */
export function plannedFiles(plan: SendPlan): SentFile[] {
  return [
    ...plan.parts.flatMap((part): SentFile[] => [
      { name: part.fi, size: part.size, role: 'FI' },
      ...(part.fs ? [{ name: part.fs, size: 0, role: 'FS' } as const] : []),
    ]),
    { name: plan.go, size: 0, role: 'GO' },
  ];
}

/** Refuses a signed plan without signing material, or with expired or weak material. */
export function requireMaterial(plan: SendPlan, context: SendContext, now: Date): void {
  if (!plan.signed) return;
  if (context.material === undefined) throw new SigningMaterialRequiredError(plan.setId);
  checkMaterial(context.material, now); // refuse expired or weak material before sending
}

/** The plan a resumed set was claimed with, read back from its recorded files. */
export function planFromRecord(record: DeclarationRecord, request: SendRequest): SendPlan {
  const parts = record.files.filter((file) => file.role === 'FI');
  const signed = record.files.some((file) => file.role === 'FS');
  const partSize = record.nparts > 1 ? (parts[0] as SentFile).size : MAX_FILE_BYTES;
  const plan = planDeclaration(request.source.size, record.key, {
    ...request.plan,
    partSize,
    signFor: { T: signed, S: signed },
  });
  if (plan.nparts !== record.nparts || plan.signed !== signed) {
    throw new SendError(
      `${record.id} was started with ${record.nparts} part(s); the source no longer fits that plan`,
      { code: 'RESUME_PLAN_MISMATCH' },
    );
  }
  return plan;
}

import type { Readable } from 'node:stream';
import {
  MAX_ANOMALY_FIELD_LENGTH,
  MAX_RECORDED_ANOMALIES,
  type DeclarationRecord,
  type DeclarationState,
  isRefusal,
  type Ledger,
  type NotificationOutcome,
  type RecordedAnomaly,
  type ResponseRecord,
} from '../ledger';
import { EVENT_TYPES, type ErrorInWords, type Notifier, type TransferEvent } from '../notify';
import {
  describeAnomaly,
  describeNotificationVerdict,
  describeReceptionError,
  type Anomaly,
  parseResponseStream,
  type AcrfForm,
  type NotificationForm,
  type ResponseDocument,
} from '../responses';
import type { AnswerTrust, TrustedSigner } from '../signing';
import type { ObjectStore } from '../store';
import { checkResponseSignatures } from './answer-signature';
import { openJoined, unpackResponse, type UnpackLimits, type UnpackResult } from './unpack';

/** What reading a stored response set found and did. */
export interface Interpretation {
  kind: 'acrf' | 'notification' | 'other' | 'malformed';
  signature: 'valid' | 'invalid' | 'missing';
  /** Declarations whose state changed, with the new state. */
  changes: Array<{ declaration: string; state: DeclarationState }>;
  /** Forms that matched no declaration. */
  orphans: number;
  /** For a compressed (CO) set: what unpacking it did, and the keys of what it stored. */
  unpacked?: UnpackResult;
  /** With a trust: the signer it accepted (absent without a trust, or when none was). */
  signer?: TrustedSigner;
  /**
   * True when the answer was read but not applied: a trust is configured and its signature is
   * invalid or missing, so no declaration was tied to it or moved.
   */
  withheld?: true;
}

/** Options of interpretResponse. */
export interface InterpretOptions {
  /** Caps on unpacking a compressed (CO) response; merged over UNPACK_DEFAULTS. */
  unpack?: Partial<UnpackLimits>;
  /**
   * Whose signatures are the transfer point's. Given, an answer whose FS is invalid, missing or
   * by a signer the trust does not accept is kept and raised but not applied. Absent, any
   * signer whose signature verifies is taken, and an answer with a bad or missing FS is
   * applied all the same (and raised).
   */
  trust?: AnswerTrust;
}

interface Context {
  ledger: Ledger;
  store: ObjectStore;
  notifier: Notifier;
  now?: () => Date;
}

// Problems listed in one event's message; the rest are counted.
const SHOWN_PROBLEMS = 5;

/**
 * The document to read: the data parts joined in order; for a compressed set, the one file
 * it unpacked to. An archive of several files (the transfer point writes one) or one that
 * could not be unpacked is kept and not read.
 */
async function documentSource(
  store: ObjectStore,
  dataKeys: readonly string[],
  unpacked: UnpackResult | undefined,
): Promise<Readable | Interpretation['kind']> {
  if (unpacked === undefined) return openJoined(store, dataKeys);
  if (unpacked.outcome === 'failed') return 'malformed';
  const [only, ...more] = unpacked.entries;
  if (only === undefined || more.length > 0) return 'other';
  return store.open(only.key);
}

function unpackMessage(id: string, unpacked: UnpackResult): string {
  const { problems } = unpacked;
  const listed = problems.slice(0, SHOWN_PROBLEMS).join('; ');
  const more =
    problems.length > SHOWN_PROBLEMS ? ` (and ${problems.length - SHOWN_PROBLEMS} more)` : '';
  return `compressed response ${id} (${unpacked.format}) ${unpacked.outcome}: ${listed}${more}; the original is kept`;
}

/**
 * Reads a stored response set: unpacks a compressed (CO) one beside it (see
 * unpack.ts), checks its FS signatures (streamed from the store; see
 * answer-signature.ts) and, with `options.trust`, their signer, parses it
 * (ACRF, NOTIFICATION; from the unpacked file for a CO; others are kept as
 * they are), ties each form to its declaration by the file name it answers
 * and then by ticket, moves the declaration's state, and raises one event
 * per change. A bad or missing signature, a malformed document, an archive
 * that does not unpack or an answer that matches nothing is recorded and
 * raised, never a reason to lose the data. With a trust, an answer whose
 * signature is not valid (`response.signature-invalid`) is recorded but not
 * applied: no declaration is tied to it or moved. Every event's `files` lists
 * the stored originals and what was unpacked from them.
 */
export async function interpretResponse(
  record: ResponseRecord,
  context: Context,
  options: InterpretOptions = {},
): Promise<Interpretation> {
  const { ledger, store } = context;
  const at = () => (context.now?.() ?? new Date()).toISOString();
  const dataKeys = record.files.filter((f) => f.role === 'data').map((f) => f.storeKey);
  const compressed = record.files.some((f) => f.role === 'data' && f.name.startsWith('CO.'));
  const unpacked = compressed ? await unpackResponse(store, dataKeys, options.unpack) : undefined;
  const files = [
    ...record.files.map((f) => f.storeKey),
    ...(unpacked?.entries.map((e) => e.key) ?? []),
  ].map((key) => store.locate(key));
  if (unpacked !== undefined && unpacked.problems.length > 0) {
    await context.notifier.notify({
      type: EVENT_TYPES.unpackProblem,
      at: at(),
      response: record.id,
      files,
      message: unpackMessage(record.id, unpacked),
    });
  }
  const { signature, detail, signer } = await checkResponseSignatures(
    store,
    record,
    options.trust,
    context.now?.() ?? new Date(),
  );
  // Without a trust the signature proves nothing of its origin, so it does not gate the answer.
  const withheld = options.trust !== undefined && signature !== 'valid';
  if (signature !== 'valid') {
    await context.notifier.notify({
      type: EVENT_TYPES.signatureInvalid,
      at: at(),
      response: record.id,
      files,
      message:
        `response ${record.id}: signature ${signature}${detail ? ` (${detail})` : ''}; kept` +
        (withheld ? ', not applied: no declaration moved' : ''),
    });
  }
  let document: ResponseDocument | undefined;
  let kind: Interpretation['kind'];
  const source = await documentSource(store, dataKeys, unpacked);
  if (typeof source === 'string') {
    kind = source; // kept as it came: the unpack problem was raised above
  } else {
    try {
      document = await parseResponseStream(source);
      kind = document.kind;
    } catch (error) {
      kind = 'malformed';
      await context.notifier.notify({
        type: EVENT_TYPES.malformed,
        at: at(),
        response: record.id,
        files,
        message: `response ${record.id} could not be read: ${(error as Error).message}; kept`,
      });
    }
  }
  const changes: Interpretation['changes'] = [];
  let orphans = 0;
  let declarationId: string | undefined;
  const forms: Array<AcrfForm | NotificationForm> =
    document && document.kind !== 'other' && !withheld ? document.forms : [];
  for (const form of forms) {
    const event =
      document?.kind === 'acrf'
        ? await applyAcknowledgement(form as AcrfForm, record, ledger, at())
        : await applyNotification(form as NotificationForm, record, ledger, at());
    if (event === undefined) {
      orphans += 1;
      await context.notifier.notify({
        type: EVENT_TYPES.orphan,
        at: at(),
        response: record.id,
        files,
        ...(ticketOf(form) ? { ticket: ticketOf(form) } : {}),
        message: `response ${record.id} answers ${form.fileName ?? 'an unnamed file'}, which matches no declaration: kept`,
      });
      continue;
    }
    declarationId = event.declaration;
    if (event.state)
      changes.push({
        declaration: event.declaration as string,
        state: event.state as DeclarationState,
      });
    await context.notifier.notify({ ...event, files });
  }
  await ledger.updateResponse(record.id, {
    kind,
    signature,
    ...(detail ? { signatureDetail: detail } : {}),
    orphan: orphans > 0,
    ...(declarationId ? { declarationId } : {}),
  });
  return {
    kind,
    signature,
    changes,
    orphans,
    ...(unpacked ? { unpacked } : {}),
    ...(signer ? { signer } : {}),
    ...(withheld ? { withheld } : {}),
  };
}

function ticketOf(form: AcrfForm | NotificationForm): string | undefined {
  if ('declarationTicket' in form || 'fileTicket' in form) {
    const noti = form as NotificationForm;
    return noti.declarationTicket ?? noti.fileTicket;
  }
  return (form as AcrfForm).ticket;
}

async function findDeclaration(
  ledger: Ledger,
  fileName: string | undefined,
  tickets: Array<string | undefined>,
): Promise<DeclarationRecord | undefined> {
  if (fileName) {
    const byName = await ledger.findByFileName(fileName);
    if (byName) return byName;
  }
  for (const ticket of tickets) {
    if (ticket) {
      const byTicket = await ledger.findByTicket(ticket);
      if (byTicket) return byTicket;
    }
  }
  return undefined;
}

async function applyAcknowledgement(
  form: AcrfForm,
  response: ResponseRecord,
  ledger: Ledger,
  at: string,
): Promise<TransferEvent | undefined> {
  const declaration = await findDeclaration(ledger, form.fileName, [form.ticket]);
  if (declaration === undefined) return undefined;
  const errors = form.errors.map((e) => describeReceptionError(e.id));
  const to: DeclarationState = form.accepted ? 'acknowledged' : 'rejected';
  // A replay, or an ACRF read after the set's NOTI: recorded once, the state is not moved back.
  const settled =
    declaration.acknowledgement?.response === response.id ||
    !['launching', 'launched'].includes(declaration.state);
  const updated = settled
    ? declaration
    : await ledger.transition(declaration.id, ['launching', 'launched'], to, {
        acknowledgement: {
          accepted: form.accepted,
          errors: errors.map((e) => e.id),
          ...(form.ticket ? { ticket: form.ticket } : {}),
          response: response.id,
          at,
        },
      });
  return {
    type: form.accepted ? EVENT_TYPES.acknowledged : EVENT_TYPES.rejected,
    at,
    declaration: updated.id,
    state: updated.state,
    ...(form.ticket ? { ticket: form.ticket } : {}),
    ...(errors.length ? { errors: errors.map((e) => ({ id: e.id, label: e.label })) } : {}),
    response: response.id,
    message: form.accepted
      ? `${updated.id} accepted by the reception, ticket ${form.ticket ?? '?'}`
      : `${updated.id} rejected by the reception: ${errors.map((e) => `${e.id} ${e.label}`).join('; ')}`,
  };
}

async function applyNotification(
  form: NotificationForm,
  response: ResponseRecord,
  ledger: Ledger,
  at: string,
): Promise<TransferEvent | undefined> {
  const declaration = await findDeclaration(ledger, form.fileName, [
    form.fileTicket,
    form.declarationTicket,
  ]);
  if (declaration === undefined) return undefined;
  // A replay, or a notification for a set in a state it cannot move from (rejected, failed...):
  // the answer is kept and raised, the state is left as it is, and the pull goes on.
  const from: DeclarationState[] = ['launching', 'launched', 'acknowledged', 'notified', 'refused'];
  const settled =
    (declaration.notifications ?? []).some((n) => n.response === response.id) ||
    !from.includes(declaration.state);
  const outcome: NotificationOutcome = {
    result: form.result,
    accepted: form.accepted,
    withAnomalies: form.withAnomalies,
    anomalyCount: form.anomalyCount,
    ...(form.diagnosis === undefined ? {} : { diagnosis: form.diagnosis }),
    anomalies: recordedAnomalies(form.anomalies),
    ...(form.declarationTicket ? { ticket: form.declarationTicket } : {}),
    response: response.id,
    at,
  };
  // A refusal (ResultCode 0) puts the declaration in `refused`; any other answer in `notified`:
  // the ledger's own rule, which it checks on the move.
  const refused = isRefusal(outcome);
  const updated = settled
    ? declaration
    : await ledger.transition(declaration.id, from, refused ? 'refused' : 'notified', {
        notification: outcome,
      });
  const verdict = describeNotificationVerdict(form.result, form.withAnomalies, form.diagnosis);
  const first = (outcome.anomalies ?? [])
    .slice(0, EVENT_ANOMALIES)
    .map((anomaly): ErrorInWords => ({ id: anomaly.errorId, label: describeAnomaly(anomaly) }));
  return {
    type: refused ? EVENT_TYPES.refused : EVENT_TYPES.notified,
    at,
    declaration: updated.id,
    state: updated.state,
    ...(form.declarationTicket ? { ticket: form.declarationTicket } : {}),
    result: verdict,
    anomalyCount: form.anomalyCount,
    ...(first.length ? { anomalies: first } : {}),
    response: response.id,
    message:
      `${updated.id} ${refused ? 'refused by its notification' : 'notified'}: ${verdict}` +
      `${form.anomalyCount ? `, ${form.anomalyCount} anomalies` : ''}` +
      `${first.length ? ` (${first.map((a) => `${a.id} ${a.label}`).join('; ')})` : ''}`,
  };
}

/** How many anomalies an event carries: the first ones, enough to act on. */
const EVENT_ANOMALIES = 5;

/** The anomalies a notification outcome keeps in the ledger: the first ones, fields bounded. */
function recordedAnomalies(anomalies: readonly Anomaly[]): RecordedAnomaly[] {
  return anomalies.slice(0, MAX_RECORDED_ANOMALIES).map(recordAnomaly);
}

function recordAnomaly(anomaly: Anomaly): RecordedAnomaly {
  const fields = {
    anomalyClass: anomaly.anomalyClass,
    tagName: anomaly.tagName,
    path: anomaly.path?.map((field) => `${field.name}=${field.value}`).join(', '),
    value: anomaly.value,
  };
  const recorded: RecordedAnomaly = { errorId: bounded(anomaly.errorId) || '(no ErrorID)' };
  for (const [name, text] of Object.entries(fields) as [keyof typeof fields, string?][]) {
    if (text) recorded[name] = bounded(text);
  }
  return recorded;
}

// A field longer than the ledger keeps is cut, with a mark, rather than refusing the answer.
function bounded(text: string): string {
  return text.length <= MAX_ANOMALY_FIELD_LENGTH
    ? text
    : `${text.slice(0, MAX_ANOMALY_FIELD_LENGTH - 1)}…`;
}

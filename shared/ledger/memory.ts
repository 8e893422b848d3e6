/**
 * A ledger held in memory, with the same rules as the SQLite one (both call ./rules). Meant for
 * fast tests of the send pipeline and for dry runs; it forgets everything when the process ends.
 * Small enough to stay one file; its methods are grouped under the names of the SQLite and
 * DynamoDB adapters' parts (sequences, claims, transitions, lookups, responses, run-leases).
 */
import type { Environment } from '../names';
import { DeclarationNotFoundError, LedgerClosedError, ResponseNotFoundError } from './errors';
import type { Ledger } from './port';
import {
  allocateSequence,
  applyLeaseRelease,
  applyLeaseRenewal,
  applyOverdueMark,
  applyResponsePatch,
  applyTransition,
  buildResponseRecord,
  checkTransitionCall,
  decideClaim,
  decideRunLease,
  keyOfFileName,
  matchesListFilter,
  matchesResponseListFilter,
  normalizeListFilter,
  normalizeResponseListFilter,
  normalizeSha256,
  sameSource,
  stageOf,
  validateClaimRequest,
  validateOwner,
  validateRunLeaseName,
  validateSequenceScope,
  validateSourceQuery,
  validateTicket,
} from './rules';
import type { RunLease } from './rules';
import type { DeclarationRecord, LedgerOptions, ResponseRecord } from './types';

/**
 * Creates an empty in-memory ledger. Each method runs to completion without awaiting anything,
 * so calls are atomic with respect to each other within the process, as the SQLite transactions
 * are across processes. Records handed out are copies: changing one changes nothing stored.
 */
export function createMemoryLedger(options: LedgerOptions = {}): Ledger {
  const now = (): string => (options.now ?? (() => new Date()))().toISOString();
  // Insertion order is creation order, the tie-break SQLite gets from its row ids.
  const records: DeclarationRecord[] = [];
  const counters = new Map<string, number>();
  // Insertion order again: the tie-break of responses stored in the same instant.
  const responses: ResponseRecord[] = [];
  const runLeases = new Map<string, RunLease>();
  let closed = false;

  const open = (): void => {
    if (closed) throw new LedgerClosedError();
  };
  const copy = <T>(record: T): T => structuredClone(record);
  const byCreation = (list: DeclarationRecord[]): DeclarationRecord[] =>
    list.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  const current = (id: string): DeclarationRecord | undefined =>
    records.find((record) => record.id === id && record.supersededAt === undefined);
  const replace = (next: DeclarationRecord, previous: DeclarationRecord): void => {
    records[records.indexOf(previous)] = next;
  };
  const response = (id: string): ResponseRecord | undefined =>
    responses.find((record) => record.id === id);

  return {
    // Sequences

    async nextSequence(sender: string, date: string, env: Environment): Promise<string> {
      open();
      validateSequenceScope(sender, date, env);
      const scope = `${sender}.${date}.${env}`;
      const used = (seq: string): boolean =>
        records.some(
          (r) =>
            r.key.sender === sender &&
            r.key.date === date &&
            r.key.env === env &&
            r.key.seq === seq,
        );
      const { seq, last } = allocateSequence({ sender, date, env }, counters.get(scope) ?? 0, used);
      counters.set(scope, last);
      return seq;
    },

    // Claims

    async claim(request, claimOptions) {
      open();
      const { id } = validateClaimRequest(request);
      // Copies in: a refusal carries the record that caused it, and must not hand out ours.
      const keyRecord = current(id);
      const decision = decideClaim({
        request,
        options: claimOptions,
        now: now(),
        sourceRecords: byCreation(records.filter((r) => sameSource(r.source, request.source))).map(
          copy,
        ),
        keyRecord: keyRecord && copy(keyRecord),
      });
      if (decision.kind === 'resume') {
        // A live record is never superseded (rule 3 refuses to take over a live name), so
        // the record to resume is the current one of its id.
        const stored = current(decision.record.id);
        if (stored) replace(decision.record, stored);
        return { record: copy(decision.record), resumed: true };
      }
      if (decision.supersede) {
        const stored = current(decision.supersede.id);
        if (stored) replace(decision.supersede, stored);
      }
      records.push(decision.record);
      return { record: copy(decision.record), resumed: false };
    },

    // Transitions

    async transition(id, from, to, patch, transitionOptions) {
      open();
      const expected = checkTransitionCall(from, to);
      const stored = current(id);
      if (!stored) throw new DeclarationNotFoundError(id);
      const next = applyTransition(stored, expected, to, patch, now(), transitionOptions);
      // The rules hand back the stored record itself for a replayed answer: nothing to write.
      if (next !== stored) replace(next, stored);
      return copy(next);
    },

    async renewLease(id, owner, leaseMs) {
      open();
      const stored = current(id);
      if (!stored) throw new DeclarationNotFoundError(id);
      const next = applyLeaseRenewal(stored, owner, leaseMs, now());
      replace(next, stored);
      return copy(next);
    },

    async releaseLease(id, owner) {
      open();
      const stored = current(id);
      if (!stored) throw new DeclarationNotFoundError(id);
      const next = applyLeaseRelease(stored, owner, now());
      replace(next, stored);
      return copy(next);
    },

    async markOverdue(id, wait) {
      open();
      const stored = current(id);
      if (!stored) throw new DeclarationNotFoundError(id);
      const next = applyOverdueMark(stored, wait, now());
      if (next !== stored) replace(next, stored);
      return { record: copy(next), marked: next !== stored };
    },

    // Lookups

    async get(id) {
      open();
      const stored = current(id);
      return stored && copy(stored);
    },

    async findBySource(source) {
      open();
      validateSourceQuery(source);
      const latest = byCreation(records.filter((r) => sameSource(r.source, source))).at(-1);
      return latest && copy(latest);
    },

    async findByFileName(name) {
      open();
      const id = keyOfFileName(name);
      const stored = id === undefined ? undefined : current(id);
      return stored && copy(stored);
    },

    async findByTicket(ticket) {
      open();
      const wanted = validateTicket(ticket);
      const holders = records.filter(
        (r) => r.supersededAt === undefined && (r.tickets ?? []).includes(wanted),
      );
      const latest = byCreation(holders).at(-1);
      return latest && copy(latest);
    },

    async findLaunchedBySha256(sha256) {
      open();
      const hash = normalizeSha256(sha256);
      return byCreation(
        records.filter((r) => r.sourceSha256 === hash && stageOf(r.state) === 'committed'),
      ).map(copy);
    },

    async list(filter) {
      open();
      const normalized = normalizeListFilter(filter);
      return byCreation(records.filter((r) => matchesListFilter(r, normalized))).map(copy);
    },

    // Responses

    async recordResponse(request) {
      open();
      const record = buildResponseRecord(request, now());
      const existing = response(record.id);
      if (existing) return { record: copy(existing), created: false };
      responses.push(record);
      return { record: copy(record), created: true };
    },

    async updateResponse(id, patch) {
      open();
      const stored = response(id);
      if (!stored) throw new ResponseNotFoundError(id);
      const next = applyResponsePatch(stored, patch, now());
      responses[responses.indexOf(stored)] = next;
      return copy(next);
    },

    async getResponse(id) {
      open();
      const stored = response(id);
      return stored && copy(stored);
    },

    async listResponses(filter) {
      open();
      const normalized = normalizeResponseListFilter(filter);
      // Array.prototype.sort is stable, so records stored in the same instant keep their order.
      return responses
        .filter((r) => matchesResponseListFilter(r, normalized))
        .sort((a, b) => (a.storedAt < b.storedAt ? -1 : a.storedAt > b.storedAt ? 1 : 0))
        .map(copy);
    },

    // Run leases

    async acquireRunLease(name, owner, leaseMs) {
      open();
      const next = decideRunLease(runLeases.get(name), { name, owner, leaseMs }, now());
      if (next) runLeases.set(name, next);
      return next !== undefined;
    },

    async releaseRunLease(name, owner) {
      open();
      validateRunLeaseName(name);
      validateOwner(owner);
      if (runLeases.get(name)?.owner === owner) runLeases.delete(name);
    },

    async close() {
      closed = true;
    },
  };
}

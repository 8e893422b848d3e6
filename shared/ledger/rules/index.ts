/**
 * The decisions of the ledger as pure functions: request validation, the claim rules, the
 * transition table with the answers it records, sequence allocation, and the rules of response
 * sets. Every adapter (memory, SQLite, later DynamoDB) reads what it needs, calls these, and
 * writes the outcome atomically, so "exactly once" means the same thing whatever the store.
 *
 * One concern a file: states (the transition table), values (plain checks), sequences,
 * declarations (set keys, sources, files, list filter), leases (of a live set), claims,
 * transitions, answers (tickets, ACRF, notifications), responses (response sets) and run-leases.
 */
export { ALLOWED_TRANSITIONS, isDeclarationState, stageOf } from './states';
export { normalizeIso, normalizeSha256 } from './values';
export { MAX_SEQUENCE, allocateSequence, formatSequence, validateSequenceScope } from './sequences';
export {
  keyOfFileName,
  matchesListFilter,
  normalizeListFilter,
  sameSource,
  CHANNEL_NAME,
  validateChannelName,
  validateClaimRequest,
  validateDeclarationId,
  validateFiles,
  validateSourceQuery,
} from './declarations';
export type { NormalizedListFilter } from './declarations';
export {
  DEFAULT_LEASE_MS,
  MAX_LEASE_MS,
  MAX_OWNER_LENGTH,
  applyLeaseRelease,
  applyLeaseRenewal,
  checkLeaseHolder,
  isLeaseRunning,
  leaseEndOf,
  validateLeaseMs,
  validateOwner,
} from './leases';
export { decideClaim } from './claims';
export type { ClaimDecision, ClaimInput } from './claims';
export { applyTransition, checkTransitionCall, isAnswerRecorded } from './transitions';
export {
  MAX_ANOMALY_FIELD_LENGTH,
  MAX_RECORDED_ANOMALIES,
  MAX_TICKET_LENGTH,
  validateAcknowledgement,
  isRefusal,
  validateNotification,
  validateTicket,
} from './answers';
export {
  applyResponsePatch,
  buildResponseRecord,
  matchesResponseListFilter,
  normalizeResponseListFilter,
  parseResponseSetId,
  qualifyResponseSetId,
  responseSetIdOf,
  splitResponseSetId,
  validateResponseFiles,
} from './responses';
export type { NormalizedResponseListFilter, ResponseSetFields } from './responses';
export { decideRunLease, validateRunLeaseName } from './run-leases';
export { applyOverdueMark } from './overdue';
export type { RunLease } from './run-leases';

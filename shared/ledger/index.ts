/**
 * Public API of the ledger: the port, its SQLite and in-memory adapters, the record types, the
 * errors, and the pure rules a further adapter (DynamoDB) calls to decide the same way.
 */
export type { Ledger } from './port';
export { DECLARATION_STATES, STATE_STAGES } from './types';
export type {
  ClaimOptions,
  ClaimRequest,
  ClaimResult,
  DeclarationFailure,
  DeclarationRecord,
  DeclarationState,
  LedgerOptions,
  ListFilter,
  SentFile,
  SentFileRole,
  SourceIdentity,
  StateStage,
  TransitionPatch,
} from './types';
export {
  DeclarationNotFoundError,
  DuplicateSourceError,
  LEDGER_ERROR_CODES,
  LedgerClosedError,
  LedgerError,
  LedgerRequestError,
  LedgerSchemaError,
  LedgerStoreError,
  NameAlreadySentError,
  SequenceExhaustedError,
  StateConflictError,
  describeSource,
} from './errors';
export {
  ALLOWED_TRANSITIONS,
  MAX_SEQUENCE,
  allocateSequence,
  applyTransition,
  checkTransitionCall,
  decideClaim,
  formatSequence,
  isDeclarationState,
  keyOfFileName,
  matchesListFilter,
  normalizeListFilter,
  normalizeSha256,
  sameSource,
  stageOf,
  validateClaimRequest,
  validateSequenceScope,
  validateSourceQuery,
} from './rules';
export type { ClaimDecision, ClaimInput, NormalizedListFilter } from './rules';
export { createMemoryLedger } from './memory';
export { openSqliteLedger, SQLITE_LEDGER_SCHEMA_VERSION } from './sqlite';
export type { SqliteLedgerOptions } from './sqlite';

export { pullResponses } from './pull-responses';
export type { PullContext, PullReport, PullRequest, PulledSet } from './pull-responses';
export { groupResponseSets, responseSetId } from './response-sets';
export type { GroupedListing, ListedResponseFile, ResponseSetListing } from './response-sets';
export { interpretResponse } from './interpret';
export { applyWithheldAnswers, isWithheld } from './withheld';
export type { AppliedAnswer } from './withheld';
export type { InterpretOptions, Interpretation } from './interpret';
export {
  UNPACK_DEFAULTS,
  detectCompression,
  entryPath,
  resolveUnpackLimits,
  unpackResponse,
  unpackedFolder,
} from './unpack';
export type { CompressionFormat, UnpackLimits, UnpackResult, UnpackedEntry } from './unpack';
export { foreignKey, responseKey } from './store-layout';
export {
  PullOptionsError,
  ResponseNameReusedError,
  StoreMismatchError,
  UnpackLimitError,
} from './errors';
export { PULL_RUN_LEASE, pullRunLease, RunInProgressError, runExclusively } from './exclusive';

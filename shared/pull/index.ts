export { pullResponses } from './pull-responses';
export type { PullContext, PullReport, PullRequest, PulledSet } from './pull-responses';
export { groupResponseSets, responseSetId } from './response-sets';
export type { GroupedListing, ListedResponseFile, ResponseSetListing } from './response-sets';
export { interpretResponse } from './interpret';
export type { Interpretation } from './interpret';
export { foreignKey, responseKey } from './store-layout';
export { StoreMismatchError } from './errors';

import type { ObjectStore } from '../../shared/store';

// The core's store layout starts every key with one of these (shared/pull/store-layout.ts).
const CORE_RESPONSES = 'responses/';

/**
 * The object store the pull writes to, with the core's layout moved under the deployment's
 * responses prefix: `responses/R/...` is kept at `<prefix>R/...`, and any other key (`foreign/`
 * copies) at `<prefix><key>`, so every pulled file is under the prefix the function may write
 * and the bucket's lifecycle rule covers.
 */
export function underResponsesPrefix(store: ObjectStore, prefix: string): ObjectStore {
  const map = (key: string): string =>
    prefix + (key.startsWith(CORE_RESPONSES) ? key.slice(CORE_RESPONSES.length) : key);
  return {
    put: async (key, source) => ({ ...(await store.put(map(key), source)), key }),
    head: async (key) => {
      const found = await store.head(map(key));
      return found && { ...found, key };
    },
    open: (key) => store.open(map(key)),
    locate: (key) => store.locate(map(key)),
  };
}

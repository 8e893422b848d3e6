import { Worker } from 'node:worker_threads';

// The worker's bootstrap, inline so it runs the same from the build (`.js` modules) and from
// the TypeScript sources (tests and scripts), where it compiles `.ts` modules on load with
// @swc/core as the test runner does: a worker thread does not share its parent's loaders.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.entry.endsWith('.ts') && !require.extensions['.ts']) {
  const { readFileSync } = require('node:fs');
  const { transformSync } = require('@swc/core');
  require.extensions['.ts'] = (module, filename) => {
    const { code } = transformSync(readFileSync(filename, 'utf8'), {
      filename,
      module: { type: 'commonjs' },
      jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    });
    module._compile(code, filename);
  };
}
require(workerData.entry);
`;

/**
 * Starts a worker thread running the module `entry` (an absolute path to a
 * `.js` module, or a `.ts` one when running from the sources) with `data` as
 * its `workerData.data`.
 */
export function startModuleWorker(entry: string, data: unknown): Worker {
  return new Worker(BOOTSTRAP, {
    eval: true,
    workerData: { entry, data },
  });
}

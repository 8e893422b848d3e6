// Entry point of the ledger tests' worker threads. Workers do not go through jest's transform,
// so this compiles the TypeScript they load with swc (what jest uses) through a require hook,
// then runs the script named in workerData.
const { readFileSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (mod, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  mod._compile(code, filename);
};

require(workerData.script);

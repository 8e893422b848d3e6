/**
 * `node -r ./test/helpers/swc-register.js file.ts`: runs our TypeScript in a plain Node child
 * process, compiled on load with @swc/core as @swc/jest compiles it for jest. Tests that must
 * measure a process of their own (memory bounds) use it: `dist/` may be stale, and neither
 * ts-node nor @swc-node/register is installed. Types are not checked here (tsc does that).
 */
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

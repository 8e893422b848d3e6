// The app command of cdk.json: runs infra/app.ts from its TypeScript sources with no build
// step and no network, compiling each .ts file on require with esbuild (a dev dependency the
// Lambda bundling needs anyway). It type-checks nothing: `npm run lint` does.
const { readFileSync } = require('node:fs');
const { transformSync } = require('esbuild');

require.extensions['.ts'] = (mod, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcefile: filename,
    sourcemap: 'inline',
  });
  mod._compile(code, filename);
};

require('./app.ts').main();

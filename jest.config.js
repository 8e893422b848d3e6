/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }],
  },
  // Signing tests shell out to OpenSSL; give them room on a 2-core machine.
  testTimeout: 60000,
  // basic-ftp checks `instanceof Error`, which Node's own errors fail inside jest's sandbox.
  setupFiles: ['<rootDir>/test/helpers/jest-setup.ts'],
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
};

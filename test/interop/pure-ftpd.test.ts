import type { InteropServer } from './harness';
import { startPureFtpd } from './pure-ftpd';
import { plainRefusalScenarios, transferPointScenarios } from './scenarios';

// The whole loop against Debian's pure-ftpd in plain FTP.
let server: InteropServer;
beforeAll(async () => {
  server = await startPureFtpd();
});
afterAll(async () => {
  await server?.stop();
});

describe('pure-ftpd, plain FTP', () => {
  transferPointScenarios(() => server);
  plainRefusalScenarios(() => server);
});

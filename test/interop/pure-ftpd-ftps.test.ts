import type { InteropServer } from './harness';
import { startPureFtpd } from './pure-ftpd';
import { ftpsRefusalScenarios, transferPointScenarios } from './scenarios';

// The whole loop against Debian's pure-ftpd in explicit FTPS only (--tls=3: no login and no
// data connection in clear).
let server: InteropServer;
beforeAll(async () => {
  server = await startPureFtpd({ tls: true });
});
afterAll(async () => {
  await server?.stop();
});

describe('pure-ftpd, explicit FTPS', () => {
  transferPointScenarios(() => server);
  ftpsRefusalScenarios(() => server);
});

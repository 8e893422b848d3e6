import { Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { ftpConnector } from '../../shared/transport';
import { collector } from '../helpers/streams';
import type { InteropServer } from './harness';
import {
  explained,
  ftpsRefusalScenarios,
  interopOptions,
  transferPointScenarios,
} from './scenarios';
import { startVsftpd } from './vsftpd';

// The whole loop against Debian's vsftpd in its strictest FTPS: logins and data in TLS only,
// TLS 1.3, and every data connection must resume the control connection's TLS session
// (require_ssl_reuse=YES), the setting that makes zero-byte uploads fail when the client
// closes a data connection before its handshake is over (PERF-NOTES.md).
let server: InteropServer;
beforeAll(async () => {
  server = await startVsftpd({ tls: true });
});
afterAll(async () => {
  await server?.stop();
});

/** vsftpd's debug_ssl lines: one per TLS connection, control and data alike. */
function tlsLines(): string[] {
  return server
    .log()
    .split('\n')
    .filter((line) => line.includes('SSL version:'));
}

/** basic-ftp on its own, as the transport's control: FTPS login with the certificate pinned. */
async function loginWithBasicFtp(client: Client): Promise<void> {
  await client.access({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    secure: true,
    secureOptions: { ca: server.caPem, host: server.host },
  });
}

describe('vsftpd, explicit FTPS with require_ssl_reuse', () => {
  transferPointScenarios(() => server);
  ftpsRefusalScenarios(() => server);

  it('speaks TLS 1.3, and each data connection resumes the control session', () =>
    explained(server, async () => {
      const before = tlsLines().length;
      const transport = await ftpConnector(interopOptions(server)).connect();
      try {
        await transport.put(Readable.from([Buffer.from('declaration')]), 'INTEST/reuse');
        await transport.list('INTEST');
        const sink = collector();
        await transport.get('INTEST/reuse', sink.stream);
        expect(sink.bytes().toString()).toBe('declaration');
        await transport.put(Readable.from([]), 'INTEST/reuse-empty');
      } finally {
        await transport.close();
      }
      const lines = tlsLines().slice(before);
      // One control connection (a new session), then four data connections, all resumed.
      expect(lines).toHaveLength(5);
      expect(lines.every((line) => line.includes('SSL version: TLSv1.3'))).toBe(true);
      expect(lines[0]).toContain('not reused');
      expect(lines.slice(1).every((line) => / reused/.test(line) && !/not reused/.test(line))).toBe(
        true,
      );
    }));

  it('has the zero-byte trap: basic-ftp alone fails empty uploads here, which the transport passes', () =>
    explained(server, async () => {
      // basic-ftp ends an empty upload before the data connection's resumed handshake is over;
      // vsftpd answers with a TLS alert and ends the session (PERF-NOTES.md). Five tries, each
      // on a new session: under TLS 1.3 all of them fail, one is enough to show the trap.
      let failures = 0;
      for (let i = 0; i < 5; i += 1) {
        const client = new Client(5000);
        try {
          await loginWithBasicFtp(client);
          await client.uploadFrom(Readable.from([]), `INTEST/GO.trap.${i}`);
        } catch {
          failures += 1;
        } finally {
          client.close();
        }
      }
      expect(failures).toBeGreaterThan(0);
    }));

  it('really demands session reuse: a data connection with a new session is refused', () =>
    explained(server, async () => {
      // basic-ftp alone, with its session store blinded: the control connection works, the
      // first data connection negotiates a new session, and vsftpd refuses it.
      const client = new Client(5000);
      try {
        await loginWithBasicFtp(client);
        Object.defineProperty(client.ftp, 'tlsSessionStore', {
          get: () => undefined,
          set: () => {},
        });
        Object.defineProperty(client.ftp.socket, 'getSession', { value: () => undefined });
        // vsftpd answers 522 and closes at once: basic-ftp may see the close first.
        await expect(client.list('INTEST')).rejects.toThrow();
      } finally {
        client.close();
      }
      expect(server.log()).toContain('No SSL session reuse on data channel.');
      expect(server.log()).toContain('522 SSL connection failed: session reuse required');
    }));
});

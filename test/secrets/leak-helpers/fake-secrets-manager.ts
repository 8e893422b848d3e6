/**
 * A stand-in for the Secrets Manager endpoint on loopback, for `import-key --secret-id`: the real
 * SDK client of the CLI talks to it over HTTP (`AWS_ENDPOINT_URL_SECRETS_MANAGER`). It records
 * each request body and answers PutSecretValue with a version id, or with the error the test
 * chooses.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake answers to PutSecretValue. */
export type FakeAnswer =
  { ok: true; versionId: string } | { ok: false; status: number; type: string; message: string };

/** A running fake Secrets Manager. */
export interface FakeSecretsManager {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** Request bodies received, in order (they hold the secret value: what was sent). */
  bodies: string[];
  /** The `X-Amz-Target` of each request. */
  targets: string[];
  /** Sets the answer to the next requests. */
  answer(next: FakeAnswer): void;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Starts the fake on a free loopback port. */
export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const bodies: string[] = [];
  const targets: string[] = [];
  let next: FakeAnswer = { ok: true, versionId: 'version-1' };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void readBody(request).then((body) => {
      bodies.push(body);
      targets.push(String(request.headers['x-amz-target'] ?? ''));
      const answer = next;
      const payload = answer.ok
        ? {
            ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:onss-transfer/signing-AbCdEf',
            Name: 'onss-transfer/signing',
            VersionId: answer.versionId,
            VersionStages: ['AWSCURRENT'],
          }
        : { __type: answer.type, message: answer.message };
      response.writeHead(answer.ok ? 200 : answer.status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': 'fake-request',
      });
      response.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bodies,
    targets,
    answer(answer) {
      next = answer;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

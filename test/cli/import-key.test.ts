import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { runCli } from '../../cli/program';
import type { CliIo } from '../../cli/io';
import { loadSigningSecret, parseSigningSecret } from '../../shared/secrets';
import { captureIo, cli, type CliRun } from '../helpers/cli';
import { makeIdentity, scratchDir, writeP12, type Identity } from '../helpers/pki';

const PASSWORD = 'import-key-Pa55';
const KEY_PASSWORD = 'pem-key-Pa55';
const { dir, cleanup } = scratchDir('onss-import-key-');
afterAll(cleanup);

const secretsManager = mockClient(SecretsManagerClient);
beforeEach(() => secretsManager.reset());

let id: Identity;
let p12 = '';
let key = '';
let encryptedKey = '';
let cert = '';
const env = { P12PW: PASSWORD, KEYPW: KEY_PASSWORD };

beforeAll(async () => {
  id = await makeIdentity('ec256', { commonName: 'Import Signer' });
  p12 = writeP12(id, dir, 'legacy', PASSWORD);
  key = join(dir, 'key.pem');
  encryptedKey = join(dir, 'key.enc.pem');
  cert = join(dir, 'cert.pem');
  writeFileSync(key, id.keyPem);
  writeFileSync(
    encryptedKey,
    createPrivateKey(id.keyPem).export({
      format: 'pem',
      type: 'pkcs8',
      cipher: 'aes-256-cbc',
      passphrase: KEY_PASSWORD,
    }),
  );
  writeFileSync(cert, id.certPem);
});

/** Runs the CLI with a chosen io (a terminal on stdout or not). */
async function run(args: string[], extra: Partial<CliIo> = {}): Promise<CliRun> {
  const captured = captureIo(env, extra);
  const code = await runCli(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** Nothing a run shows may hold a password or the key. */
function expectNothingSecretShown(run: CliRun, ...also: string[]): void {
  const shown = run.stdout + run.stderr;
  for (const secret of [PASSWORD, KEY_PASSWORD, 'PRIVATE KEY', ...also]) {
    expect(shown).not.toContain(secret);
  }
}

describe('onss-transfer import-key', () => {
  it('prints the PKCS#12 signing secret on a pipe, with the facts on stderr', async () => {
    // Act
    const result = await cli(['import-key', '--p12', p12, '--key-password-env', 'P12PW'], env);

    // Assess
    expect(result.code).toBe(0);
    const secret = parseSigningSecret(result.stdout);
    expect(secret).toEqual({
      format: 'pkcs12',
      pkcs12Base64: readFileSync(p12).toString('base64'),
      password: PASSWORD,
    });
    expect(loadSigningSecret(result.stdout).certificate.subject).toContain('CN=Import Signer');
    expect(result.stderr).toMatch(/printed the signing secret of CN=Import Signer, EC P-256/);
    expect(result.stderr).not.toContain(PASSWORD);
  });

  it('prints the PEM signing secret, with the key password when the key is encrypted', async () => {
    const plain = await cli(['import-key', '--key', key, '--cert', cert], env);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).toEqual({
      format: 'pem',
      privateKeyPem: id.keyPem,
      certificatePem: id.certPem,
    });

    const encrypted = await cli(
      ['import-key', '--key', encryptedKey, '--cert', cert, '--key-password-env', 'KEYPW'],
      env,
    );
    expect(encrypted.code).toBe(0);
    expect(JSON.parse(encrypted.stdout)).toMatchObject({
      format: 'pem',
      privateKeyPem: readFileSync(encryptedKey, 'utf8'),
      keyPassword: KEY_PASSWORD,
    });
    expect(loadSigningSecret(encrypted.stdout).privateKey.asymmetricKeyType).toBe('ec');
  });

  it('refuses to print the secret at a terminal unless --force', async () => {
    const refused = await run(['import-key', '--p12', p12, '--key-password-env', 'P12PW'], {
      stdoutIsTerminal: true,
    });
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/stdout is a terminal: use --secret-id ID or --out FILE/);

    const forced = await run(
      ['import-key', '--p12', p12, '--key-password-env', 'P12PW', '--force'],
      { stdoutIsTerminal: true },
    );
    expect(forced.code).toBe(0);
    expect(parseSigningSecret(forced.stdout).format).toBe('pkcs12');
  });

  it('puts the secret in Secrets Manager and prints nothing secret', async () => {
    // Prepare
    secretsManager.on(PutSecretValueCommand).resolves({ VersionId: 'v-42' });

    // Act
    const result = await run(
      [
        'import-key',
        '--p12',
        p12,
        '--key-password-env',
        'P12PW',
        '--secret-id',
        'onss/signing',
        '--region',
        'eu-west-1',
      ],
      { stdoutIsTerminal: true },
    );

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^stored signing material in secret onss\/signing \(version v-42\)\n/,
    );
    expect(result.stdout).toMatch(/signer CN=Import Signer, EC P-256, certificate valid until/);
    const calls = secretsManager.commandCalls(PutSecretValueCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.SecretId).toBe('onss/signing');
    expect(parseSigningSecret(input?.SecretString ?? '')).toMatchObject({
      format: 'pkcs12',
      password: PASSWORD,
    });
    expectNothingSecretShown(result, readFileSync(p12).toString('base64').slice(0, 40));
  });

  it('says a missing secret must be created first, without showing the value', async () => {
    secretsManager
      .on(PutSecretValueCommand)
      .rejects(
        new ResourceNotFoundException({ message: 'no', $metadata: { httpStatusCode: 400 } }),
      );
    const result = await cli(
      ['import-key', '--key', key, '--cert', cert, '--secret-id', 'onss/none'],
      env,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /cannot write secret onss\/none: ResourceNotFoundException .*needs an existing secret.*\[SECRET_NOT_FOUND\]/,
    );
    expect(result.stdout).toBe('');
    expectNothingSecretShown(result);
  });

  it('writes the secret to a new owner-only file with --out, and never over a file', async () => {
    const out = join(dir, 'signing-secret.json');
    const written = await run(
      ['import-key', '--p12', p12, '--key-password-env', 'P12PW', '--out', out],
      { stdoutIsTerminal: true },
    );
    expect(written.code).toBe(0);
    expect(written.stdout).toMatch(/^wrote .*signing-secret\.json \(mode 0600\)/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(parseSigningSecret(readFileSync(out, 'utf8')).format).toBe('pkcs12');
    expectNothingSecretShown(written);

    const again = await cli(
      ['import-key', '--p12', p12, '--key-password-env', 'P12PW', '--out', out],
      env,
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists: import-key never overwrites a file/);
  });

  it('refuses an expired certificate and a weak key, printing nothing', async () => {
    const expired = await makeIdentity('rsa2048', {
      commonName: 'Old Signer',
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2021-01-01T00:00:00Z'),
    });
    const weak = await makeIdentity('rsa1024', { commonName: 'Weak Signer' });
    for (const [name, identity, code] of [
      ['expired', expired, 'CERT_EXPIRED'],
      ['weak', weak, 'KEY_TOO_WEAK'],
    ] as const) {
      const keyFile = join(dir, `${name}.key.pem`);
      const certFile = join(dir, `${name}.cert.pem`);
      writeFileSync(keyFile, identity.keyPem);
      writeFileSync(certFile, identity.certPem);
      const result = await cli(['import-key', '--key', keyFile, '--cert', certFile], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`[${code}]`);
    }
  });

  it('refuses a wrong password without repeating it', async () => {
    const result = await cli(['import-key', '--p12', p12, '--key-password-env', 'WRONG'], {
      WRONG: 'not-the-Pa55word',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('KEY_PASSWORD_WRONG');
    expect(result.stdout + result.stderr).not.toContain('not-the-Pa55word');
  });

  it('never takes a password as a flag value', async () => {
    const result = await cli(['import-key', '--p12', p12, '--key-password-env', 'hunter2!'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/takes the NAME of an environment variable/);
    expect(result.stderr).not.toContain('hunter2!');
  });

  it.each([
    {
      title: '--secret-id with --out',
      args: () => ['--key', key, '--cert', cert, '--secret-id', 's', '--out', join(dir, 'x')],
      message: /give --secret-id or --out, not both/,
    },
    {
      title: '--region without --secret-id',
      args: () => ['--key', key, '--cert', cert, '--region', 'eu-west-1'],
      message: /--region goes with --secret-id/,
    },
    {
      title: 'no material',
      args: () => [],
      message: /needs --p12 FILE, or --key PEM with --cert PEM/,
    },
    {
      title: '--p12 with --key',
      args: () => ['--p12', p12, '--key', key],
      message: /either --p12 or --key with --cert/,
    },
  ])('refuses $title as a usage error', async ({ args, message }) => {
    const result = await cli(['import-key', ...args()], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('explains where the value goes in its help', async () => {
    const result = await cli(['import-key', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--secret-id <id>');
    expect(result.stdout).toMatch(/At a terminal it is refused/);
  });
});

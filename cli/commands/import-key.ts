import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { OutputExistsError, writeFileAtomic } from '../../shared/local/atomic-file';
import { MaterialUnreadableError } from '../../shared/signing/errors';
import type { MaterialSummary, SigningMaterial } from '../../shared/signing';
import type { SigningSecret } from '../../shared/secrets';
import {
  day,
  displayText,
  EXIT,
  refuseOutputOverInput,
  secretFromEnv,
  UsageError,
  type CliIo,
} from '../io';
import type { KeyOptions } from './signing-material';

interface ImportKeyOptions extends KeyOptions {
  secretId?: string;
  region?: string;
  out?: string;
  force?: boolean;
}

// A certificate this close to its end gets a warning, as with `sign`.
const EXPIRY_WARNING_DAYS = 30;

const HELP_AFTER = `
The value holds the private key and its password. Where it goes:
  --secret-id ID  put it in an existing Secrets Manager secret (PutSecretValue); nothing
                  secret is printed. The AWS credentials and region are the SDK's usual
                  ones (environment, profile, role), or --region.
  --out FILE      write it to a new file readable by its owner only (mode 0600); an
                  existing file is never overwritten.
  (neither)       print it on stdout, only when stdout is a file or a pipe, e.g.
                  | aws secretsmanager put-secret-value --secret-id ID --secret-string file:///dev/stdin
                  At a terminal it is refused (screens are shared, scrollback is kept)
                  unless --force is given.
Passwords never go in flag values: --key-password-env names the variable holding it.`;

function readInput(path: string, role: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new MaterialUnreadableError(`cannot read the ${role} file ${path}`, cause);
  }
}

/**
 * Reads the key files once, loads the material from those very bytes (so what is checked is
 * what is stored), and builds the signing secret in the shape the functions read.
 */
async function secretFromOptions(
  io: CliIo,
  options: ImportKeyOptions,
): Promise<{ secret: SigningSecret; material: SigningMaterial }> {
  const { loadPemMaterial } = await import('../../shared/signing/material');
  const password = secretFromEnv(io, options.keyPasswordEnv);
  if (options.p12 !== undefined) {
    if (options.key !== undefined || options.cert !== undefined) {
      throw new UsageError('give either --p12 or --key with --cert, not both');
    }
    const p12 = readInput(options.p12, 'PKCS#12');
    const material = (await import('../../shared/signing/pkcs12-material')).loadPkcs12Material(
      p12,
      password,
    );
    return {
      material,
      secret: { format: 'pkcs12', pkcs12Base64: p12.toString('base64'), password: password ?? '' },
    };
  }
  if (options.key === undefined || options.cert === undefined) {
    throw new UsageError('import-key needs --p12 FILE, or --key PEM with --cert PEM');
  }
  const keyPem = readInput(options.key, 'key').toString('utf8');
  const certPem = readInput(options.cert, 'certificate').toString('utf8');
  const material = loadPemMaterial({
    keyPem,
    certPem,
    ...(password === undefined ? {} : { password }),
  });
  return {
    material,
    secret: {
      format: 'pem',
      privateKeyPem: keyPem,
      certificatePem: certPem,
      ...(password === undefined ? {} : { keyPassword: password }),
    },
  };
}

/** Writes a new file, owner-only, flushed; refuses to replace anything. */
async function writeSecretFile(path: string, content: string): Promise<void> {
  try {
    await writeFileAtomic(path, content, { mode: 0o600, exclusive: true });
  } catch (error) {
    if (error instanceof OutputExistsError) {
      throw new UsageError(`--out ${path} already exists: import-key never overwrites a file`);
    }
    throw error;
  }
}

function describe(summary: MaterialSummary): string {
  return (
    `${displayText(summary.subject)}, ${summary.keyType.toUpperCase()} ${summary.keyStrength}, ` +
    `certificate valid until ${day(summary.notAfter)} (${summary.daysLeft} days left)`
  );
}

/**
 * `import-key`: turns a PKCS#12 or a PEM key and certificate into the signing secret's JSON
 * value (`{ "format": "pkcs12" | "pem", ... }`) after checking that it loads and can sign
 * (key type and strength, certificate valid now), then puts it in Secrets Manager, writes it to
 * an owner-only file, or prints it (never at a terminal unless --force).
 */
export function registerImportKey(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('import-key')
    .description('check signing material and store it as the signing secret (Secrets Manager)')
    .option('--p12 <file>', 'PKCS#12 / .pfx file holding key and certificate')
    .option('--key <pem>', 'private key, PEM (PKCS#8, possibly encrypted, or PKCS#1/SEC1)')
    .option('--cert <pem>', 'signer certificate, PEM (issuers may follow)')
    .option('--key-password-env <var>', 'environment variable holding the key or PKCS#12 password')
    .option(
      '--secret-id <id>',
      'put the value in this existing Secrets Manager secret (name or ARN)',
    )
    .option('--region <region>', 'AWS region of the secret (default: the SDK configuration)')
    .option('--out <file>', 'write the value to this new file, mode 0600')
    .option('--force', 'print the value even when stdout is a terminal')
    .addHelpText('after', HELP_AFTER)
    .action(async (options: ImportKeyOptions) => {
      if (options.secretId !== undefined && options.out !== undefined) {
        throw new UsageError('give --secret-id or --out, not both');
      }
      if (options.region !== undefined && options.secretId === undefined) {
        throw new UsageError('--region goes with --secret-id');
      }
      const toStdout = options.secretId === undefined && options.out === undefined;
      // Refuse before reading anything: nothing secret is loaded for a run that cannot print.
      if (toStdout && io.stdoutIsTerminal === true && options.force !== true) {
        throw new UsageError(
          'the value holds the private key and its password and stdout is a terminal: ' +
            'use --secret-id ID or --out FILE, redirect stdout, or add --force',
        );
      }
      if (options.out !== undefined) {
        await refuseOutputOverInput(options.out, [options.key, options.cert, options.p12]);
      }
      const { secret, material } = await secretFromOptions(io, options);
      const [{ checkMaterial }, { formatSigningSecret, loadSigningSecret }] = await Promise.all([
        import('../../shared/signing/material'),
        import('../../shared/secrets'),
      ]);
      const summary = checkMaterial(material);
      const value = formatSigningSecret(secret);
      // What the functions will do with it: parse the JSON and load the material again.
      checkMaterial(loadSigningSecret(value));

      if (options.secretId !== undefined) {
        const [{ SecretsManagerClient }, { putSecretString }] = await Promise.all([
          import('@aws-sdk/client-secrets-manager'),
          import('../../functions/aws/secrets-manager'),
        ]);
        const client = new SecretsManagerClient(
          options.region === undefined ? {} : { region: options.region },
        );
        try {
          const { versionId } = await putSecretString(client, options.secretId, value);
          io.stdout(
            `stored signing material in secret ${options.secretId}` +
              `${versionId === undefined ? '' : ` (version ${versionId})`}\n` +
              `signer ${describe(summary)}\n`,
          );
        } finally {
          client.destroy();
        }
      } else if (options.out !== undefined) {
        await writeSecretFile(options.out, `${value}\n`);
        io.stdout(`wrote ${options.out} (mode 0600)\nsigner ${describe(summary)}\n`);
      } else {
        io.stdout(`${value}\n`);
        // stdout carries the value alone; the facts go to stderr.
        io.stderr(`onss-transfer: printed the signing secret of ${describe(summary)}\n`);
      }
      if (summary.daysLeft < EXPIRY_WARNING_DAYS) {
        io.stderr(
          `onss-transfer: warning: the signer certificate expires in ${summary.daysLeft} days\n`,
        );
      }
      setExit(EXIT.ok);
    });
}

import { readFileSync } from 'node:fs';
import { MaterialUnreadableError } from '../../shared/signing/errors';
import type { SigningMaterial } from '../../shared/signing';
import { secretFromEnv, UsageError, type CliIo } from '../io';

/** The key options shared by every command that signs. */
export interface KeyOptions {
  key?: string;
  cert?: string;
  p12?: string;
  keyPasswordEnv?: string;
}

function readInput(path: string, role: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new MaterialUnreadableError(`cannot read the ${role} file ${path}`, cause);
  }
}

/**
 * Loads the signing material named on the command line: `--key` + `--cert`
 * (PEM) or `--p12`, with the password from the variable `--key-password-env`.
 */
export async function loadMaterialFromOptions(
  io: CliIo,
  options: KeyOptions,
): Promise<SigningMaterial> {
  // Loaded when a command signs, not when the CLI starts.
  const { loadPemMaterial } = await import('../../shared/signing/material');
  const password = secretFromEnv(io, options.keyPasswordEnv);
  if (options.p12 !== undefined) {
    if (options.key !== undefined || options.cert !== undefined) {
      throw new UsageError('give either --p12 or --key with --cert, not both');
    }
    return (await import('../../shared/signing/pkcs12-material')).loadPkcs12Material(
      readInput(options.p12, 'PKCS#12'),
      password,
    );
  }
  if (options.key === undefined || options.cert === undefined) {
    throw new UsageError('signing needs --key PEM and --cert PEM, or --p12 FILE');
  }
  return loadPemMaterial({
    keyPem: readInput(options.key, 'key'),
    certPem: readInput(options.cert, 'certificate'),
    ...(password === undefined ? {} : { password }),
  });
}

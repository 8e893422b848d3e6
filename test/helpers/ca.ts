import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPemMaterial } from '../../shared/signing';
import type { Identity } from './pki';

/** A certificate authority made by OpenSSL: its certificate and key as PEM, and their files. */
export interface TestCa {
  name: string;
  certPem: string;
  certFile: string;
  keyFile: string;
}

// EC P-256 keys: as good as RSA for the chain, and made in milliseconds.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const CA_EXTENSIONS = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';
const SIGNER_EXTENSIONS =
  'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** A self-signed root CA named `name`, valid `days` days from now. */
export function makeCa(dir: string, name: string, days = 30): TestCa {
  const certFile = join(dir, `${name}.ca.pem`);
  const keyFile = join(dir, `${name}.ca.key`);
  openssl([
    ...['req', '-x509', ...NEW_KEY, '-keyout', keyFile, '-out', certFile],
    ...['-subj', `/CN=${name}`, '-days', String(days)],
    ...['-addext', 'basicConstraints=critical,CA:TRUE'],
    ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  ]);
  return { name, certPem: readFileSync(certFile, 'utf8'), certFile, keyFile };
}

/**
 * A certificate named `name` issued by `issuer`, valid `days` days: a signer (the default) or,
 * with `ca`, an intermediate CA that can issue in turn.
 */
export function issue(
  dir: string,
  issuer: TestCa,
  name: string,
  options: { ca?: boolean; days?: number } = {},
): TestCa {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const extensions = join(dir, `${name}.ext`);
  writeFileSync(extensions, options.ca ? CA_EXTENSIONS : SIGNER_EXTENSIONS);
  openssl(['req', '-new', ...NEW_KEY, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`]);
  openssl([
    ...['x509', '-req', '-in', csr, '-CA', issuer.certFile, '-CAkey', issuer.keyFile],
    ...['-set_serial', String(Math.floor(Math.random() * 2 ** 31) + 1)],
    ...['-out', certFile, '-days', String(options.days ?? 30), '-extfile', extensions],
  ]);
  return { name, certPem: readFileSync(certFile, 'utf8'), certFile, keyFile };
}

/** Signing material of an issued certificate, carrying `chain` (issuers) in its signatures. */
export function identityOf(issued: TestCa, chain: readonly TestCa[] = []): Identity {
  const keyPem = readFileSync(issued.keyFile, 'utf8');
  const certPem = issued.certPem;
  const material = loadPemMaterial({
    keyPem,
    certPem: [certPem, ...chain.map((ca) => ca.certPem)].join(''),
  });
  return { material, keyPem, certPem };
}

/**
 * The SFTP side of the local transfer point's options: the `sftp` option checked, then the
 * keys it leaves to the simulator made (a host key, and a user key when no authorized key is
 * given), as the transfer point works: RSA keys, `ssh-rsa` signatures only.
 */
import { utils } from 'ssh2';
import {
  authorizedKeyLine,
  loadPrivateKey,
  PrivateKeyError,
  sshFingerprint,
} from '../shared/transport/ssh-keys';
import { SimulatorOptionsError } from './errors';
import type { SimulatorSftpSettings } from './types';

/** The `sftp` option once resolved. */
export interface ResolvedSftpSettings {
  /** The host key, unencrypted, as ssh2 reads it. */
  hostKeyPem: string;
  /** Its fingerprint, for clients to pin: `SHA256:...`. */
  hostKeySha256: string;
  /** `ssh-rsa` only for an RSA host key (the transfer point's offer); undefined: ssh2's. */
  hostKeyAlgorithms: readonly 'ssh-rsa'[] | undefined;
  /** Public keys the user may log in with (`authorized_keys` lines). */
  authorizedKeys: readonly string[];
  /** The user's private key when the simulator made it (no authorizedKeys given). */
  privateKeyPem: string | undefined;
}

function fail(option: string, problem: string): never {
  throw new SimulatorOptionsError(`options.sftp${option}`, problem);
}

/** Checks the `sftp` option without making anything; returns it as given. */
export function checkSftpOption(value: unknown): true | SimulatorSftpSettings | undefined {
  if (value === undefined || value === true) return value;
  if (typeof value !== 'object' || value === null) {
    fail('', 'must be true (throwaway keys) or { hostKeyPem?, authorizedKeys? }');
  }
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (key !== 'hostKeyPem' && key !== 'authorizedKeys') {
      fail(`.${key}`, 'is not an SFTP setting (hostKeyPem, authorizedKeys)');
    }
  }
  const { hostKeyPem, authorizedKeys } = given;
  if (hostKeyPem !== undefined) {
    if (typeof hostKeyPem !== 'string') fail('.hostKeyPem', 'must be a private key as PEM text');
    try {
      loadPrivateKey(hostKeyPem);
    } catch (error) {
      fail('.hostKeyPem', error instanceof PrivateKeyError ? error.message : 'cannot be read');
    }
  }
  if (authorizedKeys !== undefined) {
    if (!Array.isArray(authorizedKeys) || authorizedKeys.length === 0) {
      fail('.authorizedKeys', 'must be a non-empty list of public keys (authorized_keys lines)');
    }
    authorizedKeys.forEach((line: unknown, index) => {
      const parsed = typeof line === 'string' ? utils.parseKey(line) : undefined;
      if (parsed === undefined || parsed instanceof Error || Array.isArray(parsed)) {
        fail(`.authorizedKeys[${index}]`, 'is not an SSH public key line (ssh-rsa AAAA...)');
      }
    });
  }
  return value as SimulatorSftpSettings;
}

/** Makes what `given` leaves out: an RSA host key, and an RSA user key with its public line. */
export function makeSftpSettings(given: true | SimulatorSftpSettings): ResolvedSftpSettings {
  const settings = given === true ? {} : given;
  const host = loadPrivateKey(
    settings.hostKeyPem ?? utils.generateKeyPairSync('rsa', { bits: 2048 }).private,
  );
  let privateKeyPem: string | undefined;
  let authorizedKeys = settings.authorizedKeys;
  if (authorizedKeys === undefined) {
    const user = loadPrivateKey(utils.generateKeyPairSync('rsa', { bits: 2048 }).private);
    privateKeyPem = user.pem;
    authorizedKeys = [authorizedKeyLine(user.publicBlob, 'local transfer point user')];
  }
  return Object.freeze({
    hostKeyPem: host.pem,
    hostKeySha256: sshFingerprint(host.publicBlob),
    hostKeyAlgorithms: host.type === 'ssh-rsa' ? (['ssh-rsa'] as const) : undefined,
    authorizedKeys: Object.freeze([...authorizedKeys]),
    privateKeyPem,
  });
}

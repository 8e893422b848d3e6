/** Host key policy: the algorithms offered, the check (pin or first use), the refusal. */
import { TransportHostKeyError } from '../errors';
import { sshFingerprint, sshKeyType } from '../ssh-keys';
import type { ResolvedSftpOptions } from './options';

/** Host key algorithms, best first; `ssh-rsa` (SHA-1) last, for the transfer point. */
export const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;

/** What a connector remembers of host keys between sessions. */
export interface HostKeyMemory {
  /** The key accepted on first use, held for every later session. */
  trusted: string | undefined;
  /** Told onHostKey already. */
  reported: boolean;
}

/** The outcome of the host key check of one connection attempt. */
export type HostKeyVerdict =
  | { accepted: true }
  | { accepted: false; actual: string; keyType: string; expected: string | undefined };

/**
 * The host key check of one connection attempt, run by ssh2's `hostVerifier` during the key
 * exchange: the key must be the pinned one, or the one trusted on first use; without either,
 * it is trusted now when trustOnFirstUse is on (and held in `memory`). onHostKey is told the
 * first time a key is accepted.
 */
export function checkHostKey(
  key: Buffer,
  options: ResolvedSftpOptions,
  where: string,
  memory: HostKeyMemory,
): HostKeyVerdict {
  let verdict: HostKeyVerdict;
  const actual = sshFingerprint(key);
  const keyType = sshKeyType(key);
  const expected = options.hostKeySha256 ?? memory.trusted;
  if (expected !== undefined) {
    verdict =
      actual === expected ? { accepted: true } : { accepted: false, actual, keyType, expected };
  } else if (options.trustOnFirstUse) {
    memory.trusted = actual;
    verdict = { accepted: true };
  } else {
    verdict = { accepted: false, actual, keyType, expected: undefined };
  }
  if (verdict.accepted && !memory.reported) {
    memory.reported = true;
    const trust = options.hostKeySha256 === undefined ? 'first-use' : 'pinned';
    try {
      options.onHostKey?.({ where, fingerprint: actual, keyType, trust });
    } catch {
      // A listener's failure is the listener's; it must not break the session.
    }
  }
  return verdict;
}

/** The refusal of a host key: no pin to hold it to, or not the pinned one; nothing was sent. */
export function hostKeyError(
  verdict: Extract<HostKeyVerdict, { accepted: false }>,
  context: string,
): TransportHostKeyError {
  const { actual, keyType, expected } = verdict;
  const message =
    expected === undefined
      ? `${context}: the server's host key is ${actual} (${keyType}) and no host key is pinned; nothing was sent. Check this fingerprint with the transfer point, then pin it (hostKeySha256), or allow trustOnFirstUse`
      : `${context}: the server's host key ${actual} (${keyType}) is not the pinned ${expected}; refused before logging in, nothing was sent (the server changed its key, or this is not the server meant)`;
  return new TransportHostKeyError(message, {
    actual,
    ...(expected === undefined ? {} : { expected }),
  });
}

/**
 * Certificates named by their SHA-256 fingerprint, the form people copy from
 * `openssl x509 -fingerprint -sha256` or a browser, with or without colons. The local transfer
 * point names the signers it accepts this way, and the pull the signer of the answers it trusts.
 */
import type { X509Certificate } from 'node:crypto';
import { SigningError } from './errors';

const HEX_64 = /^[0-9A-F]{64}$/;

/**
 * The SHA-256 fingerprint of a certificate as upper-case hex pairs joined by colons
 * (`AB:CD:...`), the form fingerprints are compared in.
 */
export function certificateFingerprint(certificate: X509Certificate): string {
  return certificate.fingerprint256.toUpperCase();
}

/**
 * Reads a SHA-256 fingerprint written as 64 hex digits, in any case, with or without colons
 * or spaces between the pairs, and returns it in the form of `certificateFingerprint`; returns
 * undefined when it is not one.
 */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.replace(/[\s:]/g, '').toUpperCase();
  if (!HEX_64.test(hex)) return undefined;
  return hex.match(/../g)?.join(':');
}

/**
 * A trust in the answers' signer that cannot be made (see answer-trust.ts): a fingerprint or a
 * CA bundle that cannot be read.
 */
export class AnswerTrustError extends SigningError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'ANSWER_TRUST_INVALID', cause });
  }
}

/** A short, printable quote of something the user gave, for a message. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}

/**
 * Reads SHA-256 fingerprints, each 64 hex digits with or without colons; an item may itself
 * list several separated by commas (`--answer-fingerprint A,B`, an environment variable).
 * Empty items are skipped. Throws AnswerTrustError naming `source` and the bad item.
 */
export function parseFingerprints(items: readonly string[], source: string): string[] {
  const found: string[] = [];
  for (const item of items.flatMap((text) => text.split(','))) {
    if (item.trim() === '') continue;
    const fingerprint = normalizeFingerprint(item);
    if (fingerprint === undefined) {
      throw new AnswerTrustError(
        `${source}: ${quoted(item.trim())} is not a SHA-256 certificate fingerprint ` +
          '(64 hex digits, colons optional)',
      );
    }
    if (!found.includes(fingerprint)) found.push(fingerprint);
  }
  return found;
}

/**
 * The signer trust list: certificates are named by their SHA-256 fingerprint, the form people
 * copy from `openssl x509 -fingerprint -sha256` or a browser, with or without colons.
 */
import type { X509Certificate } from 'node:crypto';

const HEX_64 = /^[0-9A-F]{64}$/;

/**
 * The SHA-256 fingerprint of a certificate as upper-case hex pairs joined by colons
 * (`AB:CD:...`), the form `trustedCertificates` compares on.
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

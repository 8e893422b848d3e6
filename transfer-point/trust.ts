/**
 * The signer trust list: certificates are named by their SHA-256 fingerprint, the form people
 * copy from `openssl x509 -fingerprint -sha256` or a browser, with or without colons. The
 * functions are the core's (`shared/signing/fingerprint.ts`), which the pull uses to pin the
 * signer of the answers.
 */
export { certificateFingerprint, normalizeFingerprint } from '../shared/signing/fingerprint';

/**
 * FTPS: the server's certificate held to a pinned SHA-256 fingerprint, so that a certificate
 * other than the pinned one ends the connection before the user name or the password is sent:
 * on the control connection right after its handshake (open-session.ts, whatever the chain),
 * on the data connections in their handshake (Node's `checkServerIdentity`).
 */
import { X509Certificate } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { certificateFingerprint, normalizeFingerprint } from '../../signing/fingerprint';
import { TransportServerCertificateError } from '../errors';

/** Node's `checkServerIdentity`: an Error refuses the certificate, undefined accepts it. */
export type ServerIdentityCheck = (host: string, certificate: PeerCertificate) => Error | undefined;

/** The SHA-256 fingerprint of a peer certificate, as `certificateFingerprint` writes it. */
export function fingerprintOf(certificate: PeerCertificate): string {
  if (Buffer.isBuffer(certificate.raw) && certificate.raw.length > 0) {
    try {
      return certificateFingerprint(new X509Certificate(certificate.raw));
    } catch {
      // Node read it already; fall back on the fingerprint it computed.
    }
  }
  return normalizeFingerprint(certificate.fingerprint256 ?? '') ?? '(unknown)';
}

/**
 * A `checkServerIdentity` for the TLS options of one session that refuses any certificate but
 * the one of fingerprint `expected` (normalised, `AB:CD:...`), then runs Node's own check, so
 * that the host name is still held to the certificate's names. Node calls it only for a
 * certificate whose chain it trusts (the CA check comes first), and not for a data connection
 * that resumed the control connection's session. The refusal is a
 * TransportServerCertificateError naming both fingerprints; the first connection checked is
 * the control connection (before logging in), any later one a data connection.
 *
 * @param expected - the pinned fingerprint, normalised
 * @param context - the start of the message, `connect ftps://user@host:port`
 */
export function pinnedCertificateCheck(expected: string, context: string): ServerIdentityCheck {
  let checked = 0;
  return (host, certificate) => {
    checked += 1;
    const actual = fingerprintOf(certificate);
    if (actual !== expected) return pinMismatch(expected, actual, context, checked === 1);
    return checkServerIdentity(host, certificate);
  };
}

/**
 * The refusal of a certificate that is not the pinned one, naming both fingerprints.
 *
 * @param control - the control connection's (before logging in), else a data connection's
 */
export function pinMismatch(
  expected: string,
  actual: string,
  context: string,
  control: boolean,
): TransportServerCertificateError {
  const when = control
    ? 'refused in the TLS handshake, before logging in: nothing was sent'
    : 'a data connection refused in its TLS handshake: nothing was sent on it';
  return new TransportServerCertificateError(
    `${context}: the server's certificate ${actual} is not the pinned ${expected}; ${when} ` +
      '(the server changed its certificate, or this is not the server meant). Check the new ' +
      'fingerprint with the transfer point, then update the pin (serverCertSha256, --server-cert-sha256)',
    { actual, expected },
  );
}

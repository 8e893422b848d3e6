/**
 * Trust in the signer of the transfer point's answers. Every FS of an answer is a CMS
 * signature that verifies with the certificate it carries, so a valid signature alone proves
 * nothing about who made it: anyone can sign with a certificate of their own. A trust says
 * whose signatures are the transfer point's: pinned certificates (SHA-256 fingerprints, more
 * than one while a certificate is being replaced), a CA bundle the signer must chain to, or
 * both (then either one is enough).
 *
 * Decisions, checked by `checkAnswerSigner`:
 * - the chain is built from the signer certificate through the certificates the signature
 *   carries up to a certificate of the bundle, each link checked with node:crypto
 *   (`checkIssued`, then `verify` with the issuer's public key); an issuer must be a CA
 *   certificate (basicConstraints cA), at most 8 links, from the first 32 certificates the
 *   signature carries;
 * - a certificate of the bundle that is the signer certificate itself (a self-signed signer
 *   given as its own CA, as `openssl cms -verify -CAfile` allows) is trusted as itself;
 * - every certificate the trust rests on (the signer, the links, the bundle's certificate) must
 *   be within its validity at the time of the check, not only at the signing time the
 *   signature claims: that time is the signer's own word (the CAdES time stamp is not
 *   verified), so it cannot vouch for a certificate that has expired since. The signer is also
 *   held to its validity at signing time by the CMS verification;
 * - revocation (CRL, OCSP), key usage and certificate policies are not checked.
 */
import { X509Certificate } from 'node:crypto';
import { parseDetachedSignature } from './cms';
import { SigningError } from './errors';
import { AnswerTrustError, certificateFingerprint, parseFingerprints } from './fingerprint';
import { decodeFs } from './fs-format';

/** Whose signatures are the transfer point's. Made by `makeAnswerTrust`. */
export interface AnswerTrust {
  /** Pinned signer certificates: SHA-256 fingerprints, as `certificateFingerprint` writes them. */
  readonly fingerprints: readonly string[];
  /** The CA bundle: certificates the signer certificate must chain to. */
  readonly anchors: readonly X509Certificate[];
}

/** What a trust is made of, as a user gives it. */
export interface AnswerTrustInput {
  /**
   * SHA-256 fingerprints (64 hex digits, colons, spaces and case free); an item may list
   * several separated by commas.
   */
  fingerprints?: readonly string[];
  /** What names the fingerprints in messages (a flag, a variable); default `answer fingerprint`. */
  fingerprintSource?: string;
  /** A CA bundle, PEM, and what names it in messages (a file path, a secret id). */
  caBundle?: { pem: string | Buffer; source: string };
}

/** Which trust a pull holds the answers' signers to (`none`: any signer is taken). */
export type AnswerTrustKind = 'none' | 'fingerprints' | 'ca-bundle' | 'fingerprints-or-ca-bundle';

/** A signer the trust accepts. */
export interface TrustedSigner {
  /** Its certificate's subject, one line. */
  subject: string;
  /** Its certificate's SHA-256 fingerprint. */
  fingerprint: string;
  /** Pinned, or chained to the CA bundle. */
  via: 'fingerprint' | 'ca-bundle';
  /** For `ca-bundle`: the subject of the bundle's certificate the chain ends at. */
  anchor?: string;
}

/**
 * The words for a pull run without a trust, said once per run by the CLI (stderr) and the pull
 * function (a warning log line); each adds how to give one.
 */
export const NO_ANSWER_TRUST_WARNING =
  'answer signatures are not checked against a trust: any signer whose signature verifies is ' +
  'taken for the transfer point, and an answer with a bad or missing FS still moves its declaration';

/** A signature that verifies, by a signer the trust does not accept. */
export class UntrustedSignerError extends SigningError {
  constructor(message: string) {
    super(message, { code: 'ANSWER_SIGNER_UNTRUSTED' });
  }
}

const MAX_CHAIN_LINKS = 8;
/** Certificates of a signature looked at for links: a real chain has a handful. */
const MAX_CARRIED = 32;
/** A CA bundle is a few certificates; anything larger is not one. */
const MAX_BUNDLE_BYTES = 1024 * 1024;
const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const CERT_BEGIN = /-----BEGIN CERTIFICATE-----/g;

/** A certificate's subject on one line. */
function subjectOf(certificate: X509Certificate): string {
  return certificate.subject.replace(/\n/g, ', ');
}

/**
 * Reads the certificates of a PEM CA bundle. Text around the certificate blocks (comments, as
 * in the system bundles) is ignored. Throws AnswerTrustError naming `source` when it holds no
 * certificate, a block that does not end, one that cannot be read, or more than 1 MiB.
 */
export function readCaBundle(pem: string | Buffer, source: string): X509Certificate[] {
  const size = typeof pem === 'string' ? Buffer.byteLength(pem) : pem.length;
  if (size > MAX_BUNDLE_BYTES) {
    throw new AnswerTrustError(`${source}: ${size} bytes is too large for a CA bundle (1 MiB)`);
  }
  const text = pem.toString();
  const blocks = text.match(CERT_BLOCK) ?? [];
  const begun = text.match(CERT_BEGIN)?.length ?? 0;
  if (blocks.length === 0) {
    throw new AnswerTrustError(
      `${source} holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)`,
    );
  }
  if (begun !== blocks.length) {
    throw new AnswerTrustError(`${source}: a certificate block has no END CERTIFICATE line`);
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (cause) {
      throw new AnswerTrustError(
        `${source}: certificate ${index + 1} of ${blocks.length} cannot be read`,
        cause,
      );
    }
  });
}

/**
 * Makes a trust from fingerprints and/or a CA bundle; undefined when neither is given (no
 * trust: see NO_ANSWER_TRUST_WARNING). Throws AnswerTrustError on input that cannot be read.
 */
export function makeAnswerTrust(input: AnswerTrustInput): AnswerTrust | undefined {
  const fingerprints = parseFingerprints(
    input.fingerprints ?? [],
    input.fingerprintSource ?? 'answer fingerprint',
  );
  const anchors =
    input.caBundle === undefined ? [] : readCaBundle(input.caBundle.pem, input.caBundle.source);
  if (fingerprints.length === 0 && anchors.length === 0) return undefined;
  return Object.freeze({
    fingerprints: Object.freeze(fingerprints),
    anchors: Object.freeze(anchors),
  });
}

/** Which trust `trust` is, for reports: `none` when there is none. */
export function answerTrustKind(trust: AnswerTrust | undefined): AnswerTrustKind {
  const pinned = (trust?.fingerprints.length ?? 0) > 0;
  const bundle = (trust?.anchors.length ?? 0) > 0;
  if (pinned && bundle) return 'fingerprints-or-ca-bundle';
  if (pinned) return 'fingerprints';
  return bundle ? 'ca-bundle' : 'none';
}

/** Why a certificate cannot be relied on at `at`, or undefined when it is within its validity. */
function validityProblem(certificate: X509Certificate, at: Date): string | undefined {
  const from = new Date(certificate.validFrom);
  const to = new Date(certificate.validTo);
  if (at.getTime() < from.getTime()) {
    return `${subjectOf(certificate)} is not valid before ${from.toISOString()}`;
  }
  if (at.getTime() > to.getTime()) {
    return `${subjectOf(certificate)} expired on ${to.toISOString()}`;
  }
  return undefined;
}

/** Whether `issuer` issued `subject`: names (and key identifiers) match, the signature verifies. */
function issued(issuer: X509Certificate, subject: X509Certificate): boolean {
  try {
    return issuer.ca && subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false; // a key of another type, an unreadable extension: not this issuer
  }
}

/**
 * Finds a chain from `certificate` to a certificate of the bundle through `carried`, each
 * link valid at `at`. Returns the bundle's certificate, or undefined with the reasons in
 * `problems` (validity problems met on the way). Each carried certificate is tried once
 * (`visited`), so a signature carrying many cross-signed certificates costs a bounded search.
 */
function chainToAnchor(
  certificate: X509Certificate,
  carried: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  at: Date,
  problems: string[],
  visited: Set<X509Certificate>,
  links = 0,
): X509Certificate | undefined {
  const same = anchors.find((anchor) => anchor.raw.equals(certificate.raw));
  if (same !== undefined) return same;
  for (const anchor of anchors.filter((candidate) => issued(candidate, certificate))) {
    const problem = validityProblem(anchor, at);
    if (problem === undefined) return anchor;
    problems.push(problem);
  }
  if (links >= MAX_CHAIN_LINKS) return undefined;
  for (const next of carried) {
    if (visited.has(next) || !issued(next, certificate)) continue;
    visited.add(next);
    const problem = validityProblem(next, at);
    if (problem !== undefined) {
      problems.push(problem);
      continue;
    }
    const found = chainToAnchor(next, carried, anchors, at, problems, visited, links + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Checks that the signer of an FS is one the trust accepts: its certificate is pinned, or
 * chains to the CA bundle (see the decisions at the top of this file), and is within its
 * validity at `at`. Call it on an FS that `verifyDetached` accepted: it does not verify the
 * signature itself. Throws UntrustedSignerError saying who signed and why it is not trusted.
 */
export function checkAnswerSigner(
  fsContent: Buffer,
  trust: AnswerTrust,
  at: Date = new Date(),
): TrustedSigner {
  const [signerDer, ...carriedDer] = parseDetachedSignature(
    decodeFs(fsContent).der,
  ).certificatesDer;
  if (signerDer === undefined) throw new UntrustedSignerError('the signature names no signer');
  const signer = new X509Certificate(signerDer);
  const carried = carriedDer.slice(0, MAX_CARRIED).flatMap((der) => {
    try {
      return [new X509Certificate(der)];
    } catch {
      return []; // a certificate that cannot be read links nothing
    }
  });
  const fingerprint = certificateFingerprint(signer);
  const subject = subjectOf(signer);
  const who = `the signer ${subject} (SHA-256 ${fingerprint})`;
  const expired = validityProblem(signer, at);
  if (expired !== undefined) throw new UntrustedSignerError(`${who}: ${expired}`);
  if (trust.fingerprints.includes(fingerprint)) return { subject, fingerprint, via: 'fingerprint' };
  const problems: string[] = [];
  const anchor =
    trust.anchors.length > 0
      ? chainToAnchor(signer, carried, trust.anchors, at, problems, new Set([signer]))
      : undefined;
  if (anchor !== undefined) {
    return { subject, fingerprint, via: 'ca-bundle', anchor: subjectOf(anchor) };
  }
  const kind = answerTrustKind(trust);
  const wanted =
    kind === 'fingerprints'
      ? 'is not a pinned certificate'
      : kind === 'ca-bundle'
        ? 'does not chain to the CA bundle'
        : 'is neither pinned nor chained to the CA bundle';
  const why = problems.length > 0 ? ` (${[...new Set(problems)].join('; ')})` : '';
  throw new UntrustedSignerError(`${who} ${wanted}${why}`);
}

/**
 * The rules of single context values, shared by the deployment's settings (config.ts) and its
 * list of channels (channels-context.ts): what a sender, a host, a secret ARN, a key prefix or a
 * list of pinned fingerprints must look like, and how a problem line shows a value.
 */
import { AnswerTrustError, parseFingerprints } from '../shared/signing/fingerprint';

/** A sender number: six digits. */
export const SENDER = /^\d{6}$/;
const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
/** An Elastic IP allocation id. */
export const EIP_ALLOCATION = /^eipalloc-[0-9a-f]{8,17}$/;
/** The complete ARN of a Secrets Manager secret, with its 6-character suffix. */
export const SECRET_COMPLETE_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
// Characters S3 documents as safe in keys; a prefix is one or more segments, each ending in `/`.
export const KEY_PREFIX = /^(?:[A-Za-z0-9!_.*'()-]+\/)+$/;
/** An e-mail address, roughly: SNS checks it for real. */
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A host name or an IPv4 address: dot-separated labels of letters, digits and dashes. */
export function isHost(raw: string): boolean {
  return raw.length <= 253 && raw.split('.').every((label) => HOST_LABEL.test(label));
}

/** A context value that counts as given: not absent, not blank, not an empty list. */
export function isGiven(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/** A value as a problem line shows it. */
export function shown(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/** Whether a JSON value is a whole number from `min` to `max`. */
export function wholeNumberIn(value: unknown, min: number, max: number): boolean {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

/** Pins kept in one environment variable (Lambda's 4 KB for all of them): a few at most. */
export const MAX_ANSWER_FINGERPRINTS = 8;

/**
 * The answers' pinned fingerprints: a comma-separated string (`-c answerFingerprints=A,B`) or,
 * in cdk.json, a list of strings. Absent or empty: none. `key` names it in the problems.
 */
export function readAnswerFingerprints(raw: unknown, problems: string[], key: string): string[] {
  if (raw === undefined || raw === null) return [];
  const items = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  if (!items.every((item): item is string => typeof item === 'string')) {
    problems.push(`${key}: must be a string or a list of strings, got ${JSON.stringify(raw)}`);
    return [];
  }
  try {
    const fingerprints = parseFingerprints(items, key);
    if (fingerprints.length > MAX_ANSWER_FINGERPRINTS) {
      problems.push(
        `${key}: at most ${MAX_ANSWER_FINGERPRINTS} fingerprints, got ${fingerprints.length}`,
      );
      return [];
    }
    return fingerprints;
  } catch (error) {
    if (!(error instanceof AnswerTrustError)) throw error;
    problems.push(error.message);
    return [];
  }
}

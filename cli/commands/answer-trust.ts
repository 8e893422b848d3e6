import { readFileSync } from 'node:fs';
import type { AnswerTrust } from '../../shared/signing';
import { UsageError, type CliIo } from '../io';

/** The flags of `pull` that say whose signatures are the transfer point's. */
export interface AnswerTrustFlags {
  /** `--answer-fingerprint`, each given once or more, each maybe a comma-separated list. */
  answerFingerprint?: string[];
  /** `--answer-ca-file`: a PEM CA bundle. */
  answerCaFile?: string;
}

/** What `pull` adds to the core's NO_ANSWER_TRUST_WARNING on stderr: how to give a trust. */
export const ANSWER_TRUST_HINT =
  "pin the transfer point's certificate with --answer-fingerprint or give its CA with --answer-ca-file";

/** Collects a repeatable flag's values (commander's `option(..., collect)`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * The trust the flags describe, or undefined: then a warning is printed on stderr, once. A
 * fingerprint or a CA file that cannot be read is a UsageError naming the flag.
 */
export async function answerTrustFromFlags(
  io: CliIo,
  flags: AnswerTrustFlags,
): Promise<AnswerTrust | undefined> {
  const [{ makeAnswerTrust, NO_ANSWER_TRUST_WARNING }, { AnswerTrustError }] = await Promise.all([
    import('../../shared/signing/answer-trust'),
    import('../../shared/signing/fingerprint'),
  ]);
  if (flags.answerFingerprint?.every((value) => value.trim() === '')) {
    throw new UsageError('--answer-fingerprint is empty: give a SHA-256 certificate fingerprint');
  }
  let pem: Buffer | undefined;
  if (flags.answerCaFile !== undefined) {
    try {
      pem = readFileSync(flags.answerCaFile);
    } catch (cause) {
      const code = (cause as { code?: unknown }).code;
      throw new UsageError(
        `--answer-ca-file ${flags.answerCaFile} cannot be read${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    }
  }
  let trust: AnswerTrust | undefined;
  try {
    trust = makeAnswerTrust({
      fingerprints: flags.answerFingerprint ?? [],
      fingerprintSource: '--answer-fingerprint',
      ...(pem === undefined
        ? {}
        : { caBundle: { pem, source: `--answer-ca-file ${flags.answerCaFile ?? ''}` } }),
    });
  } catch (error) {
    if (error instanceof AnswerTrustError) throw new UsageError(error.message);
    throw error;
  }
  // Once per run: the pull goes on, the user is told what it does not check.
  if (trust === undefined) {
    io.stderr(`onss-transfer: WARNING: ${NO_ANSWER_TRUST_WARNING}; ${ANSWER_TRUST_HINT}\n`);
  }
  return trust;
}

/**
 * The reception's verdict on one set, given its GO. The checks run in the order the brief of
 * the transfer point implies and the first failing stage wins: the GO name, the files of the
 * set, the size of each part, the signatures, the content, and last the duplicate name. Only
 * the set stage can give more than one code (an R set missing a part misses its FI and its FS).
 */
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ContentRuleError, DeclarationContentChecker } from '../shared/content';
import type { ContentSummary } from '../shared/content';
import { OnssTransferError } from '../shared/errors';
import { readFileChunks } from '../shared/io/read-file-chunks';
import {
  buildDeclarationName,
  checkDeclarationName,
  checkDeclarationSet,
  checkFileSize,
  FileRuleError,
  signatureRequired,
} from '../shared/names';
import type { DeclarationKey, NameRules, UploadFolder } from '../shared/names';
import { decodeFs, parseDetachedSignature, verifyFile } from '../shared/signing';
import { MAX_FS_BYTES } from './constants';
import type { ResolvedSimulatorOptions } from './options';
import { findSetFiles } from './set-files';
import { certificateFingerprint } from './trust';

/** What the judge needs to know besides the files. */
export interface JudgeInput {
  /** Upload folder on disk holding the set. */
  folderPath: string;
  /** Its name, against which the environment of the names is checked (118, 119, 257). */
  folder: UploadFolder;
  /** The GO file name that launched the judgement. */
  goName: string;
  /** The reception's settings. */
  options: Pick<
    ResolvedSimulatorOptions,
    'sender' | 'signatureRequiredFor' | 'trustedCertificates' | 'maxFileBytes' | 'nameRules'
  >;
  /** Names accepted before, as `duplicateKeyOf` gives them (133). */
  accepted: ReadonlySet<string>;
}

/** The judge's verdict: accepted when `codes` is empty. */
export interface Verdict {
  /** ACRF codes of the refusal. */
  codes: number[];
  /** One sentence per code. */
  reasons: string[];
  /** The duplicate key of the set, to remember once it is accepted. */
  duplicateKey?: string;
  /** Form identification found in the content (for a NOTIFICATION), or the APP code. */
  handledForm?: string;
}

/**
 * The key a name is unique on. The fact sheet says a sequence is unique per sender, date and
 * environment, so APP and NPARTS are left out: `GO.DIMN...00001.T.1` after an accepted
 * `GO.DMFA...00001.T.1` of the same sender and day is a duplicate too.
 */
export function duplicateKeyOf(key: DeclarationKey): string {
  return [key.sender, key.date, key.seq, key.env].join('.');
}

function refuse(code: number, reason: string): Verdict {
  return { codes: [code], reasons: [reason] };
}

function refuseFor(error: OnssTransferError, fallback: number): Verdict {
  return refuse(error.acrf ?? fallback, error.message);
}

function signerFingerprint(fsContent: Buffer): string {
  const { signerCertificateDer } = parseDetachedSignature(decodeFs(fsContent).der);
  return certificateFingerprint(new X509Certificate(signerCertificateDer));
}

async function checkSignature(
  fiPath: string,
  fsPath: string,
  fsName: string,
  trusted: readonly string[] | undefined,
): Promise<Verdict | undefined> {
  const { size } = await stat(fsPath);
  if (size > MAX_FS_BYTES) {
    return refuse(125, `${fsName}: ${size} bytes is too large to be a signature (ACRF-125)`);
  }
  const content = await readFile(fsPath);
  try {
    await verifyFile(fiPath, content);
  } catch (error) {
    // Any refusal of the verifier (format, digest, signature) reads as an invalid signature.
    if (error instanceof OnssTransferError) return refuse(125, `${fsName}: ${error.message}`);
    throw error;
  }
  if (trusted !== undefined) {
    const fingerprint = signerFingerprint(content);
    if (!trusted.includes(fingerprint)) {
      return refuse(
        153,
        `${fsName}: the signer certificate ${fingerprint} is not trusted (ACRF-153)`,
      );
    }
  }
  return undefined;
}

/**
 * Judges the set launched by `input.goName` in its upload folder and returns the verdict. It
 * reads the files and never changes them: removing the set and answering is the caller's work.
 * Throws only for failures of its own (a disk error), never for a bad set.
 */
export async function judgeSet(input: JudgeInput): Promise<Verdict> {
  const { folderPath, folder, goName, options } = input;
  const rules: Partial<NameRules> = {
    ...options.nameRules,
    folder,
    ...(options.sender === undefined ? {} : { sender: options.sender }),
  };

  const go = checkDeclarationName(goName, rules);
  if (!go.ok) return refuseFor(go.error, 107);
  const { app, sender, date, seq, env, nparts } = go.value;
  const key = { app, sender, date, seq, env };

  const setKey = [app, sender, date, seq, env, nparts].join('.');
  const members = await findSetFiles(folderPath, setKey, ['FI', 'FS']);
  const signed = signatureRequired(env, options.signatureRequiredFor);
  const setErrors = checkDeclarationSet([...members, goName], {
    signatureRequired: signed,
    requireGo: true,
    rules,
  });
  if (setErrors.length > 0) {
    const codes = [...new Set(setErrors.map((error) => error.acrf ?? 120))];
    return { codes, reasons: setErrors.map((error) => error.message) };
  }

  // The set check passed: exactly one FI (and one FS when signed) per part 1..NPARTS.
  const parts = Array.from({ length: nparts }, (_, index) => ({
    fi: buildDeclarationName({ prefix: 'FI', ...key, nparts, part: index + 1 }),
    fs: buildDeclarationName({ prefix: 'FS', ...key, nparts, part: index + 1 }),
  }));

  for (const { fi } of parts) {
    const { size } = await stat(join(folderPath, fi));
    try {
      checkFileSize(size, options.maxFileBytes, fi);
    } catch (error) {
      if (error instanceof FileRuleError) return refuseFor(error, 184);
      throw error;
    }
  }

  if (signed) {
    for (const { fi, fs } of parts) {
      const refusal = await checkSignature(
        join(folderPath, fi),
        join(folderPath, fs),
        fs,
        options.trustedCertificates,
      );
      if (refusal) return refusal;
    }
  }

  // Parts are byte cuts of one document: the checker must see them as one stream, in order.
  const checker = new DeclarationContentChecker(app);
  let summary: ContentSummary;
  try {
    for (const { fi } of parts) {
      await readFileChunks(join(folderPath, fi), (chunk) => checker.write(chunk));
    }
    summary = checker.end();
  } catch (error) {
    if (error instanceof ContentRuleError) return refuseFor(error, 102);
    throw error;
  }

  const duplicateKey = duplicateKeyOf(key);
  if (input.accepted.has(duplicateKey)) {
    return refuse(
      133,
      `${goName}: sender ${sender} already sent sequence ${seq} on ${date} in ${env} (ACRF-133)`,
    );
  }
  return { codes: [], reasons: [], duplicateKey, handledForm: summary.formIdentification ?? app };
}

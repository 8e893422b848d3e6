import {
  buildDeclarationName,
  checkDeclarationName,
  checkFileSize,
  ENVIRONMENTS,
  FileRuleError,
  formatDeclarationKey,
  MAX_FILE_BYTES,
  MAX_PARTS,
  signatureRequired,
  type DeclarationKey,
  type NameRules,
  type UploadFolder,
} from '../names';
import { OnssTransferError } from '../errors';

/** Settings of a plan; each has the transfer point's safe default. */
export interface PlanOptions {
  /** Largest FI part in bytes: default and maximum 200,000,000 (the signature check's limit). */
  partSize?: number;
  /** Whether T and S declarations get FS files (R always does); default no (the FAQ's rule). */
  signFor?: { T?: boolean; S?: boolean };
  /** Name rules (extra applications, sender of the channel, clock...). */
  rules?: Partial<NameRules>;
}

/** One FI part of the plan, with its byte range in the source and its FS when signed. */
export interface PlannedPart {
  part: number;
  /** First byte of the part in the source. */
  start: number;
  /** One past the last byte. */
  end: number;
  size: number;
  fi: string;
  fs?: string;
}

/** The complete set of files a declaration becomes, in upload order (GO last). */
export interface SendPlan {
  key: DeclarationKey;
  /** `APP.SENDER.DATE.SEQ.ENV`: the set's identity in the ledger. */
  setId: string;
  folder: UploadFolder;
  size: number;
  partSize: number;
  nparts: number;
  signed: boolean;
  parts: PlannedPart[];
  go: string;
}

/** A plan setting that cannot be used (a part size above the limit, say). */
export class PlanOptionsError extends OnssTransferError {
  constructor(message: string) {
    super(message, { code: 'PLAN_OPTIONS_INVALID' });
  }
}

function checkPartSize(partSize: number): number {
  if (!Number.isSafeInteger(partSize) || partSize < 1 || partSize > MAX_FILE_BYTES) {
    throw new PlanOptionsError(
      `part size ${partSize} is not usable: give a whole number of bytes from 1 to ${MAX_FILE_BYTES}`,
    );
  }
  return partSize;
}

/**
 * Computes the files a declaration of `size` bytes becomes: FI parts of at
 * most `partSize` bytes cut in order (their concatenation is the source, byte
 * for byte), an FS per part when the environment wants signatures, and the
 * GO last. Pure: every name is checked against the reception rules (for the
 * environment's upload folder) and the sizes against 134/128, so a plan that
 * returns can be sent.
 */
export function planDeclaration(
  size: number,
  key: DeclarationKey,
  options: PlanOptions = {},
): SendPlan {
  const partSize = checkPartSize(options.partSize ?? MAX_FILE_BYTES);
  // Parts are within the limit by construction: only an empty file fails here (134).
  checkFileSize(Math.min(size, partSize), partSize);
  const nparts = Math.ceil(size / partSize);
  if (nparts > MAX_PARTS) {
    throw new FileRuleError({
      size,
      maxBytes: partSize * MAX_PARTS,
      rule: `needs ${nparts} parts of at most ${partSize} bytes; a declaration has at most ${MAX_PARTS} parts`,
      code: 'ACRF-128',
    });
  }
  const folder = ENVIRONMENTS[key.env].uploadFolder;
  const signed = signatureRequired(key.env, options.signFor);
  const rules = { ...options.rules, folder };
  const named = (prefix: 'FI' | 'FS', part: number) => {
    const name = buildDeclarationName({ ...key, prefix, nparts, part });
    return checked(name, rules);
  };
  const parts: PlannedPart[] = Array.from({ length: nparts }, (_, index) => {
    const start = index * partSize;
    const end = Math.min(size, start + partSize);
    return {
      part: index + 1,
      start,
      end,
      size: end - start,
      fi: named('FI', index + 1),
      ...(signed ? { fs: named('FS', index + 1) } : {}),
    };
  });
  const go = checked(buildDeclarationName({ ...key, prefix: 'GO', nparts }), rules);
  return {
    key,
    setId: formatDeclarationKey(key),
    folder,
    size,
    partSize,
    nparts,
    signed,
    parts,
    go,
  };
}

function checked(name: string, rules: Partial<NameRules>): string {
  const result = checkDeclarationName(name, rules);
  if (!result.ok) throw result.error;
  return name;
}

/** The remote path of a file of the plan: `<upload folder>/<name>`. */
export function remotePath(plan: Pick<SendPlan, 'folder'>, name: string): string {
  return `${plan.folder}/${name}`;
}

/** Every file name of the plan in upload order: FI1, FS1, FI2, FS2, ..., GO. */
export function planFileNames(plan: SendPlan): string[] {
  return [...plan.parts.flatMap((p) => (p.fs ? [p.fi, p.fs] : [p.fi])), plan.go];
}

/**
 * Builders shared by the ledger tests: keys, planned file lists, claim requests, sources and a
 * pinned clock, so each test states only what it is about.
 */
import type { DeclarationKey, Environment, UploadFolder } from '../../shared/names';
import type { ClaimRequest, SentFile, SourceIdentity } from '../../shared/ledger';

/** The sender number of every test key. */
export const SENDER = '101380';
/** The creation date of every test key. */
export const DATE = '20260701';

const FOLDERS: Record<Environment, UploadFolder> = { R: 'IN', T: 'INTEST', S: 'INTEST-S' };

/** A declaration key of sender 101380 on 2026-07-01. */
export function keyOf(seq: string, env: Environment = 'R', app = 'DMFA'): DeclarationKey {
  return { app, sender: SENDER, date: DATE, seq, env };
}

/** The set key text of keyOf(seq, env, app). */
export function idOf(seq: string, env: Environment = 'R', app = 'DMFA'): string {
  return `${app}.${SENDER}.${DATE}.${seq}.${env}`;
}

/** The planned files of a set: FI and FS per part, GO last, 100 bytes a part. */
export function planFiles(key: DeclarationKey, nparts = 1): SentFile[] {
  const base = `${key.app}.${key.sender}.${key.date}.${key.seq}.${key.env}.${nparts}`;
  const parts = Array.from({ length: nparts }, (_, i) => i + 1);
  return [
    ...parts.flatMap((part): SentFile[] => [
      { name: `FI.${base}.${part}`, size: 100, role: 'FI' },
      { name: `FS.${base}.${part}`, size: 2000, role: 'FS' },
    ]),
    { name: `GO.${base}`, size: 0, role: 'GO' },
  ];
}

/**
 * A file source, e.g. source('a') = file /data/a.xml version v1; `null` for no version (an
 * explicit undefined would take the default).
 */
export function source(name: string, version: string | null = 'v1'): SourceIdentity {
  const id = `/data/${name}.xml`;
  return version === null ? { kind: 'file', id } : { kind: 'file', id, version };
}

/** A claim request for one set; every field can be overridden. */
export function claimRequest(
  seq: string,
  from: SourceIdentity,
  overrides: Partial<ClaimRequest> & { env?: Environment } = {},
): ClaimRequest {
  const { env = 'R', ...rest } = overrides;
  const key = rest.key ?? keyOf(seq, env);
  const nparts = rest.nparts ?? 1;
  return {
    key,
    nparts,
    folder: FOLDERS[key.env],
    source: from,
    files: planFiles(key, nparts),
    ...rest,
  };
}

/** A clock that starts at 2026-07-01T08:00:00Z and moves one second each time it is read. */
export interface TestClock {
  now: () => Date;
  /** Sets the next time read. */
  set(iso: string): void;
  /** The time the next read returns, as ISO. */
  peek(): string;
}

/** Creates a TestClock. */
export function testClock(): TestClock {
  let next = Date.parse('2026-07-01T08:00:00.000Z');
  return {
    now: () => {
      const value = new Date(next);
      next += 1000;
      return value;
    },
    set: (iso) => {
      next = Date.parse(iso);
    },
    peek: () => new Date(next).toISOString(),
  };
}

/** A SHA-256 hex made of one repeated hex digit, for readable tests. */
export function sha(digit: string): string {
  return digit.repeat(64);
}

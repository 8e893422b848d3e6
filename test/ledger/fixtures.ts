/**
 * Builders shared by the ledger tests: keys, planned file lists, claim requests and options,
 * sources, response sets, answers and a pinned clock, so each test states only what it is about.
 */
import type { DeclarationKey, Environment, ResponseFolder, UploadFolder } from '../../shared/names';
import type {
  Acknowledgement,
  ClaimOptions,
  ClaimRequest,
  DeclarationRecord,
  Ledger,
  NewResponse,
  NotificationOutcome,
  ResponseFile,
  SentFile,
  SourceIdentity,
} from '../../shared/ledger';

/** The sender number of every test key. */
export const SENDER = '101380';
/** The creation date of every test key. */
export const DATE = '20260701';

/** The transfer point's own sender number: the author of every response. */
export const TRANSFER_POINT = '999999';

const FOLDERS: Record<Environment, UploadFolder> = { R: 'IN', T: 'INTEST', S: 'INTEST-S' };
const RESPONSE_FOLDERS: Record<Environment, ResponseFolder> = {
  R: 'OUT',
  T: 'OUTTEST',
  S: 'OUTTEST-S',
};

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

/** The lease owner token of the run most tests claim as. */
export const OWNER = 'run-a';

/** The lease owner token of another run, sending the same source at the same time. */
export const OTHER_OWNER = 'run-b';

/** Claim options of the run `owner` (default OWNER), with any other option. */
export function own(extra: Omit<ClaimOptions, 'owner'> = {}, owner = OWNER): ClaimOptions {
  return { owner, ...extra };
}

/** The ISO time `ms` milliseconds after the ISO time `iso`. */
export function plusMs(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
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

/** A response set id of the transfer point on 2026-07-01, e.g. `ACRF.999999.20260701.00001.R`. */
export function responseIdOf(
  seq: string,
  type = 'ACRF',
  env: Environment = 'R',
  nparts?: number,
): string {
  const base = `${type}.${TRANSFER_POINT}.${DATE}.${seq}.${env}`;
  return nparts === undefined ? base : `${base}.${nparts}`;
}

/**
 * The stored files of a response set: FO data and FS signature per part (one unnumbered pair
 * when the id has no NPARTS), then the GO.
 */
export function responseFiles(id: string, nparts?: number): ResponseFile[] {
  const [type = '', , , , env = ''] = id.split('.');
  const file = (name: string, role: ResponseFile['role'], size: number): ResponseFile => ({
    name,
    size,
    sha256: sha(role === 'data' ? 'a' : role === 'signature' ? 'b' : 'c'),
    storeKey: `responses/${env}/${DATE}/${type}/${name}`,
    role,
  });
  const parts = nparts === undefined ? [''] : Array.from({ length: nparts }, (_, i) => `.${i + 1}`);
  return [
    ...parts.flatMap((part) => [
      file(`FO.${id}${part}`, 'data', 1500),
      file(`FS.${id}${part}`, 'signature', 3000),
    ]),
    file(`GO.${id}`, 'go', 0),
  ];
}

/** A response set to record, as the pull stores it before reading it; any field overridable. */
export function newResponse(
  seq: string,
  overrides: Partial<NewResponse> & { nparts?: number } = {},
): NewResponse {
  const { nparts, ...rest } = overrides;
  const type = rest.type ?? 'ACRF';
  const env = rest.env ?? 'R';
  const id = rest.id ?? responseIdOf(seq, type, env, nparts);
  return {
    id,
    env,
    folder: RESPONSE_FOLDERS[env],
    type,
    files: responseFiles(id, nparts),
    signature: 'unchecked',
    orphan: false,
    ...rest,
  };
}

/** An ACRF that accepts a set, carried by response set `response`; any field overridable. */
export function acknowledgement(
  response: string,
  overrides: Partial<Acknowledgement> = {},
): Acknowledgement {
  return {
    accepted: true,
    errors: [],
    ticket: '20260701000001',
    response,
    at: '2026-07-02T09:00:00.000Z',
    ...overrides,
  };
}

/** A NOTIFICATION (result 1, no anomalies) carried by response set `response`. */
export function notification(
  response: string,
  overrides: Partial<NotificationOutcome> = {},
): NotificationOutcome {
  return {
    result: '1',
    accepted: true,
    withAnomalies: false,
    anomalyCount: 0,
    ticket: '20260701999999',
    response,
    at: '2026-07-03T09:00:00.000Z',
    ...overrides,
  };
}

/** Moves a claimed set (held by OWNER) through uploading and launching to launched. */
export async function driveToLaunched(
  ledger: Ledger,
  id: string,
  launchedAt?: string,
): Promise<DeclarationRecord> {
  await ledger.transition(id, 'planned', 'uploading', undefined, { owner: OWNER });
  await ledger.transition(id, 'uploading', 'launching', undefined, { owner: OWNER });
  return ledger.transition(id, 'launching', 'launched', launchedAt ? { launchedAt } : undefined, {
    owner: OWNER,
  });
}

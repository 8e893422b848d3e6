import { ENVIRONMENTS, type Environment, type ResponseFolder } from '../names';
import {
  qualifyResponseSetId,
  type Ledger,
  type ResponseFile,
  type ResponseRecord,
} from '../ledger';
import type { Notifier } from '../notify';
import { answerTrustKind, type AnswerTrust, type AnswerTrustKind } from '../signing';
import type { ObjectStore } from '../store';
import type { Transport, TransportConnector } from '../transport';
import { copyToStore } from './download';
import { ResponseNameReusedError, StoreMismatchError } from './errors';
import { interpretResponse, type Interpretation } from './interpret';
import {
  groupResponseSets,
  type ListedResponseFile,
  type ResponseSetListing,
} from './response-sets';
import { foreignKey, responseKey } from './store-layout';
import { resolveUnpackLimits, type UnpackLimits } from './unpack';
import { applyWithheldAnswers, type AppliedAnswer } from './withheld';
import { EVENT_TYPES } from '../notify';

/** What to pull. */
export interface PullRequest {
  environments: readonly Environment[];
  /** Copy files whose names are outside the grammar into the store (never deleted). */
  copyForeign?: boolean;
  /** Caps on unpacking compressed (CO) answers; default UNPACK_DEFAULTS (100 entries, 1 GiB). */
  unpack?: Partial<UnpackLimits>;
  /**
   * Whose signatures are the transfer point's (see `makeAnswerTrust`). Given, an answer whose
   * FS is invalid, missing or by another signer is kept and raised but moves no declaration.
   * Absent, any signer is taken: the report says so (`signatureTrust: 'none'`) and the caller
   * warns once per run (NO_ANSWER_TRUST_WARNING).
   */
  answerTrust?: AnswerTrust;
  /**
   * The channel whose account is pulled: its answers are recorded under `<channel>/<set id>`
   * and stored under `responses/<channel>/`, since another account's answers may carry the
   * same names. Absent for a deployment of one unnamed channel.
   */
  channel?: string;
}

/** The ports the pull runs with. */
export interface PullContext {
  ledger: Ledger;
  connector: TransportConnector;
  store: ObjectStore;
  notifier: Notifier;
  now?: () => Date;
}

/** What happened to one response set. */
export interface PulledSet {
  id: string;
  folder: ResponseFolder;
  /** Stored by this run (false: stored by an earlier run that stopped before deleting). */
  stored: boolean;
  deleted: boolean;
  interpretation?: Interpretation;
  /**
   * Store keys of what a compressed (CO) answer unpacked to, under `<key of the CO>.unpacked/`
   * (the details, and any problem, are in `interpretation.unpacked`).
   */
  unpacked?: string[];
}

/** The outcome of one pull. */
export interface PullReport {
  sets: PulledSet[];
  /** Sets left on the server for the next run (no GO yet, or a part missing). */
  incomplete: string[];
  /** Names outside the grammar, left on the server. */
  foreign: string[];
  /** Sets that failed this run (kept on the server, retried next run), with the reason. */
  failed: Array<{ id: string; code: string; message: string }>;
  /** The trust the answers' signers were held to; `none`: any signer was taken. */
  signatureTrust: AnswerTrustKind;
  /**
   * Answers stored by earlier runs and withheld for their signature, applied by this run
   * because its trust accepts them now (see withheld.ts); empty without a trust.
   */
  reapplied: AppliedAnswer[];
}

function filesOf(
  set: ResponseSetListing,
): Array<{ file: ListedResponseFile; role: ResponseFile['role'] }> {
  return [
    ...set.data.map((file) => ({ file, role: 'data' as const })),
    ...set.signatures.map((file) => ({ file, role: 'signature' as const })),
    ...(set.go ? [{ file: set.go, role: 'go' as const }] : []),
  ];
}

/**
 * Pulls the response folders of the chosen environments: each complete
 * response set is copied into the store and checked (size and SHA-256 of
 * what was read against what was kept), recorded in the ledger, read (ACRF,
 * NOTIFICATION) and tied to its declaration, and only then deleted from the
 * server, GO first. An incomplete set waits for the next run; a name outside
 * the grammar is never deleted. A crash at any point loses nothing: a set
 * recorded as stored but still on the server is not stored again, only
 * finished (read if it was not, then deleted). A compressed (CO) answer is
 * kept as it came and, when it is zip or gzip, unpacked beside it before it
 * is read; an archive that does not unpack is raised, and the set is deleted
 * all the same once its original is stored. With `request.answerTrust`, an
 * answer whose signature is not valid is stored, recorded and raised, and
 * deleted from the server, but moves no declaration; each run with a trust then applies the
 * answers withheld earlier that it accepts (a trust fixed since).
 *
 * @throws PullOptionsError when `request.unpack` holds a limit that is not a positive whole number
 */
export async function pullResponses(
  request: PullRequest,
  context: PullContext,
): Promise<PullReport> {
  const unpack = resolveUnpackLimits(request.unpack); // checked before connecting
  const report: PullReport = {
    sets: [],
    incomplete: [],
    foreign: [],
    failed: [],
    signatureTrust: answerTrustKind(request.answerTrust),
    reapplied: [],
  };
  const transport = await context.connector.connect();
  try {
    for (const env of request.environments) {
      await pullFolder(
        ENVIRONMENTS[env].responseFolder,
        { ...request, unpack },
        context,
        transport,
        report,
      );
    }
  } finally {
    await transport.close();
  }
  if (request.answerTrust !== undefined) {
    // After this run's own answers: a withheld ACRF applied now finds its declaration as a
    // fresh one would.
    const withheld = await applyWithheldAnswers(
      {
        answerTrust: request.answerTrust,
        unpack,
        ...(request.channel === undefined ? {} : { channel: request.channel }),
      },
      context,
    );
    report.reapplied = withheld.applied;
    report.failed.push(...withheld.failed);
  }
  return report;
}

/** A failure of the run for the report: what failed, its code and its message. */
function failureOf(id: string, error: unknown): PullReport['failed'][number] {
  const { code, message } = error as { code?: string; message?: string };
  return { id, code: code ?? 'PULL_FAILED', message: message ?? String(error) };
}

async function pullFolder(
  folder: ResponseFolder,
  request: PullRequest,
  context: PullContext,
  transport: Transport,
  report: PullReport,
): Promise<void> {
  const grouped = groupResponseSets(await transport.list(folder));
  // An answer named for another environment than its folder's is none of this folder's:
  // taken, its store key and set id (which leave the folder out) could meet another answer's.
  const sets = grouped.sets.filter((set) => ENVIRONMENTS[set.env].responseFolder === folder);
  const misplaced = grouped.sets
    .filter((set) => !sets.includes(set))
    .flatMap((set) => filesOf(set).map(({ file }) => ({ ...file, type: 'file' as const })));
  for (const entry of [...grouped.foreign, ...misplaced]) {
    report.foreign.push(`${folder}/${entry.name}`);
    if (request.copyForeign && entry.type === 'file') {
      try {
        await copyToStore(
          transport,
          context.store,
          `${folder}/${entry.name}`,
          entry.name,
          entry.size,
          foreignKey(folder, entry.name),
        );
      } catch (error) {
        // A file that cannot be copied (a name the transport refuses to fetch) stays where it
        // is; it must not keep the answers beside it from being pulled.
        report.failed.push(failureOf(`${folder}/${entry.name}`, error));
      }
    }
    await context.notifier.notify({
      type: EVENT_TYPES.foreignFile,
      at: (context.now?.() ?? new Date()).toISOString(),
      message: `${folder}/${entry.name.slice(0, 200)} is not a response file name: left on the server`,
    });
  }
  for (const set of sets) {
    const id = qualifyResponseSetId(request.channel, set.id);
    const known = await context.ledger.getResponse(id);
    if (!set.complete && known === undefined) {
      report.incomplete.push(`${folder}/${set.id}`);
      continue;
    }
    try {
      report.sets.push(await takeSet(set, folder, known, request, context, transport));
    } catch (error) {
      report.failed.push(failureOf(id, error));
    }
  }
}

async function takeSet(
  set: ResponseSetListing,
  folder: ResponseFolder,
  known: ResponseRecord | undefined,
  request: PullRequest,
  context: PullContext,
  transport: Transport,
): Promise<PulledSet> {
  const { ledger, store } = context;
  const id = qualifyResponseSetId(request.channel, set.id);
  // A set recorded as deleted had every file removed: files of its name now are new ones.
  if (known?.state === 'deleted') throw new ResponseNameReusedError(folder, set.id);
  let record = known;
  let stored = false;
  if (record === undefined) {
    const files: ResponseFile[] = [];
    for (const { file, role } of filesOf(set)) {
      const key = responseKey(set.env, file.parsed.date, set.type, file.name, request.channel);
      const copied = await copyToStore(
        transport,
        store,
        `${folder}/${file.name}`,
        file.name,
        file.size,
        key,
      );
      files.push({
        name: file.name,
        size: copied.stored.size,
        sha256: copied.stored.sha256,
        storeKey: key,
        role,
      });
    }
    ({ record } = await ledger.recordResponse({
      id,
      env: set.env,
      folder,
      type: set.type,
      files,
      signature: 'unchecked',
      orphan: false,
    }));
    stored = true;
  }
  let interpretation: Interpretation | undefined;
  if (record.kind === undefined) {
    // Read and tie the answer before deleting it: if this fails, the next run reads it again.
    interpretation = await interpretResponse(record, context, {
      ...(request.unpack ? { unpack: request.unpack } : {}),
      ...(request.answerTrust ? { trust: request.answerTrust } : {}),
    });
  }
  await deleteFromServer(set, folder, record, transport);
  if (record.state !== 'deleted') await ledger.updateResponse(id, { state: 'deleted' });
  return {
    id,
    folder,
    stored,
    deleted: true,
    ...(interpretation ? { interpretation } : {}),
    ...(interpretation?.unpacked
      ? { unpacked: interpretation.unpacked.entries.map((e) => e.key) }
      : {}),
  };
}

/**
 * Deletes the set's files, GO first: without it the set is no longer "ready",
 * whatever remains. Only files the ledger holds a stored copy of (same name,
 * same size) are deleted; anything else in the set stays for a person to see.
 */
async function deleteFromServer(
  set: ResponseSetListing,
  folder: ResponseFolder,
  record: ResponseRecord,
  transport: Transport,
): Promise<void> {
  const kept = new Map(record.files.map((file) => [file.name, file.size]));
  const order = [...(set.go ? [set.go] : []), ...set.data, ...set.signatures];
  const unknown = order.filter((file) => kept.get(file.name) !== file.size);
  for (const file of order) {
    if (kept.get(file.name) === file.size) await transport.delete(`${folder}/${file.name}`);
  }
  if (unknown.length > 0) {
    throw new StoreMismatchError(
      unknown.map((file) => file.name).join(', '),
      'not the file stored for this set earlier',
    );
  }
}

/**
 * The servers a fault run sends to: the local transfer point (over FTP or SFTP) and Debian's
 * vsftpd, with a small reception beside it that does what the transfer point does with a GO
 * (judge the set with the simulator's own judge, take the set away, answer with an ACRF) and
 * with a TD (take the set away). A target is one account of the transfer point, the account of
 * one channel: the local transfer point runs one simulator per channel, each with its own
 * technical user, password (or SSH key), home folder and sender number; vsftpd has one account
 * and serves a seed of one unnamed channel. Each target records, on the server's side, every
 * file put in an upload folder with the user whose session put it (the simulator's `uploaded`
 * event, vsftpd's transfer log), what was launched (the SHA-256 of the FI parts received), the
 * sets a TD cancelled, and every answer file it wrote (name and SHA-256): what the invariants
 * are checked against.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import {
  ENVIRONMENTS,
  todayInBrussels,
  type Environment,
  type UploadFolder,
} from '../../shared/names';
import type { SigningMaterial } from '../../shared/signing';
import { buildAcrfXml, startSimulator, type Simulator } from '../../transfer-point';
import { judgeSet } from '../../transfer-point/judge';
import { findSetFiles, receivedContent, removeFiles } from '../../transfer-point/set-files';
import { utils } from 'ssh2';
import {
  authorizedKeyLine,
  ftpConnector,
  loadPrivateKey,
  sftpConnector,
  type TransportConnector,
} from '../../shared/transport';
import type { Vsftpd } from '../interop/vsftpd';
import type { Random } from './random';

/** Which server a seed runs against. */
export type ServerKind = 'simulator-ftp' | 'simulator-sftp' | 'vsftpd';

/** A channel of a seed: its account on the transfer point, its sender, its send slots. */
export interface ChannelSpec {
  /** `ch-a`, `ch-b`...; undefined for the one unnamed channel (objects straight in `outbox/`). */
  name: string | undefined;
  /** Its sender number: each channel its own. */
  sender: string;
  /** Sends at once through it, at most (the send function's `maxSends`). */
  maxSends: number;
}

/** A file that arrived in an upload folder, and the account (technical user) that put it. */
export interface UploadSeen {
  folder: string;
  name: string;
  user: string;
}

/** A set a TD took away before its GO. */
export interface CancellationSeen {
  tdName: string;
  removed: readonly string[];
}

/** A set the server launched (its GO was taken). */
export interface LaunchSeen {
  goName: string;
  /** SHA-256 of the FI parts in part order, as received; undefined when there was no FI. */
  sha256: string | undefined;
  /** ACRF codes of the verdict; empty when accepted. */
  codes: readonly number[];
  reasons: readonly string[];
}

/** An answer file the server wrote in a response folder. */
export interface ResponseSeen {
  folder: string;
  name: string;
  sha256: string;
}

/** One account of a server under test (the account of one channel), seen from the fault run. */
export interface FaultTarget {
  kind: ServerKind;
  /** The channel whose account this is. */
  channel: ChannelSpec;
  /** The account's technical user. */
  user: string;
  /** The real server's port (the fault proxy relays to it). */
  port: number;
  /**
   * A connector to `port` on 127.0.0.1 (the proxy's) with this account's credentials, short
   * timeouts and quick retries.
   */
  connector(port: number): TransportConnector;
  launches(): readonly LaunchSeen[];
  /** Every file put in an upload folder of this account, in arrival order. */
  uploads(): readonly UploadSeen[];
  /** The sets a TD took away. */
  cancellations(): readonly CancellationSeen[];
  responses(): readonly ResponseSeen[];
  /** Names still in the upload and in the response folders. */
  leftovers(): { uploads: string[]; responses: string[] };
  /** Lets the transfer point finish its work (judge GOs, write answers); resolves once done. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** The sender number of the one unnamed channel (vsftpd's seeds). */
export const SENDER = '123456';
const CHANNEL_NAMES = ['ch-a', 'ch-b', 'ch-c'] as const;

/**
 * The channels of a seed: on the local transfer point two or three named channels, each its
 * own sender number (six digits, distinct, never the transfer point's 999999) and most with
 * one send slot, some two; on vsftpd, which has one account, the one unnamed channel.
 */
export function channelSpecs(rng: Random, kind: ServerKind): ChannelSpec[] {
  const maxSends = (): number => (rng.chance(0.3) ? 2 : 1);
  if (kind === 'vsftpd') return [{ name: undefined, sender: SENDER, maxSends: maxSends() }];
  const count = rng.chance(0.4) ? 3 : 2;
  const senders = new Set<string>();
  while (senders.size < count) senders.add(String(rng.int(100_000, 899_999)));
  return [...senders].map((sender, index) => ({
    name: CHANNEL_NAMES[index],
    sender,
    maxSends: maxSends(),
  }));
}
const UPLOAD_FOLDERS: readonly UploadFolder[] = ['IN', 'INTEST', 'INTEST-S'];
const RESPONSE_FOLDERS = ['OUT', 'OUTTEST', 'OUTTEST-S'] as const;
// Short enough that a stalled connection costs a second, long enough for a loaded machine.
const TIMEOUT_MS = 1_500;
const QUICK_RETRY = { attempts: 4, baseDelayMs: 20, maxDelayMs: 100 };

const sha256Of = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

function filesIn(root: string, folders: readonly string[]): string[] {
  return folders.flatMap((folder) =>
    readdirSync(join(root, folder)).map((name) => `${folder}/${name}`),
  );
}

/**
 * The SSH keys of the SFTP seeds, made once per run (RSA keys take a while to make): the
 * transfer point's host key, the same for every account as on the one real host, and a user
 * key per channel name, so each account of a seed logs in with its own key.
 */
export interface SftpKeys {
  hostKeyPem: string;
  /** By channel name (`ch-a`...; `` for the unnamed channel): the private key, PEM. */
  userKeys: ReadonlyMap<string, string>;
}

/** Makes the SFTP keys of a run. */
export function makeSftpKeys(): SftpKeys {
  const make = (): string => utils.generateKeyPairSync('rsa', { bits: 2048 }).private;
  return {
    hostKeyPem: make(),
    userKeys: new Map(['', ...CHANNEL_NAMES].map((name) => [name, make()])),
  };
}

/**
 * The account of `channel` on the local transfer point, over FTP or SFTP, judging every set
 * it is given: a simulator of its own (its own user, password or key, home folder, and the
 * channel's sender: a name of another sender gets ACRF-108).
 */
export async function simulatorTarget(options: {
  /** SFTP with these keys; undefined: FTP. */
  sftp: SftpKeys | undefined;
  channel: ChannelSpec;
  /** The key the answers are signed with: the transfer point's, the same for every account. */
  identity: SigningMaterial;
  /** NOTIFICATIONs after each accepted set, maybe compressed; default none. */
  notifications?: { compression?: 'zip' | 'gzip' };
}): Promise<FaultTarget> {
  const { channel } = options;
  const userKey = options.sftp?.userKeys.get(channel.name ?? '');
  if (options.sftp !== undefined && userKey === undefined) {
    throw new Error(`no SFTP user key for channel ${channel.name ?? '(unnamed)'}`);
  }
  const simulator: Simulator = await startSimulator({
    sender: channel.sender,
    user: `tp-${channel.name ?? 'onss'}-${channel.sender}`,
    identity: options.identity,
    signatureRequiredFor: { T: true, S: true },
    ...(options.sftp && userKey
      ? {
          sftp: {
            hostKeyPem: options.sftp.hostKeyPem,
            authorizedKeys: [authorizedKeyLine(loadPrivateKey(userKey).publicBlob)],
          },
        }
      : {}),
    ...(options.notifications
      ? {
          notificationDelayMs: 1,
          ...(options.notifications.compression
            ? { notificationCompression: options.notifications.compression }
            : {}),
        }
      : {}),
  });
  const launches: LaunchSeen[] = [];
  const uploads: UploadSeen[] = [];
  const cancellations: CancellationSeen[] = [];
  const responses: ResponseSeen[] = [];
  simulator.on('uploaded', ({ folder, name, user }) => uploads.push({ folder, name, user }));
  simulator.on('cancelled', ({ tdName, removed }) => cancellations.push({ tdName, removed }));
  // The answer files are on disk when the event comes: read them before any pull can.
  const remember = (folder: string, names: readonly string[]): void => {
    for (const name of names) {
      const bytes = readFileSync(simulator.pathOf(folder as 'OUT', name));
      responses.push({ folder, name, sha256: sha256Of(bytes) });
    }
  };
  simulator.on('judged', (judgement) => {
    launches.push({
      goName: judgement.goName,
      sha256: judgement.received?.sha256,
      codes: judgement.codes,
      reasons: judgement.reasons,
    });
    remember(judgement.responseFolder, judgement.responseNames);
  });
  simulator.on('notified', (notification) =>
    remember(notification.responseFolder, notification.responseNames),
  );
  const expectedNotifications = (): number =>
    options.notifications ? launches.filter((launch) => launch.codes.length === 0).length : 0;
  return {
    kind: options.sftp ? 'simulator-sftp' : 'simulator-ftp',
    channel,
    user: simulator.user,
    port: simulator.port,
    connector(port) {
      const server = { host: '127.0.0.1', port, user: simulator.user, timeoutMs: TIMEOUT_MS };
      const retries = { connectRetry: QUICK_RETRY, operationRetry: QUICK_RETRY };
      return userKey !== undefined
        ? sftpConnector({
            ...server,
            privateKey: userKey,
            hostKeySha256: simulator.hostKeySha256,
            ...retries,
          })
        : ftpConnector({ ...server, password: simulator.password, ...retries });
    },
    launches: () => launches,
    uploads: () => uploads,
    cancellations: () => cancellations,
    responses: () => responses,
    leftovers: () => ({
      uploads: filesIn(simulator.root, UPLOAD_FOLDERS),
      responses: filesIn(simulator.root, RESPONSE_FOLDERS),
    }),
    async settle() {
      await simulator.idle();
      // A NOTIFICATION follows its ACRF on a timer: wait for those due (bounded).
      const deadline = Date.now() + 5_000;
      while (simulator.notifications.length < expectedNotifications() && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    close: () => simulator.stop(),
  };
}

/** vsftpd's transfer log line of an upload (`[user] OK UPLOAD: Client "ip", "/IN/name", ...`). */
const VSFTPD_UPLOAD = /\] \[([^\]]+)\] (?:OK|FAIL) UPLOAD: Client "[^"]*", "\/([^/"]+)\/([^"]+)"/;

/** The uploads vsftpd logged, in order (a cut one too: its partial file stays). */
function vsftpdUploads(server: Vsftpd): UploadSeen[] {
  return server
    .log()
    .split('\n')
    .flatMap((line) => {
      const match = VSFTPD_UPLOAD.exec(line);
      return match ? [{ user: match[1] ?? '', folder: match[2] ?? '', name: match[3] ?? '' }] : [];
    });
}

/**
 * vsftpd with a reception beside it, as the account of the one unnamed `channel`. The
 * reception runs when the run lets the server settle: it takes each TD found with its set
 * away; it takes each GO found, judges its set with the simulator's judge, removes the set and
 * writes an ACRF (FO and GO, unsigned) in the response folder, owned by the FTP user. The
 * uploads come from vsftpd's own transfer log (those of earlier seeds left out).
 */
export function vsftpdTarget(server: Vsftpd, channel: ChannelSpec): FaultTarget {
  for (const folder of [...UPLOAD_FOLDERS, ...RESPONSE_FOLDERS]) {
    for (const name of readdirSync(join(server.root, folder))) {
      rmSync(join(server.root, folder, name), { force: true });
    }
  }
  const earlierUploads = vsftpdUploads(server).length;
  const launches: LaunchSeen[] = [];
  const cancellations: CancellationSeen[] = [];
  const responses: ResponseSeen[] = [];
  const accepted = new Set<string>();
  let sequence = 0;
  const judgeOptions = {
    sender: channel.sender,
    signatureRequiredFor: { T: true, S: true },
    trustedCertificates: undefined,
    maxFileBytes: 200_000_000,
    nameRules: {},
  };
  const answer = (env: Environment, goName: string, codes: readonly number[]): void => {
    sequence += 1;
    const folder = ENVIRONMENTS[env].responseFolder;
    const id = `ACRF.999999.${todayInBrussels()}.${String(sequence).padStart(5, '0')}.${env}`;
    const xml = Buffer.from(
      buildAcrfXml({ fileName: goName, ticket: `V${sequence}`, codes, createdAt: new Date() }),
    );
    for (const [name, bytes] of [
      [`FO.${id}`, xml],
      [`GO.${id}`, Buffer.alloc(0)],
    ] as const) {
      const path = join(server.root, folder, name);
      writeFileSync(path, bytes);
      chownSync(path, server.uid, server.gid);
      responses.push({ folder, name, sha256: sha256Of(bytes) });
    }
  };
  return {
    kind: 'vsftpd',
    channel,
    user: server.user,
    port: server.port,
    connector: (port) =>
      ftpConnector({
        host: '127.0.0.1',
        port,
        user: server.user,
        password: server.password,
        timeoutMs: TIMEOUT_MS,
        connectRetry: QUICK_RETRY,
        operationRetry: QUICK_RETRY,
      }),
    launches: () => launches,
    uploads: () => vsftpdUploads(server).slice(earlierUploads),
    cancellations: () => cancellations,
    responses: () => responses,
    leftovers: () => ({
      uploads: filesIn(server.root, UPLOAD_FOLDERS),
      responses: filesIn(server.root, RESPONSE_FOLDERS),
    }),
    async settle() {
      for (const folder of UPLOAD_FOLDERS) {
        const folderPath = join(server.root, folder);
        for (const tdName of readdirSync(folderPath).filter((name) => name.startsWith('TD.'))) {
          const setKey = tdName.split('.').slice(1).join('.');
          const names = await findSetFiles(folderPath, setKey, ['FI', 'FS', 'TD']);
          const removed = names.includes(tdName) ? names : [...names, tdName];
          await removeFiles(folderPath, removed);
          cancellations.push({ tdName, removed });
        }
        for (const goName of readdirSync(folderPath).filter((name) => name.startsWith('GO.'))) {
          const verdict = await judgeSet({
            folderPath,
            folder,
            goName,
            options: judgeOptions,
            accepted,
          });
          const setKey = goName.split('.').slice(1).join('.');
          const names = await findSetFiles(folderPath, setKey, ['FI', 'FS', 'GO']);
          const received = await receivedContent(folderPath, names);
          await removeFiles(folderPath, names.includes(goName) ? names : [...names, goName]);
          if (verdict.codes.length === 0 && verdict.duplicateKey)
            accepted.add(verdict.duplicateKey);
          launches.push({
            goName,
            sha256: received?.sha256,
            codes: verdict.codes,
            reasons: verdict.reasons,
          });
          const env = (goName.split('.')[5] ?? 'T') as Environment;
          answer(env, goName, verdict.codes);
        }
      }
    },
    // vsftpd itself runs for the whole fault run; its folders are emptied per seed.
    close: async () => undefined,
  };
}

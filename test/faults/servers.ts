/**
 * The servers a fault run sends to: the local transfer point (over FTP or SFTP) and Debian's
 * vsftpd, with a small reception beside it that does what the transfer point does with a GO
 * (judge the set with the simulator's own judge, take the set away, answer with an ACRF). Each
 * target records what was launched (the SHA-256 of the FI parts received) and every answer
 * file it wrote (name and SHA-256), which is what the invariants are checked against.
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
import { buildAcrfXml, startSimulator, type Simulator } from '../../transfer-point';
import { judgeSet } from '../../transfer-point/judge';
import { findSetFiles, receivedContent, removeFiles } from '../../transfer-point/set-files';
import { ftpConnector, sftpConnector, type TransportConnector } from '../../shared/transport';
import type { Vsftpd } from '../interop/vsftpd';

/** Which server a seed runs against. */
export type ServerKind = 'simulator-ftp' | 'simulator-sftp' | 'vsftpd';

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

/** A server under test, seen from the fault run. */
export interface FaultTarget {
  kind: ServerKind;
  /** The real server's port (the fault proxy relays to it). */
  port: number;
  /** A connector to `port` on 127.0.0.1 (the proxy's), with short timeouts and quick retries. */
  connector(port: number): TransportConnector;
  launches(): readonly LaunchSeen[];
  responses(): readonly ResponseSeen[];
  /** Names still in the upload and in the response folders. */
  leftovers(): { uploads: string[]; responses: string[] };
  /** Lets the transfer point finish its work (judge GOs, write answers); resolves once done. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** The sender number of the channel in the fault runs. */
export const SENDER = '123456';
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

/** The local transfer point, over FTP or SFTP, judging every set it is given. */
export async function simulatorTarget(options: {
  sftp: boolean;
  /** NOTIFICATIONs after each accepted set, maybe compressed; default none. */
  notifications?: { compression?: 'zip' | 'gzip' };
}): Promise<FaultTarget> {
  const simulator: Simulator = await startSimulator({
    sender: SENDER,
    signatureRequiredFor: { T: true, S: true },
    ...(options.sftp ? { sftp: true } : {}),
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
  const responses: ResponseSeen[] = [];
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
    port: simulator.port,
    connector(port) {
      const server = { host: '127.0.0.1', port, user: simulator.user, timeoutMs: TIMEOUT_MS };
      const retries = { connectRetry: QUICK_RETRY, operationRetry: QUICK_RETRY };
      return options.sftp
        ? sftpConnector({
            ...server,
            privateKey: simulator.privateKeyPem,
            hostKeySha256: simulator.hostKeySha256,
            ...retries,
          })
        : ftpConnector({ ...server, password: simulator.password, ...retries });
    },
    launches: () => launches,
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

/**
 * vsftpd with a reception beside it. The reception runs when the run lets the server settle:
 * it takes each GO found, judges its set with the simulator's judge, removes the set and
 * writes an ACRF (FO and GO, unsigned) in the response folder, owned by the FTP user.
 */
export function vsftpdTarget(server: Vsftpd): FaultTarget {
  for (const folder of [...UPLOAD_FOLDERS, ...RESPONSE_FOLDERS]) {
    for (const name of readdirSync(join(server.root, folder))) {
      rmSync(join(server.root, folder, name), { force: true });
    }
  }
  const launches: LaunchSeen[] = [];
  const responses: ResponseSeen[] = [];
  const accepted = new Set<string>();
  let sequence = 0;
  const judgeOptions = {
    sender: SENDER,
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
    responses: () => responses,
    leftovers: () => ({
      uploads: filesIn(server.root, UPLOAD_FOLDERS),
      responses: filesIn(server.root, RESPONSE_FOLDERS),
    }),
    async settle() {
      for (const folder of UPLOAD_FOLDERS) {
        const folderPath = join(server.root, folder);
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

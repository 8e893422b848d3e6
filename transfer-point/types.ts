/**
 * The shapes of the local transfer point: its options, the verdicts it records, the events it
 * emits and the handle `startSimulator` returns.
 */
import type { Environment, NameRules, ResponseFolder, UploadFolder } from '../shared/names';
import type { SigningMaterial } from '../shared/signing';
import type { HomeFolder } from './constants';
import type { SimulatorError } from './errors';
import type { ReceivedContent } from './set-files';

/** A range of TCP ports, both ends included; `{ min: 0, max: 0 }` lets the system choose. */
export interface PortRange {
  min: number;
  max: number;
}

/** The key and certificate, as PEM text, an FTPS server shows its clients. */
export interface SimulatorTlsIdentity {
  /** Private key, PEM (PKCS#8 or the key's own format). */
  key: string;
  /** Certificate, PEM; clients trust it (or its CA) to connect. */
  cert: string;
}

/** The simulator's protocol: plain FTP, explicit FTPS (AUTH TLS, PROT P), or SFTP. */
export type SimulatorProtocol = 'ftp' | 'ftps' | 'sftp';

/** Keys of the SFTP server; each one left out is made for the run. */
export interface SimulatorSftpSettings {
  /** Host private key (PEM or OpenSSH, unencrypted); default a fresh RSA key. */
  hostKeyPem?: string;
  /**
   * Public keys the user logs in with (`authorized_keys` lines); default one fresh RSA key,
   * whose private key is `Simulator.privateKeyPem`.
   */
  authorizedKeys?: readonly string[];
}

/**
 * How the local transfer point runs and judges. `startSimulator` takes a `Partial` of it,
 * merged over the defaults and validated once; each line gives the default.
 */
export interface SimulatorOptions {
  /** IP address to listen on (an address, not a host name); default `127.0.0.1`. */
  host: string;
  /** Control port; default 0, a free port chosen by the system (read it back from `port`). */
  port: number;
  /** Home folder on disk; default a fresh temporary folder, removed by `stop()`. */
  root: string;
  /** The one technical user; default `onss`. */
  user: string;
  /** Its password; default a random one, exposed on the Simulator (a local throwaway). */
  password: string;
  /**
   * Ports of the passive data connections on `host`; default `{ min: 0, max: 0 }`: each one
   * is a free port chosen by the system, so parallel simulators never collide.
   */
  passivePorts: PortRange;
  /**
   * Explicit FTPS: `true` for a throwaway self-signed certificate for `host` (and localhost),
   * or the key and certificate to show. Its certificate is then `Simulator.caPem`, for clients
   * to pin. A login is refused until the client has said AUTH TLS, and every data connection
   * is TLS (PROT P). Default undefined: plain FTP.
   */
  tls?: true | SimulatorTlsIdentity;
  /**
   * SFTP instead of FTP, as the transfer point's current channel: `true` for throwaway keys,
   * or the keys to use. Key login only (no password), and an RSA host key offered with
   * `ssh-rsa` signatures only, like the transfer point. Its fingerprint is
   * `Simulator.hostKeySha256`. Not with `tls`. Default undefined: FTP.
   */
  sftp?: true | SimulatorSftpSettings;
  /** Sender number of the channel; when set, names of another sender get ACRF-108. */
  sender?: string;
  /** Whether T and S sets need an FS per part (R always does); default none does. */
  signatureRequiredFor: Readonly<{ T?: boolean; S?: boolean }>;
  /**
   * SHA-256 fingerprints of the signer certificates accepted (hex, colons and case free);
   * default undefined: any signer whose signature verifies. An untrusted signer gets ACRF-153.
   */
  trustedCertificates?: readonly string[];
  /** Largest FI part accepted (ACRF-184); default MAX_FILE_BYTES, at most that. */
  maxFileBytes: number;
  /** Delay before a NOTIFICATION answers each accepted set; default undefined, no NOTI. */
  notificationDelayMs?: number;
  /**
   * Delay between judging a set and writing its ACRF, as a slow reception answers: the set
   * leaves the upload folder and gets its ticket at once, the ACRF (and the judgement, and the
   * NOTIFICATION's delay) comes after this many ms. Default undefined: the ACRF at once.
   * `setAnswerDelay` changes it while running, `flushAnswers` writes the held answers now.
   */
  answerDelayMs?: number;
  /**
   * Send each NOTIFICATION compressed, as a CO data file holding a zip (one entry) or a gzip
   * stream instead of an FO; default undefined, an FO. ACRFs always come as an FO.
   */
  notificationCompression?: 'zip' | 'gzip';
  /** Sender number in the names of the answers; default `999999`. */
  transferPointSender: string;
  /**
   * Key and certificate (and chain) the answers are signed with; default a self-signed
   * throwaway. Its fingerprint is `Simulator.certificateFingerprint`.
   */
  identity: SigningMaterial;
  /**
   * Name rules beyond the folder and the sender (reference day, age limit, extra
   * applications); default the reception's defaults, judged on the day of each GO.
   */
  nameRules: Readonly<Partial<Pick<NameRules, 'today' | 'maxAgeDays' | 'extraApplications'>>>;
}

/** The verdict on one set, recorded when its GO was judged. */
export interface Judgement {
  /** The GO file name judged, exactly as uploaded. */
  goName: string;
  /** Fields 2 to 7 of the GO (`DMFA.123456.20260105.00001.T.1`), or undefined when unreadable. */
  setKey: string | undefined;
  /** Upload folder the GO was found in. */
  folder: UploadFolder;
  /** Environment of that folder, which is the environment of the answer. */
  env: Environment;
  /** Whether the set was accepted (ResultCode 1). */
  accepted: boolean;
  /** ACRF codes of the refusal, e.g. `[120]`; empty when accepted. */
  codes: readonly number[];
  /** The same codes as written in the answer, e.g. `ACRF-120`. */
  errorIds: readonly string[];
  /** One sentence per code saying what was wrong, for test messages and logs. */
  reasons: readonly string[];
  /** Ticket number written in the answer (ReferenceNbr). */
  ticket: string;
  /** Folder the answer was written to. */
  responseFolder: ResponseFolder;
  /** Names of the answer's files, in the order written: FO, FS, GO. */
  responseNames: readonly string[];
  /** True when the refusal came from `rejectNext` rather than from the files. */
  scripted: boolean;
  /**
   * The FI parts found beside the GO, hashed in part order before the set left the folder:
   * what the reception received, to tie a launch to the declaration it came from. Undefined
   * when the set had no FI.
   */
  received: ReceivedContent | undefined;
  /** When the verdict was recorded: when its ACRF was written (after any `answerDelayMs`). */
  at: Date;
}

/** A set cancelled by a TD file: its files were removed and no answer written. */
export interface Cancellation {
  /** The TD file name, exactly as uploaded. */
  tdName: string;
  /** Fields 2 to 7 of the TD, or undefined when unreadable (then only the TD is removed). */
  setKey: string | undefined;
  /** Upload folder of the TD. */
  folder: UploadFolder;
  /** Files removed, the TD included. */
  removed: readonly string[];
  /** When the set was cancelled. */
  at: Date;
}

/**
 * A file that arrived in an upload folder (complete, or what stayed on disk of a cut upload),
 * and the account whose session put it there.
 */
export interface UploadRecord {
  /** Upload folder it arrived in. */
  folder: UploadFolder;
  /** Its name, exactly as uploaded. */
  name: string;
  /** The technical user logged in on the session that put it. */
  user: string;
  /** When it arrived. */
  at: Date;
}

/** A NOTIFICATION written for an accepted set. */
export interface NotificationRecord {
  /** The GO name of the set it is about. */
  goName: string;
  /** The ticket of the set's acknowledgement (FileReference/ReferenceNbr). */
  ticket: string;
  /** The declaration's own ticket (HandledReference/ReferenceNbr). */
  declarationTicket: string;
  /** Folder the notification was written to. */
  responseFolder: ResponseFolder;
  /** Names of the notification's files, in the order written: FO, FS, GO. */
  responseNames: readonly string[];
  /** When it was written. */
  at: Date;
}

/** Events of the simulator and the shape of their listeners. */
export interface SimulatorEvents {
  /** A file arrived in an upload folder (before its GO or TD, if it is one, is handled). */
  uploaded: (upload: UploadRecord) => void;
  /** A GO was judged and its answer written. */
  judged: (judgement: Judgement) => void;
  /** A TD cancelled a set. */
  cancelled: (cancellation: Cancellation) => void;
  /** A NOTIFICATION was written. */
  notified: (notification: NotificationRecord) => void;
  /** Handling an upload failed on the simulator's side (never a verdict on the files). */
  failed: (error: SimulatorError) => void;
}

/** A judgement filter for `waitForJudgement`. */
export type JudgementPredicate = (judgement: Judgement) => boolean;

/**
 * A running local transfer point. Everything a test or the demo needs: where to connect, what
 * was judged, scripted misbehaviour, and `stop()`, after which nothing of it keeps running.
 */
export interface Simulator {
  /** Address it listens on. */
  readonly host: string;
  /** Control port it listens on (the real one when 0 was asked). */
  readonly port: number;
  /** The technical user. */
  readonly user: string;
  /** Its password (a local throwaway unless given). */
  readonly password: string;
  /** Home folder on disk. */
  readonly root: string;
  /** `ftp` or, with the `tls` option, `ftps` (explicit TLS on the same port). */
  readonly protocol: SimulatorProtocol;
  /** `ftp[s]://user@host:port`, for messages (never the password). */
  readonly url: string;
  /**
   * The FTPS certificate, PEM, for a client to trust (`caFile`, `--ca-file`); undefined for
   * plain FTP.
   */
  readonly caPem: string | undefined;
  /** SFTP: the host key fingerprint for clients to pin (`SHA256:...`); undefined otherwise. */
  readonly hostKeySha256: string | undefined;
  /**
   * SFTP: the user's private key (unencrypted PEM) when the simulator made it (no
   * `authorizedKeys` given): a local throwaway, like the password. Undefined otherwise.
   */
  readonly privateKeyPem: string | undefined;
  /**
   * SHA-256 fingerprint of the certificate the answers are signed with, for a pull to pin
   * (`answerTrust`, `--answer-fingerprint`).
   */
  readonly certificateFingerprint: string;
  /**
   * The certificate the answers are signed with, then its chain, PEM: for OpenSSL
   * (`cms -verify -CAfile`) or a pull's CA bundle (`--answer-ca-file`).
   */
  readonly answerCertificatePem: string;
  /** Verdicts so far, oldest first. */
  readonly judgements: readonly Judgement[];
  /** Cancellations so far, oldest first. */
  readonly cancellations: readonly Cancellation[];
  /** Notifications written so far, oldest first. */
  readonly notifications: readonly NotificationRecord[];

  /** Rejects the next judged set with `code` (1 to 999), whatever it holds. */
  rejectNext(code: number): void;
  /**
   * Destroys the data connection of the next upload once more than `bytes` have arrived: the
   * first `bytes` stay on disk, as a real server keeps a partial file, and the client's upload
   * fails. An upload of `bytes` or fewer goes through, and uses the script up all the same.
   */
  dropAfterBytes(bytes: number): void;
  /** Slows every upload, running ones included, to about this rate; undefined: full speed. */
  setThrottle(bytesPerSecond: number | undefined): void;
  /**
   * Holds the ACRF of each set judged from now on for `ms` (0 to 2^31-1), as the option
   * `answerDelayMs`; undefined or 0: answer at once. Answers already held keep their delay.
   */
  setAnswerDelay(ms: number | undefined): void;
  /**
   * Writes every ACRF held by the answer delay now, in the order the sets were judged (after
   * the sets being judged); resolves once they are written and recorded as judgements.
   */
  flushAnswers(): Promise<void>;
  /**
   * Resolves with the oldest judgement that matches `predicate` (default: any) and that no
   * earlier call returned, waiting up to `timeoutMs` (default 10 s) for one to come.
   * Rejects with a SimulatorTimeoutError, or a SimulatorStoppedError on `stop()`.
   */
  waitForJudgement(predicate?: JudgementPredicate, timeoutMs?: number): Promise<Judgement>;
  /**
   * Resolves once every upload reported so far has been handled (judged, cancelled...). An ACRF
   * held by the answer delay is not waited for: `flushAnswers` writes it.
   */
  idle(): Promise<void>;
  /** Adds a listener. */
  on<E extends keyof SimulatorEvents>(event: E, listener: SimulatorEvents[E]): this;
  /** Removes a listener. */
  off<E extends keyof SimulatorEvents>(event: E, listener: SimulatorEvents[E]): this;
  /** Names in a home folder on disk, sorted, for assertions. */
  files(folder: HomeFolder): string[];
  /** Path on disk of a home folder, or of a file in it. */
  pathOf(folder: HomeFolder, name?: string): string;
  /** Closes the server, every connection and timer, and removes a root it created. */
  stop(): Promise<void>;
}

/**
 * The local transfer point: an FTP server on loopback that receives declaration sets and
 * answers them as the reception does. Uploads are reported by ftp-srv; every GO, TD and
 * notification is then handled one at a time, in arrival order, on a single queue, so the
 * duplicate memory and the numbering never see two sets at once.
 *
 * Why one file of about 540 lines: this class is the transfer point's state (the queue, the
 * duplicate memory, the numbering, the scripted faults, the timers) and every handler below
 * reads or changes it. Each piece of logic it calls lives in its own module (judge, judgement
 * log, response XML and writer, set files, the FTP and SFTP servers); splitting the class
 * itself would pass its state around instead of keeping it in one place.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { FtpConnection } from 'ftp-srv';
import { ENVIRONMENTS, todayInBrussels } from '../shared/names';
import type { Environment, UploadFolder } from '../shared/names';
import { acrfCode } from '../shared/errors';
import { ENVIRONMENT_OF_UPLOAD_FOLDER, HOME_FOLDERS, SIMULATOR_DEFAULTS } from './constants';
import type { HomeFolder, SimulatorResponseType } from './constants';
import { SIMULATOR_CODES, SimulatorOptionsError, SimulatorProcessingError } from './errors';
import { SimulatorFileSystem, type FileSystemHooks } from './file-system';
import { listenFtp } from './ftp-server';
import { listenSftp } from './sftp-server';
import type { ResolvedSftpSettings } from './sftp-settings';
import type { FtpServerHandle } from './ftp-server';
import { judgeSet } from './judge';
import { JudgementLog } from './judgement-log';
import type { Verdict } from './judge';
import { ResponseSequence, TicketNumbers } from './numbering';
import { MAX_TIMER_MS, resolveSimulatorOptions } from './options';
import type { ResolvedSimulatorOptions } from './options';
import { buildAcrfXml, buildNotificationXml } from './response-xml';
import { responseExists, writeResponseSet } from './response-writer';
import { findSetFiles, receivedContent, removeFiles, setMemberOf } from './set-files';
import { certificateFingerprint } from './trust';
import type {
  Cancellation,
  Judgement,
  JudgementPredicate,
  NotificationRecord,
  Simulator,
  SimulatorEvents,
  SimulatorOptions,
  SimulatorProtocol,
} from './types';
import type { UploadSink } from './upload-sink';
import type { ReceivedContent } from './set-files';

/** A set judged and taken from its upload folder, whose ACRF is still to be written. */
interface JudgedSet {
  folder: UploadFolder;
  goName: string;
  setKey: string | undefined;
  env: Environment;
  verdict: Verdict;
  scripted: number | undefined;
  received: ReceivedContent | undefined;
  ticket: string;
}

function isUploadFolder(name: string): name is UploadFolder {
  return Object.prototype.hasOwnProperty.call(ENVIRONMENT_OF_UPLOAD_FOLDER, name);
}

function isHomeFolder(name: unknown): name is HomeFolder {
  return (HOME_FOLDERS as readonly unknown[]).includes(name);
}

function scriptError(argument: string, problem: string): SimulatorOptionsError {
  return new SimulatorOptionsError(argument, problem, SIMULATOR_CODES.SCRIPT_INVALID);
}

/** Compares secrets in constant time (hashing first evens out their lengths). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

class LocalTransferPoint implements Simulator {
  readonly host: string;
  readonly user: string;
  readonly password: string;
  readonly root: string;
  readonly certificateFingerprint: string;
  readonly answerCertificatePem: string;
  readonly protocol: SimulatorProtocol;
  readonly caPem: string | undefined;
  readonly hostKeySha256: string | undefined;
  readonly privateKeyPem: string | undefined;

  private readonly events = new EventEmitter();
  private readonly judgementLog = new JudgementLog();
  private readonly cancelledSets: Cancellation[] = [];
  private readonly notified: NotificationRecord[] = [];
  private readonly accepted = new Set<string>();
  private readonly tickets = new TicketNumbers();
  private readonly sequence = new ResponseSequence();
  private readonly notificationTimers = new Set<NodeJS.Timeout>();
  /** Answers waiting for their delay (answerDelayMs), each with what writes it now. */
  private readonly heldAnswers = new Map<NodeJS.Timeout, () => void>();
  private answerDelay: number | undefined;
  private readonly sinks = new Set<UploadSink>();
  private queue: Promise<void> = Promise.resolve();
  private rejection: number | undefined;
  private dropAfter: number | undefined;
  private throttle: number | undefined;
  private closed = false;
  private stopping: Promise<void> | undefined;
  private server: FtpServerHandle | undefined;

  constructor(private readonly options: ResolvedSimulatorOptions) {
    this.host = options.host;
    this.user = options.user;
    this.password = options.password;
    this.root = options.root;
    this.certificateFingerprint = certificateFingerprint(options.identity.certificate);
    this.answerCertificatePem = [options.identity.certificate, ...options.identity.chain]
      .map((certificate) => certificate.toString())
      .join('');
    this.protocol = options.sftp ? 'sftp' : options.tls === undefined ? 'ftp' : 'ftps';
    this.caPem = options.tls?.cert;
    this.hostKeySha256 = options.sftp?.hostKeySha256;
    this.privateKeyPem = options.sftp?.privateKeyPem;
    this.answerDelay = options.answerDelayMs;
  }

  /** Creates the home layout and starts listening. */
  async start(): Promise<void> {
    for (const folder of HOME_FOLDERS) await mkdir(join(this.root, folder), { recursive: true });
    if (this.options.sftp) {
      this.server = await this.listenSftp(this.options.sftp);
      return;
    }
    this.server = await listenFtp({
      host: this.options.host,
      port: this.options.port,
      passivePorts: this.options.passivePorts,
      ...(this.options.tls === undefined ? {} : { tls: this.options.tls }),
      onLogin: ({ connection, username, password }, accept, refuse) => {
        if (this.options.tls !== undefined && !connection.secure) {
          // As vsftpd's force_local_logins_ssl (which refuses at USER already; ftp-srv asks
          // only once it has the password): an FTPS server takes no session in clear.
          refuse(new Error('Login refused: this server wants TLS first (AUTH TLS).'));
          return;
        }
        const valid = sameSecret(username, this.user) && sameSecret(password, this.password);
        if (this.closed || !valid) {
          refuse(new Error('Login incorrect.'));
          return;
        }
        this.watch(connection);
        accept({ fs: this.fileSystemFor(connection) });
      },
    });
  }

  /**
   * The SFTP server, on the same upload scripts as the FTP one: an upload counts once the
   * client closed the file (SFTP's CLOSE, FTP's end of STOR), or once a rename names it.
   */
  private listenSftp(settings: ResolvedSftpSettings): Promise<FtpServerHandle> {
    return listenSftp({
      host: this.options.host,
      port: this.options.port,
      root: this.root,
      hostKeys: [settings.hostKeyPem],
      ...(settings.hostKeyAlgorithms ? { hostKeyAlgorithms: settings.hostKeyAlgorithms } : {}),
      user: this.user,
      authorizedKeys: settings.authorizedKeys,
      hooks: { ...this.uploadHooks(), uploaded: (fsPath) => this.arrived(fsPath) },
    });
  }

  get port(): number {
    return this.server?.port ?? this.options.port;
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${this.protocol}://${encodeURIComponent(this.user)}@${host}:${this.port}`;
  }

  get judgements(): readonly Judgement[] {
    return this.judgementLog.all;
  }

  get cancellations(): readonly Cancellation[] {
    return [...this.cancelledSets];
  }

  get notifications(): readonly NotificationRecord[] {
    return [...this.notified];
  }

  rejectNext(code: number): void {
    if (!Number.isSafeInteger(code) || code < 1 || code > 999) {
      throw scriptError('code', 'must be an ACRF code from 1 to 999');
    }
    this.rejection = code;
  }

  dropAfterBytes(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw scriptError('bytes', 'must be a whole number of bytes, 0 or more');
    }
    this.dropAfter = bytes;
  }

  setThrottle(bytesPerSecond: number | undefined): void {
    if (bytesPerSecond !== undefined && (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 1)) {
      throw scriptError('bytesPerSecond', 'must be at least 1 byte per second, or undefined');
    }
    this.throttle = bytesPerSecond;
  }

  setAnswerDelay(ms: number | undefined): void {
    if (ms !== undefined && (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_TIMER_MS)) {
      throw scriptError('ms', `must be a whole number of milliseconds from 0 to ${MAX_TIMER_MS}`);
    }
    this.answerDelay = ms;
  }

  async flushAnswers(): Promise<void> {
    await this.queue; // a GO being judged holds its answer first
    for (const release of [...this.heldAnswers.values()]) release();
    await this.queue;
  }

  waitForJudgement(
    predicate: JudgementPredicate = () => true,
    timeoutMs: number = SIMULATOR_DEFAULTS.waitTimeoutMs,
  ): Promise<Judgement> {
    return this.judgementLog.waitFor(predicate, timeoutMs);
  }

  idle(): Promise<void> {
    return this.queue;
  }

  on<E extends keyof SimulatorEvents>(event: E, listener: SimulatorEvents[E]): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends keyof SimulatorEvents>(event: E, listener: SimulatorEvents[E]): this {
    this.events.off(event, listener);
    return this;
  }

  files(folder: HomeFolder): string[] {
    return readdirSync(this.pathOf(folder)).sort();
  }

  pathOf(folder: HomeFolder, name?: string): string {
    if (!isHomeFolder(folder)) {
      throw scriptError('folder', `must be one of ${HOME_FOLDERS.join(', ')}`);
    }
    if (name === undefined) return join(this.root, folder);
    if (name.length === 0 || name.includes('/') || name.includes('\\') || /^\.\.?$/.test(name)) {
      throw scriptError('name', 'must be a bare file name');
    }
    return join(this.root, folder, name);
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  // -------------------------------------------------------------------------------------------
  // Sessions and uploads
  // -------------------------------------------------------------------------------------------

  private watch(connection: FtpConnection): void {
    // ftp-srv emits STOR once the file is complete on disk, before it answers 226.
    connection.on('STOR', (error: unknown, fsPath: unknown) => {
      if (!error && typeof fsPath === 'string') this.arrived(fsPath);
    });
  }

  private fileSystemFor(connection: FtpConnection): SimulatorFileSystem {
    return new SimulatorFileSystem(connection, this.root, this.uploadHooks());
  }

  /** What every upload obeys and reports, over FTP and SFTP alike. */
  private uploadHooks(): FileSystemHooks {
    return {
      takeDropAfter: () => {
        const bytes = this.dropAfter;
        this.dropAfter = undefined;
        return bytes;
      },
      throttle: () => this.throttle,
      track: (sink) => this.sinks.add(sink),
      untrack: (sink) => this.sinks.delete(sink),
      renamed: (fsPath) => this.arrived(fsPath),
      interrupted: (fsPath) => this.interrupted(fsPath),
    };
  }

  /**
   * An upload was cut, and what arrived of it stays on disk. The reception sees files, not
   * transfers: an empty GO (or TD) whose upload was cut is on disk all the same, and launches.
   */
  private interrupted(fsPath: string): void {
    if (existsSync(fsPath)) this.arrived(fsPath);
  }

  /** A complete file appeared at `fsPath`: a GO launches its set, a TD cancels it. */
  private arrived(fsPath: string): void {
    const parts = relative(this.root, fsPath).split(sep);
    if (parts.length !== 2) return;
    const [folder = '', name = ''] = parts;
    // Only upload folders are watched; a file elsewhere is just a file.
    if (!isUploadFolder(folder)) return;
    // The simulator has one technical user: every session that put a file logged in as it.
    this.emit('uploaded', Object.freeze({ folder, name, user: this.user, at: new Date() }));
    if (name.startsWith('GO.')) this.enqueue(name, 'judging', () => this.judge(folder, name));
    else if (name.startsWith('TD.')) {
      this.enqueue(name, 'cancelling', () => this.cancel(folder, name));
    }
    // Any other file waits for its GO, as on the real server.
  }

  private enqueue(fileName: string, what: string, task: () => Promise<void>): void {
    if (this.closed) return;
    this.queue = this.queue.then(task).catch((error: unknown) => {
      this.emit('failed', new SimulatorProcessingError(fileName, what, error));
    });
  }

  // -------------------------------------------------------------------------------------------
  // Judging, cancelling, notifying
  // -------------------------------------------------------------------------------------------

  private async judge(folder: UploadFolder, goName: string): Promise<void> {
    const folderPath = join(this.root, folder);
    const env = ENVIRONMENT_OF_UPLOAD_FOLDER[folder];
    const scripted = this.rejection;
    this.rejection = undefined;
    const verdict: Verdict =
      scripted === undefined
        ? await judgeSet({
            folderPath,
            folder,
            goName,
            options: this.options,
            accepted: this.accepted,
          })
        : { codes: [scripted], reasons: [`${goName}: rejected by rejectNext(${scripted})`] };

    // The set leaves the upload folder whatever the verdict, as at the reception.
    const member = setMemberOf(goName);
    const setKey = member?.prefix === 'GO' ? member.setKey : undefined;
    const names =
      setKey === undefined ? [] : await findSetFiles(folderPath, setKey, ['FI', 'FS', 'GO']);
    const received = await receivedContent(folderPath, names);
    await removeFiles(folderPath, names.includes(goName) ? names : [...names, goName]);

    // The ticket and the duplicate memory are the reception's, at once; the ACRF may wait.
    const ticket = this.tickets.next();
    if (verdict.codes.length === 0 && verdict.duplicateKey !== undefined) {
      this.accepted.add(verdict.duplicateKey);
    }
    const judged: JudgedSet = { folder, goName, setKey, env, verdict, scripted, received, ticket };
    const delay = this.answerDelay;
    if (delay === undefined || delay === 0) await this.writeAcrf(judged);
    else this.holdAnswer(goName, delay, () => this.writeAcrf(judged));
  }

  /** Writes the ACRF of a judged set, records its judgement, then schedules its NOTIFICATION. */
  private async writeAcrf(judged: JudgedSet): Promise<void> {
    const { goName, env, verdict } = judged;
    const createdAt = new Date();
    const xml = buildAcrfXml({
      fileName: goName,
      ticket: judged.ticket,
      codes: verdict.codes,
      createdAt,
    });
    const responseNames = await this.answer('ACRF', env, xml);
    const accepted = verdict.codes.length === 0;
    const judgement: Judgement = Object.freeze({
      goName,
      setKey: judged.setKey,
      folder: judged.folder,
      env,
      accepted,
      codes: Object.freeze([...verdict.codes]),
      errorIds: Object.freeze(verdict.codes.map(acrfCode)),
      reasons: Object.freeze([...verdict.reasons]),
      ticket: judged.ticket,
      responseFolder: ENVIRONMENTS[env].responseFolder,
      responseNames: Object.freeze(responseNames),
      scripted: judged.scripted !== undefined,
      received: judged.received,
      at: createdAt,
    });
    this.judgementLog.record(judgement);
    this.emit('judged', judgement);
    if (accepted) this.scheduleNotification(judgement, verdict.handledForm ?? '');
  }

  /**
   * Keeps a judged set's answer back for `delay` ms, as a slow reception does, then writes it
   * on the queue (at once with flushAnswers). Answers keep the order of their judging.
   */
  private holdAnswer(goName: string, delay: number, answer: () => Promise<void>): void {
    if (this.closed) return;
    const release = (): void => {
      clearTimeout(timer);
      this.heldAnswers.delete(timer);
      this.enqueue(goName, 'answering', answer);
    };
    const timer = setTimeout(release, delay);
    this.heldAnswers.set(timer, release);
  }

  private async cancel(folder: UploadFolder, tdName: string): Promise<void> {
    const folderPath = join(this.root, folder);
    const member = setMemberOf(tdName);
    const setKey = member?.prefix === 'TD' ? member.setKey : undefined;
    const found =
      setKey === undefined ? [] : await findSetFiles(folderPath, setKey, ['FI', 'FS', 'TD']);
    const removed = found.includes(tdName) ? found : [...found, tdName];
    await removeFiles(folderPath, removed);
    const cancellation: Cancellation = Object.freeze({
      tdName,
      setKey,
      folder,
      removed: Object.freeze(removed),
      at: new Date(),
    });
    this.cancelledSets.push(cancellation);
    this.emit('cancelled', cancellation);
  }

  private scheduleNotification(judgement: Judgement, handledForm: string): void {
    const delay = this.options.notificationDelayMs;
    if (delay === undefined || this.closed) return;
    const timer = setTimeout(() => {
      this.notificationTimers.delete(timer);
      this.enqueue(judgement.goName, 'notifying', () => this.notify(judgement, handledForm));
    }, delay);
    this.notificationTimers.add(timer);
  }

  private async notify(judgement: Judgement, handledForm: string): Promise<void> {
    const declarationTicket = this.tickets.next();
    const xml = buildNotificationXml({
      fileName: judgement.goName,
      fileTicket: judgement.ticket,
      handledForm,
      declarationTicket,
      createdAt: new Date(),
    });
    const responseNames = await this.answer(
      'NOTI',
      judgement.env,
      xml,
      this.options.notificationCompression,
    );
    const record: NotificationRecord = Object.freeze({
      goName: judgement.goName,
      ticket: judgement.ticket,
      declarationTicket,
      responseFolder: judgement.responseFolder,
      responseNames: Object.freeze(responseNames),
      at: new Date(),
    });
    this.notified.push(record);
    this.emit('notified', record);
  }

  /** Writes an answer set in the response folder of `env`; returns its names in write order. */
  private async answer(
    type: SimulatorResponseType,
    env: Environment,
    xml: string,
    compression?: 'zip' | 'gzip',
  ): Promise<string[]> {
    const folderPath = join(this.root, ENVIRONMENTS[env].responseFolder);
    const fields = {
      type,
      sender: this.options.transferPointSender,
      date: todayInBrussels(),
      env,
    };
    const seq = this.sequence.next((candidate) =>
      responseExists(folderPath, { ...fields, seq: candidate }),
    );
    return writeResponseSet({
      folderPath,
      ...fields,
      seq,
      xml,
      identity: this.options.identity,
      ...(compression ? { compression } : {}),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Events and shutdown
  // -------------------------------------------------------------------------------------------

  /** Emits to listeners; a listener that throws is reported as `failed`, never breaks the queue. */
  private emit<E extends keyof SimulatorEvents>(
    event: E,
    ...args: Parameters<SimulatorEvents[E]>
  ): void {
    try {
      this.events.emit(event, ...args);
    } catch (error) {
      if (event === 'failed') return; // nowhere left to report it
      this.emit('failed', new SimulatorProcessingError(`a '${event}' listener`, 'running', error));
    }
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    for (const timer of this.notificationTimers) clearTimeout(timer);
    this.notificationTimers.clear();
    for (const timer of this.heldAnswers.keys()) clearTimeout(timer);
    this.heldAnswers.clear();
    this.judgementLog.close();
    await this.server?.close();
    for (const sink of this.sinks) sink.destroy();
    await this.queue; // a set being judged is finished before its folder may go
    this.events.removeAllListeners();
    if (this.options.ownsRoot) await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * Starts a local transfer point: validates `options` merged over the defaults, creates the
 * home layout (IN, INTEST, INTEST-S, OUT, OUTTEST, OUTTEST-S) and listens. Throws a
 * SimulatorOptionsError for a bad option. Call `stop()` on the result when done.
 */
export async function startSimulator(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const resolved = await resolveSimulatorOptions(options);
  const simulator = new LocalTransferPoint(resolved);
  try {
    await simulator.start();
  } catch (error) {
    await simulator.stop();
    throw error;
  }
  return simulator;
}

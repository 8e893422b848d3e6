/** SshSession: an SSH connection and its SFTP channel, each request watched for stalls. */
import type { Client, SFTPWrapper } from 'ssh2';
import { TransportConnectError, TransportTimeoutError, type TransportError } from '../errors';
import { classifySshError, classifyStatus, StatusError } from './errors';
import { messageOf, property } from './fields';
import { transferShape, type Shape } from './window';

export type Done<T> = (error?: Error | null, value?: T) => void;

/**
 * An SSH connection and its SFTP channel. Every request goes through {@link request}, which
 * watches progress: when requests are waiting and none has been answered for `timeoutMs`,
 * the connection is destroyed (a stall: a dead peer, a black-holed network) and every waiting
 * request fails with a timeout at once. A dropped connection fails them at once too.
 */
export class SshSession {
  /** How uploads and downloads are cut into requests on this channel. */
  readonly upload: Shape;
  readonly download: Shape;
  private outstanding = 0;
  /** How to fail each request still waiting for its answer. */
  private readonly waiting = new Set<() => void>();
  private lastProgress = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private death: { kind: 'timeout' | 'lost'; reason: string; cause?: unknown } | undefined;
  private readonly closed: Promise<void>;

  constructor(
    private readonly client: Client,
    readonly sftp: SFTPWrapper,
    private readonly timeoutMs: number,
    /** True when the server offers posix-rename@openssh.com (an atomic, replacing rename). */
    readonly posixRename: boolean,
  ) {
    this.upload = transferShape(sftp, '_maxWriteLen');
    this.download = transferShape(sftp, '_maxReadLen');
    this.closed = new Promise((resolve) => client.once('close', () => resolve()));
    client.on('error', (error: unknown) =>
      this.die({ kind: 'lost', reason: messageOf(error), cause: error }),
    );
    client.on('close', () => this.die({ kind: 'lost', reason: 'the connection was closed' }));
    sftp.on('error', (error: unknown) =>
      this.die({ kind: 'lost', reason: messageOf(error), cause: error }),
    );
    sftp.on('close', () => this.die({ kind: 'lost', reason: 'the SFTP channel was closed' }));
  }

  get alive(): boolean {
    return this.death === undefined;
  }

  /** Sends one request; `start` gets a callback in ssh2's style. */
  request<T>(context: string, start: (done: Done<T>) => void): Promise<T> {
    if (this.death) return Promise.reject(this.failure(undefined, context));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      this.begin();
      const done: Done<T> = (error, value) => {
        if (settled) return;
        settled = true;
        this.waiting.delete(abandon);
        this.progress();
        if (error) reject(this.failure(error, context));
        else resolve(value as T);
      };
      const abandon = (): void => done(new Error('the session ended'));
      this.waiting.add(abandon);
      try {
        start(done);
      } catch (error) {
        done(error instanceof Error ? error : new Error(messageOf(error)));
      }
    });
  }

  /** The failure a request gets: the session's death, or the server's refusal. */
  private failure(error: Error | undefined, context: string): TransportError {
    const death = this.death;
    if (death?.kind === 'timeout') {
      return new TransportTimeoutError(`${context}: ${death.reason}`, { cause: death.cause });
    }
    if (death) {
      // A keepalive timeout says more than "lost"; anything else is a lost connection.
      const classified =
        death.cause === undefined ? undefined : classifySshError(death.cause, context);
      if (classified instanceof TransportTimeoutError) return classified;
      return new TransportConnectError(`${context}: connection lost (${death.reason})`, {
        cause: death.cause,
      });
    }
    const status = property(error, 'code');
    if (typeof status === 'number' && error !== undefined) {
      return classifyStatus(new StatusError(error.message, status), context);
    }
    return classifySshError(error, context);
  }

  private begin(): void {
    if (this.outstanding === 0) this.lastProgress = Date.now();
    this.outstanding += 1;
    this.arm(this.timeoutMs);
  }

  private progress(): void {
    this.outstanding -= 1;
    this.lastProgress = Date.now();
    if (this.outstanding === 0) this.disarm();
  }

  // One lazy timer rather than one per request: a transfer answers thousands per second.
  private arm(delay: number): void {
    if (this.watchdog !== undefined) return;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (this.outstanding === 0 || this.death) return;
      const idle = Date.now() - this.lastProgress;
      if (idle < this.timeoutMs) {
        this.arm(this.timeoutMs - idle);
        return;
      }
      this.kill(`the server answered nothing for ${this.timeoutMs} ms (stalled)`);
    }, delay);
  }

  private disarm(): void {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private die(death: NonNullable<SshSession['death']>): void {
    this.death ??= death;
    this.disarm();
    // ssh2 does not answer every request of a channel that died (a directory listing cut
    // mid-reply waited for ever, found by the fault runs): fail them here, with the death.
    for (const abandon of [...this.waiting]) abandon();
  }

  /** Ends a stalled session: every waiting request fails with a timeout. */
  private kill(reason: string): void {
    this.die({ kind: 'timeout', reason });
    this.client.destroy();
  }

  /** Ends the session politely, or destroys it when the server does not say goodbye soon. */
  async end(): Promise<void> {
    this.die({ kind: 'lost', reason: 'the session was closed' });
    this.client.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closed,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1000);
      }),
    ]);
    clearTimeout(timer);
    this.client.destroy();
  }

  /** Destroys the connection at once (a failed session). */
  destroy(): void {
    this.die({ kind: 'lost', reason: 'the session was abandoned' });
    this.client.destroy();
  }
}

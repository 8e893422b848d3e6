/** SftpTransport: the Transport on one SSH session, reopened after a drop. */
import type { Readable, Writable } from 'node:stream';
import type { FileEntryWithStats } from 'ssh2';
import { DestinationRelay } from '../destination-relay';
import {
  TRANSPORT_CODES,
  TransportClosedError,
  TransportError,
  TransportNotFoundError,
} from '../errors';
import { isObject, OperationGate } from '../operation-gate';
import { checkRemotePath } from '../paths';
import type { RemoteEntry, Transport } from '../port';
import { retry } from '../retry';
import { download } from './download';
import { classifySshError } from './errors';
import { openWithFallback, type ConnectorMemory } from './open-session';
import type { ResolvedSftpOptions } from './options';
import { entryType, sizeOf } from './remote-file';
import type { SshSession } from './session';
import { upload } from './upload';

/**
 * A Transport on one SSH session, reused for every operation. Operations run one at a time,
 * in call order. When the session dies, the next operation opens a new one, retrying with
 * backoff.
 */
export class SftpTransport implements Transport {
  private current: SshSession | undefined;
  private closedByOwner = false;
  private readonly gate: OperationGate;

  constructor(
    private readonly options: ResolvedSftpOptions,
    private readonly where: string,
    private readonly memory: ConnectorMemory,
  ) {
    this.gate = new OperationGate(options.operationRetry);
  }

  /** Opens the session, retrying transient failures with the connect backoff. */
  async open(): Promise<SshSession> {
    let attempts = 0;
    try {
      const session = await retry(async (attempt) => {
        attempts = attempt;
        try {
          return await openWithFallback(this.options, this.where, this.memory);
        } catch (error) {
          throw this.redact(classifySshError(error, `connect ${this.where}`));
        }
      }, this.options.connectRetry);
      if (this.closedByOwner) {
        session.destroy();
        throw this.closedError();
      }
      this.current = session;
      return session;
    } catch (error) {
      this.gate.gaveUp(error, attempts);
      throw error;
    }
  }

  async put(source: Readable, remotePath: string): Promise<number> {
    let path: string;
    try {
      path = checkRemotePath(remotePath);
    } catch (error) {
      source.destroy();
      throw error;
    }
    const context = `put ${path} to ${this.where}`;
    let sourceFailure: unknown;
    const onSourceError = (error: unknown): void => {
      sourceFailure ??= error;
    };
    source.on('error', onSourceError);
    try {
      return await this.gate.exclusive(() =>
        retry(
          async () => {
            const session = await this.session();
            try {
              return await upload(session, source, path, context);
            } catch (error) {
              throw this.failure(error, context, error === sourceFailure);
            }
          },
          // A stream never read can still be sent whole; once read, it cannot.
          this.gate.repeatableWhile(() => !source.readableDidRead && !source.destroyed),
        ),
      );
    } catch (error) {
      source.destroy();
      throw error;
    } finally {
      source.off('error', onSourceError);
    }
  }

  async size(remotePath: string): Promise<number | undefined> {
    const path = checkRemotePath(remotePath);
    return this.repeatable(`size ${path} on ${this.where}`, (session, context) =>
      sizeOf(session, path, context),
    );
  }

  async list(remoteFolder: string): Promise<RemoteEntry[]> {
    const folder = remoteFolder === '' ? '' : checkRemotePath(remoteFolder, 'remote folder');
    const context = `list ${folder === '' ? 'the login folder' : folder} on ${this.where}`;
    return this.repeatable(context, async (session) => {
      try {
        const entries = await session.request<FileEntryWithStats[]>(context, (done) =>
          session.sftp.readdir(folder === '' ? '.' : folder, done),
        );
        return entries
          .filter((entry) => entry.filename !== '.' && entry.filename !== '..')
          .map((entry) => ({
            name: entry.filename,
            size: entry.attrs.size ?? 0,
            type: entryType(entry),
          }));
      } catch (error) {
        if (error instanceof TransportNotFoundError) {
          error.message = `${context}: no such folder`;
        }
        throw error;
      }
    });
  }

  async get(remotePath: string, destination: Writable): Promise<number> {
    const path = checkRemotePath(remotePath);
    const context = `get ${path} from ${this.where}`;
    const delivery = new DestinationRelay(destination);
    try {
      await this.gate.exclusive(() =>
        retry(
          async () => {
            const session = await this.session();
            try {
              await download(session, path, delivery, context);
            } catch (error) {
              throw this.failure(error, context, error === delivery.failure);
            }
          },
          // Reads are positioned: a retry resumes where the data stopped.
          this.gate.repeatableWhile(() => delivery.failure === undefined),
        ),
      );
      await delivery.end();
      return delivery.bytes;
    } catch (error) {
      delivery.detach();
      // Free the caller's file descriptor; no 'error' event, the rejection says it all.
      destination.destroy();
      throw error;
    }
  }

  async delete(remotePath: string): Promise<boolean> {
    const path = checkRemotePath(remotePath);
    const context = `delete ${path} on ${this.where}`;
    return this.repeatable(context, async (session) => {
      try {
        await session.request<void>(context, (done) => session.sftp.unlink(path, done));
        return true;
      } catch (error) {
        if (error instanceof TransportNotFoundError) return false;
        // Some servers answer a missing file with a bare FAILURE: only a file that is
        // really gone is "already absent", a refusal must not pass for a deletion.
        if (error instanceof TransportError && error.code === TRANSPORT_CODES.REFUSED) {
          if ((await sizeOf(session, path, context)) === undefined) return false;
        }
        throw error;
      }
    });
  }

  /**
   * Renames, replacing a file of the target name. SFTP's own RENAME refuses an existing
   * target (draft-02), so: OpenSSH's posix-rename@openssh.com extension when the server
   * offers it (atomic, replaces); otherwise RENAME, and when the target is in the way,
   * DELETE it and RENAME again (not atomic: for a moment neither name exists).
   */
  async rename(fromPath: string, toPath: string): Promise<void> {
    const from = checkRemotePath(fromPath, 'rename source');
    const to = checkRemotePath(toPath, 'rename target');
    const context = `rename ${from} to ${to} on ${this.where}`;
    await this.repeatable(context, async (session, _context, attempt) => {
      const { sftp } = session;
      try {
        if (session.posixRename) {
          await session.request<void>(context, (done) => sftp.ext_openssh_rename(from, to, done));
          return;
        }
        try {
          await session.request<void>(context, (done) => sftp.rename(from, to, done));
        } catch (error) {
          if (!(error instanceof TransportError) || error.code !== TRANSPORT_CODES.REFUSED) {
            throw error;
          }
          if ((await sizeOf(session, to, context)) === undefined) throw error;
          await session
            .request<void>(context, (done) => sftp.unlink(to, done))
            .catch((unlinkError: unknown) => {
              if (!(unlinkError instanceof TransportNotFoundError)) throw unlinkError;
            });
          await session.request<void>(context, (done) => sftp.rename(from, to, done));
        }
      } catch (error) {
        if (!(error instanceof TransportNotFoundError)) throw error;
        // The source is gone. After a dropped session, an earlier attempt may have renamed
        // it before the answer was lost: the target tells.
        if (attempt > 1 && (await sizeOf(session, to, context)) !== undefined) return;
        error.message = `${context}: ${from} does not exist`;
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closedByOwner) return;
    this.closedByOwner = true;
    const session = this.current;
    this.current = undefined;
    await session?.end();
  }

  /** The live session, opening a new one when the last one died. */
  private async session(): Promise<SshSession> {
    if (this.closedByOwner) throw this.closedError();
    if (this.current?.alive) return this.current;
    this.current?.destroy();
    this.current = undefined;
    return this.open();
  }

  /** Runs an operation that is safe to repeat, with the operation backoff. */
  private repeatable<T>(
    context: string,
    operation: (session: SshSession, context: string, attempt: number) => Promise<T>,
  ): Promise<T> {
    return this.gate.exclusive(() =>
      retry(
        async (attempt) => {
          const session = await this.session();
          try {
            return await operation(session, context, attempt);
          } catch (error) {
            throw this.failure(error, context, false);
          }
        },
        this.gate.repeatableWhile(() => true),
      ),
    );
  }

  /**
   * Turns a failure into what the caller gets. A failure of the caller's own stream
   * (`fromCaller`) is passed on unchanged unless it is a network failure.
   */
  private failure(error: unknown, context: string, fromCaller: boolean): unknown {
    if (this.closedByOwner) return this.closedError();
    if (fromCaller && !(error instanceof TransportError) && isObject(error)) {
      const classified = classifySshError(error, context);
      if (classified.code === TRANSPORT_CODES.FAILED) {
        this.gate.markLocal(error);
        return error;
      }
      return this.redact(classified);
    }
    return this.redact(classifySshError(error, context));
  }

  private closedError(): TransportClosedError {
    return new TransportClosedError(`${this.where}: the session was closed by its owner`);
  }

  /** Belt and braces: no message leaves with a password or passphrase in it. */
  private redact<E extends Error>(error: E): E {
    for (const secret of this.options.secrets) {
      if (error.message.includes(secret)) error.message = error.message.split(secret).join('***');
      if (error.stack?.includes(secret)) error.stack = error.stack.split(secret).join('***');
    }
    return error;
  }
}

/** FtpTransport: the Transport on one basic-ftp Client, reopened after a drop. */
import type { Readable, Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import { DestinationRelay } from '../destination-relay';
import {
  classifyFtpError,
  isFtpReply,
  TRANSPORT_CODES,
  TransportClosedError,
  TransportError,
  TransportNotFoundError,
  TransportRefusedError,
} from '../errors';
import { isObject, OperationGate } from '../operation-gate';
import { checkRemotePath } from '../paths';
import type { RemoteEntry, Transport } from '../port';
import { retry } from '../retry';
import { isReply } from './errors';
import { openSession } from './open-session';
import type { ResolvedFtpOptions } from './options';
import { missingOr, sizeOf, toEntry } from './remote-file';
import { endingAfterHandshake } from './tls';

/**
 * A Transport on one basic-ftp Client, reused for every operation. Operations
 * run one at a time, in call order. When a failure leaves the session dead or
 * out of step, the client is closed and the next operation opens a new
 * session, retrying with backoff.
 */
export class FtpTransport implements Transport {
  private readonly client: Client;
  private closedByOwner = false;
  private readonly gate: OperationGate;

  constructor(
    private readonly options: ResolvedFtpOptions,
    private readonly where: string,
  ) {
    this.client = new Client(options.timeoutMs);
    this.client.ftp.verbose = options.verbose;
    this.gate = new OperationGate(options.operationRetry);
  }

  /** Opens the session, retrying transient failures with the connect backoff. */
  async open(): Promise<void> {
    let attempts = 0;
    try {
      await retry(async (attempt) => {
        attempts = attempt;
        try {
          await openSession(this.client, this.options, this.where);
        } catch (error) {
          this.client.close();
          throw this.redact(classifyFtpError(error, `connect ${this.where}`));
        }
      }, this.options.connectRetry);
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
            const client = await this.session();
            let bytes = 0;
            client.trackProgress((info) => {
              bytes = info.bytes;
            });
            try {
              await client.uploadFrom(
                this.options.secure
                  ? endingAfterHandshake(source, () => client.ftp.dataSocket)
                  : source,
                path,
              );
              return bytes;
            } catch (error) {
              throw this.failure(error, context, error === sourceFailure);
            } finally {
              client.trackProgress();
            }
          },
          // A stream that was never read (the session died before the server
          // said "150 go ahead") can still be sent whole; once read, it cannot.
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
    return this.repeatable(`size ${path} on ${this.where}`, (client) => sizeOf(client, path));
  }

  async list(remoteFolder: string): Promise<RemoteEntry[]> {
    const folder = remoteFolder === '' ? '' : checkRemotePath(remoteFolder, 'remote folder');
    const context = `list ${folder === '' ? 'the login folder' : folder} on ${this.where}`;
    return this.repeatable(context, async (client) => {
      try {
        const infos = await client.list(folder);
        return infos
          .filter((info) => info.name !== '.' && info.name !== '..')
          .map((info) => toEntry(info, folder));
      } catch (error) {
        if (isReply(error, 550)) {
          throw new TransportNotFoundError(`${context}: no such folder (${error.message})`, {
            ftpCode: 550,
            cause: error,
          });
        }
        throw error;
      }
    });
  }

  async get(remotePath: string, destination: Writable): Promise<number> {
    const path = checkRemotePath(remotePath);
    const context = `get ${path} from ${this.where}`;
    const relay = new DestinationRelay(destination);
    try {
      await this.gate.exclusive(() =>
        retry(
          async () => {
            const client = await this.session();
            try {
              await client.downloadTo(relay.writable(), path);
            } catch (error) {
              throw this.failure(
                await missingOr(error, client, path, context),
                context,
                error === relay.failure,
              );
            }
          },
          // A download restarts from byte 0: only while the caller got nothing.
          this.gate.repeatableWhile(() => relay.bytes === 0 && relay.failure === undefined),
        ),
      );
      await relay.end();
      return relay.bytes;
    } catch (error) {
      relay.detach();
      // Free the caller's file descriptor; no 'error' event, the rejection says it all.
      destination.destroy();
      throw error;
    }
  }

  async delete(remotePath: string): Promise<boolean> {
    const path = checkRemotePath(remotePath);
    const context = `delete ${path} on ${this.where}`;
    return this.repeatable(context, async (client) => {
      try {
        await client.remove(path);
        return true;
      } catch (error) {
        if (!isReply(error, 550)) throw error;
        // 550 means "missing" or "not allowed" alike; only a missing file is
        // "already absent", a refusal must not pass for a deletion.
        if ((await sizeOf(client, path)) === undefined) return false;
        throw new TransportRefusedError(`${context}: ${error.message}`, 550, error);
      }
    });
  }

  async rename(fromPath: string, toPath: string): Promise<void> {
    const from = checkRemotePath(fromPath, 'rename source');
    const to = checkRemotePath(toPath, 'rename target');
    const context = `rename ${from} to ${to} on ${this.where}`;
    await this.repeatable(context, async (client, attempt) => {
      try {
        await client.rename(from, to);
      } catch (error) {
        if (!isReply(error, 550) || (await sizeOf(client, from)) !== undefined) throw error;
        // The source is gone. After a dropped session, an earlier attempt may
        // have renamed it before the reply was lost: the target tells.
        if (attempt > 1 && (await sizeOf(client, to)) !== undefined) return;
        throw new TransportNotFoundError(`${context}: ${from} does not exist (${error.message})`, {
          ftpCode: 550,
          cause: error,
        });
      }
    });
  }

  async close(): Promise<void> {
    if (this.closedByOwner) return;
    this.closedByOwner = true;
    this.client.close();
  }

  /** The live client, opening a new session when the last one died. */
  private async session(): Promise<Client> {
    if (this.closedByOwner) throw this.closedError();
    if (this.client.closed) await this.open();
    return this.client;
  }

  /** Runs an operation that is safe to repeat, with the operation backoff. */
  private repeatable<T>(
    context: string,
    operation: (client: Client, attempt: number) => Promise<T>,
  ): Promise<T> {
    return this.gate.exclusive(() =>
      retry(
        async (attempt) => {
          const client = await this.session();
          try {
            return await operation(client, attempt);
          } catch (error) {
            throw this.failure(error, context, false);
          }
        },
        this.gate.repeatableWhile(() => true),
      ),
    );
  }

  /**
   * Turns a failure into what the caller gets. A server reply leaves the
   * session in step; anything else may not (a late reply to an abandoned
   * transfer would answer the next command), so the client is closed and the
   * next operation starts afresh. A failure of the caller's own stream
   * (`fromCaller`) is passed on unchanged unless it is a network failure.
   */
  private failure(error: unknown, context: string, fromCaller: boolean): unknown {
    const reply =
      isFtpReply(error) || (error instanceof TransportError && error.ftpCode !== undefined);
    if (!reply && !this.client.closed) this.client.close();
    if (this.closedByOwner) return this.closedError();
    const classified = this.redact(classifyFtpError(error, context, { established: true }));
    if (fromCaller && classified.code === TRANSPORT_CODES.FAILED && isObject(error)) {
      this.gate.markLocal(error);
      return error;
    }
    return classified;
  }

  private closedError(): TransportClosedError {
    return new TransportClosedError(`${this.where}: the session was closed by its owner`);
  }

  /** Belt and braces: no message leaves with the password in it, whatever produced it. */
  private redact<E extends Error>(error: E): E {
    const { password } = this.options;
    // A very short password would blank out ordinary letters; it is not in
    // any message basic-ftp writes anyway (it masks PASS).
    if (password.length >= 4 && error.message.includes(password)) {
      error.message = error.message.split(password).join('***');
      if (error.stack) error.stack = error.stack.split(password).join('***');
    }
    return error;
  }
}

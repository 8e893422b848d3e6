import type { Readable, Writable } from 'node:stream';

/** One entry of a remote folder listing. */
export interface RemoteEntry {
  /** The bare file name (no folder). */
  name: string;
  /** Size in bytes as the server reports it. */
  size: number;
  type: 'file' | 'directory' | 'other';
}

/**
 * A connection to the transfer point's server, whatever the protocol (FTP
 * and FTPS now; SFTP later). Paths are relative to the user's home folder,
 * e.g. `INTEST/FI.DMFA.123456.20261125.00001.T.1.1`. One Transport is one
 * session reused for a whole set of files; `close` ends it.
 */
export interface Transport {
  /**
   * Uploads a stream as `remotePath`, replacing a file of that name, and
   * resolves with the number of bytes sent. The stream is consumed: a caller
   * that wants to retry must give a fresh one.
   */
  put(source: Readable, remotePath: string): Promise<number>;
  /** The size of a remote file, or undefined when there is no such file. */
  size(remotePath: string): Promise<number | undefined>;
  /** The entries of a remote folder. */
  list(remoteFolder: string): Promise<RemoteEntry[]>;
  /** Downloads a remote file into a stream; resolves with the bytes received. */
  get(remotePath: string, destination: Writable): Promise<number>;
  /** Deletes a remote file; resolves false when it was already absent. */
  delete(remotePath: string): Promise<boolean>;
  /** Renames (moves) a remote file. */
  rename(fromPath: string, toPath: string): Promise<void>;
  /** Ends the session; safe to call twice. */
  close(): Promise<void>;
}

/** Opens Transports to one server with one set of credentials. */
export interface TransportConnector {
  /** Opens a session (retrying transient failures with backoff). */
  connect(): Promise<Transport>;
  /** Where it connects, for logs and messages: `ftp[s]://user@host:port` (never a password). */
  describe(): string;
}

import type { Readable } from 'node:stream';

/** What the store knows of an object it holds. */
export interface StoredObject {
  key: string;
  size: number;
  /** SHA-256 of the bytes as stored, lower-case hex. */
  sha256: string;
}

/**
 * Where pulled responses are kept: a folder locally, an S3 bucket on AWS.
 * Keys are `/`-separated relative paths (`responses/T/20261125/ACRF/FO.ACRF...`).
 */
export interface ObjectStore {
  /**
   * Stores a stream under `key`, durably (fsync locally; a completed upload on
   * S3), and resolves with the size and SHA-256 of what was stored, read back
   * from the store rather than from the stream, so a caller can compare the
   * two. An existing object of that key is replaced.
   */
  put(key: string, source: Readable): Promise<StoredObject>;
  /** The object's facts, or undefined when there is none. */
  head(key: string): Promise<StoredObject | undefined>;
  /** A stream of the object's bytes. */
  open(key: string): Promise<Readable>;
  /** Where an object is, for people and events (a path or an s3:// URL). */
  locate(key: string): string;
}

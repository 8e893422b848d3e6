import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import {
  DeclarationContentChecker,
  FileInspection,
  looksLikeXml,
  XML_SNIFF_BYTES,
} from '../content';
import { BackgroundHash } from '../io/background-hash';
import type { DeclarationSource } from './source';

/**
 * What a send does with the whole source besides uploading its parts: the
 * content check (102, 138, 158) and, when no single part's digest is it,
 * the source's SHA-256 for the ledger.
 */
export interface WholeSource {
  /**
   * Sees the chunk of a part starting at `offset` on its way to the server. Throws a refusal
   * to stop the upload; a promise holds the chunk back until it settles.
   */
  see(chunk: Buffer, offset: number): Promise<void> | undefined;
  /** The verdict once every part was sent: the SHA-256 when asked for; throws a refusal. */
  finish(): Promise<string | undefined>;
  destroy(): Promise<void>;
}

/**
 * A local file is checked beside the upload, on a worker thread reading
 * the file itself ({@link FileInspection}); any other source (an S3 object)
 * in the same pass as the upload, from the bytes that go to the server.
 */
export function wholeSourceFor(
  source: DeclarationSource,
  app: string,
  sha256: boolean,
): WholeSource {
  if (source.localPath !== undefined) {
    return besideUpload(source.localPath, source.size, app, sha256);
  }
  const hash = sha256 ? new BackgroundHash('sha256') : undefined;
  const checker = new DeclarationContentChecker(app);
  return {
    see: eachByteOnce((fresh) => {
      checker.write(fresh);
      return hash?.update(fresh);
    }),
    finish: async () => {
      checker.end(); // the last rules need the whole document (a missing end tag...)
      return hash ? (await hash.digest()).toString('hex') : undefined;
    },
    destroy: async () => {
      await hash?.destroy();
    },
  };
}

/**
 * The worker checks the file; the SHA-256 is taken where a core is free. An
 * XML check keeps the worker busy (2.5 s for 1 GiB), so the main thread
 * hashes the bytes it uploads, in place; other content needs no check, so
 * the worker hashes its own read. Measured on 1 GiB over FTP: XML 3.2 s
 * this way against 4.0 s with the worker hashing too; records 2.2-2.4 s
 * either way.
 */
function besideUpload(path: string, size: number, app: string, sha256: boolean): WholeSource {
  const xml = looksLikeXml(readHead(path));
  const inspection = new FileInspection({ path, app, size, sha256: sha256 && !xml });
  const hash = sha256 && xml ? createHash('sha256') : undefined;
  const hashOnce = eachByteOnce((fresh) => {
    hash?.update(fresh);
    return undefined;
  });
  return {
    see: (chunk, offset) => {
      if (inspection.failure) throw inspection.failure; // stop the upload at once
      return hash ? hashOnce(chunk, offset) : undefined;
    },
    finish: async () => {
      const { sha256: digest } = await inspection.result();
      return hash ? hash.digest('hex') : digest;
    },
    destroy: () => inspection.destroy(),
  };
}

/** Feeds each byte of the source once to `consume`, though a part read again shows it again. */
function eachByteOnce(
  consume: (fresh: Buffer) => Promise<void> | undefined,
): (chunk: Buffer, offset: number) => Promise<void> | undefined {
  let fed = 0;
  return (chunk, offset) => {
    const end = offset + chunk.length;
    if (end <= fed) return undefined;
    const fresh = chunk.subarray(Math.max(0, fed - offset));
    fed = end;
    return consume(fresh);
  };
}

function readHead(path: string): Buffer {
  const head = Buffer.alloc(XML_SNIFF_BYTES);
  const fd = openSync(path, 'r');
  try {
    return head.subarray(0, readSync(fd, head, 0, head.length, 0));
  } finally {
    closeSync(fd);
  }
}

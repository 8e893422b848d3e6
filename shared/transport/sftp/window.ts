/** How SFTP transfers are cut into requests (SFTP_TRANSFER) and kept in flight (Window). */
import type { SFTPWrapper } from 'ssh2';
import { property } from './fields';

/**
 * How transfers are cut into SFTP requests. SFTP moves data in requests of at most one
 * packet each; one request at a time would wait a round trip per piece, so several are kept
 * in flight, as ssh2's `fastPut` does. Each request is as large as the server takes (OpenSSH
 * says 255 KiB through its `limits@openssh.com` extension; a server that does not say gets
 * about 32 KiB, the size every server must accept), so ssh2 never cuts one in two. Measured
 * against OpenSSH on loopback: 255 KiB x 8 uploads about 10% faster than 32 KiB x 64, both
 * with 2 MiB in flight.
 */
export const SFTP_TRANSFER = Object.freeze({
  /** Largest request sent, in bytes; the server's limit when smaller. */
  maxPieceBytes: 256 * 1024,
  /** Bytes in flight per transfer (at least 4 requests). */
  inFlightBytes: 2 * 1024 * 1024,
  /** Request size when the server's limit is unknown: what every server must accept. */
  fallbackPieceBytes: 32 * 1024,
});

/**
 * The request size and count for a channel. ssh2 keeps the server's limits in fields of its
 * own (`_maxWriteLen`, `_maxReadLen`: 255 KiB for OpenSSH, about 31 KiB otherwise) and cuts
 * bigger requests in pieces sent one after the other; they are read defensively here.
 */
export function transferShape(sftp: SFTPWrapper, field: '_maxWriteLen' | '_maxReadLen'): Shape {
  const limit = property(sftp, field);
  const piece =
    typeof limit === 'number' && Number.isInteger(limit) && limit >= 1024
      ? Math.min(limit, SFTP_TRANSFER.maxPieceBytes)
      : SFTP_TRANSFER.fallbackPieceBytes;
  return { piece, window: Math.max(4, Math.floor(SFTP_TRANSFER.inFlightBytes / piece)) };
}

/** Bytes per request and requests in flight. */
export interface Shape {
  piece: number;
  window: number;
}

/** A counter of requests in flight that lets a sender wait for a free slot. */
export class Window {
  private inFlight = 0;
  private waiting: (() => void) | undefined;
  private drained: (() => void) | undefined;

  constructor(private readonly size: number) {}

  /** Resolves once fewer than `size` requests are in flight. */
  async slot(): Promise<void> {
    while (this.inFlight >= this.size) {
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }

  /** Counts a request until `promise` settles (it must never reject). */
  track(promise: Promise<void>): void {
    this.inFlight += 1;
    void promise.then(() => {
      this.inFlight -= 1;
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.();
      if (this.inFlight === 0) {
        const drained = this.drained;
        this.drained = undefined;
        drained?.();
      }
    });
  }

  /** Resolves once no request is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const before = this.drained;
      this.drained = () => {
        before?.();
        resolve();
      };
    });
  }
}

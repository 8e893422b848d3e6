import type { ServerIdentityKind } from '../transport/errors';

/**
 * The events the receive path raises, one per state change or problem. The
 * names are the EventBridge detail-types on AWS, so they are constants shared
 * with the infrastructure.
 */
export const EVENT_TYPES = {
  /** A declaration's GO went out: the set is complete on the server. */
  launched: 'declaration.launched',
  /** A declaration was refused before its GO (name, content, duplicate...): nothing launched. */
  failed: 'declaration.failed',
  /** An ACRF accepted a declaration. */
  acknowledged: 'declaration.acknowledged',
  /** An ACRF rejected a declaration, with its error codes. */
  rejected: 'declaration.rejected',
  /** A NOTIFICATION answered a declaration without refusing it (accepted, with anomalies...). */
  notified: 'declaration.notified',
  /** A NOTIFICATION refused a declaration (ResultCode 0), with its first anomalies. */
  refused: 'declaration.refused',
  /** An answer that matches no declaration of the ledger: kept, reported. */
  orphan: 'response.orphan',
  /**
   * A response whose FS does not verify, came without one, or (with a trust configured) was
   * made by a signer the trust does not accept: kept, reported; with a trust, not applied.
   */
  signatureInvalid: 'response.signature-invalid',
  /** A response that could not be read (not well-formed XML): kept, reported. */
  malformed: 'response.malformed',
  /**
   * A compressed (CO) response that could not be unpacked, wholly or in part (corrupt, unsafe
   * entry names, too large, encrypted, not zip or gzip): the original is kept, reported.
   */
  unpackProblem: 'response.unpack-problem',
  /** A file in a response folder whose name is outside the grammar: left, reported. */
  foreignFile: 'response.foreign-file',
  /**
   * The watchdog: a launched declaration has no ACRF after the allowed minutes, or an
   * acknowledged one of a notifying application no notification after the allowed hours.
   * Raised once per wait.
   */
  overdue: 'declaration.overdue',
  /** An operator cancelled a set before its GO (its TD sent, or nothing was uploaded). */
  cancelled: 'declaration.cancelled',
  /**
   * An operator's cancel or resend was refused (launched already, not refused, already resent,
   * another channel's...): nothing sent, the reason in the message.
   */
  operationRefused: 'operation.refused',
  /**
   * The transfer point's server presented an identity other than the pinned one: an SFTP host
   * key or an FTPS certificate. The connection was refused before logging in, nothing was
   * sent; the message names the pinned and the presented fingerprints and what to do.
   */
  serverIdentityChanged: 'server.identity-changed',
} as const;

/** One of the event names. */
export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

/** A server identity that is not the pinned one, as an event carries it. */
export interface ServerIdentityInEvent {
  /** `host-key` (SFTP) or `tls-certificate` (FTPS). */
  kind: ServerIdentityKind;
  /** The fingerprint pinned in the server secret or the channel (the old one). */
  pinned: string;
  /** The fingerprint the server presented (the new one). */
  presented: string;
}

/** A reception error or anomaly, with its meaning in words. */
export interface ErrorInWords {
  id: string;
  label: string;
}

/** What every event carries; fields that do not apply are absent. */
export interface TransferEvent {
  type: EventType;
  /** ISO time the event was raised. */
  at: string;
  /** The declaration's set id (`DMFA.123456.20261125.00001.R`), when known. */
  declaration?: string;
  /** The declaration's new state. */
  state?: string;
  /** The transfer point's ticket number. */
  ticket?: string;
  /** For a rejection: the reception errors, in words. */
  errors?: ErrorInWords[];
  /** For a notification: its verdict in words and the anomalies counted. */
  result?: string;
  anomalyCount?: number;
  /** For a notification: its first anomalies, each ErrorID with what, where and the value. */
  anomalies?: ErrorInWords[];
  /** For an overdue declaration: the answer it waits for, since when, and how late it is. */
  waitingFor?: 'acknowledgement' | 'notification';
  /** When the wait started (the GO, or the ACRF), ISO 8601 UTC. */
  since?: string;
  /** Whole minutes past the allowed wait. */
  lateByMinutes?: number;
  /** The response set the event comes from. */
  response?: string;
  /** The channel the event concerns, when one is named. */
  channel?: string;
  /** The server concerned, `ftps://user@host:port` (never a secret). */
  server?: string;
  /** For a server identity change: the pinned and the presented fingerprints. */
  serverIdentity?: ServerIdentityInEvent;
  /** Where the stored files are (paths or URLs). */
  files?: string[];
  /** A sentence for people. */
  message: string;
}

/** Sends events somewhere: a file, the console, EventBridge, SNS. */
export interface Notifier {
  notify(event: TransferEvent): Promise<void>;
}

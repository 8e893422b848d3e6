/** The types of a send: what to send, the ports it runs with, what it reports and returns. */
import type { DeclarationRecord, Ledger } from '../ledger';
import type { Environment } from '../names';
import type { DigestAlgorithm, FsFormat, SigningMaterial } from '../signing';
import type { RetryOptions, TransportConnector } from '../transport';
import type { PlanOptions, SendPlan } from './plan';
import type { DeclarationSource } from './source';

/** The declaration's name fields; the others come from the source and the plan. */
export interface DeclarationParams {
  app: string;
  sender: string;
  env: Environment;
  /** Five characters, or `next` (default) for the ledger's next free sequence. */
  seq?: string;
  /** YYYYMMDD; default today in Brussels. */
  date?: string;
}

/** What to send and how. */
export interface SendRequest {
  source: DeclarationSource;
  declaration: DeclarationParams;
  plan?: PlanOptions;
  digest?: DigestAlgorithm;
  fsFormat?: FsFormat;
  /** Send a source or a name the ledger counts as sent (an operator's explicit choice). */
  resend?: boolean;
  /**
   * The set key of the refused declaration this send files again (`onss-transfer resend`):
   * recorded on the new set as `resendOf`. The same bytes may then be launched again (no
   * DUPLICATE_CONTENT), but the source itself is sent once unless `resend` is given too.
   */
  resendOf?: string;
  /**
   * The channel the declaration goes through: its name is recorded on the set, and a
   * declaration of another sender than the channel's is refused before anything is sent
   * (ChannelSenderError, ACRF-108: the transfer point takes only the account's own sender).
   */
  channel?: { name: string; sender: string };
  /**
   * Refuse (EarlierFailureError) a source whose latest set failed, rather than claim a new set
   * under a new name. A queue-driven sender sets it: a repeated delivery of a refused source is
   * not a request to send it again. A person running `send` again leaves it off. Ignored with
   * `resend`.
   */
  refuseAfterFailure?: boolean;
}

/** Progress and milestones, for a progress bar or a log. */
export type SendEvent =
  | { type: 'planned'; plan: SendPlan; resumed: boolean }
  | { type: 'progress'; name: string; bytes: number; total: number }
  | { type: 'sent'; name: string; size: number }
  | { type: 'retry'; name: string; attempt: number; delayMs: number; reason: string }
  | { type: 'cleanup'; name: string }
  /** The set was recorded failed (a refusal, its files removed): it will never be launched. */
  | { type: 'abandoned'; setId: string; code: string; message: string }
  | { type: 'launched'; go: string };

/** The ports and settings the pipeline runs with. */
export interface SendContext {
  ledger: Ledger;
  connector: TransportConnector;
  /** Needed when the plan is signed (R always; T/S per setting). */
  material?: SigningMaterial;
  now?: () => Date;
  onEvent?: (event: SendEvent) => void;
  /** Retries of one file's upload on transient failures. */
  retry?: Partial<RetryOptions>;
}

/** The outcome of a send that launched its declaration. */
export interface SendResult {
  record: DeclarationRecord;
  plan: SendPlan;
  resumed: boolean;
  sha256: string;
  durationMs: number;
}

import { OnssTransferError } from '../errors';

/** Stable codes of notification failures. */
export const NOTIFY_CODES = {
  /** The event could not be delivered (the service refused it, failed, or did not answer). */
  FAILED: 'NOTIFY_FAILED',
  /** The event is larger than the channel takes, even with its file list trimmed. */
  TOO_LARGE: 'NOTIFY_EVENT_TOO_LARGE',
} as const;

/** One of {@link NOTIFY_CODES}. */
export type NotifyCode = (typeof NOTIFY_CODES)[keyof typeof NOTIFY_CODES];

/** An event that did not reach its channel. */
export class NotifyError extends OnssTransferError {
  /** True when sending the same event again later may succeed. */
  readonly transient: boolean;

  constructor(message: string, options: { code: NotifyCode; transient: boolean; cause?: unknown }) {
    super(message, { code: options.code, cause: options.cause });
    this.transient = options.transient;
  }
}

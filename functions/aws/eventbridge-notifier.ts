import {
  PutEventsCommand,
  type EventBridgeClient,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { NOTIFY_CODES, NotifyError, type Notifier, type TransferEvent } from '../../shared/notify';
import { EVENT_SOURCE } from '../config/names';
import { awsReason, describeAwsFailure } from './errors';
import { trimFiles, type TrimmedEvent } from './trim-files';

/** EventBridge's limit on one PutEvents entry (and on the whole request), in bytes. */
export const EVENTBRIDGE_ENTRY_LIMIT_BYTES = 256 * 1024;

/** Options of {@link eventBridgeNotifier}. */
export interface EventBridgeNotifierOptions {
  client: EventBridgeClient;
  /** The bus's name or ARN (`ONSS_EVENT_BUS`). */
  eventBusName: string;
  /** The events' `source`; default EVENT_SOURCE (`onss-transfer`), which the rules match. */
  source?: string;
}

/** Entry error codes that say the entry itself is wrong: sending it again cannot help. */
const PERMANENT_ENTRY_ERRORS: ReadonlySet<string> = new Set([
  'MalformedDetail',
  'InvalidArgument',
  'AccessDeniedException',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
]);

const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text));

/**
 * The size EventBridge counts for an entry: 14 bytes for the time, plus the UTF-8 bytes of the
 * source, the detail-type and the detail (AWS documents this sum; the bus name does not count).
 */
export function eventBridgeEntrySize(entry: PutEventsRequestEntry): number {
  return (
    (entry.Time === undefined ? 0 : 14) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, resource) => sum + bytes(resource), 0)
  );
}

/**
 * A Notifier on EventBridge `PutEvents`: one entry per event, `source` EVENT_SOURCE,
 * `detail-type` the event's type (EVENT_TYPES), `detail` the event as JSON, `time` the event's
 * time. PutEvents answers 200 even when the entry was refused (`FailedEntryCount`); that is a
 * NotifyError too, transient unless the entry's error code says the entry itself is wrong.
 * An event over the 256 KiB entry limit loses files from its list (the detail gets
 * `filesOmitted` and the message says how many); if it still does not fit, it is refused with
 * NOTIFY_EVENT_TOO_LARGE rather than cut somewhere arbitrary.
 */
export function eventBridgeNotifier(options: EventBridgeNotifierOptions): Notifier {
  const source = options.source ?? EVENT_SOURCE;
  const entryOf = ({ event, omitted }: TrimmedEvent): PutEventsRequestEntry => {
    const time = new Date(event.at);
    return {
      Source: source,
      DetailType: event.type,
      Detail: JSON.stringify(omitted > 0 ? { ...event, filesOmitted: omitted } : event),
      EventBusName: options.eventBusName,
      ...(Number.isNaN(time.getTime()) ? {} : { Time: time }),
    };
  };
  return {
    async notify(event: TransferEvent): Promise<void> {
      const about = `${event.type}${event.declaration ? ` for ${event.declaration}` : event.response ? ` for ${event.response}` : ''}`;
      const fitting = trimFiles(
        event,
        (candidate) => eventBridgeEntrySize(entryOf(candidate)) <= EVENTBRIDGE_ENTRY_LIMIT_BYTES,
      );
      if (fitting === undefined) {
        throw new NotifyError(
          `event ${about} is over EventBridge's ${EVENTBRIDGE_ENTRY_LIMIT_BYTES} bytes even without its files`,
          { code: NOTIFY_CODES.TOO_LARGE, transient: false },
        );
      }
      let output;
      try {
        output = await options.client.send(new PutEventsCommand({ Entries: [entryOf(fitting)] }));
      } catch (error) {
        const failure = describeAwsFailure(error);
        throw new NotifyError(`EventBridge did not take event ${about}: ${awsReason(failure)}`, {
          code: NOTIFY_CODES.FAILED,
          transient: failure.transient,
          cause: error,
        });
      }
      const entry = output.Entries?.[0];
      if ((output.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode !== undefined) {
        const code = entry?.ErrorCode ?? 'unknown error';
        const detail = entry?.ErrorMessage ? ` (${entry.ErrorMessage.slice(0, 200)})` : '';
        throw new NotifyError(`EventBridge refused event ${about}: ${code}${detail}`, {
          code: NOTIFY_CODES.FAILED,
          transient: !PERMANENT_ENTRY_ERRORS.has(code),
        });
      }
    },
  };
}

import { PublishCommand, type PublishCommandInput, type SNSClient } from '@aws-sdk/client-sns';
import {
  EVENT_TYPES,
  NOTIFY_CODES,
  NotifyError,
  type EventType,
  type Notifier,
  type TransferEvent,
} from '../../shared/notify';
import { awsReason, describeAwsFailure } from './errors';
import { trimFiles } from './trim-files';

/** SNS's limit on a message with its attributes, in bytes. */
export const SNS_MESSAGE_LIMIT_BYTES = 256 * 1024;

/** SNS takes subjects of fewer than 100 characters ("less than 100", says the API reference). */
export const SNS_SUBJECT_MAX_CHARS = 99;

/** Options of {@link snsNotifier}. */
export interface SnsNotifierOptions {
  client: SNSClient;
  /** The topic's ARN (`ONSS_TOPIC_ARN`). */
  topicArn: string;
}

const SUBJECT_PREFIX = 'onss-transfer: ';

/**
 * What each event type is, in a few words, for a subject line. A full Record on purpose: a new
 * event type does not compile until it has its subject here.
 */
const SUBJECTS: Readonly<Record<EventType, (event: TransferEvent) => string>> = {
  [EVENT_TYPES.launched]: (e) => `${e.declaration ?? 'declaration'} launched`,
  [EVENT_TYPES.failed]: (e) => `${e.declaration ?? 'declaration'} not sent`,
  [EVENT_TYPES.acknowledged]: (e) =>
    `${e.declaration ?? 'declaration'} accepted${e.ticket ? `, ticket ${e.ticket}` : ''}`,
  [EVENT_TYPES.rejected]: (e) =>
    `${e.declaration ?? 'declaration'} rejected${e.errors?.length ? ` (${e.errors.map((x) => x.id).join(', ')})` : ''}`,
  [EVENT_TYPES.notified]: (e) =>
    `${e.declaration ?? 'declaration'} notification${e.result ? `: ${e.result}` : ''}`,
  [EVENT_TYPES.refused]: (e) =>
    `${e.declaration ?? 'declaration'} refused${e.anomalies?.length ? ` (${e.anomalies.map((x) => x.id).join(', ')})` : ''}`,
  [EVENT_TYPES.orphan]: (e) => `answer ${e.response ?? ''} matches no declaration`,
  [EVENT_TYPES.signatureInvalid]: (e) => `invalid signature on response ${e.response ?? ''}`,
  [EVENT_TYPES.malformed]: (e) => `unreadable response ${e.response ?? ''}`,
  [EVENT_TYPES.unpackProblem]: (e) => `compressed response ${e.response ?? ''} not unpacked`,
  [EVENT_TYPES.foreignFile]: () => 'unexpected file in a response folder',
  [EVENT_TYPES.cancelled]: (e) => `${e.declaration ?? 'declaration'} cancelled`,
  [EVENT_TYPES.operationRefused]: (e) =>
    `operator request on ${e.declaration ?? 'a declaration'} refused`,
  [EVENT_TYPES.overdue]: (e) =>
    `${e.declaration ?? 'declaration'} overdue: ${e.waitingFor === 'notification' ? 'no notification' : 'no ACRF'}`,
  [EVENT_TYPES.serverIdentityChanged]: (e) =>
    `${e.channel === undefined ? '' : `channel ${e.channel}: `}server ${e.serverIdentity?.kind === 'host-key' ? 'host key' : e.serverIdentity?.kind === 'tls-certificate' ? 'certificate' : 'identity'} changed, nothing sent`,
};

/**
 * Text made safe for an SNS subject: accents dropped (é -> e), anything outside printable
 * ASCII replaced by `?`, runs of spaces (and line breaks) made one space, cut to `max`
 * characters with `...`.
 */
export function asciiSubject(text: string, max = SNS_SUBJECT_MAX_CHARS): string {
  const ascii = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return ascii.length <= max ? ascii : `${ascii.slice(0, max - 3).trimEnd()}...`;
}

/** The subject of an event's message: `onss-transfer: DMFA.123456.20261125.00001.R rejected (ACRF-108)`. */
export function snsSubject(event: TransferEvent): string {
  const describe = SUBJECTS[event.type] ?? ((e: TransferEvent) => e.type);
  return asciiSubject(`${SUBJECT_PREFIX}${describe(event)}`);
}

/** The body of an event's message: its sentence, then its facts one per line, for people. */
export function snsMessage(event: TransferEvent): string {
  const facts: Array<[string, string | number | undefined]> = [
    ['Event', event.type],
    ['Declaration', event.declaration],
    ['State', event.state],
    ['Ticket', event.ticket],
    ['Result', event.result],
    ['Anomalies', event.anomalyCount],
    ['Waiting for', event.waitingFor],
    ['Since', event.since],
    ['Late by', event.lateByMinutes === undefined ? undefined : `${event.lateByMinutes} min`],
    ['Response', event.response],
    ['Channel', event.channel],
    ['Server', event.server],
    ['Pinned', event.serverIdentity?.pinned],
    ['Presented', event.serverIdentity?.presented],
    ['At', event.at],
  ];
  const lines = [event.message, ''];
  for (const [label, value] of facts) {
    if (value !== undefined && value !== '') lines.push(`${`${label}:`.padEnd(13)}${value}`);
  }
  if (event.errors?.length) {
    lines.push('', 'Errors:');
    for (const error of event.errors) lines.push(`- ${error.id}: ${error.label}`);
  }
  if (event.anomalies?.length) {
    lines.push('', 'First anomalies:');
    for (const anomaly of event.anomalies) lines.push(`- ${anomaly.id}: ${anomaly.label}`);
  }
  if (event.files?.length) {
    lines.push('', 'Files:');
    for (const file of event.files) lines.push(`- ${file}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A Notifier on an SNS topic, for people (e-mail, chat): `Publish` with a readable subject
 * (ASCII, under 100 characters), a message with the event's sentence and its declaration,
 * state, ticket, errors in words and files, and a `type` message attribute (the event type)
 * that subscriptions can filter on. A message over SNS's 256 KiB lists fewer files and says how
 * many it left out. A failure is a NotifyError, transient for throttling and service faults.
 */
export function snsNotifier(options: SnsNotifierOptions): Notifier {
  const inputOf = (event: TransferEvent): PublishCommandInput => ({
    TopicArn: options.topicArn,
    Subject: snsSubject(event),
    Message: snsMessage(event),
    MessageAttributes: { type: { DataType: 'String', StringValue: event.type } },
  });
  // Message, subject and attribute (name, type and value) all count towards the limit.
  const size = (input: PublishCommandInput) =>
    Buffer.byteLength(input.Message ?? '') +
    Buffer.byteLength(input.Subject ?? '') +
    Object.entries(input.MessageAttributes ?? {}).reduce(
      (sum, [name, value]) =>
        sum +
        Buffer.byteLength(name) +
        Buffer.byteLength(value.DataType ?? '') +
        Buffer.byteLength(value.StringValue ?? ''),
      0,
    );
  return {
    async notify(event: TransferEvent): Promise<void> {
      const fitting = trimFiles(
        event,
        (candidate) => size(inputOf(candidate.event)) <= SNS_MESSAGE_LIMIT_BYTES,
      );
      if (fitting === undefined) {
        throw new NotifyError(
          `event ${event.type} is over SNS's ${SNS_MESSAGE_LIMIT_BYTES} bytes`,
          {
            code: NOTIFY_CODES.TOO_LARGE,
            transient: false,
          },
        );
      }
      try {
        await options.client.send(new PublishCommand(inputOf(fitting.event)));
      } catch (error) {
        const failure = describeAwsFailure(error);
        throw new NotifyError(`SNS did not take event ${event.type}: ${awsReason(failure)}`, {
          code: NOTIFY_CODES.FAILED,
          transient: failure.transient,
          cause: error,
        });
      }
    },
  };
}

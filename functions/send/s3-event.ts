/**
 * What an SQS message of the send queue names: the S3 objects created in the outbox. The queue
 * is fed by S3 event notifications; an EventBridge "Object Created" event is read too, so the
 * bucket can be wired either way. Pure.
 */
import { OnssTransferError } from '../../shared/errors';

/** An S3 object a message asks to send. */
export interface ObjectRef {
  bucket: string;
  /** The key, decoded (S3 notifications URL-encode it). */
  key: string;
  /** The version created, when the bucket is versioned. */
  versionId?: string;
}

/** A message of the send queue that is not an S3 object-created event. */
export class QueueMessageError extends OnssTransferError {
  constructor(why: string) {
    super(`the send queue message cannot be read: ${why}`, { code: 'QUEUE_MESSAGE' });
  }
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

// S3 notifications encode keys as in an HTML form: `+` for a space, then percent-escapes.
function decodeNotificationKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    throw new QueueMessageError(`the object key ${JSON.stringify(key)} is not URL-encoded`);
  }
}

function refOf(bucket: unknown, key: string | undefined, version: unknown): ObjectRef {
  const name = isObject(bucket) ? text(bucket.name) : undefined;
  if (name === undefined || key === undefined) {
    throw new QueueMessageError('an object record has no bucket name or key');
  }
  const versionId = text(version);
  return { bucket: name, key, ...(versionId === undefined ? {} : { versionId }) };
}

/**
 * The objects a queue message body names, in order. An S3 test event (sent once when the
 * notification is set up) and records of other event kinds name none. Throws QueueMessageError
 * for a body that is not JSON or not an S3 event at all.
 */
export function objectsOfMessage(body: string): ObjectRef[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new QueueMessageError('the body is not JSON');
  }
  if (!isObject(parsed)) throw new QueueMessageError('the body is not a JSON object');
  if (parsed.Event === 's3:TestEvent') return [];
  if (Array.isArray(parsed.Records)) {
    return parsed.Records.filter(
      (record): record is Json =>
        isObject(record) &&
        record.eventSource === 'aws:s3' &&
        typeof record.eventName === 'string' &&
        record.eventName.startsWith('ObjectCreated:'),
    ).map((record) => {
      const s3 = isObject(record.s3) ? record.s3 : {};
      const object = isObject(s3.object) ? s3.object : {};
      const key = text(object.key);
      return refOf(s3.bucket, key && decodeNotificationKey(key), object.versionId);
    });
  }
  if (parsed.source === 'aws.s3' && parsed['detail-type'] === 'Object Created') {
    const detail = isObject(parsed.detail) ? parsed.detail : {};
    const object = isObject(detail.object) ? detail.object : {};
    return [refOf(detail.bucket, text(object.key), object['version-id'])];
  }
  throw new QueueMessageError('it is neither an S3 event notification nor an EventBridge S3 event');
}

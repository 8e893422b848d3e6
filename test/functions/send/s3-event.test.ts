import { objectsOfMessage, QueueMessageError } from '../../../functions/send/s3-event';

function notification(records: unknown[]): string {
  return JSON.stringify({ Records: records });
}

function created(key: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventSource: 'aws:s3',
    eventName: 'ObjectCreated:Put',
    s3: { bucket: { name: 'bucket' }, object: { key, size: 10, ...extra } },
  };
}

describe('objectsOfMessage', () => {
  it.each([
    {
      title: 'an S3 notification, with its key decoded as a form',
      body: notification([created('outbox/DMFA/T/my+file%C3%A9%2B.xml')]),
      expected: [{ bucket: 'bucket', key: 'outbox/DMFA/T/my fileé+.xml' }],
    },
    {
      title: 'the version id of a versioned bucket',
      body: notification([created('outbox/a', { versionId: 'v-1' })]),
      expected: [{ bucket: 'bucket', key: 'outbox/a', versionId: 'v-1' }],
    },
    {
      title: 'several records, skipping other event kinds',
      body: notification([
        created('outbox/a'),
        { ...created('outbox/b'), eventName: 'ObjectRemoved:Delete' },
        created('outbox/c'),
      ]),
      expected: [
        { bucket: 'bucket', key: 'outbox/a' },
        { bucket: 'bucket', key: 'outbox/c' },
      ],
    },
    {
      title: 'the test event S3 sends when the notification is set up',
      body: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'bucket' }),
      expected: [],
    },
    {
      title: 'an EventBridge Object Created event',
      body: JSON.stringify({
        source: 'aws.s3',
        'detail-type': 'Object Created',
        detail: { bucket: { name: 'bucket' }, object: { key: 'outbox/x', 'version-id': 'v2' } },
      }),
      expected: [{ bucket: 'bucket', key: 'outbox/x', versionId: 'v2' }],
    },
  ])('reads $title', ({ body, expected }) => {
    expect(objectsOfMessage(body)).toEqual(expected);
  });

  it.each([
    { title: 'a body that is not JSON', body: 'hello' },
    { title: 'a JSON array', body: '[]' },
    { title: 'another kind of event', body: JSON.stringify({ source: 'aws.ec2' }) },
    { title: 'a record without a key', body: notification([created('')]) },
    { title: 'a key that is not URL-encoded', body: notification([created('outbox/%E0%A4%A')]) },
  ])('refuses $title', ({ body }) => {
    expect(() => objectsOfMessage(body)).toThrow(QueueMessageError);
  });
});

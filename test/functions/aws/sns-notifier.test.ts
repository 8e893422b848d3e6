import { PublishCommand, SNSClient, SNSServiceException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import {
  asciiSubject,
  SNS_MESSAGE_LIMIT_BYTES,
  snsMessage,
  snsNotifier,
  snsSubject,
} from '../../../functions/aws/sns-notifier';
import { EVENT_TYPES, serverIdentityChangedEvent } from '../../../shared/notify';
import { rejected, withManyFiles } from './helpers/events';

const sns = mockClient(SNSClient);
const snsClient = new SNSClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
});
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:onss';

beforeEach(() => sns.reset());

describe('snsNotifier', () => {
  const notifier = snsNotifier({ client: snsClient, topicArn: TOPIC });

  it('publishes a readable subject and message with a type attribute', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm1' });
    await notifier.notify(rejected);
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      TopicArn: TOPIC,
      Subject: 'onss-transfer: DMFA.123456.20261125.00001.R rejected (ACRF-108)',
      MessageAttributes: { type: { DataType: 'String', StringValue: 'declaration.rejected' } },
    });
    expect(input?.Message).toBe(
      [
        'DMFA.123456.20261125.00001.R was rejected: ACRF-108',
        '',
        'Event:       declaration.rejected',
        'Declaration: DMFA.123456.20261125.00001.R',
        'State:       rejected',
        'Ticket:      123456789',
        'Response:    ACRF.999999.20261125.00001.R',
        'At:          2026-11-25T10:00:00.000Z',
        '',
        'Errors:',
        '- ACRF-108: the sender is not served by this channel',
        '',
        'Files:',
        '- s3://b/responses/R/20261125/ACRF/FO.ACRF.999999.20261125.00001.R',
        '',
      ].join('\n'),
    );
  });

  it.each(Object.values(EVENT_TYPES))('gives %s a subject under 100 ASCII characters', (type) => {
    const subject = snsSubject({
      ...rejected,
      type,
      errors: Array.from({ length: 40 }, (_, i) => ({ id: `ACRF-${i}`, label: 'é' })),
    });
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^onss-transfer: [\x20-\x7e]+$/);
  });

  it.each([
    { title: 'accents', input: 'Déclaration refusée', expected: 'Declaration refusee' },
    { title: 'line breaks and controls', input: 'a\nb\u0007c', expected: 'a b?c' },
    { title: 'other scripts', input: 'ключ', expected: '????' },
    { title: 'a long text', input: 'x'.repeat(150), expected: `${'x'.repeat(96)}...` },
  ])('asciiSubject: $title', ({ input, expected }) => {
    expect(asciiSubject(input)).toBe(expected);
  });

  it('trims the files of a message over 256 KiB', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    await notifier.notify(withManyFiles(2000));
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(SNS_MESSAGE_LIMIT_BYTES);
    expect(message).toMatch(/\(\d+ more files not listed\)/);
  });

  it('maps a failed publish to a NotifyError, transient for throttling', async () => {
    sns.on(PublishCommand).rejects(
      new SNSServiceException({
        name: 'Throttled',
        $fault: 'client',
        $metadata: { httpStatusCode: 429 },
        message: 'slow down',
      }),
    );
    await expect(notifier.notify(rejected)).rejects.toMatchObject({
      code: 'NOTIFY_FAILED',
      transient: true,
    });
  });

  it('lists the first anomalies of a refusing notification in words', () => {
    const message = snsMessage({
      type: EVENT_TYPES.notified,
      at: '2026-11-25T10:00:00.000Z',
      declaration: 'DMFA.123456.20261125.00001.R',
      state: 'notified',
      result: 'refused: rejected for blocking anomalies',
      anomalyCount: 1,
      anomalies: [{ id: '00024-152', label: 'annex-30 code 152; blocking; in INSS' }],
      message: 'DMFA.123456.20261125.00001.R notified: refused',
    });
    expect(message).toContain('Result:      refused: rejected for blocking anomalies');
    expect(message).toContain(
      'First anomalies:\n- 00024-152: annex-30 code 152; blocking; in INSS',
    );
  });

  it('writes a changed server certificate: subject, channel, server and both fingerprints', () => {
    const pinned = `${'AB:'.repeat(31)}AB`;
    const presented = `${'CD:'.repeat(31)}CD`;
    const event = serverIdentityChangedEvent(
      { kind: 'tls-certificate', expected: pinned, actual: presented },
      {
        at: new Date('2026-11-25T10:00:00.000Z'),
        channel: 'payroll-a',
        where: 'ftps://T1@ftp.socialsecurity.be:21',
      },
    );
    expect(snsSubject(event)).toBe(
      'onss-transfer: channel payroll-a: server certificate changed, nothing sent',
    );
    const message = snsMessage(event);
    expect(message.startsWith(`${event.message}\n\n`)).toBe(true);
    expect(message).toContain(
      [
        'Event:       server.identity-changed',
        'Channel:     payroll-a',
        'Server:      ftps://T1@ftp.socialsecurity.be:21',
        `Pinned:      ${pinned}`,
        `Presented:   ${presented}`,
        'At:          2026-11-25T10:00:00.000Z',
      ].join('\n'),
    );
  });

  it('writes a changed SFTP host key without a channel', () => {
    const event = serverIdentityChangedEvent(
      { kind: 'host-key', expected: 'SHA256:old', actual: 'SHA256:new' },
      { at: new Date('2026-11-25T10:00:00.000Z'), where: 'sftp://T1@host:8022' },
    );
    expect(snsSubject(event)).toBe('onss-transfer: server host key changed, nothing sent');
    expect(snsMessage(event)).not.toContain('Channel:');
  });

  it('writes an orphan answer in words', () => {
    const message = snsMessage({
      type: EVENT_TYPES.orphan,
      at: '2026-11-25T10:00:00.000Z',
      response: 'ACRF.999999.20261125.00009.R',
      message: 'an answer matches no declaration',
    });
    expect(message).toContain('Response:    ACRF.999999.20261125.00009.R');
    expect(message).not.toContain('Declaration:');
  });
});

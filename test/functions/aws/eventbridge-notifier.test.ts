import {
  EventBridgeClient,
  EventBridgeServiceException,
  PutEventsCommand,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import {
  EVENTBRIDGE_ENTRY_LIMIT_BYTES,
  eventBridgeEntrySize,
  eventBridgeNotifier,
} from '../../../functions/aws/eventbridge-notifier';
import { EVENT_SOURCE } from '../../../functions/config/names';
import {
  NotifyError,
  serverIdentityChangedEvent,
  type TransferEvent,
} from '../../../shared/notify';
import { rejected, withManyFiles } from './helpers/events';

const eventBridge = mockClient(EventBridgeClient);
const ebClient = new EventBridgeClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
});

beforeEach(() => eventBridge.reset());

describe('eventBridgeNotifier', () => {
  const notifier = eventBridgeNotifier({ client: ebClient, eventBusName: 'onss-bus' });

  it('puts one entry: source, detail-type the event type, detail the event', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    await notifier.notify(rejected);
    const input = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input;
    expect(input?.Entries).toHaveLength(1);
    const entry = input?.Entries?.[0];
    expect(entry).toMatchObject({
      Source: EVENT_SOURCE,
      DetailType: 'declaration.rejected',
      EventBusName: 'onss-bus',
      Time: new Date(rejected.at),
    });
    expect(JSON.parse(entry?.Detail ?? '')).toEqual(rejected);
  });

  it('puts server.identity-changed with both fingerprints in its detail', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e2' }] });
    const event = serverIdentityChangedEvent(
      { kind: 'host-key', expected: 'SHA256:old', actual: 'SHA256:new' },
      { at: new Date('2026-11-25T10:00:00.000Z'), channel: 'payroll-a', where: 'sftp://T1@h:8022' },
    );
    await notifier.notify(event);
    const entry = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({ DetailType: 'server.identity-changed' });
    expect(JSON.parse(entry?.Detail ?? '')).toMatchObject({
      channel: 'payroll-a',
      server: 'sftp://T1@h:8022',
      serverIdentity: { kind: 'host-key', pinned: 'SHA256:old', presented: 'SHA256:new' },
    });
  });

  it.each([
    { title: 'throttled', code: 'ThrottlingException', transient: true },
    { title: 'an internal failure', code: 'InternalFailure', transient: true },
    { title: 'a malformed detail', code: 'MalformedDetail', transient: false },
  ])('treats a partly failed PutEvents ($title) as an error', async ({ code, transient }) => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: code, ErrorMessage: 'went wrong' }],
    });
    const notifying = notifier.notify(rejected);
    await expect(notifying).rejects.toBeInstanceOf(NotifyError);
    await expect(notifying).rejects.toMatchObject({ code: 'NOTIFY_FAILED', transient });
    await expect(notifying).rejects.toThrow(
      `EventBridge refused event declaration.rejected for DMFA.123456.20261125.00001.R: ${code} (went wrong)`,
    );
  });

  it('maps a failed call to a NotifyError', async () => {
    eventBridge.on(PutEventsCommand).rejects(
      new EventBridgeServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'no',
      }),
    );
    await expect(notifier.notify(rejected)).rejects.toMatchObject({
      code: 'NOTIFY_FAILED',
      transient: false,
    });
  });

  it('trims the file list of an event over 256 KiB, and says so', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    await notifier.notify(withManyFiles(2000));
    const entry = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toBeDefined();
    if (entry === undefined) return;
    expect(eventBridgeEntrySize(entry)).toBeLessThanOrEqual(EVENTBRIDGE_ENTRY_LIMIT_BYTES);
    const detail = JSON.parse(entry.Detail ?? '') as TransferEvent & { filesOmitted: number };
    const kept = detail.files ?? [];
    expect(kept.length).toBeGreaterThan(1000);
    expect(kept.length + detail.filesOmitted).toBe(2000);
    expect(detail.message).toMatch(
      new RegExp(`\\(${detail.filesOmitted} more files not listed\\)$`),
    );
    // One more file would not have fitted.
    const oneMore = (withManyFiles(2000).files ?? []).slice(0, kept.length + 1);
    const fuller = { ...entry, Detail: JSON.stringify({ ...detail, files: oneMore }) };
    expect(eventBridgeEntrySize(fuller)).toBeGreaterThan(EVENTBRIDGE_ENTRY_LIMIT_BYTES);
  });

  it('refuses an event too large even without files', async () => {
    const huge = { ...rejected, message: 'x'.repeat(EVENTBRIDGE_ENTRY_LIMIT_BYTES) };
    await expect(notifier.notify(huge)).rejects.toMatchObject({
      code: 'NOTIFY_EVENT_TOO_LARGE',
      transient: false,
    });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});

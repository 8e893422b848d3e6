/**
 * The send function with named channels: each object goes through the channel its outbox
 * folder names, with that channel's account and signing material, and at most that channel's
 * number of sends at once; an object in no channel's folder, or of another sender than its
 * channel's, is refused and nothing is uploaded.
 */
import { METRIC_NAMES } from '../../../functions/config/names';
import { BUSY_DELAY_SECONDS } from '../../../functions/send/process';
import { todayInBrussels } from '../../../shared/names';
import { sendSlotNames } from '../../../shared/send';
import { TransportConnectError, TransportHostKeyError } from '../../../shared/transport';
import { declarationXml } from '../../transfer-point/helpers';
import { OUTBOX, startChannelSite, type ChannelSite } from '../helpers/channel-site';

const today = todayInBrussels();
let site: ChannelSite;

beforeEach(async () => {
  site = await startChannelSite();
});
afterEach(async () => {
  await site.stop();
});

const channelMetric = (name: string) =>
  site.metrics.filter((point) => point.name === name).map((point) => [point.channel, point.value]);

/** The GOs a channel's transfer point judged, once it is idle. */
async function launched(channel: ChannelSite['east']): Promise<string[]> {
  await channel.simulator.idle();
  return channel.simulator.judgements.map((judgement) => judgement.goName);
}

describe('send function: named channels', () => {
  it('sends each object through the channel its folder names, and records that channel', async () => {
    // Act
    const east = await site.send(site.drop(`${OUTBOX}east/DMFA/T/a.xml`, declarationXml()));
    const west = await site.send(
      site.drop(`${OUTBOX}west/DMFA/T/b.xml`, declarationXml('DMFA', 2)),
    );

    // Assess: each launched on its own transfer point, under its own sender
    expect([east, west]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    await site.east.simulator.idle();
    await site.west.simulator.idle();
    expect(site.east.simulator.judgements.map((j) => [j.setKey, j.accepted])).toEqual([
      [`DMFA.123456.${today}.00001.T.1`, true],
    ]);
    expect(site.west.simulator.judgements.map((j) => [j.setKey, j.accepted])).toEqual([
      [`DMFA.654321.${today}.00001.T.1`, true],
    ]);
    const records = await site.ledger.list();
    expect(records.map((record) => [record.id, record.channel, record.state])).toEqual(
      expect.arrayContaining([
        [`DMFA.123456.${today}.00001.T`, 'east', 'launched'],
        [`DMFA.654321.${today}.00001.T`, 'west', 'launched'],
      ]),
    );
    // Each channel's sends counted under its own dimension.
    const sent = site.metrics.filter((point) => point.name === METRIC_NAMES.declarationsSent);
    expect(sent.map((point) => point.channel).sort()).toEqual(['east', 'west']);
  });

  it.each([
    ['a folder that names no channel', `${OUTBOX}north/DMFA/T/a.xml`, /under "north\/"/],
    [
      'straight under the outbox',
      `${OUTBOX}FI.DMFA.123456.${today}.00001.T.1.1`,
      /no channel folder/,
    ],
  ])(
    'refuses an object in %s: declaration.failed UNKNOWN_CHANNEL, nothing uploaded',
    async (_t, key, why) => {
      // Act
      const response = await site.send(site.drop(key, declarationXml()));

      // Assess
      expect(response).toEqual({ batchItemFailures: [] });
      expect(site.notifier.events.map((event) => event.type)).toEqual(['declaration.failed']);
      expect(site.notifier.events[0]?.message).toMatch(why);
      expect(site.notifier.events[0]?.errors?.[0]?.id).toBe('UNKNOWN_CHANNEL');
      expect(site.notifier.events[0]?.message).toContain('east, west');
      expect([...(await launched(site.east)), ...(await launched(site.west))]).toEqual([]);
      expect(await site.ledger.list()).toEqual([]);
    },
  );

  it("refuses a declaration of another sender than its channel's (ACRF-108), nothing uploaded", async () => {
    // Act: an FI of east's sender put in west's folder
    const key = `${OUTBOX}west/FI.DMFA.123456.${today}.00001.T.1.1`;
    const response = await site.send(site.drop(key, declarationXml()));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(site.notifier.events.map((event) => event.type)).toEqual(['declaration.failed']);
    expect(site.notifier.events[0]?.errors?.[0]?.id).toBe('ACRF-108');
    expect([...(await launched(site.east)), ...(await launched(site.west))]).toEqual([]);
  });

  it('waits while the channel sends as many as it may: the message goes back to the queue, delayed', async () => {
    // Prepare: another run holds east's one send slot
    const [slot] = sendSlotNames('east', 1);
    expect(await site.ledger.acquireRunLease(slot ?? '', 'another-run', 60_000)).toBe(true);
    const body = site.drop(`${OUTBOX}east/DMFA/T/a.xml`, declarationXml());

    // Act
    const busy = await site.send(body);
    const west = await site.send(
      site.drop(`${OUTBOX}west/DMFA/T/b.xml`, declarationXml('DMFA', 2)),
    );

    // Assess: east's message handed back to the queue, done for this delivery; nothing of it
    // uploaded; west, with its own slot, sent meanwhile
    expect(busy).toEqual({ batchItemFailures: [] });
    expect(site.requeued).toEqual([{ body, delaySeconds: BUSY_DELAY_SECONDS }]);
    expect(await launched(site.east)).toEqual([]);
    expect(west).toEqual({ batchItemFailures: [] });
    expect(await launched(site.west)).toHaveLength(1);
    expect(site.metrics.filter((point) => point.name === METRIC_NAMES.sendsDeferred)).toMatchObject(
      [{ channel: 'east', value: 1 }],
    );

    // Act: the slot is free again; the queue brings the message back
    await site.ledger.releaseRunLease(slot ?? '', 'another-run');
    const again = await site.send(body);

    // Assess: sent, and the slot given back
    expect(again).toEqual({ batchItemFailures: [] });
    expect(await launched(site.east)).toHaveLength(1);
    expect(await site.ledger.acquireRunLease(slot ?? '', 'a-third-run', 60_000)).toBe(true);
  });

  it('uses a second slot when the channel may send two at once', async () => {
    // Prepare
    const [first] = sendSlotNames('east', 2);
    await site.ledger.acquireRunLease(first ?? '', 'another-run', 60_000);
    const deps = site.sendDeps();
    const channels = deps.channels.map((channel) => ({ ...channel, maxSends: 2 }));

    // Act
    const response = await site.send(site.drop(`${OUTBOX}east/DMFA/T/a.xml`, declarationXml()), {
      channels,
    });

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(site.requeued).toEqual([]);
    expect(await launched(site.east)).toHaveLength(1);
  });

  it.each([
    ['there is no queue to put it back on', undefined],
    [
      'putting it back fails',
      async (): Promise<void> => {
        throw new Error('SQS is unreachable');
      },
    ],
  ])('returns a busy message as a failure when %s', async (_title, requeue) => {
    // Prepare
    const [slot] = sendSlotNames('east', 1);
    await site.ledger.acquireRunLease(slot ?? '', 'another-run', 60_000);

    // Act
    const response = await site.send(site.drop(`${OUTBOX}east/DMFA/T/a.xml`, declarationXml()), {
      requeue,
    });

    // Assess
    expect(response.batchItemFailures).toHaveLength(1);
    expect(await launched(site.east)).toEqual([]);
  });

  it('settles a repeated delivery of a launched declaration without waiting for a slot', async () => {
    // Prepare: sent once; then another run holds the slot
    const body = site.drop(`${OUTBOX}east/DMFA/T/a.xml`, declarationXml());
    await site.send(body);
    const [slot] = sendSlotNames('east', 1);
    await site.ledger.acquireRunLease(slot ?? '', 'another-run', 60_000);

    // Act
    const again = await site.send(body);

    // Assess: done at once, nothing requeued, nothing uploaded again
    expect(again).toEqual({ batchItemFailures: [] });
    expect(site.requeued).toEqual([]);
    expect(await launched(site.east)).toHaveLength(1);
  });

  it("cancels through the set's own channel folder, and refuses one of another sender", async () => {
    // Prepare: a set of east uploaded but not launched is what a cancel is for; a launched one
    // is refused, which is enough to see the routing and the sender check
    await site.send(site.drop(`${OUTBOX}east/DMFA/T/a.xml`, declarationXml()));
    const id = `DMFA.123456.${today}.00001.T`;

    // Act
    await site.send(site.drop(`${OUTBOX}west/cancel/${id}`, ''));
    await site.send(site.drop(`${OUTBOX}east/cancel/${id}`, ''));

    // Assess: through west, refused as another sender's; through east, too late (launched)
    const refused = site.notifier.events.filter((event) => event.type === 'operation.refused');
    expect(refused.map((event) => event.message)).toEqual([
      expect.stringContaining('[ACRF-108]'),
      expect.stringContaining('[CANCEL_TOO_LATE]'),
    ]);
    expect(await launched(site.west)).toEqual([]);
  });

  it('raises server.identity-changed naming both fingerprints when the server shows another host key, and tries again later', async () => {
    // Prepare: east's server presents a key other than the pinned one
    const pinned = `SHA256:${'A'.repeat(43)}`;
    const presented = `SHA256:${'B'.repeat(43)}`;
    const channels = site.sendDeps().channels.map((channel) =>
      channel.name === 'east'
        ? {
            ...channel,
            server: 'sftp://east.example.be:8022',
            // As the SFTP connector refuses it: at connect, after the set was claimed.
            connector: async () => ({
              describe: () => 'sftp://sender@east.example.be:8022',
              connect: () =>
                Promise.reject(
                  new TransportHostKeyError('refused before logging in', {
                    actual: presented,
                    expected: pinned,
                  }),
                ),
            }),
          }
        : channel,
    );

    // Act
    const response = await site.send(site.drop(`${OUTBOX}east/DMFA/T/a.xml`, declarationXml()), {
      channels,
    });

    // Assess: the message comes back (the pin may be fixed); the event names both keys
    expect(response.batchItemFailures).toHaveLength(1);
    expect(site.notifier.events).toMatchObject([
      {
        type: 'server.identity-changed',
        channel: 'east',
        server: 'sftp://east.example.be:8022',
        serverIdentity: { kind: 'host-key', pinned, presented },
      },
    ]);
    expect(site.notifier.events[0]?.message).toContain('nothing was sent');
    expect(channelMetric(METRIC_NAMES.serverIdentityChanged)).toEqual([['east', 1]]);
    expect(await launched(site.east)).toEqual([]);
    // The set waits, resumable under its names, for the pin to be fixed (never failed).
    expect((await site.ledger.list()).map((record) => record.state)).toEqual(['uploading']);
  });

  it.each(['cancelled', 'failed'] as const)(
    'never launches a resend whose set was %s when its message comes back, slot taken or not',
    async (ending) => {
      // Prepare: a rejected set of east, and its resend, whose upload fails on the network
      await site.send(site.drop(`${OUTBOX}east/DMFA/T/a.xml`, declarationXml()));
      const first = `DMFA.123456.${today}.00001.T`;
      await site.ledger.transition(first, 'launched', 'rejected', {
        acknowledgement: {
          accepted: false,
          errors: ['ACRF-129'],
          response: `ACRF.999999.${today}.00001.T`,
          at: new Date().toISOString(),
        },
      });
      const body = site.drop(`${OUTBOX}east/resend/${first}/b.xml`, declarationXml('DMFA', 4));
      const unreachable = site.sendDeps().channels.map((channel) => ({
        ...channel,
        connector: async () => ({
          describe: () => 'ftp://nowhere',
          connect: () => Promise.reject(new TransportConnectError('connection refused')),
        }),
      }));
      expect((await site.send(body, { channels: unreachable })).batchItemFailures).toHaveLength(1);
      const resend = `DMFA.123456.${today}.00002.T`;
      expect((await site.ledger.get(resend))?.state).toBe('uploading');
      // ... then cancelled by an operator, or recorded failed
      const record = await site.ledger.get(resend);
      if (record?.owner !== undefined) await site.ledger.releaseLease(resend, record.owner);
      await site.ledger.transition(
        resend,
        'uploading',
        ending,
        ending === 'failed'
          ? { failure: { code: 'TRANSPORT_REFUSED', message: '553 refused' } }
          : undefined,
      );
      const launchedBefore = await launched(site.east);

      // Act: the message comes back, once while another run holds the slot, once free
      const [slot] = sendSlotNames('east', 1);
      await site.ledger.acquireRunLease(slot ?? '', 'another-run', 60_000);
      await site.send(body);
      await site.ledger.releaseRunLease(slot ?? '', 'another-run');
      const again = await site.send(body);

      // Assess: done, nothing launched, no new set
      expect(again).toEqual({ batchItemFailures: [] });
      expect(await launched(site.east)).toEqual(launchedBefore);
      expect((await site.ledger.list()).map((r) => [r.id, r.state])).toEqual([
        [first, 'rejected'],
        [resend, ending],
      ]);
    },
  );
});

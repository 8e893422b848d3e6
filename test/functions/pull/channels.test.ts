/**
 * The pull function with named channels: each channel's account pulled under its own run
 * lease, its answers stored under `responses/<channel>/` and tied to its declarations, its
 * metrics under its own dimension; one channel that cannot be pulled never stops the others.
 */
import { readdirSync } from 'node:fs';
import { sep } from 'node:path';
import { METRIC_NAMES } from '../../../functions/config/names';
import {
  ChannelPullsFailedError,
  runChannelPulls,
  type PullChannelPorts,
} from '../../../functions/pull/process';
import { todayInBrussels } from '../../../shared/names';
import { pullRunLease } from '../../../shared/pull';
import { makeAnswerTrust } from '../../../shared/signing/answer-trust';
import { certificateFingerprint } from '../../../shared/signing/fingerprint';
import { localFolderStore } from '../../../shared/store';
import { TransportServerCertificateError } from '../../../shared/transport';
import { simulatorConnector } from '../../hostile/helpers/corpus';
import { declarationXml } from '../../transfer-point/helpers';
import { OUTBOX, startChannelSite, type ChannelSite } from '../helpers/channel-site';

const today = todayInBrussels();
const DAY = 86_400_000;
let site: ChannelSite;

beforeEach(async () => {
  site = await startChannelSite();
  await site.send(site.drop(`${OUTBOX}east/DMFA/T/a.xml`, declarationXml('DMFA', 3)));
  await site.send(site.drop(`${OUTBOX}west/DMFA/T/b.xml`, declarationXml('DMFA', 2)));
  await site.east.simulator.idle();
  await site.west.simulator.idle();
});
afterEach(async () => {
  await site.stop();
});

const EAST_SET = `DMFA.123456.${today}.00001.T`;
const WEST_SET = `DMFA.654321.${today}.00001.T`;

/** The pull ports of a channel of the site; `broken` makes its account unreachable. */
function channelPorts(channel: ChannelSite['east'], broken = false): PullChannelPorts {
  return {
    name: channel.name,
    connector: async () => {
      if (broken) throw new Error(`${channel.name}'s server cannot be reached`);
      return simulatorConnector(channel.simulator);
    },
    signingMaterial: async () => site.signer.material,
    answerTrust: async () =>
      makeAnswerTrust({
        fingerprints: [certificateFingerprint(site.answers.material.certificate)],
      }),
    serverSecretChangedAt: async () => new Date(Date.now() - 400 * DAY),
  };
}

function base() {
  return {
    environments: ['T'] as const,
    ledger: site.ledger,
    store: localFolderStore(site.storeRoot),
    notifier: site.notifier,
    log: site.log,
    metrics: { addMetric: () => undefined },
    countAnswer: () => undefined,
    owner: 'request-1',
    leaseMs: 60_000,
  };
}

const metricsFor = (channel: string) => ({
  addMetric: (name: string, unit: string, value: number) =>
    site.metrics.push({ name, unit: unit as 'Count', value, channel }),
});

const channelOf = (name: string) =>
  site.metrics.filter((point) => point.name === name).map((point) => [point.channel, point.value]);

describe('pull function: named channels', () => {
  it("pulls every channel's account, stores its answers under its name, and ties them", async () => {
    // Act
    const outcomes = await runChannelPulls(
      base(),
      [channelPorts(site.east), channelPorts(site.west)],
      { metricsFor },
    );

    // Assess
    expect(outcomes.map((outcome) => [outcome.channel, outcome.status])).toEqual([
      ['east', 'pulled'],
      ['west', 'pulled'],
    ]);
    expect((await site.ledger.get(EAST_SET))?.state).toBe('acknowledged');
    expect((await site.ledger.get(WEST_SET))?.state).toBe('acknowledged');
    const keys = (readdirSync(site.storeRoot, { recursive: true }) as string[])
      .map((path) => path.split(sep).join('/'))
      .filter((path) => path.split('/').length > 3);
    expect(keys.some((key) => key.startsWith('responses/east/T/'))).toBe(true);
    expect(keys.some((key) => key.startsWith('responses/west/T/'))).toBe(true);
    expect(keys.every((key) => /^responses\/(east|west)\//.test(key))).toBe(true);
    expect(channelOf(METRIC_NAMES.pullSuccess)).toEqual([
      ['east', 1],
      ['west', 1],
    ]);
    expect(channelOf(METRIC_NAMES.serverCredentialAgeDays)).toEqual([
      ['east', 400],
      ['west', 400],
    ]);
  });

  it('goes on with the other channels when one cannot be pulled, then fails the run', async () => {
    // Act
    const act = runChannelPulls(base(), [channelPorts(site.east, true), channelPorts(site.west)], {
      metricsFor,
    });

    // Assess: west pulled and tied; east left launched; the run fails naming east
    await expect(act).rejects.toThrow(ChannelPullsFailedError);
    await expect(act).rejects.toThrow(/the pull of east failed/);
    expect((await site.ledger.get(WEST_SET))?.state).toBe('acknowledged');
    expect((await site.ledger.get(EAST_SET))?.state).toBe('launched');
    expect(channelOf(METRIC_NAMES.pullSuccess)).toEqual([['west', 1]]);
    expect(site.log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'the pull of this channel failed; the others go on',
        keys: expect.objectContaining({ channel: 'east' }),
      }),
    );

    // Act: the next run, east reachable again
    await runChannelPulls(base(), [channelPorts(site.east)], { metricsFor });

    // Assess
    expect((await site.ledger.get(EAST_SET))?.state).toBe('acknowledged');
  });

  it('pulls only the channel the scheduled event names, under its own run lease', async () => {
    // Prepare: another run holds east's lease (west's is free)
    expect(await site.ledger.acquireRunLease(pullRunLease('east'), 'other', 60_000)).toBe(true);

    // Act
    const west = await runChannelPulls(base(), [channelPorts(site.east), channelPorts(site.west)], {
      only: 'west',
      metricsFor,
    });
    const east = await runChannelPulls(base(), [channelPorts(site.east), channelPorts(site.west)], {
      only: 'east',
      metricsFor,
    });

    // Assess
    expect(west.map((outcome) => [outcome.channel, outcome.status])).toEqual([['west', 'pulled']]);
    expect(east.map((outcome) => [outcome.channel, outcome.status])).toEqual([['east', 'skipped']]);
    expect((await site.ledger.get(EAST_SET))?.state).toBe('launched');
    await expect(
      runChannelPulls(base(), [channelPorts(site.east)], { only: 'north' }),
    ).rejects.toThrow(/north/);
  });

  it("raises server.identity-changed when a channel's server shows another certificate", async () => {
    // Prepare
    const pinned = 'AA:'.repeat(31) + 'AA';
    const presented = 'BB:'.repeat(31) + 'BB';
    const east: PullChannelPorts = {
      ...channelPorts(site.east),
      server: 'ftps://east.example.be:21',
      connector: async () => {
        throw new TransportServerCertificateError('refused before logging in', {
          actual: presented,
          expected: pinned,
        });
      },
    };

    // Act
    const act = runChannelPulls(base(), [east, channelPorts(site.west)], { metricsFor });

    // Assess
    await expect(act).rejects.toThrow(ChannelPullsFailedError);
    const changed = site.notifier.events.filter((e) => e.type === 'server.identity-changed');
    expect(changed).toMatchObject([
      {
        channel: 'east',
        server: 'ftps://east.example.be:21',
        serverIdentity: { kind: 'tls-certificate', pinned, presented },
      },
    ]);
    expect(channelOf(METRIC_NAMES.serverIdentityChanged)).toEqual([['east', 1]]);
    expect((await site.ledger.get(WEST_SET))?.state).toBe('acknowledged');
  });
});

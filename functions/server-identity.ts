/**
 * What both functions do when the transfer point's server shows another host key or
 * certificate than the pinned one: the connection was refused before logging in (nothing
 * sent); they raise `server.identity-changed` naming both fingerprints and count it in the
 * channel's ServerIdentityChanged metric, which its alarm watches. Raised at each refused
 * attempt, so it goes on being raised until a person checks the new fingerprint and updates
 * the pin (or finds out who is posing as the server).
 */
import { serverIdentityChangedEvent, type Notifier } from '../shared/notify';
import { notifyQuietly } from '../shared/send';
import { serverIdentityChange } from '../shared/transport';
import { METRIC_NAMES } from './config/names';
import { describeError, MetricUnit, type Log, type MetricSink } from './observability';

/**
 * Raises `server.identity-changed` when `error` is a refused server identity, and says
 * whether it was one. Never throws: the failure it reports is what the caller goes on with.
 */
export async function reportServerIdentity(
  error: unknown,
  context: { channel?: string; server: string; at: Date },
  ports: { notifier: Notifier; metrics: MetricSink; log: Log },
): Promise<boolean> {
  const change = serverIdentityChange(error);
  if (change === undefined) return false;
  ports.log.error("the server's identity changed: refused, nothing sent", {
    kind: change.kind,
    pinned: change.expected,
    presented: change.actual,
  });
  ports.metrics.addMetric(METRIC_NAMES.serverIdentityChanged, MetricUnit.Count, 1);
  await notifyQuietly(
    ports.notifier,
    serverIdentityChangedEvent(change, {
      at: context.at,
      where: context.server,
      ...(context.channel === undefined ? {} : { channel: context.channel }),
    }),
    (notifyError) =>
      ports.log.error('the server identity event was not raised', describeError(notifyError)),
  );
  return true;
}

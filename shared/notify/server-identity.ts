/**
 * The `server.identity-changed` event: the transfer point's server presented a host key or a
 * certificate other than the pinned one, the connection was refused before logging in, and a
 * person must find out why before anything is sent again.
 */
import type { ServerIdentityChange } from '../transport/errors';
import { EVENT_TYPES, type TransferEvent } from './events';

/** Where and when the change was seen, for {@link serverIdentityChangedEvent}. */
export interface ServerIdentityEventContext {
  /** When the server was refused. */
  at: Date;
  /** The channel whose pin it is, when one is named. */
  channel?: string;
  /** The server, as the connector describes it: `sftp://user@host:port`. Never a secret. */
  where: string;
}

/** What each kind of identity is called, and where its pin is kept. */
const KINDS: Readonly<
  Record<ServerIdentityChange['kind'], { protocol: string; what: string; pin: string }>
> = {
  'host-key': {
    protocol: 'SFTP',
    what: 'host key',
    pin: 'hostKeySha256 in the server secret (or the channel, --host-key-sha256)',
  },
  'tls-certificate': {
    protocol: 'FTPS',
    what: 'certificate',
    pin: 'serverCertSha256 in the server secret (or the channel, --server-cert-sha256)',
  },
};

/**
 * The `server.identity-changed` event of a refused server (see `serverIdentityChange`): its
 * message names the protocol, the pinned (old) and the presented (new) fingerprints, says that
 * nothing was sent, and what to do: check the new fingerprint with the transfer point by
 * another way than this connection, then update the pin, or leave it if they did not change
 * it (someone may be posing as the server). The event carries `serverIdentity`, `server` and,
 * when given, `channel`.
 *
 * @param change - the kind of identity and both fingerprints
 * @param context - when, the server, and the channel if any
 */
export function serverIdentityChangedEvent(
  change: ServerIdentityChange,
  context: ServerIdentityEventContext,
): TransferEvent {
  const { protocol, what, pin } = KINDS[change.kind];
  const channel = context.channel === undefined ? '' : ` (channel ${context.channel})`;
  return {
    type: EVENT_TYPES.serverIdentityChanged,
    at: context.at.toISOString(),
    ...(context.channel === undefined ? {} : { channel: context.channel }),
    server: context.where,
    serverIdentity: { kind: change.kind, pinned: change.expected, presented: change.actual },
    message:
      `The ${protocol} server ${context.where}${channel} presented the ${what} ${change.actual}, ` +
      `not the pinned ${change.expected}: the connection was refused before logging in, and ` +
      'nothing was sent. Check the new fingerprint with the transfer point, by another way than ' +
      `this connection; if it is theirs, update the pin (${pin}); if they did not change it, ` +
      'leave the pin: someone may be posing as the server.',
  };
}

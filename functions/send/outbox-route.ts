/**
 * Which channel an outbox object goes through. A deployment of one unnamed channel reads its
 * objects straight under the outbox prefix (`outbox/DMFA/R/...`, `outbox/cancel/<set>`); one
 * of named channels reads the channel from the first folder (`outbox/<channel>/DMFA/R/...`,
 * `outbox/<channel>/cancel/<set>`), so a file is never sent with another account's credentials
 * by accident: a folder that names no channel is refused, never sent through a default one.
 */
import { OnssTransferError } from '../../shared/errors';
import { printableName } from '../../shared/names/errors';
import type { SendChannel } from './process';

/** An object routed to its channel, with the outbox prefix of that channel's layout. */
export interface RoutedKey {
  kind: 'routed';
  channel: SendChannel;
  /** The prefix the rest of the key is read under: `<outbox>` or `<outbox><channel>/`. */
  prefix: string;
}

/** Where an outbox key goes: a channel, nowhere (a folder key), or a channel that is not one. */
export type OutboxRoute = RoutedKey | { kind: 'ignored' } | { kind: 'unknown'; name: string };

/** An object under a folder of the outbox that names none of the deployment's channels. */
export class UnknownChannelError extends OnssTransferError {
  constructor(key: string, name: string, channels: readonly SendChannel[]) {
    const known = channels.flatMap((channel) => (channel.name === undefined ? [] : [channel.name]));
    const where =
      name === ''
        ? 'is in no channel folder'
        : `is under "${printableName(name)}/", which is no channel of this deployment`;
    super(
      `"${printableName(key)}" ${where} (channels: ${known.join(', ')}): nothing sent; put it ` +
        'under <outbox><channel>/',
      { code: 'UNKNOWN_CHANNEL' },
    );
  }
}

/**
 * Routes `key` (under `prefix`, the outbox prefix with its slash) to its channel: the single
 * channel when it has no name, else the channel its first folder names.
 */
export function routeOutboxKey(
  key: string,
  prefix: string,
  channels: readonly SendChannel[],
): OutboxRoute {
  const [only] = channels;
  if (channels.length === 1 && only !== undefined && only.name === undefined) {
    return { kind: 'routed', channel: only, prefix };
  }
  if (!key.startsWith(prefix)) return { kind: 'unknown', name: '' };
  const rest = key.slice(prefix.length);
  const slash = rest.indexOf('/');
  // `outbox/`, `outbox/east/` and other folder keys name nothing to send.
  if (rest === '' || rest.endsWith('/')) return { kind: 'ignored' };
  // An object straight under the outbox names no channel: never sent through a default one.
  const name = slash < 0 ? '' : rest.slice(0, slash);
  const channel = channels.find((candidate) => candidate.name === name);
  if (channel === undefined) return { kind: 'unknown', name };
  return { kind: 'routed', channel, prefix: `${prefix}${name}/` };
}

/**
 * The list of channels of a deployment, from the `channels` context (a list in cdk.json, or its
 * JSON text from `-c`) or the JSON file `channelsFile` names: read and checked whole at synth,
 * every problem on a line naming the channel and the field.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  CHANNEL_PROTOCOLS,
  DEFAULT_MAX_SENDS,
  MAX_SENDS_LIMIT,
  type ChannelProtocol,
} from '../functions/config/channels';
import { CHANNEL_NAME } from '../shared/ledger/rules/declarations';
import {
  isHost,
  readAnswerFingerprints,
  SECRET_COMPLETE_ARN,
  SENDER,
  shown,
  wholeNumberIn,
} from './context-values';

/** The two context keys that give the list. */
export const CHANNELS_CONTEXT_KEYS = {
  channels: 'channels',
  channelsFile: 'channelsFile',
} as const;

/** What an entry that does not say takes: the transfer point's ports, FTP, one send at once. */
export const CHANNEL_DEFAULTS = {
  /** FTP and FTPS. */
  port: 21,
  /** SFTP: the transfer point's SSH port. */
  sftpPort: 8022,
  protocol: 'ftp',
  /** Sends at once through a channel: one FTP account, one send. */
  maxSends: DEFAULT_MAX_SENDS,
} as const;

/** The fields of one entry of `channels`, each documented in infra/README.md. */
export const CHANNEL_FIELDS = [
  'name',
  'sender',
  'host',
  'port',
  'protocol',
  'signingSecretArn',
  'serverSecretArn',
  'answerFingerprints',
  'answerCaSecretArn',
  'maxSends',
] as const;

/** One named channel of the `channels` context (or of `channelsFile`), validated. */
export interface ChannelContext {
  /** CHANNEL_NAME: the outbox folder, the metrics' `channel` dimension, the pull's input. */
  name: string;
  /** Sender number registered with the transfer point: six digits. */
  sender: string;
  /** Transfer point host name or IPv4 address. */
  host: string;
  /** Transfer point port (21, or 8022 for sftp, when the entry gives none). */
  port: number;
  protocol: ChannelProtocol;
  /** Complete ARN of an existing signing-material secret; absent: the stack creates one. */
  signingSecretArn?: string;
  /** Complete ARN of an existing server-credentials secret; absent: the stack creates one. */
  serverSecretArn?: string;
  /** Pinned SHA-256 fingerprints of the answers' signer, normalised; empty when none. */
  answerFingerprints: readonly string[];
  /** Complete ARN of a secret holding the PEM CA bundle the answers' signer must chain to. */
  answerCaSecretArn?: string;
  /** Sends at once through this channel, 1 to MAX_SENDS_LIMIT. */
  maxSends: number;
}

/**
 * The part a channel's name gives to the construct and output ids of its resources: the name in
 * PascalCase (`east-2` gives `East2`, hence `ChannelEast2ServerSecret`). Two names giving the
 * same part are refused at synth (see readChannels).
 */
export function channelIdPart(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Where a list of channels came from, and the list as parsed (not yet checked). */
interface ChannelsSource {
  /** How problem lines name it: `channels`, or `channelsFile (path)`. */
  where: string;
  raw: unknown;
}

/**
 * The named channels of `channels` (a list in cdk.json, or its JSON text from `-c`) or of the
 * JSON file `channelsFile` names (relative to `cwd`); undefined when neither is given. Every
 * problem goes to `problems` (the list returned is then not to be used).
 */
export function readChannels(
  inline: unknown,
  file: unknown,
  problems: string[],
  cwd: string,
): ChannelContext[] | undefined {
  const present = (value: unknown): boolean =>
    value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
  if (!present(inline) && !present(file)) return undefined;
  if (present(inline) && present(file)) {
    problems.push(
      `${CHANNELS_CONTEXT_KEYS.channels} and ${CHANNELS_CONTEXT_KEYS.channelsFile}: give the channels one way, ` +
        'not both',
    );
    return [];
  }
  const source = present(inline)
    ? parseInlineChannels(inline, problems)
    : readChannelsFile(file, problems, cwd);
  return source === undefined ? [] : checkChannels(source, problems);
}

function parseInlineChannels(value: unknown, problems: string[]): ChannelsSource | undefined {
  const where = CHANNELS_CONTEXT_KEYS.channels;
  if (typeof value !== 'string') return { where, raw: value };
  try {
    return { where, raw: JSON.parse(value) as unknown };
  } catch (error) {
    problems.push(
      `${where}: must be a JSON list of channels, but the text is not JSON ` +
        `(${(error as Error).message})`,
    );
    return undefined;
  }
}

function readChannelsFile(
  value: unknown,
  problems: string[],
  cwd: string,
): ChannelsSource | undefined {
  const key = CHANNELS_CONTEXT_KEYS.channelsFile;
  if (typeof value !== 'string') {
    problems.push(`${key}: must be the path of a JSON file, got ${shown(value)}`);
    return undefined;
  }
  const given = value.trim();
  const path = resolve(cwd, given);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push(
      `${key}: cannot read "${given}" (${path}): ` +
        (code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message)),
    );
    return undefined;
  }
  try {
    return { where: `${key} (${given})`, raw: JSON.parse(text) as unknown };
  } catch (error) {
    problems.push(`${key}: "${given}" is not JSON (${(error as Error).message})`);
    return undefined;
  }
}

/** Where a secret ARN is used: by which channel, as which field. */
interface SecretUse {
  channel: string;
  field: 'signingSecretArn' | 'serverSecretArn';
}

/**
 * Checks every entry of a list of channels, each problem on a line naming the channel (or the
 * entry's position, when it has no valid name) and the field: the messages mirror those of
 * channelEntryProblems (functions/config/channels.ts), which the stack runs again on what it
 * writes to ONSS_CHANNELS.
 */
function checkChannels({ where, raw }: ChannelsSource, problems: string[]): ChannelContext[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push(`${where}: must be a non-empty list of channels, got ${shown(raw)}`);
    return [];
  }
  const channels: ChannelContext[] = [];
  const idParts = new Map<string, string>();
  const secretUses = new Map<string, SecretUse[]>();
  const caSecrets: { at: string; arn: string }[] = [];
  raw.forEach((item: unknown, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(
        `${where}: entry ${index + 1} must be an object (a channel), got ${shown(item)}`,
      );
      return;
    }
    const entry = item as Record<string, unknown>;
    const name = typeof entry.name === 'string' && CHANNEL_NAME.test(entry.name) ? entry.name : '';
    const at = name === '' ? `${where}: entry ${index + 1}` : `${where}: channel "${name}"`;
    const before = problems.length;
    const fail = (field: string, what: string): void => {
      problems.push(`${at}: ${field} must be ${what}, got ${shown(entry[field])}`);
    };

    if (name === '') {
      fail('name', '1 to 32 lower-case letters, digits and dashes, a letter first');
    } else {
      const part = channelIdPart(name);
      const other = idParts.get(part);
      if (other === name) {
        problems.push(`${at}: the name is given twice`);
      } else if (other !== undefined) {
        problems.push(
          `${at}: gives the same resource ids (Channel${part}...) as channel "${other}": ` +
            'rename one',
        );
      } else {
        idParts.set(part, name);
      }
    }
    const sender = entry.sender;
    if (typeof sender !== 'string' || !SENDER.test(sender)) fail('sender', 'six digits');
    const host = typeof entry.host === 'string' ? entry.host.trim() : '';
    if (!isHost(host)) fail('host', 'a host name or an IPv4 address');
    let protocol: ChannelProtocol = CHANNEL_DEFAULTS.protocol;
    if (entry.protocol !== undefined) {
      const known = CHANNEL_PROTOCOLS.find((candidate) => candidate === entry.protocol);
      if (known === undefined) fail('protocol', `one of ${CHANNEL_PROTOCOLS.join(', ')}`);
      else protocol = known;
    }
    let port: number = protocol === 'sftp' ? CHANNEL_DEFAULTS.sftpPort : CHANNEL_DEFAULTS.port;
    if (entry.port !== undefined) {
      if (wholeNumberIn(entry.port, 1, 65535)) port = entry.port as number;
      else fail('port', 'a whole number from 1 to 65535');
    }
    let maxSends: number = CHANNEL_DEFAULTS.maxSends;
    if (entry.maxSends !== undefined) {
      if (wholeNumberIn(entry.maxSends, 1, MAX_SENDS_LIMIT)) maxSends = entry.maxSends as number;
      else fail('maxSends', `a whole number from 1 to ${MAX_SENDS_LIMIT}`);
    }
    const arn = (field: string): string | undefined => {
      const value = entry[field];
      if (value === undefined) return undefined;
      if (typeof value === 'string' && SECRET_COMPLETE_ARN.test(value)) return value;
      fail(field, 'the complete ARN of a Secrets Manager secret, with its 6-character suffix');
      return undefined;
    };
    const signingSecretArn = arn('signingSecretArn');
    const serverSecretArn = arn('serverSecretArn');
    const answerCaSecretArn = arn('answerCaSecretArn');
    const answerFingerprints =
      entry.answerFingerprints === undefined
        ? []
        : readAnswerFingerprints(entry.answerFingerprints, problems, `${at}: answerFingerprints`);
    for (const field of Object.keys(entry)) {
      if (!(CHANNEL_FIELDS as readonly string[]).includes(field)) {
        problems.push(
          `${at}: unknown field "${field}" (a channel has ${CHANNEL_FIELDS.join(', ')})`,
        );
      }
    }
    if (name !== '') {
      for (const [field, value] of [
        ['signingSecretArn', signingSecretArn],
        ['serverSecretArn', serverSecretArn],
      ] as const) {
        if (value === undefined) continue;
        secretUses.set(value, [...(secretUses.get(value) ?? []), { channel: name, field }]);
      }
      if (answerCaSecretArn !== undefined) caSecrets.push({ at, arn: answerCaSecretArn });
    }
    if (problems.length > before) return;
    channels.push({
      name,
      sender: sender as string,
      host,
      port,
      protocol,
      ...(signingSecretArn === undefined ? {} : { signingSecretArn }),
      ...(serverSecretArn === undefined ? {} : { serverSecretArn }),
      answerFingerprints,
      ...(answerCaSecretArn === undefined ? {} : { answerCaSecretArn }),
      maxSends,
    });
  });

  // A secret belongs to one channel and one role: a channel never logs in or signs with
  // another's credentials, and each secret's age alarm speaks for one channel.
  for (const uses of secretUses.values()) {
    const [first, ...others] = uses;
    if (first === undefined) continue;
    for (const use of others) {
      problems.push(
        use.channel === first.channel
          ? `${where}: channel "${use.channel}": signingSecretArn and serverSecretArn must be ` +
              'two different secrets'
          : `${where}: channel "${use.channel}": ${use.field} is also the ${first.field} of ` +
              `channel "${first.channel}": two channels never share a server or signing secret`,
      );
    }
  }
  for (const { at, arn } of caSecrets) {
    const [owner] = secretUses.get(arn) ?? [];
    if (owner !== undefined) {
      problems.push(
        `${at}: answerCaSecretArn must be a secret of its own (a PEM CA bundle), not the ` +
          `${owner.field} of channel "${owner.channel}"`,
      );
    }
  }
  return channels;
}

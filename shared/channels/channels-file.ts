/**
 * The channels of a deployment: each a sender number with its technical user, protocol, server
 * and credentials, named so that every command, record and metric can say which one. A channel
 * holds where its secrets are (an environment variable's name, a file's path), never a secret:
 * a file that holds a password, a passphrase or a key's text is refused.
 */
import { OnssTransferError } from '../errors';
import { CHANNEL_NAME } from '../ledger/rules/declarations';

/** The protocols a channel speaks. */
export const CHANNEL_PROTOCOLS = ['ftp', 'ftps', 'sftp'] as const;

/** One channel: its name, its sender and the settings of the flags it stands for. */
export interface Channel {
  /** Lower-case letters, digits and dashes, a letter first, at most 32 (CHANNEL_NAME). */
  name: string;
  /** The sender number this channel files for: six digits. */
  sender: string;
  host?: string;
  port?: number;
  /** The technical user. */
  user?: string;
  protocol?: (typeof CHANNEL_PROTOCOLS)[number];
  /** The environment variable holding the server password. */
  passwordEnv?: string;
  /** FTPS: the CA (PEM file) to trust for the server's certificate. */
  caFile?: string;
  /** FTPS: the pinned SHA-256 fingerprint of the server's certificate (`--server-cert-sha256`). */
  serverCertSha256?: string;
  /** SFTP: the private key file, the variable of its passphrase, the pinned host key. */
  sshKey?: string;
  sshKeyPasswordEnv?: string;
  hostKeySha256?: string;
  /** Signing: a PEM key and certificate, or a PKCS#12, and the variable of their password. */
  key?: string;
  cert?: string;
  p12?: string;
  keyPasswordEnv?: string;
  /** The transfer point's answer signer: pinned SHA-256 fingerprints, or a CA bundle file. */
  answerFingerprints?: string[];
  answerCaFile?: string;
  /** Sign T and S declarations too. */
  signTest?: boolean;
}

/** A channels file or entry that cannot be used, naming the channel and the field. */
export class ChannelConfigError extends OnssTransferError {
  constructor(where: string, why: string) {
    super(`${where}: ${why}`, { code: 'CHANNEL_CONFIG' });
  }
}

/** A `--channel` name the channels file does not hold. */
export class ChannelNotFoundError extends OnssTransferError {
  constructor(name: string, known: readonly string[], where: string) {
    super(
      `no channel "${name}" in ${where}` +
        `${known.length ? ` (it holds ${known.join(', ')})` : ' (it holds none)'}`,
      { code: 'CHANNEL_NOT_FOUND' },
    );
  }
}

type FieldKind = 'text' | 'port' | 'flag' | 'list';

const FIELDS: Readonly<Record<Exclude<keyof Channel, 'name' | 'sender'>, FieldKind>> = {
  host: 'text',
  port: 'port',
  user: 'text',
  protocol: 'text',
  passwordEnv: 'text',
  caFile: 'text',
  serverCertSha256: 'text',
  sshKey: 'text',
  sshKeyPasswordEnv: 'text',
  hostKeySha256: 'text',
  key: 'text',
  cert: 'text',
  p12: 'text',
  keyPasswordEnv: 'text',
  answerFingerprints: 'list',
  answerCaFile: 'text',
  signTest: 'flag',
};

// Field names that would hold a secret itself: refused, with where the secret goes instead.
const SECRET_FIELD = /pass(word|phrase)?$|secret|private|^pin$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SENDER = /^\d{6}$/;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function readField(where: string, field: string, kind: FieldKind, value: unknown): unknown {
  const bad = (what: string) => new ChannelConfigError(`${where}.${field}`, `must be ${what}`);
  switch (kind) {
    case 'text':
      if (typeof value !== 'string' || value.trim() === '') throw bad('a non-empty string');
      if (field.endsWith('Env') && !ENV_NAME.test(value)) {
        throw bad('the name of an environment variable');
      }
      if (field === 'protocol' && !(CHANNEL_PROTOCOLS as readonly string[]).includes(value)) {
        throw bad(CHANNEL_PROTOCOLS.join(', '));
      }
      return value;
    case 'port':
      if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) {
        throw bad('a port number');
      }
      return value;
    case 'flag':
      if (typeof value !== 'boolean') throw bad('true or false');
      return value;
    case 'list':
      if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
        throw bad('a list of strings');
      }
      return [...(value as string[])];
  }
}

function readChannel(entry: unknown, index: number, where: string): Channel {
  const at = `${where}: channels[${index}]`;
  if (!isObject(entry)) throw new ChannelConfigError(at, 'must be an object');
  const { name, sender } = entry;
  if (typeof name !== 'string' || !CHANNEL_NAME.test(name)) {
    throw new ChannelConfigError(
      `${at}.name`,
      'must be 1 to 32 lower-case letters, digits and dashes, starting with a letter',
    );
  }
  const named = `${where}: channel ${name}`;
  if (typeof sender !== 'string' || !SENDER.test(sender)) {
    throw new ChannelConfigError(`${named}.sender`, 'must be the six-digit sender number');
  }
  const channel: Channel = { name, sender };
  for (const [field, value] of Object.entries(entry)) {
    if (field === 'name' || field === 'sender') continue;
    if (SECRET_FIELD.test(field)) {
      throw new ChannelConfigError(
        `${named}.${field}`,
        'a secret never goes in the channels file: name the environment variable that holds ' +
          'it (passwordEnv, keyPasswordEnv, sshKeyPasswordEnv)',
      );
    }
    const kind = FIELDS[field as keyof typeof FIELDS];
    if (kind === undefined) {
      throw new ChannelConfigError(
        `${named}.${field}`,
        `is not a channel setting (known: name, sender, ${Object.keys(FIELDS).join(', ')})`,
      );
    }
    Object.assign(channel, { [field]: readField(named, field, kind, value) });
  }
  return channel;
}

/**
 * Reads a channels file's text: `{"channels": [{"name": ..., "sender": ..., ...}]}`. Throws
 * ChannelConfigError naming the file, the channel and the field for JSON that cannot be read, a
 * field that is not a channel setting, a value of the wrong form, a secret, or two channels of
 * one name.
 *
 * @param text - the file's content
 * @param where - the file's path, for messages
 */
export function parseChannels(text: string, where: string): Channel[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ChannelConfigError(where, `is not JSON (${(error as Error).message})`);
  }
  if (!isObject(parsed) || !Array.isArray(parsed.channels)) {
    throw new ChannelConfigError(where, 'must be an object with a "channels" list');
  }
  const channels = parsed.channels.map((entry, index) => readChannel(entry, index, where));
  const seen = new Set<string>();
  for (const channel of channels) {
    if (seen.has(channel.name)) {
      throw new ChannelConfigError(`${where}: channel ${channel.name}`, 'is defined twice');
    }
    seen.add(channel.name);
  }
  return channels;
}

/** The channel `name` of `channels`; ChannelNotFoundError naming the ones there are. */
export function findChannel(channels: readonly Channel[], name: string, where: string): Channel {
  const found = channels.find((channel) => channel.name === name);
  if (found === undefined) {
    throw new ChannelNotFoundError(
      name,
      channels.map((channel) => channel.name),
      where,
    );
  }
  return found;
}

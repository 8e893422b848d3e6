/**
 * The channels of a deployment that serves several, as the functions read them from one
 * environment variable (`ONSS_CHANNELS`, a JSON list the stack writes from its `channels`
 * context). Each channel is a sender number with its own server, protocol and pair of secrets
 * (server credentials, signing material), its own answer trust and its own limit of sends at
 * once. A deployment without the variable has one unnamed channel, read from the single-channel
 * variables (ONSS_SENDER, ONSS_HOST...), as before channels existed.
 */
import { CHANNEL_PROTOCOLS } from '../../shared/channels';
import { CHANNEL_NAME } from '../../shared/ledger/rules/declarations';
import { AnswerTrustError, parseFingerprints } from '../../shared/signing/fingerprint';

export { CHANNEL_PROTOCOLS };

/** One of CHANNEL_PROTOCOLS. */
export type ChannelProtocol = (typeof CHANNEL_PROTOCOLS)[number];

/** Sends at once through one channel when its entry does not say: one FTP account, one send. */
export const DEFAULT_MAX_SENDS = 1;

/** The most sends at once a channel may be given. */
export const MAX_SENDS_LIMIT = 10;

/** The name of the variable holding the channels' list (ENV_NAMES.channels). */
export const CHANNELS_ENV_NAME = 'ONSS_CHANNELS';

/** One channel as written in ONSS_CHANNELS (what the stack writes, what the functions read). */
export interface ChannelEntry {
  /** CHANNEL_NAME: lower-case letters, digits and dashes, a letter first, at most 32. */
  name: string;
  /** The sender number this channel files for: six digits. */
  sender: string;
  host: string;
  port: number;
  protocol: ChannelProtocol;
  /** Secrets Manager id of the server credentials (user, password or SSH key, pins). */
  serverSecretId: string;
  /** Secrets Manager id of the signing material. */
  signingSecretId: string;
  /** SHA-256 fingerprints of the answers' signer, normalised (`AB:CD:...`); absent: none. */
  answerFingerprints?: string[];
  /** Secrets Manager id of a PEM CA bundle the answers' signer must chain to; absent: none. */
  answerCaSecretId?: string;
  /** Sends at once through this channel (DEFAULT_MAX_SENDS when absent). */
  maxSends?: number;
}

const SENDER = /^\d{6}$/;

/**
 * The problems of a list of channel entries, one line each naming the channel and the field;
 * empty when the list can be used. Shared by the stack's check at synth and the functions'
 * check at a cold start, so a list the stack accepts is one the functions accept.
 */
export function channelEntryProblems(raw: unknown, where: string): string[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    return [`${where} must be a non-empty JSON list of channels`];
  }
  const problems: string[] = [];
  const names = new Set<string>();
  raw.forEach((item: unknown, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${where}[${index}] must be an object`);
      return;
    }
    const entry = item as Record<string, unknown>;
    const name = typeof entry.name === 'string' ? entry.name : '';
    const at = CHANNEL_NAME.test(name) ? `${where} channel "${name}"` : `${where}[${index}]`;
    if (!CHANNEL_NAME.test(name)) {
      problems.push(
        `${at}: name must be 1 to 32 lower-case letters, digits and dashes, a letter first`,
      );
    } else if (names.has(name)) {
      problems.push(`${at}: the name is given twice`);
    }
    names.add(name);
    const check = (field: string, ok: boolean, what: string): void => {
      if (!ok)
        problems.push(`${at}: ${field} must be ${what}, got ${JSON.stringify(entry[field])}`);
    };
    const text = (field: string): boolean =>
      typeof entry[field] === 'string' && (entry[field] as string).trim() !== '';
    check('sender', typeof entry.sender === 'string' && SENDER.test(entry.sender), 'six digits');
    check('host', text('host'), 'a host name');
    check(
      'port',
      Number.isInteger(entry.port) &&
        (entry.port as number) >= 1 &&
        (entry.port as number) <= 65535,
      'a port number',
    );
    check(
      'protocol',
      CHANNEL_PROTOCOLS.some((protocol) => protocol === entry.protocol),
      CHANNEL_PROTOCOLS.join(', '),
    );
    check('serverSecretId', text('serverSecretId'), 'a secret id');
    check('signingSecretId', text('signingSecretId'), 'a secret id');
    if (text('serverSecretId') && entry.serverSecretId === entry.signingSecretId) {
      problems.push(`${at}: serverSecretId and signingSecretId must be two different secrets`);
    }
    if (entry.answerCaSecretId !== undefined) {
      check('answerCaSecretId', text('answerCaSecretId'), 'a secret id');
    }
    if (entry.maxSends !== undefined) {
      check(
        'maxSends',
        Number.isInteger(entry.maxSends) &&
          (entry.maxSends as number) >= 1 &&
          (entry.maxSends as number) <= MAX_SENDS_LIMIT,
        `a whole number from 1 to ${MAX_SENDS_LIMIT}`,
      );
    }
    if (entry.answerFingerprints !== undefined) {
      const list = entry.answerFingerprints;
      if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
        check('answerFingerprints', false, 'a list of SHA-256 fingerprints');
      } else {
        try {
          parseFingerprints(list, `${at}: answerFingerprints`);
        } catch (error) {
          if (!(error instanceof AnswerTrustError)) throw error;
          problems.push(error.message);
        }
      }
    }
    const known = new Set([
      'name',
      'sender',
      'host',
      'port',
      'protocol',
      'serverSecretId',
      'signingSecretId',
      'answerFingerprints',
      'answerCaSecretId',
      'maxSends',
    ]);
    for (const field of Object.keys(entry)) {
      if (!known.has(field)) problems.push(`${at}: unknown field "${field}"`);
    }
  });
  return problems;
}

/**
 * The entries of a checked list, normalised (fingerprints in their canonical form, the host
 * trimmed). Call channelEntryProblems first: this one assumes the list is valid.
 */
export function normaliseChannelEntries(raw: unknown): ChannelEntry[] {
  return (raw as ChannelEntry[]).map((entry) => ({
    ...entry,
    host: entry.host.trim(),
    ...(entry.answerFingerprints === undefined
      ? {}
      : { answerFingerprints: parseFingerprints(entry.answerFingerprints, entry.name) }),
  }));
}

/** The value of ONSS_CHANNELS for a list of entries: compact JSON. */
export function encodeChannelsEnv(entries: readonly ChannelEntry[]): string {
  return JSON.stringify(entries);
}

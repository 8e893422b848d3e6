/**
 * The deployment's settings, read once from CDK context (`-c key=value` or `cdk.json`) and
 * validated before any construct is built, so a bad value fails `cdk synth` with a message that
 * says which key to fix instead of a deployed function failing at its first run.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_MAX_SENDS, MAX_SENDS_LIMIT } from '../functions/config/channels';
import {
  CHANNEL_PROTOCOLS,
  OVERDUE_LIMITS,
  parseNotifyingApps,
} from '../functions/config/environment';
import { CHANNEL_NAME } from '../shared/ledger/rules/declarations';
import { ENVIRONMENTS } from '../shared/names/constants';
import { AnswerTrustError, parseFingerprints } from '../shared/signing/fingerprint';
import type { Environment } from '../shared/names/types';
import { DEFAULT_OVERDUE_RULES, type OverdueRules } from '../shared/watchdog';

/** The context keys the app reads, each documented in infra/README.md. */
export const CONTEXT_KEYS = {
  sender: 'sender',
  host: 'host',
  port: 'port',
  protocol: 'protocol',
  environments: 'environments',
  pullRateMinutes: 'pullRateMinutes',
  eipAllocationId: 'eipAllocationId',
  signingSecretArn: 'signingSecretArn',
  serverSecretArn: 'serverSecretArn',
  outboxPrefix: 'outboxPrefix',
  responsesPrefix: 'responsesPrefix',
  responseRetentionDays: 'responseRetentionDays',
  alarmEmail: 'alarmEmail',
  signTest: 'signTest',
  answerFingerprints: 'answerFingerprints',
  answerCaSecretArn: 'answerCaSecretArn',
  overdueAckMinutes: 'overdueAckMinutes',
  overdueNotificationHours: 'overdueNotificationHours',
  overdueNotifyingApps: 'overdueNotifyingApps',
  maxSends: 'maxSends',
  credentialMaxAgeDays: 'credentialMaxAgeDays',
  channels: 'channels',
  channelsFile: 'channelsFile',
} as const;

/** One of the context keys. */
export type ContextKey = (typeof CONTEXT_KEYS)[keyof typeof CONTEXT_KEYS];

/**
 * The keys of the one unnamed channel: with `channels` (or `channelsFile`) each channel entry
 * holds its own, and none of these may be given beside them.
 */
export const SINGLE_CHANNEL_KEYS = [
  CONTEXT_KEYS.sender,
  CONTEXT_KEYS.host,
  CONTEXT_KEYS.port,
  CONTEXT_KEYS.protocol,
  CONTEXT_KEYS.signingSecretArn,
  CONTEXT_KEYS.serverSecretArn,
  CONTEXT_KEYS.answerFingerprints,
  CONTEXT_KEYS.answerCaSecretArn,
  CONTEXT_KEYS.maxSends,
] as const;

/** The protocols the functions can use (functions/config/environment.ts reads the same). */
export const PROTOCOLS = CHANNEL_PROTOCOLS;

/** One of PROTOCOLS. */
export type Protocol = (typeof PROTOCOLS)[number];

/**
 * Values that let `cdk synth` run with no context at all. The sender and the host are
 * placeholders that can never reach a real server (`.invalid` is reserved, RFC 2606): a stack
 * synthesized with them carries a warning, and must be given real values before a deploy.
 */
export const CONTEXT_DEFAULTS = {
  /** Placeholder: six digits, syntactically valid, registered to nobody. */
  sender: '000000',
  /** Placeholder: a reserved name that never resolves. */
  host: 'transfer-point.invalid',
  /** FTP and FTPS. */
  port: 21,
  /** SFTP: the transfer point's SSH port. */
  sftpPort: 8022,
  protocol: 'ftp',
  environments: 'R,T',
  pullRateMinutes: 15,
  outboxPrefix: 'outbox/',
  responsesPrefix: 'responses/',
  /** About five years; check the retention your own obligations require. */
  responseRetentionDays: 1830,
  /** Sends at once through a channel: one FTP account, one send. */
  maxSends: DEFAULT_MAX_SENDS,
  /** A server password or SSH key older than a year raises its alarm. */
  credentialMaxAgeDays: 365,
} as const;

/** Bounds of `credentialMaxAgeDays`: a day to ten years. */
export const CREDENTIAL_MAX_AGE_LIMITS = { min: 1, max: 3650 } as const;

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
  protocol: Protocol;
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

/** The context keys whose default is a placeholder that must be replaced before a deploy. */
export const PLACEHOLDER_KEYS = [CONTEXT_KEYS.sender, CONTEXT_KEYS.host] as const;

/** The validated settings of one deployment. */
export interface TransferConfig {
  /** Sender number registered with the transfer point: six digits. */
  sender: string;
  /** Transfer point host name or IPv4 address. */
  host: string;
  /** Transfer point port. */
  port: number;
  /** Channel to the transfer point. */
  protocol: Protocol;
  /** Environments the pull function pulls, in the order given, without duplicates. */
  environments: Environment[];
  /** Minutes between two pulls. */
  pullRateMinutes: number;
  /** Allocation id of an existing Elastic IP for the NAT gateway; absent: the stack creates one. */
  eipAllocationId?: string;
  /** Complete ARN of an existing signing-material secret; absent: the stack creates one. */
  signingSecretArn?: string;
  /** Complete ARN of an existing server-credentials secret; absent: the stack creates one. */
  serverSecretArn?: string;
  /** Key prefix of the declarations to send, ending in `/`. */
  outboxPrefix: string;
  /** Key prefix of the stored responses, ending in `/`. */
  responsesPrefix: string;
  /** Days after which a stored response is deleted by the bucket's lifecycle. */
  responseRetentionDays: number;
  /** E-mail address subscribed to the alarm topic, if any. */
  alarmEmail?: string;
  /** Sign T and S declarations too (R always is). */
  signTest: boolean;
  /**
   * SHA-256 fingerprints of the certificates the transfer point signs its answers with,
   * normalised (`AB:CD:...`); empty when none is pinned.
   */
  answerFingerprints: readonly string[];
  /** Complete ARN of a secret holding the PEM CA bundle the answers' signer must chain to. */
  answerCaSecretArn?: string;
  /** The watchdog's allowed waits, run by the pull function after each pull. */
  overdue: OverdueRules;
  /** Sends at once through the single unnamed channel (ONSS_MAX_SENDS). */
  maxSends: number;
  /** Days after which a server secret not changed since raises its alarm. */
  credentialMaxAgeDays: number;
  /**
   * The named channels, when `channels` or `channelsFile` is given; the single-channel fields
   * above (sender, host, port, protocol, the secrets, the answers' trust, maxSends) then keep
   * their defaults and are not used. Absent: the one unnamed channel of those fields.
   */
  channels?: readonly ChannelContext[];
  /** Keys still at their placeholder default (see PLACEHOLDER_KEYS). */
  placeholders: ContextKey[];
}

/** Options of parseConfig. */
export interface ParseConfigOptions {
  /** The folder a relative `channelsFile` is read from; default: the process's cwd. */
  cwd?: string;
}

/** A context value that cannot be used, listing every problem found (not just the first). */
export class ContextConfigError extends Error {
  override readonly name = 'ContextConfigError';
  /** One line per problem, each naming its context key. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      `Invalid CDK context for the onss-transfer stack (see infra/README.md):\n` +
        problems.map((problem) => `  - ${problem}`).join('\n'),
    );
    this.problems = problems;
  }
}

const SENDER = /^\d{6}$/;
const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const EIP_ALLOCATION = /^eipalloc-[0-9a-f]{8,17}$/;
const SECRET_COMPLETE_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
// Characters S3 documents as safe in keys; a prefix is one or more segments, each ending in `/`.
const KEY_PREFIX = /^(?:[A-Za-z0-9!_.*'()-]+\/)+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Reads and validates the settings. `read` returns the raw context value of a key (a string
 * from `-c key=value`, or any JSON value from `cdk.json`); absent and empty values take the
 * default of CONTEXT_DEFAULTS or stay unset for the optional keys. `channelsFile` is read
 * here, relative to `options.cwd`. Throws ContextConfigError listing every invalid value.
 */
export function parseConfig(
  read: (key: ContextKey) => unknown,
  options: ParseConfigOptions = {},
): TransferConfig {
  const problems: string[] = [];
  const text = (key: ContextKey): string | undefined => {
    const value = read(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    problems.push(`${key}: must be a string or a number, got ${JSON.stringify(value)}`);
    return undefined;
  };
  const integer = (key: ContextKey, fallback: number, min: number, max: number): number => {
    const raw = text(key);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${key}: must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const matching = (key: ContextKey, pattern: RegExp, what: string): string | undefined => {
    const raw = text(key);
    if (raw !== undefined && !pattern.test(raw)) {
      problems.push(`${key}: must be ${what}, got "${raw}"`);
      return undefined;
    }
    return raw;
  };

  const channels = readChannels(read, problems, options.cwd ?? process.cwd());
  if (channels !== undefined) {
    const mixed = SINGLE_CHANNEL_KEYS.filter((key) => isGiven(read(key)));
    if (mixed.length > 0) {
      problems.push(
        `${mixed.join(', ')}: single-channel keys cannot be given with ${CONTEXT_KEYS.channels} ` +
          `or ${CONTEXT_KEYS.channelsFile}: put them in the channel entries`,
      );
    }
  }

  const placeholders: ContextKey[] = [];
  const givenSender = text(CONTEXT_KEYS.sender);
  const givenHost = text(CONTEXT_KEYS.host);
  if (channels === undefined) {
    if (givenSender === undefined) placeholders.push(CONTEXT_KEYS.sender);
    if (givenHost === undefined) placeholders.push(CONTEXT_KEYS.host);
  }
  if (givenSender !== undefined && !SENDER.test(givenSender)) {
    problems.push(
      `${CONTEXT_KEYS.sender}: must be the six-digit sender number, got "${givenSender}"`,
    );
  }
  const sender = givenSender ?? CONTEXT_DEFAULTS.sender;
  const host = readHost(givenHost, problems) ?? CONTEXT_DEFAULTS.host;

  const outboxPrefix =
    matching(CONTEXT_KEYS.outboxPrefix, KEY_PREFIX, 'a key prefix ending in "/" (outbox/)') ??
    CONTEXT_DEFAULTS.outboxPrefix;
  const responsesPrefix =
    matching(CONTEXT_KEYS.responsesPrefix, KEY_PREFIX, 'a key prefix ending in "/"') ??
    CONTEXT_DEFAULTS.responsesPrefix;
  // A response stored under the outbox would be sent back to the transfer point.
  if (outboxPrefix.startsWith(responsesPrefix) || responsesPrefix.startsWith(outboxPrefix)) {
    problems.push(
      `${CONTEXT_KEYS.outboxPrefix} and ${CONTEXT_KEYS.responsesPrefix}: must not contain one ` +
        `another, got "${outboxPrefix}" and "${responsesPrefix}"`,
    );
  }

  const protocol = readProtocol(text(CONTEXT_KEYS.protocol), problems);
  const config: TransferConfig = {
    sender,
    host,
    port: integer(
      CONTEXT_KEYS.port,
      protocol === 'sftp' ? CONTEXT_DEFAULTS.sftpPort : CONTEXT_DEFAULTS.port,
      1,
      65535,
    ),
    protocol,
    environments: readEnvironments(text(CONTEXT_KEYS.environments), problems),
    // One pull a minute at most, one every 12 hours at least (the alarm window follows it).
    pullRateMinutes: integer(
      CONTEXT_KEYS.pullRateMinutes,
      CONTEXT_DEFAULTS.pullRateMinutes,
      1,
      720,
    ),
    eipAllocationId: matching(
      CONTEXT_KEYS.eipAllocationId,
      EIP_ALLOCATION,
      'an Elastic IP allocation id (eipalloc-0123456789abcdef0)',
    ),
    signingSecretArn: matching(
      CONTEXT_KEYS.signingSecretArn,
      SECRET_COMPLETE_ARN,
      'the complete ARN of a Secrets Manager secret, with its 6-character suffix',
    ),
    serverSecretArn: matching(
      CONTEXT_KEYS.serverSecretArn,
      SECRET_COMPLETE_ARN,
      'the complete ARN of a Secrets Manager secret, with its 6-character suffix',
    ),
    outboxPrefix,
    responsesPrefix,
    responseRetentionDays: integer(
      CONTEXT_KEYS.responseRetentionDays,
      CONTEXT_DEFAULTS.responseRetentionDays,
      1,
      36500,
    ),
    alarmEmail: matching(CONTEXT_KEYS.alarmEmail, EMAIL, 'an e-mail address'),
    signTest: matching(CONTEXT_KEYS.signTest, /^(true|false)$/, 'true or false') === 'true',
    answerFingerprints: readAnswerFingerprints(read(CONTEXT_KEYS.answerFingerprints), problems),
    answerCaSecretArn: matching(
      CONTEXT_KEYS.answerCaSecretArn,
      SECRET_COMPLETE_ARN,
      'the complete ARN of a Secrets Manager secret, with its 6-character suffix',
    ),
    overdue: {
      acknowledgementMinutes: integer(
        CONTEXT_KEYS.overdueAckMinutes,
        DEFAULT_OVERDUE_RULES.acknowledgementMinutes,
        OVERDUE_LIMITS.ackMinutes.min,
        OVERDUE_LIMITS.ackMinutes.max,
      ),
      notificationHours: integer(
        CONTEXT_KEYS.overdueNotificationHours,
        DEFAULT_OVERDUE_RULES.notificationHours,
        OVERDUE_LIMITS.notificationHours.min,
        OVERDUE_LIMITS.notificationHours.max,
      ),
      notifyingApplications: readNotifyingApps(text(CONTEXT_KEYS.overdueNotifyingApps), problems),
    },
    maxSends: integer(CONTEXT_KEYS.maxSends, CONTEXT_DEFAULTS.maxSends, 1, MAX_SENDS_LIMIT),
    credentialMaxAgeDays: integer(
      CONTEXT_KEYS.credentialMaxAgeDays,
      CONTEXT_DEFAULTS.credentialMaxAgeDays,
      CREDENTIAL_MAX_AGE_LIMITS.min,
      CREDENTIAL_MAX_AGE_LIMITS.max,
    ),
    ...(channels === undefined ? {} : { channels }),
    placeholders,
  };
  if (config.signingSecretArn !== undefined && config.signingSecretArn === config.serverSecretArn) {
    problems.push(
      `${CONTEXT_KEYS.signingSecretArn} and ${CONTEXT_KEYS.serverSecretArn}: must be two ` +
        `different secrets`,
    );
  }
  if (
    config.answerCaSecretArn !== undefined &&
    [config.signingSecretArn, config.serverSecretArn].includes(config.answerCaSecretArn)
  ) {
    problems.push(
      `${CONTEXT_KEYS.answerCaSecretArn}: must be a secret of its own (a PEM CA bundle), not ` +
        'the signing or the server secret',
    );
  }
  if (problems.length > 0) throw new ContextConfigError(problems);
  return config;
}

function readHost(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  if (!isHost(raw)) {
    problems.push(`${CONTEXT_KEYS.host}: must be a host name or an IPv4 address, got "${raw}"`);
    return undefined;
  }
  return raw;
}

/** A host name or an IPv4 address: dot-separated labels of letters, digits and dashes. */
function isHost(raw: string): boolean {
  return raw.length <= 253 && raw.split('.').every((label) => HOST_LABEL.test(label));
}

function readNotifyingApps(raw: string | undefined, problems: string[]): readonly string[] {
  if (raw === undefined) return DEFAULT_OVERDUE_RULES.notifyingApplications;
  const apps = parseNotifyingApps(raw);
  if (apps === undefined) {
    problems.push(
      `${CONTEXT_KEYS.overdueNotifyingApps}: must be application codes (4 upper-case letters ` +
        `or digits, such as DMFA) separated by commas, each once, got "${raw}"`,
    );
    return DEFAULT_OVERDUE_RULES.notifyingApplications;
  }
  return apps;
}

/** Pins kept in one environment variable (Lambda's 4 KB for all of them): a few at most. */
const MAX_ANSWER_FINGERPRINTS = 8;

/**
 * The answers' pinned fingerprints: a comma-separated string (`-c answerFingerprints=A,B`) or,
 * in cdk.json, a list of strings. Absent or empty: none.
 */
function readAnswerFingerprints(
  raw: unknown,
  problems: string[],
  key: string = CONTEXT_KEYS.answerFingerprints,
): string[] {
  if (raw === undefined || raw === null) return [];
  const items = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  if (!items.every((item): item is string => typeof item === 'string')) {
    problems.push(`${key}: must be a string or a list of strings, got ${JSON.stringify(raw)}`);
    return [];
  }
  try {
    const fingerprints = parseFingerprints(items, key);
    if (fingerprints.length > MAX_ANSWER_FINGERPRINTS) {
      problems.push(
        `${key}: at most ${MAX_ANSWER_FINGERPRINTS} fingerprints, got ${fingerprints.length}`,
      );
      return [];
    }
    return fingerprints;
  } catch (error) {
    if (!(error instanceof AnswerTrustError)) throw error;
    problems.push(error.message);
    return [];
  }
}

function readProtocol(raw: string | undefined, problems: string[]): Protocol {
  const value = raw ?? CONTEXT_DEFAULTS.protocol;
  const known = PROTOCOLS.find((protocol) => protocol === value);
  if (known === undefined) {
    problems.push(
      `${CONTEXT_KEYS.protocol}: must be one of ${PROTOCOLS.join(', ')}, got "${value}"`,
    );
    return CONTEXT_DEFAULTS.protocol;
  }
  return known;
}

function readEnvironments(raw: string | undefined, problems: string[]): Environment[] {
  const letters = (raw ?? CONTEXT_DEFAULTS.environments).split(',').map((part) => part.trim());
  const known = Object.keys(ENVIRONMENTS) as Environment[];
  const environments = known.filter((environment) => letters.includes(environment));
  const unknown = letters.filter((letter) => !known.some((environment) => environment === letter));
  const duplicated = letters.length !== new Set(letters).size;
  if (unknown.length > 0 || duplicated || environments.length === 0) {
    problems.push(
      `${CONTEXT_KEYS.environments}: must be comma-separated environment letters among ` +
        `${known.join(', ')}, each once (R,T), got "${raw ?? ''}"`,
    );
    return [];
  }
  // Keep the order given: the pull function pulls them in that order.
  return letters as Environment[];
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

/** A context value that counts as given: not absent, not blank, not an empty list. */
function isGiven(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/** A value as a problem line shows it. */
function shown(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
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
function readChannels(
  read: (key: ContextKey) => unknown,
  problems: string[],
  cwd: string,
): ChannelContext[] | undefined {
  const inline = read(CONTEXT_KEYS.channels);
  const file = read(CONTEXT_KEYS.channelsFile);
  const present = (value: unknown): boolean =>
    value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
  if (!present(inline) && !present(file)) return undefined;
  if (present(inline) && present(file)) {
    problems.push(
      `${CONTEXT_KEYS.channels} and ${CONTEXT_KEYS.channelsFile}: give the channels one way, ` +
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
  const where = CONTEXT_KEYS.channels;
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
  const key = CONTEXT_KEYS.channelsFile;
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
    let protocol: Protocol = CONTEXT_DEFAULTS.protocol;
    if (entry.protocol !== undefined) {
      const known = PROTOCOLS.find((candidate) => candidate === entry.protocol);
      if (known === undefined) fail('protocol', `one of ${PROTOCOLS.join(', ')}`);
      else protocol = known;
    }
    let port: number = protocol === 'sftp' ? CONTEXT_DEFAULTS.sftpPort : CONTEXT_DEFAULTS.port;
    if (entry.port !== undefined) {
      if (wholeNumberIn(entry.port, 1, 65535)) port = entry.port as number;
      else fail('port', 'a whole number from 1 to 65535');
    }
    let maxSends: number = CONTEXT_DEFAULTS.maxSends;
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

function wholeNumberIn(value: unknown, min: number, max: number): boolean {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

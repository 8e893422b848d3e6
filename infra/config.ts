/**
 * The deployment's settings, read once from CDK context (`-c key=value` or `cdk.json`) and
 * validated before any construct is built, so a bad value fails `cdk synth` with a message that
 * says which key to fix instead of a deployed function failing at its first run.
 */
import {
  CHANNEL_PROTOCOLS,
  OVERDUE_LIMITS,
  parseNotifyingApps,
} from '../functions/config/environment';
import { MAX_SENDS_LIMIT } from '../functions/config/channels';
import { ENVIRONMENTS } from '../shared/names/constants';
import type { Environment } from '../shared/names/types';
import { DEFAULT_OVERDUE_RULES, type OverdueRules } from '../shared/watchdog';
import {
  CHANNEL_DEFAULTS,
  CHANNELS_CONTEXT_KEYS,
  readChannels,
  type ChannelContext,
} from './channels-context';
import {
  EIP_ALLOCATION,
  EMAIL,
  isGiven,
  isHost,
  KEY_PREFIX,
  readAnswerFingerprints,
  SECRET_COMPLETE_ARN,
  SENDER,
} from './context-values';

export { CHANNEL_FIELDS, channelIdPart, type ChannelContext } from './channels-context';

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
  channels: CHANNELS_CONTEXT_KEYS.channels,
  channelsFile: CHANNELS_CONTEXT_KEYS.channelsFile,
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
  port: CHANNEL_DEFAULTS.port,
  sftpPort: CHANNEL_DEFAULTS.sftpPort,
  protocol: CHANNEL_DEFAULTS.protocol,
  environments: 'R,T',
  pullRateMinutes: 15,
  outboxPrefix: 'outbox/',
  responsesPrefix: 'responses/',
  /** About five years; check the retention your own obligations require. */
  responseRetentionDays: 1830,
  maxSends: CHANNEL_DEFAULTS.maxSends,
  /** A server password or SSH key older than a year raises its alarm. */
  credentialMaxAgeDays: 365,
} as const;

/** Bounds of `credentialMaxAgeDays`: a day to ten years. */
export const CREDENTIAL_MAX_AGE_LIMITS = { min: 1, max: 3650 } as const;

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

  const channels = readChannels(
    read(CONTEXT_KEYS.channels),
    read(CONTEXT_KEYS.channelsFile),
    problems,
    options.cwd ?? process.cwd(),
  );
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
    answerFingerprints: readAnswerFingerprints(
      read(CONTEXT_KEYS.answerFingerprints),
      problems,
      CONTEXT_KEYS.answerFingerprints,
    ),
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

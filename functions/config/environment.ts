/**
 * The functions' configuration, read from their environment once per cold start and checked
 * whole: a bad deployment fails at once with one message naming every variable to fix, instead
 * of a half-configured function failing later in the middle of a send.
 */
import { OnssTransferError } from '../../shared/errors';
import type { Environment } from '../../shared/names';
import { CODE_FIELD } from '../../shared/names/field-checks';
import { DEFAULT_OVERDUE_RULES, type OverdueRules } from '../../shared/watchdog';
import { AnswerTrustError, parseFingerprints } from '../../shared/signing/fingerprint';
import {
  CHANNEL_PROTOCOLS,
  CHANNELS_ENV_NAME,
  channelEntryProblems,
  DEFAULT_MAX_SENDS,
  MAX_SENDS_LIMIT,
  normaliseChannelEntries,
  type ChannelProtocol,
} from './channels';
import { ANSWER_TRUST_ENV_NAMES, ENV_NAMES } from './names';

export { CHANNEL_PROTOCOLS, type ChannelProtocol };

/** The functions' environment is missing a variable or holds a value that cannot be used. */
export class ConfigurationError extends OnssTransferError {
  constructor(problems: readonly string[]) {
    super(`the function's configuration cannot be used: ${problems.join('; ')}`, {
      code: 'CONFIGURATION',
    });
  }
}

/** One channel's server: how the functions reach the transfer point for it. */
export interface ChannelConfig {
  host: string;
  port: number;
  /** Plain FTP, explicit FTPS, or SFTP (key and pinned host key from the server secret). */
  protocol: ChannelProtocol;
  /** Secrets Manager id of the credentials (user and password, or SSH key; pins). */
  serverSecretId: string;
}

/**
 * Whose signatures the answers must carry: pinned fingerprints and/or a CA bundle kept in a
 * secret. Neither: no trust (a warning each run).
 */
export interface AnswerTrustConfig {
  /** SHA-256 fingerprints, normalised (`AB:CD:...`); empty when none is set. */
  fingerprints: readonly string[];
  /** Secrets Manager id of the PEM CA bundle, when one is set. */
  caSecretId?: string;
}

/** One channel of the deployment, as the functions use it. */
export interface ChannelSettings {
  /**
   * The channel's name (CHANNEL_NAME), undefined for the one unnamed channel of a deployment
   * without ONSS_CHANNELS.
   */
  name?: string;
  /** The sender number it files for: six digits. */
  sender: string;
  server: ChannelConfig;
  /**
   * Secrets Manager id of the signing material: the send function signs with it, the pull
   * function reports the certificate's days left with it.
   */
  signingSecretId: string;
  /** Whose signatures its answers must carry. */
  answerTrust: AnswerTrustConfig;
  /** Sends at once through it, at most. */
  maxSends: number;
}

/** What both functions need. */
export interface CommonConfig {
  bucket: string;
  ledgerTable: string;
  /** One unnamed channel, or the named channels of ONSS_CHANNELS. */
  channels: readonly ChannelSettings[];
  /** Reuse of fetched secrets, in seconds; undefined: the adapter's default. */
  secretTtlSeconds: number | undefined;
  eventBus: string;
  topicArn: string;
}

/** The send function's configuration. */
export interface SendConfig extends CommonConfig {
  outboxPrefix: string;
  /** Sign T and S declarations too (R always is). */
  signTest: boolean;
  /**
   * URL of the send queue, where a message whose channel has no free send slot is put back
   * with a delay (a new message, so waiting never counts toward the dead-letter queue).
   */
  sendQueueUrl: string;
}

/** The pull function's configuration. */
export interface PullConfig extends CommonConfig {
  responsesPrefix: string;
  environments: readonly Environment[];
  /** The watchdog's allowed waits, run after each pull. */
  overdue: OverdueRules;
}

/**
 * Bounds of the watchdog's waits, shared with the stack's context check (infra/config.ts): an
 * ACRF within a week at most, a notification within 90 days at most.
 */
export const OVERDUE_LIMITS = {
  ackMinutes: { min: 1, max: 10_080 },
  notificationHours: { min: 1, max: 2_160 },
} as const;

/**
 * The notifying applications of `ONSS_OVERDUE_NOTIFYING_APPS` (and the stack's
 * `overdueNotifyingApps` context): application codes (field APP, 4 upper-case letters or
 * digits) separated by commas, each once. Undefined when the text is not such a list.
 */
export function parseNotifyingApps(text: string): string[] | undefined {
  const apps = text.split(',').map((app) => app.trim());
  const valid = apps.every((app) => CODE_FIELD.test(app)) && new Set(apps).size === apps.length;
  return valid ? apps : undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

const PREFIX = /^([A-Za-z0-9._-]+\/)+$/;

/** Collects the problems of one environment, so the error lists them all at once. */
class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  text(name: string): string {
    const value = this.env[name]?.trim();
    if (value === undefined || value === '') {
      this.problems.push(`${name} is not set`);
      return '';
    }
    return value;
  }

  /** An optional value, trimmed; unset or empty is undefined. */
  optionalText(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  matching(name: string, pattern: RegExp, what: string): string {
    const value = this.text(name);
    if (value !== '' && !pattern.test(value)) {
      this.problems.push(`${name} must be ${what}, not ${JSON.stringify(value)}`);
    }
    return value;
  }

  integer(name: string, min: number, max: number, optional = false): number | undefined {
    const raw = this.env[name]?.trim();
    if (optional && (raw === undefined || raw === '')) return undefined;
    const text = this.text(name);
    const value = Number(text);
    if (text !== '' && (!/^\d+$/.test(text) || value < min || value > max)) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
    }
    return value;
  }

  /** An optional `true` or `false`; unset is false. */
  flag(name: string): boolean {
    const value = this.env[name]?.trim();
    if (value === undefined || value === '' || value === 'false') return false;
    if (value === 'true') return true;
    this.problems.push(`${name} must be true or false, not "${value}"`);
    return false;
  }

  check<T>(config: T): T {
    if (this.problems.length > 0) throw new ConfigurationError(this.problems);
    return config;
  }
}

function readCommon(read: Reader, env: Env): CommonConfig {
  return {
    bucket: read.matching(ENV_NAMES.bucket, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'a bucket name'),
    ledgerTable: read.matching(ENV_NAMES.ledgerTable, /^[A-Za-z0-9_.-]{3,255}$/, 'a table name'),
    channels:
      env[CHANNELS_ENV_NAME] === undefined
        ? [readSingleChannel(read, env)]
        : readChannels(read, env),
    secretTtlSeconds: read.integer(ENV_NAMES.secretTtlSeconds, 0, 86_400, true),
    eventBus: read.text(ENV_NAMES.eventBus),
    topicArn: read.matching(ENV_NAMES.topicArn, /^arn:aws[a-z-]*:sns:/, 'an SNS topic ARN'),
  };
}

/** The one unnamed channel of a deployment without ONSS_CHANNELS. */
function readSingleChannel(read: Reader, env: Env): ChannelSettings {
  const protocol = read.text(ENV_NAMES.protocol);
  const known = CHANNEL_PROTOCOLS.find((value) => value === protocol);
  if (protocol !== '' && known === undefined) {
    read.problems.push(
      `${ENV_NAMES.protocol} must be ${CHANNEL_PROTOCOLS.join(', ')}, not "${protocol}"`,
    );
  }
  return {
    sender: read.matching(ENV_NAMES.sender, /^\d{6}$/, 'the six-digit sender number'),
    server: {
      host: read.text(ENV_NAMES.host),
      port: read.integer(ENV_NAMES.port, 1, 65535) ?? 21,
      protocol: known ?? 'ftp',
      serverSecretId: read.text(ENV_NAMES.serverSecretId),
    },
    signingSecretId: read.text(ENV_NAMES.signingSecretId),
    answerTrust: readAnswerTrust(read, env),
    maxSends: read.integer(ENV_NAMES.maxSends, 1, MAX_SENDS_LIMIT, true) ?? DEFAULT_MAX_SENDS,
  };
}

/** The named channels of ONSS_CHANNELS, checked as the stack checks them at synth. */
function readChannels(read: Reader, env: Env): ChannelSettings[] {
  let raw: unknown;
  try {
    raw = JSON.parse(env[CHANNELS_ENV_NAME] ?? '');
  } catch {
    read.problems.push(`${CHANNELS_ENV_NAME} is not JSON`);
    return [];
  }
  const problems = channelEntryProblems(raw, CHANNELS_ENV_NAME);
  if (problems.length > 0) {
    read.problems.push(...problems);
    return [];
  }
  return normaliseChannelEntries(raw).map((entry) => ({
    name: entry.name,
    sender: entry.sender,
    server: {
      host: entry.host,
      port: entry.port,
      protocol: entry.protocol,
      serverSecretId: entry.serverSecretId,
    },
    signingSecretId: entry.signingSecretId,
    answerTrust: {
      fingerprints: entry.answerFingerprints ?? [],
      ...(entry.answerCaSecretId === undefined ? {} : { caSecretId: entry.answerCaSecretId }),
    },
    maxSends: entry.maxSends ?? DEFAULT_MAX_SENDS,
  }));
}

/** Reads and checks the send function's configuration; throws ConfigurationError. */
export function readSendConfig(env: Env): SendConfig {
  const read = new Reader(env);
  const common = readCommon(read, env);
  return read.check({
    ...common,
    outboxPrefix: read.matching(ENV_NAMES.outboxPrefix, PREFIX, 'a key prefix ending in "/"'),
    signTest: read.flag(ENV_NAMES.signTest),
    sendQueueUrl: read.matching(ENV_NAMES.sendQueueUrl, /^https:\/\/\S+$/, 'an SQS queue URL'),
  });
}

/** Reads and checks the pull function's configuration; throws ConfigurationError. */
export function readPullConfig(env: Env): PullConfig {
  const read = new Reader(env);
  const common = readCommon(read, env);
  const listed = read.text(ENV_NAMES.environments);
  const environments = listed === '' ? [] : listed.split(',').map((letter) => letter.trim());
  const bad = environments.filter((letter) => letter !== 'R' && letter !== 'T' && letter !== 'S');
  if (bad.length > 0 || (listed !== '' && environments.length === 0)) {
    read.problems.push(
      `${ENV_NAMES.environments} must list R, T or S separated by commas, not "${listed}"`,
    );
  }
  return read.check({
    ...common,
    responsesPrefix: read.matching(ENV_NAMES.responsesPrefix, PREFIX, 'a key prefix ending in "/"'),
    environments: [...new Set(environments)] as Environment[],
    overdue: readOverdueRules(read),
  });
}

/** The watchdog's waits; each variable unset takes DEFAULT_OVERDUE_RULES' value. */
function readOverdueRules(read: Reader): OverdueRules {
  const { ackMinutes, notificationHours } = OVERDUE_LIMITS;
  const acknowledgementMinutes = read.integer(
    ENV_NAMES.overdueAckMinutes,
    ackMinutes.min,
    ackMinutes.max,
    true,
  );
  const hours = read.integer(
    ENV_NAMES.overdueNotificationHours,
    notificationHours.min,
    notificationHours.max,
    true,
  );
  const listed = read.optionalText(ENV_NAMES.overdueNotifyingApps);
  const apps = listed === undefined ? undefined : parseNotifyingApps(listed);
  if (listed !== undefined && apps === undefined) {
    read.problems.push(
      `${ENV_NAMES.overdueNotifyingApps} must list application codes (4 upper-case letters or ` +
        `digits, such as DMFA) separated by commas, each once, not "${listed}"`,
    );
  }
  return {
    acknowledgementMinutes: acknowledgementMinutes ?? DEFAULT_OVERDUE_RULES.acknowledgementMinutes,
    notificationHours: hours ?? DEFAULT_OVERDUE_RULES.notificationHours,
    notifyingApplications: apps ?? DEFAULT_OVERDUE_RULES.notifyingApplications,
  };
}

/** The answers' trust: the fingerprints checked here, the CA bundle read from its secret later. */
function readAnswerTrust(read: Reader, env: Env): AnswerTrustConfig {
  const listed = env[ANSWER_TRUST_ENV_NAMES.fingerprints]?.trim() ?? '';
  let fingerprints: string[] = [];
  try {
    fingerprints = parseFingerprints([listed], ANSWER_TRUST_ENV_NAMES.fingerprints);
  } catch (error) {
    if (!(error instanceof AnswerTrustError)) throw error;
    read.problems.push(error.message);
  }
  const caSecretId = env[ANSWER_TRUST_ENV_NAMES.caSecretId]?.trim();
  return {
    fingerprints,
    ...(caSecretId === undefined || caSecretId === '' ? {} : { caSecretId }),
  };
}

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
import { ANSWER_TRUST_ENV_NAMES, ENV_NAMES } from './names';

/** The functions' environment is missing a variable or holds a value that cannot be used. */
export class ConfigurationError extends OnssTransferError {
  constructor(problems: readonly string[]) {
    super(`the function's configuration cannot be used: ${problems.join('; ')}`, {
      code: 'CONFIGURATION',
    });
  }
}

/** The channels the functions can use. */
export const CHANNEL_PROTOCOLS = ['ftp', 'ftps', 'sftp'] as const;

/** One of CHANNEL_PROTOCOLS. */
export type ChannelProtocol = (typeof CHANNEL_PROTOCOLS)[number];

/** How the functions reach the transfer point. */
export interface ChannelConfig {
  host: string;
  port: number;
  /** Plain FTP, explicit FTPS, or SFTP (key and pinned host key from the server secret). */
  protocol: ChannelProtocol;
  /** Secrets Manager id of the credentials (user and password). */
  serverSecretId: string;
}

/** What both functions need. */
export interface CommonConfig {
  bucket: string;
  ledgerTable: string;
  sender: string;
  channel: ChannelConfig;
  /** Reuse of fetched secrets, in seconds; undefined: the adapter's default. */
  secretTtlSeconds: number | undefined;
  eventBus: string;
  topicArn: string;
  /**
   * Secrets Manager id of the signing material: the send function signs with it, the pull
   * function reports the certificate's days left with it.
   */
  signingSecretId: string;
}

/** The send function's configuration. */
export interface SendConfig extends CommonConfig {
  outboxPrefix: string;
  /** Sign T and S declarations too (R always is). */
  signTest: boolean;
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

/** The pull function's configuration. */
export interface PullConfig extends CommonConfig {
  responsesPrefix: string;
  environments: readonly Environment[];
  /** Whose signatures the answers must carry (ONSS_ANSWER_*). */
  answerTrust: AnswerTrustConfig;
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

function readCommon(read: Reader): CommonConfig {
  const protocol = read.text(ENV_NAMES.protocol);
  const known = CHANNEL_PROTOCOLS.find((value) => value === protocol);
  if (protocol !== '' && known === undefined) {
    read.problems.push(
      `${ENV_NAMES.protocol} must be ${CHANNEL_PROTOCOLS.join(', ')}, not "${protocol}"`,
    );
  }
  return {
    bucket: read.matching(ENV_NAMES.bucket, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'a bucket name'),
    ledgerTable: read.matching(ENV_NAMES.ledgerTable, /^[A-Za-z0-9_.-]{3,255}$/, 'a table name'),
    sender: read.matching(ENV_NAMES.sender, /^\d{6}$/, 'the six-digit sender number'),
    channel: {
      host: read.text(ENV_NAMES.host),
      port: read.integer(ENV_NAMES.port, 1, 65535) ?? 21,
      protocol: known ?? 'ftp',
      serverSecretId: read.text(ENV_NAMES.serverSecretId),
    },
    secretTtlSeconds: read.integer(ENV_NAMES.secretTtlSeconds, 0, 86_400, true),
    eventBus: read.text(ENV_NAMES.eventBus),
    topicArn: read.matching(ENV_NAMES.topicArn, /^arn:aws[a-z-]*:sns:/, 'an SNS topic ARN'),
    signingSecretId: read.text(ENV_NAMES.signingSecretId),
  };
}

/** Reads and checks the send function's configuration; throws ConfigurationError. */
export function readSendConfig(env: Env): SendConfig {
  const read = new Reader(env);
  const common = readCommon(read);
  return read.check({
    ...common,
    outboxPrefix: read.matching(ENV_NAMES.outboxPrefix, PREFIX, 'a key prefix ending in "/"'),
    signTest: read.flag(ENV_NAMES.signTest),
  });
}

/** Reads and checks the pull function's configuration; throws ConfigurationError. */
export function readPullConfig(env: Env): PullConfig {
  const read = new Reader(env);
  const common = readCommon(read);
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
    answerTrust: readAnswerTrust(read, env),
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

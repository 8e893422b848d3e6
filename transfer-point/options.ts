/**
 * Options of the local transfer point: merged over the defaults and validated once, at start,
 * with a message that says what to fix. The dynamic defaults (a temporary root, a random
 * password, a throwaway signing identity) are made here too, and only when not given.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MAX_FILE_BYTES, resolveNameRules } from '../shared/names';
import { checkMaterial, createSelfSigned } from '../shared/signing';
import type { SigningMaterial } from '../shared/signing';
import { SIMULATOR_DEFAULTS } from './constants';
import { SimulatorOptionsError } from './errors';
import { createTlsIdentity, tlsIdentityProblem } from './tls';
import { checkSftpOption, makeSftpSettings, type ResolvedSftpSettings } from './sftp-settings';
import { normalizeFingerprint } from './trust';
import type { PortRange, SimulatorOptions, SimulatorTlsIdentity } from './types';

/** Options once resolved: every default filled in, fingerprints normalised. */
export interface ResolvedSimulatorOptions extends Omit<SimulatorOptions, 'tls' | 'sftp'> {
  /** The FTPS key and certificate (made when `tls: true` was asked); undefined: plain FTP. */
  tls?: SimulatorTlsIdentity;
  /** The SFTP keys (made when not given); undefined: FTP or FTPS. */
  sftp?: ResolvedSftpSettings;
  signatureRequiredFor: Readonly<{ T: boolean; S: boolean }>;
  /** Whether `root` was made by the simulator, and so is removed by `stop()`. */
  ownsRoot: boolean;
}

const OPTION_KEYS: ReadonlySet<string> = new Set<keyof SimulatorOptions>([
  'host',
  'port',
  'root',
  'user',
  'password',
  'passivePorts',
  'tls',
  'sftp',
  'sender',
  'signatureRequiredFor',
  'trustedCertificates',
  'maxFileBytes',
  'notificationDelayMs',
  'answerDelayMs',
  'notificationCompression',
  'transferPointSender',
  'identity',
  'nameRules',
]);

const SENDER = /^\d{6}$/;
/** The longest timer Node keeps: a longer one fires at once (it overflows a 32-bit int). */
export const MAX_TIMER_MS = 2_147_483_647;
// ftp-srv strips double quotes from commands and splits arguments on spaces, so such a
// password could never be typed back; control characters would end the command line.
const FTP_ARGUMENT = /^[\x21\x23-\x7e](?:[\x20\x21\x23-\x7e]*[\x21\x23-\x7e])?$/;

function fail(option: string, problem: string): never {
  throw new SimulatorOptionsError(`options.${option}`, problem);
}

function isPort(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= 65535;
}

function checkPassivePorts(value: unknown): PortRange {
  const range = value as Partial<PortRange> | null;
  if (typeof range !== 'object' || range === null || !isPort(range.min) || !isPort(range.max)) {
    fail('passivePorts', 'must be { min, max } with ports from 0 to 65535');
  }
  const { min, max } = range as PortRange;
  if (min === 0 && max === 0) return { min, max };
  if (min < 1024 || min > max) {
    fail('passivePorts', 'must be { min: 0, max: 0 } (any free port) or 1024 <= min <= max');
  }
  return { min, max };
}

function checkDelay(option: string, value: unknown): void {
  if (
    value !== undefined &&
    (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > MAX_TIMER_MS)
  ) {
    fail(option, `must be a whole number of milliseconds from 0 to ${MAX_TIMER_MS}`);
  }
}

function checkSignatureSettings(value: unknown): { T: boolean; S: boolean } {
  if (typeof value !== 'object' || value === null) {
    fail('signatureRequiredFor', 'must be an object such as { T: false, S: false }');
  }
  const settings = value as Record<string, unknown>;
  for (const key of Object.keys(settings)) {
    if (key !== 'T' && key !== 'S') {
      fail(`signatureRequiredFor.${key}`, 'is not an environment with a setting: use T or S');
    }
  }
  const pick = (key: 'T' | 'S'): boolean => {
    const setting = settings[key] ?? SIMULATOR_DEFAULTS.signatureRequiredFor[key];
    if (typeof setting !== 'boolean') fail(`signatureRequiredFor.${key}`, 'must be true or false');
    return setting;
  };
  return { T: pick('T'), S: pick('S') };
}

function checkFingerprints(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    fail('trustedCertificates', 'must be a list of SHA-256 fingerprints (or be left out)');
  }
  return Object.freeze(
    value.map((item: unknown, index) => {
      const fingerprint = typeof item === 'string' ? normalizeFingerprint(item) : undefined;
      if (fingerprint === undefined) {
        fail(`trustedCertificates[${index}]`, 'is not a SHA-256 fingerprint (64 hex digits)');
      }
      return fingerprint;
    }),
  );
}

function checkNameRules(value: unknown): SimulatorOptions['nameRules'] {
  if (typeof value !== 'object' || value === null) fail('nameRules', 'must be an object');
  const rules = value as Record<string, unknown>;
  for (const key of Object.keys(rules)) {
    if (key !== 'today' && key !== 'maxAgeDays' && key !== 'extraApplications') {
      const why =
        key === 'folder' || key === 'sender'
          ? 'is set by the simulator itself (the upload folder, options.sender)'
          : 'is not a rule the simulator takes (today, maxAgeDays, extraApplications)';
      fail(`nameRules.${key}`, why);
    }
  }
  try {
    resolveNameRules(rules);
  } catch (cause) {
    fail('nameRules', cause instanceof Error ? cause.message : 'is invalid');
  }
  return Object.freeze({ ...rules });
}

function checkTls(value: unknown): true | SimulatorTlsIdentity | undefined {
  if (value === undefined || value === true) return value;
  const given = value as Partial<SimulatorTlsIdentity> | null;
  if (
    typeof given !== 'object' ||
    given === null ||
    typeof given.key !== 'string' ||
    typeof given.cert !== 'string'
  ) {
    fail('tls', 'must be true (a throwaway certificate) or { key, cert } as PEM text');
  }
  const identity = { key: given.key, cert: given.cert };
  const problem = tlsIdentityProblem(identity);
  if (problem !== undefined) fail('tls', problem);
  return identity;
}

function checkIdentity(value: unknown): SigningMaterial {
  const material = value as Partial<SigningMaterial> | null;
  if (typeof material !== 'object' || material === null || !material.privateKey) {
    fail('identity', 'must be signing material { privateKey, certificate, chain }');
  }
  try {
    checkMaterial(material as SigningMaterial);
  } catch (cause) {
    fail('identity', cause instanceof Error ? cause.message : 'cannot sign');
  }
  return material as SigningMaterial;
}

/**
 * Merges `input` over the defaults, validates every option and makes the dynamic defaults
 * (temporary root, random password, self-signed identity). Throws a SimulatorOptionsError
 * naming the option and what to fix. Nothing is created before every given option is valid.
 */
export async function resolveSimulatorOptions(
  input: Partial<SimulatorOptions> = {},
): Promise<ResolvedSimulatorOptions> {
  if (typeof input !== 'object' || input === null) {
    throw new SimulatorOptionsError('options', 'must be an object');
  }
  for (const key of Object.keys(input)) {
    if (!OPTION_KEYS.has(key)) fail(key, 'is not a simulator option');
  }
  const host = input.host ?? SIMULATOR_DEFAULTS.host;
  if (typeof host !== 'string' || isIP(host) === 0) {
    fail('host', 'must be an IP address such as 127.0.0.1');
  }
  const port = input.port ?? SIMULATOR_DEFAULTS.port;
  if (!isPort(port)) fail('port', 'must be a port from 0 (any free port) to 65535');
  if (input.root !== undefined && (typeof input.root !== 'string' || input.root.length === 0)) {
    fail('root', 'must be a folder path');
  }
  const user = input.user ?? SIMULATOR_DEFAULTS.user;
  if (typeof user !== 'string' || !FTP_ARGUMENT.test(user)) {
    fail('user', 'must be printable ASCII without spaces at the ends or double quotes');
  }
  if (
    input.password !== undefined &&
    (typeof input.password !== 'string' || !FTP_ARGUMENT.test(input.password))
  ) {
    fail('password', 'must be printable ASCII without spaces at the ends or double quotes');
  }
  const passivePorts = checkPassivePorts(input.passivePorts ?? SIMULATOR_DEFAULTS.passivePorts);
  const givenTls = checkTls(input.tls);
  const givenSftp = checkSftpOption(input.sftp);
  if (givenSftp !== undefined && givenTls !== undefined) {
    fail('sftp', 'cannot be combined with tls: SFTP runs over SSH, not TLS');
  }
  const { sender } = input;
  if (sender !== undefined && (typeof sender !== 'string' || !SENDER.test(sender))) {
    fail('sender', 'must be a sender number of 6 digits');
  }
  const signatureRequiredFor = checkSignatureSettings(
    input.signatureRequiredFor ?? SIMULATOR_DEFAULTS.signatureRequiredFor,
  );
  const trustedCertificates = checkFingerprints(input.trustedCertificates);
  const maxFileBytes = input.maxFileBytes ?? MAX_FILE_BYTES;
  if (!Number.isSafeInteger(maxFileBytes) || maxFileBytes < 1 || maxFileBytes > MAX_FILE_BYTES) {
    fail('maxFileBytes', `must be a whole number of bytes from 1 to ${MAX_FILE_BYTES}`);
  }
  const { notificationDelayMs, answerDelayMs } = input;
  checkDelay('notificationDelayMs', notificationDelayMs);
  checkDelay('answerDelayMs', answerDelayMs);
  const { notificationCompression } = input;
  if (
    notificationCompression !== undefined &&
    notificationCompression !== 'zip' &&
    notificationCompression !== 'gzip'
  ) {
    fail('notificationCompression', 'must be zip or gzip (or be left out for an FO)');
  }
  const transferPointSender = input.transferPointSender ?? SIMULATOR_DEFAULTS.transferPointSender;
  if (typeof transferPointSender !== 'string' || !SENDER.test(transferPointSender)) {
    fail('transferPointSender', 'must be a sender number of 6 digits');
  }
  const nameRules = checkNameRules(input.nameRules ?? {});
  const givenIdentity = input.identity === undefined ? undefined : checkIdentity(input.identity);

  // Every given option is valid: only now make what was left to us.
  const identity =
    givenIdentity ??
    (await createSelfSigned({ commonName: SIMULATOR_DEFAULTS.identityCommonName }));
  const tls = givenTls === true ? await createTlsIdentity(host) : givenTls;
  const sftp = givenSftp === undefined ? undefined : makeSftpSettings(givenSftp);
  const ownsRoot = input.root === undefined;
  const root =
    input.root === undefined
      ? await mkdtemp(join(tmpdir(), 'onss-simulator-'))
      : resolve(input.root);
  return Object.freeze({
    host,
    port,
    root,
    ownsRoot,
    user,
    password: input.password ?? randomBytes(18).toString('base64url'),
    passivePorts,
    ...(tls === undefined ? {} : { tls }),
    ...(sftp === undefined ? {} : { sftp }),
    ...(sender === undefined ? {} : { sender }),
    signatureRequiredFor,
    ...(trustedCertificates === undefined ? {} : { trustedCertificates }),
    maxFileBytes,
    ...(notificationDelayMs === undefined ? {} : { notificationDelayMs }),
    ...(answerDelayMs === undefined ? {} : { answerDelayMs }),
    ...(notificationCompression === undefined ? {} : { notificationCompression }),
    transferPointSender,
    identity,
    nameRules,
  });
}

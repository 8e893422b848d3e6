/**
 * `--channel NAME` and `--channels FILE`: a channel of the channels file stands for the server,
 * credential, signing and trust flags of the commands that talk to the transfer point. Flags
 * given on the command line win over the channel's values; the channel's secrets stay in the
 * environment variables it names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { findChannel, parseChannels, type Channel } from '../../shared/channels';
import { stateFolder } from '../defaults';
import { UsageError, type CliIo } from '../io';

/** The channel flags of a command. */
export interface ChannelFlags {
  channel?: string;
  channels?: string;
}

/** Adds `--channel` and `--channels` to a command. */
export function withChannelFlags(command: Command): Command {
  return command
    .option('--channel <name>', 'use this channel of the channels file (its server, user, keys)')
    .option(
      '--channels <file>',
      'the channels file (default ~/.onss-transfer/channels.json, or $ONSS_TRANSFER_HOME/)',
    );
}

/** The channels file the flags name, or the default one in the state folder. */
export function channelsPath(io: CliIo, flags: ChannelFlags): string {
  return flags.channels ?? join(stateFolder(io.env), 'channels.json');
}

/**
 * The channel `--channel` names, read from the channels file; undefined without `--channel`.
 * Throws UsageError for `--channels` without `--channel`, the file's ChannelConfigError or
 * ChannelNotFoundError otherwise.
 */
export function channelOf(io: CliIo, flags: ChannelFlags): Channel | undefined {
  if (flags.channel === undefined) {
    if (flags.channels !== undefined) throw new UsageError('--channels goes with --channel');
    return undefined;
  }
  const path = channelsPath(io, flags);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--channel ${flags.channel}: cannot read the channels file ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
  return findChannel(parseChannels(text, path), flags.channel, path);
}

// Channel settings and the option each stands for (commander's attribute names).
const OPTION_OF: ReadonlyArray<[keyof Channel, string]> = [
  ['host', 'host'],
  ['port', 'port'],
  ['user', 'user'],
  ['protocol', 'protocol'],
  ['passwordEnv', 'passwordEnv'],
  ['caFile', 'caFile'],
  ['serverCertSha256', 'serverCertSha256'],
  ['sshKey', 'sshKey'],
  ['sshKeyPasswordEnv', 'sshKeyPasswordEnv'],
  ['hostKeySha256', 'hostKeySha256'],
  ['key', 'key'],
  ['cert', 'cert'],
  ['p12', 'p12'],
  ['keyPasswordEnv', 'keyPasswordEnv'],
  ['answerFingerprints', 'answerFingerprint'],
  ['answerCaFile', 'answerCaFile'],
  ['signTest', 'signTest'],
];

/** The value of `--name VALUE` or `--name=VALUE` in raw arguments, before the first `--`. */
function rawFlag(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    if (arg === '--') return undefined;
    if (arg === name) return args[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

/**
 * Before commander parses `args`: when they hold `--channel`, gives the command they run the
 * channel's settings as option values of source `config`, so that a required flag the channel
 * provides (`--host`, `--user`) is not missing, and a flag given on the line still wins. Does
 * nothing for a command without the channel flags.
 */
export function applyChannelDefaults(program: Command, args: readonly string[], io: CliIo): void {
  const name = rawFlag(args, '--channel');
  if (name === undefined) return;
  const commandName = args.find((arg) => !arg.startsWith('-'));
  const command = program.commands.find((candidate) => candidate.name() === commandName);
  // `status --channel` filters by name and reads no channels file.
  if (command === undefined || !command.options.some((option) => option.long === '--channels')) {
    return;
  }
  const files = rawFlag(args, '--channels');
  const channel = channelOf(io, {
    channel: name,
    ...(files === undefined ? {} : { channels: files }),
  });
  if (channel === undefined) return;
  const known = new Set(command.options.map((option) => option.attributeName()));
  for (const [setting, attribute] of OPTION_OF) {
    const value = channel[setting];
    if (value === undefined || !known.has(attribute)) continue;
    // As commander would hold them from the line: text, a list of texts, or true.
    const given = Array.isArray(value)
      ? [value.join(',')]
      : typeof value === 'number'
        ? String(value)
        : value;
    command.setOptionValueWithSource(attribute, given, 'config');
  }
}

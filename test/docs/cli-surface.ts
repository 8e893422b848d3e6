import type { Command, Help } from 'commander';
import { buildProgram } from '../../cli/program';
import { captureIo, cli } from '../helpers/cli';

/** One command of the CLI as its own help shows it. */
export interface CliCommandSurface {
  /** The words that name it after `onss-transfer`: `['send']`, or more for a subcommand. */
  path: string[];
  /** The long flags its help lists, `--help` included. */
  flags: string[];
  /** What `onss-transfer <path> --help` prints. */
  helpText: string;
}

/** The whole command line: the program's own flags and every command, subcommands included. */
export interface CliSurface {
  globalFlags: string[];
  rootHelpText: string;
  commands: CliCommandSurface[];
}

/** The commander program `runCli` parses, built but not parsed: nothing runs. */
export function captureProgram(): Command {
  return buildProgram(captureIo().io, () => undefined);
}

/** Long flags of the options a command's help lists, in help order. */
function visibleFlags(help: Help, command: Command): string[] {
  return help
    .visibleOptions(command)
    .map((option) => option.long)
    .filter((flag): flag is string => flag !== undefined);
}

/**
 * Walks the program's visible commands (as `--help` lists them, commander's implicit `help`
 * command included) and runs `--help` for each, in-process.
 */
export async function cliSurface(): Promise<CliSurface> {
  const program = captureProgram();
  const help = program.createHelp();
  const commands: CliCommandSurface[] = [];
  const walk = async (parent: Command, prefix: string[]): Promise<void> => {
    for (const command of help.visibleCommands(parent)) {
      const path = [...prefix, command.name()];
      const run = await cli([...path, '--help']);
      commands.push({ path, flags: visibleFlags(help, command), helpText: run.stdout });
      await walk(command, path);
    }
  };
  await walk(program, []);
  const root = await cli(['--help']);
  return { globalFlags: visibleFlags(help, program), rootHelpText: root.stdout, commands };
}

/**
 * What a help text lists, read back from the text itself: the long flag at the start of each
 * line of its `Options:` block, and the name at the start of each line of its `Commands:`
 * block (wrapped description lines are indented further and skipped).
 */
export function listedInHelp(helpText: string): { flags: string[]; commands: string[] } {
  const flags: string[] = [];
  const commands: string[] = [];
  let block: 'options' | 'commands' | undefined;
  for (const line of helpText.split('\n')) {
    if (/^\S/.test(line)) {
      block = line.startsWith('Options:')
        ? 'options'
        : line.startsWith('Commands:')
          ? 'commands'
          : undefined;
      continue;
    }
    if (block === 'options') {
      const flag = /^ {2}(?:-\w, )?(--[a-z][a-z0-9-]*)/.exec(line)?.[1];
      if (flag !== undefined) flags.push(flag);
    } else if (block === 'commands') {
      const name = /^ {2}([a-z][a-z0-9-]*)/.exec(line)?.[1];
      if (name !== undefined) commands.push(name);
    }
  }
  return { flags, commands };
}

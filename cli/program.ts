import { Command, CommanderError } from 'commander';
import { registerCheckName } from './commands/check-name';
import { registerSign } from './commands/sign';
import { registerVerify } from './commands/verify';
import { registerPlan } from './commands/plan';
import { registerSend } from './commands/send';
import { registerSimulator } from './commands/simulator';
import { registerPull } from './commands/pull';
import { registerStatus } from './commands/status';
import { registerImportKey } from './commands/import-key';
import { registerCancel } from './commands/cancel';
import { registerResend } from './commands/resend';
import { applyChannelDefaults } from './commands/channel-options';
import { EXIT, redactOptionValues, reportError, type CliIo } from './io';
import { version } from '../package.json';

/**
 * The commander program with every command registered, not yet parsed: `runCli` parses it,
 * and the docs test walks it to hold docs/cli.md to what `--help` shows.
 */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('onss-transfer')
    .description('File Belgian social security declarations with the transfer point')
    .version(version)
    .option('--debug', 'print stack traces on errors')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(redactOptionValues(text)),
    })
    .showHelpAfterError('(run with --help for usage)');
  registerCheckName(program, io, setExit);
  registerSign(program, io, setExit);
  registerVerify(program, io, setExit);
  registerPlan(program, io, setExit);
  registerSend(program, io, setExit);
  registerCancel(program, io, setExit);
  registerResend(program, io, setExit);
  registerSimulator(program, io, setExit);
  registerPull(program, io, setExit);
  registerStatus(program, io, setExit);
  registerImportKey(program, io, setExit);
  return program;
}

/**
 * Runs the command line with the given arguments (without `node` and the
 * script) and returns the exit code. Output goes through `io`, so tests run
 * the real CLI in-process and read what a user would read.
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    applyChannelDefaults(program, args, io);
    await program.parseAsync([...args], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportError(io, error, Boolean(program.opts<{ debug?: boolean }>().debug));
  }
}

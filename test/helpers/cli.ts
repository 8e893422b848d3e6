import { runCli } from '../../cli/program';
import type { CliIo } from '../../cli/io';

/** What one in-process run of the CLI printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** An io that records what a command prints, for tests. */
export function captureIo(
  env: Record<string, string> = {},
  extra: Partial<CliIo> = {},
): { io: CliIo; stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
    ...extra,
  };
  return { io, stdout: () => stdout, stderr: () => stderr };
}

/** Runs the real CLI in-process with captured output and a chosen environment. */
export async function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const captured = captureIo(env);
  const code = await runCli(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

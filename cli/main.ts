#!/usr/bin/env node
import { processIo } from './io';
import { runCli } from './program';

runCli(process.argv.slice(2), processIo).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // runCli reports every failure itself; this is a last resort.
    process.stderr.write(
      `onss-transfer: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);

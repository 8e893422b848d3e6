/**
 * Where the project's files are, whether the app runs from its TypeScript sources
 * (infra/run.js) or from the build (dist/infra/app.js).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The lock file that marks the project root (dist/ holds none). */
const ROOT_MARKER = 'package-lock.json';

/** The nearest folder at or above `start` that holds package-lock.json. */
export function findProjectRoot(start: string = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, ROOT_MARKER))) return dir;
    if (dirname(dir) === dir) {
      throw new Error(`No ${ROOT_MARKER} found at or above ${start}: cannot locate the project`);
    }
  }
}

/** The TypeScript entry point of each function, relative to the project root. */
export const FUNCTION_ENTRIES = {
  send: join('functions', 'send', 'handler.ts'),
  pull: join('functions', 'pull', 'handler.ts'),
} as const;

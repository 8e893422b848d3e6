/** Reading the local store's folder back, to count the copies of an answer file it holds. */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `root` (none when it is not there) as [relative key, absolute path], unpacked answers left out. */
export function storedFiles(root: string): Array<[string, string]> {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry): [string, string] => {
      const path = join(entry.parentPath, entry.name);
      return [path.slice(root.length + 1), path];
    })
    .filter(([key]) => !key.includes('.unpacked/') && !key.includes('/.'));
}

/** How many files under `root` are named `name` and hold bytes of SHA-256 `sha256`. */
export function storedCopies(root: string, name: string, sha256: string): number {
  return storedFiles(root).filter(
    ([key, path]) =>
      key.split('/').at(-1) === name &&
      createHash('sha256').update(readFileSync(path)).digest('hex') === sha256,
  ).length;
}

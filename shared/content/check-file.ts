import { readFileChunks } from '../io/read-file-chunks';
import { DeclarationContentChecker, type ContentSummary } from './declaration-content';

/**
 * Checks a whole declaration file on disk (streamed): the same rules as the
 * in-pass checker. Used by the local transfer point and by `plan`.
 */
export async function checkDeclarationFile(path: string, app: string): Promise<ContentSummary> {
  const checker = new DeclarationContentChecker(app);
  await readFileChunks(path, (chunk) => checker.write(chunk));
  return checker.end();
}

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The core (shared/) runs the same in Lambda, the CLI and tests because it imports none of
 * them. ESLint's rule for shared/ keeps it so; this proves the rule fires on each kind of
 * import it forbids, and stays quiet on the core's own.
 */

const root = join(__dirname, '..', '..');

/** ESLint's messages for `source` linted as if it were `shared/<file>`. */
function lintAsCore(source: string, file = 'send/probe.ts'): string[] {
  try {
    execFileSync(
      join(root, 'node_modules', '.bin', 'eslint'),
      ['--format', 'json', '--stdin', '--stdin-filename', join(root, 'shared', file)],
      { cwd: root, input: source, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] },
    );
    return [];
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? '';
    const [result] = JSON.parse(output) as { messages: { ruleId: string; message: string }[] }[];
    return (result?.messages ?? []).map((message) => `${message.ruleId}: ${message.message}`);
  }
}

describe('the core imports no handler, stack, CLI, transfer point, test or AWS SDK', () => {
  it.each([
    ["import { handler } from '../../functions/send/handler';", 'handler'],
    ["import { OnssTransferStack } from '../../infra/stack';", 'the stack'],
    ["import { program } from '../../cli/program';", 'the CLI'],
    ["import { startSimulator } from '../../transfer-point';", 'local transfer point'],
    ["import { scratchDir } from '../../test/helpers/pki';", 'a test'],
    ["import { S3Client } from '@aws-sdk/client-s3';", 'never imports AWS'],
    ["import { Logger } from '@aws-lambda-powertools/logger';", 'never imports AWS'],
    ["import { FtpSrv } from 'ftp-srv';", 'FTP server'],
    ["import { Server } from 'ssh2';", 'SSH server'],
  ])('refuses %s', (line, named) => {
    const messages = lintAsCore(
      `${line}\nexport const probe = [${line.split(/[{}]/)[1]?.trim()}];\n`,
    );
    expect(messages).toEqual([expect.stringContaining(named)]);
    expect(messages[0]).toMatch(/^no-restricted-imports: /);
  });

  it('allows the core its own modules and the SSH client', () => {
    expect(
      lintAsCore(
        "import { Client } from 'ssh2';\nimport { parseDeclarationName } from '../names';\nexport const probe = [Client, parseDeclarationName];\n",
      ),
    ).toEqual([]);
  });
});

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { OnssTransferError } from '../../shared/errors';
import { SignatureFormatError } from '../../shared/signing/errors';
import { MAX_FS_BYTES } from '../../shared/signing/fs-format';
import { statRegularFile } from '../../shared/io/regular-file';
import { day, displayText, EXIT, printJson, type CliIo } from '../io';

async function readFsFile(path: string): Promise<Buffer> {
  const info = await statRegularFile(path);
  if (info.size > MAX_FS_BYTES) {
    throw new SignatureFormatError(`${path} has ${info.size} bytes: an FS file is a few kilobytes`);
  }
  return readFile(path);
}

/** `verify FILE FS`: checks the FS format, the digest and the signature. */
export function registerVerify(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('verify')
    .description('check an FS file against its FI file: format rules, digest and signature')
    .argument('<file>', 'the FI file')
    .argument('<fs>', 'the FS file')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, fsPath: string, options: { json?: boolean }) => {
      try {
        const { verifyFile } = await import('../../shared/signing/verify');
        const result = await verifyFile(file, await readFsFile(fsPath));
        if (options.json) {
          printJson(io, { valid: true, file, fs: fsPath, ...result });
        } else {
          const { signer } = result;
          io.stdout(
            `valid: ${fsPath} signs ${file} (${result.size} bytes, ${result.digestAlgorithm}, ${result.format} layout)\n` +
              `signer ${displayText(signer.subject)}, issued by ${displayText(signer.issuer)}\n` +
              `certificate valid until ${day(signer.notAfter)} (${signer.daysLeft} days left)` +
              `${result.signingTime ? `, signed at ${result.signingTime.toISOString()}` : ''}\n` +
              `the certificate chain is not checked here (the transfer point judges it)\n`,
          );
        }
        setExit(EXIT.ok);
      } catch (error) {
        if (!(options.json && error instanceof OnssTransferError)) throw error;
        printJson(io, { valid: false, file, fs: fsPath, code: error.code, error: error.message });
        setExit(EXIT.failed);
      }
    });
}

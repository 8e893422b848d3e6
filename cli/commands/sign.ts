import type { Command } from 'commander';
import { writeFileAtomic } from '../../shared/local/atomic-file';
import {
  asUsage,
  day,
  displayText,
  EXIT,
  printJson,
  refuseOutputOverInput,
  type CliIo,
} from '../io';
import { loadMaterialFromOptions, type KeyOptions } from './signing-material';

interface SignCommandOptions extends KeyOptions {
  out: string;
  format: string;
  digest: string;
  json?: boolean;
}

// A certificate this close to its end gets a warning on every signature.
const EXPIRY_WARNING_DAYS = 30;

/** `sign FILE --out FS`: writes the FS signature of an FI file, or nothing at all. */
export function registerSign(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('sign')
    .description('write the FS signature (detached CMS, base64) of a declaration file')
    .argument('<file>', 'the FI file to sign')
    .requiredOption('--out <fs>', 'where to write the FS file')
    .option('--key <pem>', 'private key, PEM (PKCS#8, possibly encrypted, or PKCS#1/SEC1)')
    .option('--cert <pem>', 'signer certificate, PEM')
    .option('--p12 <file>', 'PKCS#12 / .pfx file holding key and certificate')
    .option('--key-password-env <var>', 'environment variable holding the key or PKCS#12 password')
    .option(
      '--format <layout>',
      'line (one base64 line) or cr76 (76 columns, CR-separated)',
      'line',
    )
    .option('--digest <alg>', 'sha256 or sha1 (deprecated); md5 is refused', 'sha256')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, options: SignCommandOptions) => {
      const [{ parseDigestAlgorithm }, { parseFsFormat }, { signFile }] = await Promise.all([
        import('../../shared/signing/digest'),
        import('../../shared/signing/fs-format'),
        import('../../shared/signing/sign'),
      ]);
      const format = asUsage('--format', () => parseFsFormat(options.format));
      const digest = asUsage('--digest', () => parseDigestAlgorithm(options.digest));
      await refuseOutputOverInput(options.out, [file, options.key, options.cert, options.p12]);
      const material = await loadMaterialFromOptions(io, options);
      const result = await signFile(file, material, { format, digest });
      await writeFileAtomic(options.out, result.fs);
      const { signer } = result;
      if (options.json) {
        printJson(io, {
          file,
          out: options.out,
          format,
          digest: { algorithm: digest, hex: result.digest.digest.toString('hex') },
          size: result.digest.size,
          signer,
        });
      } else {
        io.stdout(
          `signed ${file} (${result.digest.size} bytes, ${digest} ${result.digest.digest.toString('hex')})\n` +
            `wrote ${options.out} (${format})\n` +
            `signer ${displayText(signer.subject)}, ${signer.keyType.toUpperCase()} ${signer.keyStrength}, ` +
            `certificate valid until ${day(signer.notAfter)} (${signer.daysLeft} days left)\n`,
        );
      }
      if (signer.daysLeft < EXPIRY_WARNING_DAYS) {
        io.stderr(
          `onss-transfer: warning: the signer certificate expires in ${signer.daysLeft} days\n`,
        );
      }
      setExit(EXIT.ok);
    });
}

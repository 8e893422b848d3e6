/**
 * Child process of `npm run bench:sign`: signs one file with the core signer
 * (the size limit lifted: the benchmark file is larger than one FI part) and
 * prints its own peak RSS, so the parent measures exactly one signature.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadPemMaterial, signFile } from '../shared/signing';

async function main(): Promise<void> {
  const [file, keyPath, certPath, outPath] = process.argv.slice(2);
  if (!file || !keyPath || !certPath || !outPath)
    throw new Error('usage: sign-child FILE KEY CERT OUT');
  const material = loadPemMaterial({
    keyPem: readFileSync(keyPath),
    certPem: readFileSync(certPath),
  });
  const result = await signFile(file, material, { sizeLimit: false });
  writeFileSync(outPath, result.fs);
  process.stdout.write(
    `${JSON.stringify({ size: result.digest.size, maxRssKiB: process.resourceUsage().maxRSS })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

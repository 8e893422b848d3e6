#!/usr/bin/env node
/**
 * `npm start`: a local demonstration on embedded defaults, with no account and
 * no network: generate a sample DmfA declaration named by the rules, check its
 * name, sign it with a throwaway certificate, verify the signature with our
 * verifier and with OpenSSL when present. Nothing is sent anywhere yet: the
 * send path (simulator round trip) replaces this with the full loop.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDeclarationName, todayInBrussels } from '../shared/names';
import { sampleDmfaXml } from '../shared/demo/sample-dmfa';
import { createSelfSigned } from '../shared/signing';
import { processIo } from './io';
import { runCli } from './program';

const SENDER = '123456';

async function step(title: string, args: string[]): Promise<void> {
  processIo.stdout(`\n$ onss-transfer ${args.join(' ')}\n`);
  const code = await runCli(args, processIo);
  if (code !== 0) throw new Error(`${title} failed (exit ${code})`);
}

function currentQuarter(date: string): string {
  return `${date.slice(0, 4)}${Math.ceil(Number(date.slice(4, 6)) / 3)}`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'onss-demo-'));
  try {
    const date = todayInBrussels();
    const name = buildDeclarationName({
      prefix: 'FI',
      app: 'DMFA',
      sender: SENDER,
      date,
      seq: '00001',
      env: 'T',
      nparts: 1,
      part: 1,
    });
    const fi = join(dir, name);
    const fs = join(dir, name.replace(/^FI\./, 'FS.'));
    writeFileSync(fi, sampleDmfaXml({ quarter: currentQuarter(date), date, workers: 25 }));
    const material = await createSelfSigned({ commonName: 'onss-transfer demo signer' });
    writeFileSync(
      join(dir, 'key.pem'),
      material.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    writeFileSync(join(dir, 'cert.pem'), material.certificate.toString());
    processIo.stdout(`onss-transfer demo: a sample DmfA declaration in ${dir}\n`);

    await step('check-name', ['check-name', name, '--folder', 'INTEST']);
    await step('sign', [
      'sign',
      fi,
      '--out',
      fs,
      '--key',
      join(dir, 'key.pem'),
      '--cert',
      join(dir, 'cert.pem'),
    ]);
    await step('verify', ['verify', fi, fs]);

    const openssl = spawnSync(
      'sh',
      [
        '-c',
        `base64 -d < "${fs}" > "${fs}.der" && openssl cms -verify -binary -inform DER -in "${fs}.der" -content "${fi}" -noverify -out /dev/null`,
      ],
      { encoding: 'utf8' },
    );
    if (openssl.error === undefined && openssl.status !== 127) {
      processIo.stdout(
        `\n$ openssl cms -verify -binary -inform DER -content ${name} -noverify\n${openssl.stderr}`,
      );
      if (openssl.status !== 0) throw new Error('OpenSSL refused the signature');
    }
    processIo.stdout(
      '\ndemo done: name checked, file signed, signature verified. Nothing was sent.\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  processIo.stderr(
    `onss-transfer demo: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
});

#!/usr/bin/env node
/**
 * `npm start`: the whole loop on one machine, on embedded defaults, with no
 * account: start the local transfer point on a free loopback port, make a
 * throwaway signing certificate, generate a sample DmfA declaration, send it
 * through the same pipeline as `onss-transfer send` (plan, sign, upload, GO),
 * wait for the transfer point's ACRF, fetch it over FTP and print the
 * outcome. Everything it starts is stopped and everything it writes removed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { todayInBrussels } from '../shared/names';
import { sampleDmfaXml } from '../shared/demo/sample-dmfa';
import { createSelfSigned } from '../shared/signing';
import { startSimulator, type Simulator } from '../shared/simulator';
import { ftpConnector } from '../shared/transport';
import { processIo, type CliIo } from './io';
import { runCli } from './program';

const SENDER = '123456';
const PASSWORD_VARIABLE = 'DEMO_FTP_PASSWORD';
const ACRF_WAIT_MS = 20_000;

function currentQuarter(date: string): string {
  return `${date.slice(0, 4)}${Math.ceil(Number(date.slice(4, 6)) / 3)}`;
}

async function step(io: CliIo, args: string[]): Promise<void> {
  io.stdout(`\n$ onss-transfer ${args.join(' ')}\n`);
  const code = await runCli(args, io);
  if (code !== 0) throw new Error(`onss-transfer ${args[0]} failed (exit ${code})`);
}

/** Downloads the ACRF the simulator wrote, over FTP, as the pull path will. */
async function fetchAcrf(simulator: Simulator, name: string): Promise<string> {
  const transport = await ftpConnector({
    host: simulator.host,
    port: simulator.port,
    user: simulator.user,
    password: simulator.password,
  }).connect();
  try {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    await transport.get(`OUTTEST/${name}`, sink);
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await transport.close();
  }
}

// The ACRF parser comes with the receive path; a look at two elements is enough here.
function acrfOutcome(xml: string): { accepted: boolean; ticket: string; errors: string[] } {
  const result = /<ResultCode>\s*(\d)\s*<\/ResultCode>/.exec(xml)?.[1];
  const ticket = /<ReferenceNbr>\s*([^<\s]+)\s*<\/ReferenceNbr>/.exec(xml)?.[1] ?? '?';
  const errors = [...xml.matchAll(/<ErrorID>\s*([^<\s]+)\s*<\/ErrorID>/g)].map((m) => m[1] ?? '');
  return { accepted: result === '1', ticket, errors };
}

/**
 * Runs the demonstration, writing to `io`; resolves with the ACRF outcome.
 * Exported so a test runs exactly what `npm start` runs.
 */
export async function runDemo(
  out: CliIo = processIo,
): Promise<{ accepted: boolean; ticket: string; errors: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'onss-demo-'));
  const simulator = await startSimulator({
    root: join(dir, 'transfer-point'),
    signatureRequiredFor: { T: true },
  });
  try {
    const date = todayInBrussels();
    const declaration = join(dir, 'dmfa-sample.xml');
    writeFileSync(declaration, sampleDmfaXml({ quarter: currentQuarter(date), date, workers: 25 }));
    const material = await createSelfSigned({ commonName: 'onss-transfer demo signer' });
    writeFileSync(
      join(dir, 'key.pem'),
      material.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    writeFileSync(join(dir, 'cert.pem'), material.certificate.toString());
    out.stdout(
      `onss-transfer demo: a local transfer point on ${simulator.url}, ` +
        `a sample DmfA declaration and a throwaway certificate in ${dir}\n`,
    );
    const io: CliIo = { ...out, env: { ...out.env, [PASSWORD_VARIABLE]: simulator.password } };
    const naming = ['--app', 'DMFA', '--sender', SENDER, '--env', 'T', '--sign-test'];
    await step(io, ['plan', declaration, ...naming]);
    await step(io, [
      'send',
      declaration,
      ...naming,
      '--key',
      join(dir, 'key.pem'),
      '--cert',
      join(dir, 'cert.pem'),
      '--host',
      simulator.host,
      '--port',
      String(simulator.port),
      '--user',
      simulator.user,
      '--password-env',
      PASSWORD_VARIABLE,
      '--ledger',
      join(dir, 'ledger.sqlite'),
    ]);

    const judgement = await simulator.waitForJudgement(undefined, ACRF_WAIT_MS);
    const fo = judgement.responseNames.find((name) => name.startsWith('FO.'));
    if (fo === undefined) throw new Error('the transfer point wrote no ACRF');
    const outcome = acrfOutcome(await fetchAcrf(simulator, fo));
    out.stdout(
      `\nthe transfer point answered ${fo}:\n` +
        (outcome.accepted
          ? `accepted, ticket ${outcome.ticket}\n`
          : `rejected (${outcome.errors.join(', ')}), ticket ${outcome.ticket}\n`),
    );
    return outcome;
  } finally {
    await simulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runDemo().then(
    (outcome) => {
      if (!outcome.accepted) process.exitCode = 1;
    },
    (error: unknown) => {
      processIo.stderr(
        `onss-transfer demo: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}

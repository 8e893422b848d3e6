import { existsSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { todayInBrussels } from '../../shared/names';
import { runCli } from '../../cli/program';
import { captureIo, cli } from '../helpers/cli';
import { scratchDir } from '../helpers/pki';

const { dir, cleanup } = scratchDir('onss-cli-sim-');
afterAll(cleanup);

/** Runs `onss-transfer simulator --port 0 ...args` in-process until `stop()` is called. */
function runSimulator(args: string[], env: Record<string, string>) {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const { io, stdout } = captureIo(env, { waitForStop: () => stopped });
  const running = runCli(['simulator', '--port', '0', ...args], io);
  return { stdout, stop, running };
}

describe('onss-transfer simulator', () => {
  it('serves until told to stop, judges what is sent, and stops cleanly', async () => {
    const { stdout, stop, running } = runSimulator(
      ['--password-env', 'SIM_PW', '--root', join(dir, 'root')],
      { SIM_PW: 'local-Pass-1' },
    );
    while (!stdout().includes('listening on')) await new Promise((r) => setTimeout(r, 20));
    const port = /127\.0\.0\.1:(\d+)/.exec(stdout())?.[1] ?? '';
    expect(stdout()).not.toContain('local-Pass-1');

    const file = join(dir, `FI.DMFA.123456.${todayInBrussels()}.00003.T.1.1`);
    writeFileSync(file, sampleDmfaXml({ quarter: '20263', date: todayInBrussels(), workers: 2 }));
    const sent = await cli(
      [
        'send',
        file,
        '--host',
        '127.0.0.1',
        '--port',
        port,
        '--user',
        'onss',
        '--password-env',
        'SIM_PW',
        '--ledger',
        join(dir, 'l.sqlite'),
      ],
      { SIM_PW: 'local-Pass-1' },
    );
    expect(sent.code).toBe(0);
    while (!stdout().includes('accepted GO.')) await new Promise((r) => setTimeout(r, 20));
    stop();
    expect(await running).toBe(0);
  });

  it('--protocol ftps: prints the certificate to pin and the flags to send with, removes it at the end', async () => {
    const { stdout, stop, running } = runSimulator(
      ['--password-env', 'SIM_PW', '--protocol', 'ftps'],
      { SIM_PW: 'local-Pass-2' },
    );
    while (!stdout().includes('Ctrl-C')) await new Promise((r) => setTimeout(r, 20));
    expect(stdout()).toMatch(/listening on ftps:\/\/onss@127\.0\.0\.1:\d+/);
    const port = /127\.0\.0\.1:(\d+)/.exec(stdout())?.[1] ?? '';
    const caFile = /--protocol ftps --ca-file (\S+)/.exec(stdout())?.[1] ?? '';
    expect(readFileSync(caFile, 'utf8')).toContain('-----BEGIN CERTIFICATE-----');

    const file = join(dir, `ftps-${todayInBrussels()}.xml`);
    writeFileSync(file, sampleDmfaXml({ quarter: '20263', date: todayInBrussels(), workers: 4 }));
    const sent = await cli(
      [
        'send',
        file,
        ...['--app', 'DMFA', '--sender', '123456', '--env', 'T'],
        ...['--host', '127.0.0.1', '--port', port, '--user', 'onss', '--password-env', 'SIM_PW'],
        ...['--protocol', 'ftps', '--ca-file', caFile, '--ledger', join(dir, 'ftps.sqlite')],
      ],
      { SIM_PW: 'local-Pass-2' },
    );
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    while (!stdout().includes('accepted GO.')) await new Promise((r) => setTimeout(r, 20));
    stop();
    expect(await running).toBe(0);
    expect(existsSync(caFile)).toBe(false);
  });

  it('--protocol sftp: prints the client key and host key to send with, removes the key at the end', async () => {
    const { stdout, stop, running } = runSimulator(['--protocol', 'sftp'], {});
    while (!stdout().includes('Ctrl-C')) await new Promise((r) => setTimeout(r, 20));
    expect(stdout()).toMatch(/listening on sftp:\/\/onss@127\.0\.0\.1:\d+/);
    const port = /127\.0\.0\.1:(\d+)/.exec(stdout())?.[1] ?? '';
    const channel = /--protocol sftp --ssh-key (\S+) --host-key-sha256 (\S+)/.exec(stdout());
    const keyFile = channel?.[1] ?? '';
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    const file = join(dir, `sftp-${todayInBrussels()}.xml`);
    writeFileSync(file, sampleDmfaXml({ quarter: '20263', date: todayInBrussels(), workers: 5 }));
    const sent = await cli([
      'send',
      file,
      ...['--app', 'DMFA', '--sender', '123456', '--env', 'T'],
      ...['--host', '127.0.0.1', '--port', port, '--user', 'onss', '--protocol', 'sftp'],
      ...['--ssh-key', keyFile, '--host-key-sha256', channel?.[2] ?? ''],
      ...['--ledger', join(dir, 'sftp.sqlite')],
    ]);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    while (!stdout().includes('accepted GO.')) await new Promise((r) => setTimeout(r, 20));
    stop();
    expect(await running).toBe(0);
    expect(existsSync(keyFile)).toBe(false);
  });

  it('refuses an unknown --protocol and --ca-out without ftps (exit 2)', async () => {
    expect((await cli(['simulator', '--protocol', 'scp'])).stderr).toMatch(
      /--protocol must be ftp, ftps or sftp, not "scp"/,
    );
    expect((await cli(['simulator', '--ssh-key-out', join(dir, 'k')])).stderr).toMatch(
      /--ssh-key-out is for SFTP/,
    );
    const run = await cli(['simulator', '--ca-out', join(dir, 'ca.pem')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--ca-out is for FTPS/);
  });
});

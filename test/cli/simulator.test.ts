import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { todayInBrussels } from '../../shared/names';
import { runCli } from '../../cli/program';
import { captureIo, cli } from '../helpers/cli';
import { scratchDir } from '../helpers/pki';

const { dir, cleanup } = scratchDir('onss-cli-sim-');
afterAll(cleanup);

describe('onss-transfer simulator', () => {
  it('serves until told to stop, judges what is sent, and stops cleanly', async () => {
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const { io, stdout } = captureIo({ SIM_PW: 'local-Pass-1' }, { waitForStop: () => stopped });
    const running = runCli(
      ['simulator', '--port', '0', '--password-env', 'SIM_PW', '--root', join(dir, 'root')],
      io,
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
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { openSqliteLedger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { startSimulator, type Simulator } from '../../transfer-point';
import { cli } from '../helpers/cli';
import { scratchDir } from '../helpers/pki';

// Two channels in one channels file, each its own account at its own local transfer point:
// `--channel` stands for the server flags, the sender and the credentials' variables; each
// declaration is recorded with its channel, sent only with its own channel's credentials, and
// `status --channel` lists one channel's.

const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-cli-channels-');
const ledger = join(dir, 'ledger.sqlite');
const channelsFile = join(dir, 'channels.json');
let east: Simulator;
let west: Simulator;

function channelOf(name: string, sender: string, simulator: Simulator, passwordEnv: string) {
  return {
    name,
    sender,
    host: simulator.host,
    port: simulator.port,
    user: simulator.user,
    protocol: 'ftp',
    passwordEnv,
  };
}

beforeAll(async () => {
  [east, west] = await Promise.all([
    startSimulator({ sender: '123456', user: 'east-user' }),
    startSimulator({ sender: '654321', user: 'west-user' }),
  ]);
  writeFileSync(
    channelsFile,
    JSON.stringify({
      channels: [
        channelOf('east', '123456', east, 'EAST_PW'),
        channelOf('west', '654321', west, 'WEST_PW'),
      ],
    }),
  );
});
afterAll(async () => {
  await Promise.all([east?.stop(), west?.stop()]);
  cleanup();
});

const env = () => ({ EAST_PW: east.password, WEST_PW: west.password });
const using = (name: string) => ['--channel', name, '--channels', channelsFile, '--ledger', ledger];

function declaration(name: string, workers: number): string {
  const file = join(dir, name);
  writeFileSync(file, sampleDmfaXml({ quarter: '20263', date: today, workers }));
  return file;
}

describe('onss-transfer --channel', () => {
  it('sends through each channel with its own server, user and sender, and records it', async () => {
    // Act
    const toEast = await cli(
      ['send', declaration('east.xml', 2), '--app', 'DMFA', '--env', 'T', ...using('east')],
      env(),
    );
    const toWest = await cli(
      ['send', declaration('west.xml', 3), '--app', 'DMFA', '--env', 'T', ...using('west')],
      env(),
    );

    // Assess
    expect(toEast).toMatchObject({ code: 0, stderr: '' });
    expect(toWest).toMatchObject({ code: 0, stderr: '' });
    const eastJudged = await east.waitForJudgement();
    const westJudged = await west.waitForJudgement();
    expect(eastJudged).toMatchObject({ accepted: true });
    expect(eastJudged.goName).toContain('.123456.');
    expect(westJudged).toMatchObject({ accepted: true });
    expect(westJudged.goName).toContain('.654321.');
    const opened = openSqliteLedger(ledger);
    try {
      const records = await opened.list();
      expect(records.map((record) => [record.key.sender, record.channel])).toEqual([
        ['123456', 'east'],
        ['654321', 'west'],
      ]);
    } finally {
      await opened.close();
    }
    const eastOnly = await cli(['status', '--channel', 'east', '--json', '--ledger', ledger]);
    expect(JSON.parse(eastOnly.stdout)).toEqual([
      expect.objectContaining({ channel: 'east', set: expect.stringContaining('.123456.') }),
    ]);
  });

  it("pulls each channel's account into one folder, its answers apart from the other's", async () => {
    // Prepare: both accounts answered their declaration of the first test
    await Promise.all([east.idle(), west.idle()]);
    const dest = join(dir, 'answers');

    // Act
    const pulls = [
      await cli(['pull', '--env', 'T', '--dest', dest, ...using('east')], env()),
      await cli(['pull', '--env', 'T', '--dest', dest, ...using('west')], env()),
    ];

    // Assess
    expect(pulls.map((run) => run.code)).toEqual([0, 0]);
    const opened = openSqliteLedger(ledger);
    try {
      const records = await opened.list();
      expect(records.map((record) => record.state)).toEqual(['acknowledged', 'acknowledged']);
      const responses = (await opened.listResponses()).map((response) => response.id);
      expect(responses.filter((id) => id.startsWith('east/ACRF.'))).toHaveLength(1);
      expect(responses.filter((id) => id.startsWith('west/ACRF.'))).toHaveLength(1);
    } finally {
      await opened.close();
    }
    expect(east.files('OUTTEST').filter((name) => name.includes('ACRF'))).toEqual([]);
  });

  it("refuses a declaration of another sender than the channel's, before sending", async () => {
    // Prepare
    const judgedBefore = west.judgements.length;

    // Act
    const run = await cli(
      [
        'send',
        declaration('misrouted.xml', 4),
        ...['--app', 'DMFA', '--env', 'T', '--sender', '123456'],
        ...using('west'),
      ],
      env(),
    );

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('channel west files for sender 654321');
    expect(run.stderr).toContain('ACRF-108');
    await west.idle();
    expect(west.judgements).toHaveLength(judgedBefore);
    expect(west.files('INTEST')).toEqual([]);
  });

  it("refuses to cancel one channel's set with another channel's credentials", async () => {
    // Prepare: a west set left uploading
    const opened = openSqliteLedger(ledger);
    const key = { app: 'DMFA', sender: '654321', date: today, seq: '00900', env: 'T' as const };
    const id = `DMFA.654321.${today}.00900.T`;
    try {
      await opened.claim(
        {
          key,
          nparts: 1,
          folder: 'INTEST',
          source: { kind: 'file', id: join(dir, 'stuck.xml'), version: 'v1' },
          files: [{ name: `GO.${id}.1`, size: 0, role: 'GO' }],
          channel: 'west',
        },
        { owner: 'dead', leaseMs: 1 },
      );
      await opened.transition(id, 'planned', 'uploading');
    } finally {
      await opened.close();
    }

    // Act
    const run = await cli(['cancel', id, ...using('east')], env());

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('it was sent through channel west, not channel east');
    expect(run.stderr).toContain('[OTHER_CHANNEL]');
    await east.idle();
    expect(east.cancellations).toEqual([]);
    const ok = await cli(['cancel', id, ...using('west')], env());
    expect(ok.code).toBe(0);
  });

  it('refuses a channels file that holds a secret, naming the field', async () => {
    // Prepare
    const leaky = join(dir, 'leaky.json');
    writeFileSync(
      leaky,
      JSON.stringify({ channels: [{ ...channelOf('east', '123456', east, 'X'), password: 'x' }] }),
    );

    // Act
    const run = await cli(
      ['cancel', `DMFA.123456.${today}.00001.T`, '--channel', 'east', '--channels', leaky],
      env(),
    );

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('channel east.password');
    expect(run.stderr).toContain('a secret never goes in the channels file');
    expect(run.stderr).not.toContain('"x"');
  });

  it('names the channels the file holds when --channel names none of them', async () => {
    // Act
    const run = await cli(['cancel', 'X', ...using('north')], env());

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no channel "north"');
    expect(run.stderr).toContain('(it holds east, west)');
  });
});

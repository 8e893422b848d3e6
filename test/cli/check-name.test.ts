import { todayInBrussels } from '../../shared/names';
import { cli } from '../helpers/cli';

const today = todayInBrussels();

describe('onss-transfer check-name', () => {
  it('exits 0 when every name is valid', async () => {
    const run = await cli([
      'check-name',
      `FI.DMFA.123456.${today}.00001.R.1.1`,
      `GO.DMFA.123456.${today}.00001.R.1`,
    ]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout.split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('exits 1 with one line per bad name carrying ACRF-<code> and the rule', async () => {
    const run = await cli([
      'check-name',
      `FI.DMFA.123456.${today}.00001.R.1.1`,
      `FI.XXXX.123456.${today}.00001.R.1.1`,
      `FI.DMFA.123456.${today}.00000.R.1.1`,
    ]);
    expect(run.code).toBe(1);
    const bad = run.stdout.split('\n').filter((line) => line.startsWith('INVALID'));
    expect(bad).toEqual([
      expect.stringMatching(/XXXX.*ACRF-129/),
      expect.stringMatching(/00000.*ACRF-127/),
    ]);
  });

  it('checks the environment against --folder and the sender against --sender', async () => {
    const name = `FI.DMFA.123456.${today}.00001.R.1.1`;
    expect((await cli(['check-name', name, '--folder', 'INTEST'])).stdout).toContain('ACRF-118');
    expect((await cli(['check-name', name, '--sender', '654321'])).stdout).toContain('ACRF-108');
  });

  it('accepts extra applications with --apps', async () => {
    const name = `FI.ABCD.123456.${today}.00001.T.1.1`;
    expect((await cli(['check-name', name])).code).toBe(1);
    expect((await cli(['check-name', name, '--apps', 'ABCD'])).code).toBe(0);
  });

  it('prints JSON verdicts with --json', async () => {
    const run = await cli(['check-name', '--json', `FI.DMFA.123456.${today}.0001.R.1.1`]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      valid: false,
      names: [expect.objectContaining({ valid: false, code: 'ACRF-112', field: 'seq' })],
    });
  });

  it('checks response names with --response', async () => {
    const run = await cli(['check-name', '--response', 'FO.ACRF.999999.20110701.00001.T']);
    expect(run.code).toBe(0);
  });

  it('refuses an unknown folder as a usage error (exit 2)', async () => {
    const run = await cli(['check-name', `FI.DMFA.123456.${today}.00001.R.1.1`, '--folder', 'OUT']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/folder/);
  });

  it('is a usage error (exit 2) without a name', async () => {
    const run = await cli(['check-name']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/missing required argument/);
  });
});

describe('onss-transfer check-name with hostile names', () => {
  it('prints control characters escaped, never raw', async () => {
    const run = await cli(['check-name', 'FI.DMFA\u001b[31m.x']);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('\u001b');
    expect(run.stdout).toContain('\\u{1b}');
  });
});

import { planDeclaration, planFileNames } from '../../shared/send/plan';
import type { DeclarationKey } from '../../shared/names';

const key = (env: 'R' | 'T' | 'S'): DeclarationKey => ({
  app: 'DMFA',
  sender: '123456',
  date: '20261125',
  seq: '00001',
  env,
});
const rules = { today: '20261125' };

describe('planDeclaration', () => {
  it.each([
    {
      title: 'small R file',
      size: 10,
      env: 'R',
      partSize: undefined,
      parts: [[0, 10]],
      signed: true,
    },
    {
      title: 'small T file',
      size: 10,
      env: 'T',
      partSize: undefined,
      parts: [[0, 10]],
      signed: false,
    },
    { title: 'S file', size: 5, env: 'S', partSize: undefined, parts: [[0, 5]], signed: false },
    {
      title: 'exactly the limit',
      size: 200_000_000,
      env: 'R',
      partSize: undefined,
      parts: [[0, 200_000_000]],
      signed: true,
    },
    {
      title: 'one byte over the limit',
      size: 200_000_001,
      env: 'R',
      partSize: undefined,
      parts: [
        [0, 200_000_000],
        [200_000_000, 200_000_001],
      ],
      signed: true,
    },
    {
      title: '1.8 GB',
      size: 1_800_000_000,
      env: 'T',
      partSize: undefined,
      parts: Array.from({ length: 9 }, (_, i) => [i * 2e8, (i + 1) * 2e8]),
      signed: false,
    },
    {
      title: 'small parts',
      size: 2500,
      env: 'T',
      partSize: 1000,
      parts: [
        [0, 1000],
        [1000, 2000],
        [2000, 2500],
      ],
      signed: false,
    },
    {
      title: 'exactly 9 small parts',
      size: 9000,
      env: 'R',
      partSize: 1000,
      parts: Array.from({ length: 9 }, (_, i) => [i * 1000, (i + 1) * 1000]),
      signed: true,
    },
  ] as const)('$title', ({ size, env, partSize, parts, signed }) => {
    const plan = planDeclaration(size, key(env), { rules, ...(partSize ? { partSize } : {}) });
    expect(plan.parts.map((p) => [p.start, p.end])).toEqual(parts);
    expect(plan.nparts).toBe(parts.length);
    expect(plan.signed).toBe(signed);
    expect(plan.parts.every((p) => (p.fs !== undefined) === signed)).toBe(true);
    // The parts cover the source exactly, in order, with no gap or overlap.
    expect(plan.parts.reduce((sum, p) => sum + p.size, 0)).toBe(size);
    expect(plan.folder).toBe({ R: 'IN', T: 'INTEST', S: 'INTEST-S' }[env]);
  });

  it('names every file, GO last, FS after its FI', () => {
    const plan = planDeclaration(2500, key('R'), { rules, partSize: 1000 });
    expect(planFileNames(plan)).toEqual([
      'FI.DMFA.123456.20261125.00001.R.3.1',
      'FS.DMFA.123456.20261125.00001.R.3.1',
      'FI.DMFA.123456.20261125.00001.R.3.2',
      'FS.DMFA.123456.20261125.00001.R.3.2',
      'FI.DMFA.123456.20261125.00001.R.3.3',
      'FS.DMFA.123456.20261125.00001.R.3.3',
      'GO.DMFA.123456.20261125.00001.R.3',
    ]);
    expect(plan.setId).toBe('DMFA.123456.20261125.00001.R');
  });

  it('signs T and S when the setting asks', () => {
    expect(planDeclaration(10, key('T'), { rules, signFor: { T: true } }).signed).toBe(true);
    expect(planDeclaration(10, key('S'), { rules, signFor: { T: true } }).signed).toBe(false);
  });

  it.each([
    { title: 'an empty file', size: 0, options: {}, code: 'ACRF-134' },
    { title: 'ten parts needed', size: 9001, options: { partSize: 1000 }, code: 'ACRF-128' },
    { title: 'over 1.8 GB', size: 1_800_000_001, options: {}, code: 'ACRF-128' },
    {
      title: 'a part size above the limit',
      size: 10,
      options: { partSize: 200_000_001 },
      code: 'PLAN_OPTIONS_INVALID',
    },
    { title: 'a zero part size', size: 10, options: { partSize: 0 }, code: 'PLAN_OPTIONS_INVALID' },
  ])('refuses $title with $code', ({ size, options, code }) => {
    expect(() => planDeclaration(size, key('R'), { rules, ...options })).toThrow(
      expect.objectContaining({ code }),
    );
  });

  it.each([
    { title: 'an unknown application', key: { ...key('R'), app: 'XXXX' }, code: 'ACRF-129' },
    { title: 'a date in the future', key: { ...key('R'), date: '20261126' }, code: 'ACRF-111' },
    { title: 'sequence 00000', key: { ...key('R'), seq: '00000' }, code: 'ACRF-127' },
  ])('refuses names with $title', ({ key: bad, code }) => {
    expect(() => planDeclaration(10, bad, { rules })).toThrow(expect.objectContaining({ code }));
  });
});

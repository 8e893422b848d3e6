import {
  FileRuleError,
  MAX_FILE_BYTES,
  NameRuleError,
  RuleOptionsError,
  SetRuleError,
  checkDeclarationSet,
  checkFileSize,
  signatureRequired,
} from '../../shared/names';
import type { DeclarationSetOptions, Environment } from '../../shared/names';

const rules = { today: '20260715' };
const K = 'DMFA.101380.20260701.00001.R';

/** Names of the set K with `n` parts, e.g. fi(2, 1) = FI.<K>.2.1. */
const fi = (n: number, part: number) => `FI.${K}.${n}.${part}`;
const fs = (n: number, part: number) => `FS.${K}.${n}.${part}`;
const go = (n: number) => `GO.${K}.${n}`;

interface SetCase {
  title: string;
  input: { names: string[]; options: DeclarationSetOptions };
  expected: Array<{ code: string; names?: string[] }>;
}

const signed = { signatureRequired: true, rules };
const unsigned = { signatureRequired: false, rules };

const CASES: SetCase[] = [
  {
    title: 'one signed part',
    input: { names: [fi(1, 1), fs(1, 1), go(1)], options: { ...signed, requireGo: true } },
    expected: [],
  },
  {
    title: 'three signed parts in any order, GO not required yet',
    input: { names: [fs(3, 2), fi(3, 3), fi(3, 1), fs(3, 1), fi(3, 2), fs(3, 3)], options: signed },
    expected: [],
  },
  {
    title: 'two unsigned parts with their GO',
    input: { names: [fi(2, 1), fi(2, 2), go(2)], options: { ...unsigned, requireGo: true } },
    expected: [],
  },
  {
    title: 'nine signed parts',
    input: {
      names: [1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((p) => [fi(9, p), fs(9, p)]),
      options: signed,
    },
    expected: [],
  },
  {
    title: 'a missing FI (120)',
    input: { names: [fi(2, 1), fs(2, 1), fs(2, 2)], options: signed },
    expected: [{ code: 'ACRF-120', names: [fi(2, 1)] }],
  },
  {
    title: 'no FI at all (120)',
    input: { names: [go(1)], options: unsigned },
    expected: [{ code: 'ACRF-120', names: [] }],
  },
  {
    title: 'an FS where none is wanted (121)',
    input: { names: [fi(1, 1), fs(1, 1)], options: unsigned },
    expected: [{ code: 'ACRF-121', names: [fs(1, 1)] }],
  },
  {
    title: 'a missing FS (122)',
    input: { names: [fi(2, 1), fi(2, 2), fs(2, 2)], options: signed },
    expected: [{ code: 'ACRF-122', names: [fs(2, 2)] }],
  },
  {
    title: 'an FI part twice (120 and 123)',
    input: { names: [fi(2, 1), fi(2, 1), fi(2, 2)], options: unsigned },
    expected: [{ code: 'ACRF-120' }, { code: 'ACRF-123', names: [fi(2, 1), fi(2, 1)] }],
  },
  {
    title: 'the right FI count with a part twice (123)',
    input: { names: [fi(2, 1), fi(2, 1), fs(2, 1), fs(2, 2)], options: signed },
    expected: [{ code: 'ACRF-123', names: [fi(2, 1), fi(2, 1)] }],
  },
  {
    title: 'an FS part twice and one missing (124)',
    input: { names: [fi(2, 1), fi(2, 2), fs(2, 2), fs(2, 2)], options: signed },
    expected: [{ code: 'ACRF-124', names: [fs(2, 2), fs(2, 2)] }],
  },
  {
    title: 'no GO when one is required (130)',
    input: { names: [fi(1, 1), fs(1, 1)], options: { ...signed, requireGo: true } },
    expected: [{ code: 'ACRF-130', names: [go(1)] }],
  },
  {
    title: 'names of another set (SET_MIXED)',
    input: {
      names: [fi(1, 1), fs(1, 1), 'FI.DMFA.101380.20260701.00002.R.1.1'],
      options: signed,
    },
    expected: [{ code: 'SET_MIXED', names: ['FI.DMFA.101380.20260701.00002.R.1.1'] }],
  },
  {
    title: 'parts of another NPARTS (SET_MIXED)',
    input: { names: [fi(1, 1), fi(2, 2)], options: unsigned },
    expected: [{ code: 'SET_MIXED', names: [fi(2, 2)] }],
  },
  {
    title: 'a TD with the declaration (SET_MIXED)',
    input: { names: [fi(1, 1), `TD.${K}.1`], options: unsigned },
    expected: [{ code: 'SET_MIXED', names: [`TD.${K}.1`] }],
  },
  {
    title: 'a malformed name is reported with the others',
    input: { names: [fi(2, 1), fi(2, 1).replace('FI.', 'FI..')], options: unsigned },
    expected: [{ code: 'ACRF-131' }, { code: 'ACRF-120', names: [fi(2, 1)] }],
  },
  {
    title: 'an empty list (SET_EMPTY)',
    input: { names: [], options: unsigned },
    expected: [{ code: 'SET_EMPTY', names: [] }],
  },
];

describe('checkDeclarationSet', () => {
  it.each(CASES)('$title', ({ input, expected }) => {
    // Act
    const errors = checkDeclarationSet(input.names, input.options);

    // Assess
    expect(errors.map((error) => error.code)).toEqual(expected.map((e) => e.code));
    expected.forEach((e, i) => {
      if (e.names !== undefined) expect(errors[i]).toMatchObject({ names: e.names });
    });
  });

  it('writes a message naming the set and the rule', () => {
    const [error] = checkDeclarationSet([fi(2, 1)], { signatureRequired: false, rules });
    expect(error).toBeInstanceOf(SetRuleError);
    expect(error?.message).toBe(
      'set DMFA.101380.20260701.00001.R.2: has 1 FI file for NPARTS 2; missing part 2 (ACRF-120)',
    );
  });

  it('reports the broken name rules as NameRuleError', () => {
    const [error] = checkDeclarationSet([fi(1, 1).replace('DMFA', 'XXXX')], signed);
    expect(error).toBeInstanceOf(NameRuleError);
    expect(error?.code).toBe('ACRF-129');
  });

  it('applies the name rules given', () => {
    const errors = checkDeclarationSet([fi(1, 1)], {
      ...unsigned,
      rules: { ...rules, folder: 'INTEST' },
    });
    expect(errors.map((error) => error.code)).toEqual(['ACRF-118']);
  });

  it.each([
    { title: 'no signatureRequired', input: { rules } },
    { title: 'a requireGo that is not a boolean', input: { ...signed, requireGo: 'yes' } },
    { title: 'invalid name rules', input: { ...signed, rules: { maxParts: 10 } } },
  ])('refuses $title', ({ input }) => {
    const act = () => checkDeclarationSet([fi(1, 1)], input as unknown as DeclarationSetOptions);
    expect(act).toThrow(RuleOptionsError);
  });
});

describe('checkFileSize', () => {
  it.each([
    { title: '1 byte', input: { size: 1 }, expected: undefined },
    { title: 'exactly 200,000,000 bytes', input: { size: 200_000_000 }, expected: undefined },
    { title: '0 bytes', input: { size: 0 }, expected: 'ACRF-134' },
    { title: '200,000,001 bytes', input: { size: 200_000_001 }, expected: 'ACRF-184' },
    { title: 'at a lowered limit', input: { size: 1000, maxBytes: 1000 }, expected: undefined },
    { title: 'over a lowered limit', input: { size: 1001, maxBytes: 1000 }, expected: 'ACRF-184' },
    { title: '0 bytes under any limit', input: { size: 0, maxBytes: 1000 }, expected: 'ACRF-134' },
  ])('$title', ({ input, expected }) => {
    const act = () => checkFileSize(input.size, input.maxBytes);
    if (expected === undefined) expect(act).not.toThrow();
    else {
      expect(act).toThrow(FileRuleError);
      expect(act).toThrow(expect.objectContaining({ code: expected, size: input.size }));
    }
  });

  it('names the file when given', () => {
    expect(() => checkFileSize(0, MAX_FILE_BYTES, fi(1, 1))).toThrow(
      `${fi(1, 1)}: has no data (0 bytes) (ACRF-134)`,
    );
    expect(() => checkFileSize(200_000_001)).toThrow(
      'file: is 200000001 bytes, over the limit of 200000000 bytes (ACRF-184)',
    );
  });

  it.each([
    { title: 'a limit above 200,000,000', input: { size: 1, maxBytes: 200_000_001 } },
    { title: 'a limit of 0', input: { size: 1, maxBytes: 0 } },
    { title: 'a negative size', input: { size: -1, maxBytes: 10 } },
    { title: 'a fractional size', input: { size: 1.5, maxBytes: 10 } },
    { title: 'NaN', input: { size: Number.NaN, maxBytes: 10 } },
  ])('refuses $title', ({ input }) => {
    expect(() => checkFileSize(input.size, input.maxBytes)).toThrow(RuleOptionsError);
  });
});

describe('signatureRequired', () => {
  it.each([
    { title: 'R by default', input: { env: 'R', settings: undefined }, expected: true },
    {
      title: 'R even when told no',
      input: { env: 'R', settings: { T: false, S: false } },
      expected: true,
    },
    { title: 'T by default', input: { env: 'T', settings: undefined }, expected: false },
    { title: 'S by default', input: { env: 'S', settings: undefined }, expected: false },
    { title: 'T when set', input: { env: 'T', settings: { T: true } }, expected: true },
    { title: 'S when set', input: { env: 'S', settings: { S: true } }, expected: true },
    { title: 'S unaffected by T', input: { env: 'S', settings: { T: true } }, expected: false },
    { title: 'T unaffected by S', input: { env: 'T', settings: { S: true } }, expected: false },
  ])('$title', ({ input, expected }) => {
    expect(signatureRequired(input.env as Environment, input.settings)).toBe(expected);
  });

  it('refuses an unknown environment and a setting that is not a boolean', () => {
    expect(() => signatureRequired('X' as Environment)).toThrow(RuleOptionsError);
    expect(() => signatureRequired('T', { T: 'yes' as unknown as boolean })).toThrow(
      RuleOptionsError,
    );
  });
});

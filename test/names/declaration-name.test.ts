import {
  KNOWN_APPLICATIONS,
  NameRuleError,
  RuleOptionsError,
  buildDeclarationName,
  checkDeclarationName,
  declarationKeyOf,
  formatDeclarationKey,
  parseDeclarationName,
  resolveNameRules,
  todayInBrussels,
} from '../../shared/names';
import type { DeclarationName, NameField, NameRules } from '../../shared/names';

// Every table test runs against a fixed day so that it never depends on the real date.
const TODAY = '20260715';

interface Input {
  name: string;
  rules?: Partial<NameRules>;
}

interface ValidCase {
  title: string;
  input: Input;
  expected: DeclarationName;
}

interface InvalidCase {
  title: string;
  input: Input;
  expected: { code: string; field: NameField };
}

const base = { app: 'DMFA', sender: '101380', date: '20260701', seq: '00001' } as const;

const VALID: ValidCase[] = [
  {
    title: 'FI of a one-part circuit test',
    input: { name: 'FI.DMFA.101380.20260701.00001.T.1.1' },
    expected: { prefix: 'FI', ...base, env: 'T', nparts: 1, part: 1 },
  },
  {
    title: 'FS of a one-part circuit test',
    input: { name: 'FS.DMFA.101380.20260701.00001.T.1.1' },
    expected: { prefix: 'FS', ...base, env: 'T', nparts: 1, part: 1 },
  },
  {
    title: 'GO has no part',
    input: { name: 'GO.DMFA.101380.20260701.00001.T.1' },
    expected: { prefix: 'GO', ...base, env: 'T', nparts: 1 },
  },
  {
    title: 'TD has no part',
    input: { name: 'TD.DMFA.101380.20260701.00001.T.1' },
    expected: { prefix: 'TD', ...base, env: 'T', nparts: 1 },
  },
  {
    title: 'production file',
    input: { name: 'FI.DMFA.101380.20260701.00001.R.1.1' },
    expected: { prefix: 'FI', ...base, env: 'R', nparts: 1, part: 1 },
  },
  {
    title: 'declaration test file',
    input: { name: 'FI.DMFA.101380.20260701.00001.S.1.1' },
    expected: { prefix: 'FI', ...base, env: 'S', nparts: 1, part: 1 },
  },
  {
    title: 'FLEX is a known application',
    input: { name: 'FI.FLEX.101380.20260701.00001.R.1.1' },
    expected: { prefix: 'FI', ...base, app: 'FLEX', env: 'R', nparts: 1, part: 1 },
  },
  {
    title: 'ATDO is a known application',
    input: { name: 'GO.ATDO.101380.20260701.00001.R.1' },
    expected: { prefix: 'GO', ...base, app: 'ATDO', env: 'R', nparts: 1 },
  },
  {
    title: 'DIMN dated today',
    input: { name: 'FI.DIMN.123456.20260715.00001.R.1.1' },
    expected: {
      prefix: 'FI',
      app: 'DIMN',
      sender: '123456',
      date: '20260715',
      seq: '00001',
      env: 'R',
      nparts: 1,
      part: 1,
    },
  },
  {
    title: 'an extra application given in the rules',
    input: {
      name: 'FI.ABCD.101380.20260701.00001.T.1.1',
      rules: { extraApplications: ['ABCD'] },
    },
    expected: { prefix: 'FI', ...base, app: 'ABCD', env: 'T', nparts: 1, part: 1 },
  },
  {
    title: 'an extra application with digits',
    input: {
      name: 'GO.AB12.101380.20260701.00001.T.1',
      rules: { extraApplications: ['AB12'] },
    },
    expected: { prefix: 'GO', ...base, app: 'AB12', env: 'T', nparts: 1 },
  },
  {
    title: 'upper-case letters in SEQ are accepted',
    input: { name: 'FI.DMFA.101380.20260701.A1B2C.T.1.1' },
    expected: { prefix: 'FI', ...base, seq: 'A1B2C', env: 'T', nparts: 1, part: 1 },
  },
  {
    title: 'SEQ of letters only',
    input: { name: 'FS.DMFA.101380.20260701.ZZZZZ.R.1.1' },
    expected: { prefix: 'FS', ...base, seq: 'ZZZZZ', env: 'R', nparts: 1, part: 1 },
  },
  {
    title: 'SEQ 99999',
    input: { name: 'GO.DMFA.101380.20260701.99999.R.1' },
    expected: { prefix: 'GO', ...base, seq: '99999', env: 'R', nparts: 1 },
  },
  {
    title: 'the ninth part of nine',
    input: { name: 'FI.DMFA.101380.20260701.00001.R.9.9' },
    expected: { prefix: 'FI', ...base, env: 'R', nparts: 9, part: 9 },
  },
  {
    title: 'the second FS of three',
    input: { name: 'FS.DMFA.101380.20260701.00001.R.3.2' },
    expected: { prefix: 'FS', ...base, env: 'R', nparts: 3, part: 2 },
  },
  {
    title: 'GO of nine parts',
    input: { name: 'GO.DMFA.101380.20260701.00001.R.9' },
    expected: { prefix: 'GO', ...base, env: 'R', nparts: 9 },
  },
  {
    title: 'R file for folder IN',
    input: { name: 'FI.DMFA.101380.20260701.00001.R.1.1', rules: { folder: 'IN' } },
    expected: { prefix: 'FI', ...base, env: 'R', nparts: 1, part: 1 },
  },
  {
    title: 'T file for folder INTEST',
    input: { name: 'GO.DMFA.101380.20260701.00001.T.1', rules: { folder: 'INTEST' } },
    expected: { prefix: 'GO', ...base, env: 'T', nparts: 1 },
  },
  {
    title: 'S file for folder INTEST-S',
    input: { name: 'FI.DMRQ.101380.20260701.00001.S.1.1', rules: { folder: 'INTEST-S' } },
    expected: { prefix: 'FI', ...base, app: 'DMRQ', env: 'S', nparts: 1, part: 1 },
  },
  {
    title: 'the expected sender',
    input: { name: 'FI.DMFA.101380.20260701.00001.R.1.1', rules: { sender: '101380' } },
    expected: { prefix: 'FI', ...base, env: 'R', nparts: 1, part: 1 },
  },
  {
    title: 'a date exactly maxAgeDays (90) before today',
    input: { name: 'FI.DMFA.101380.20260416.00001.R.1.1' },
    expected: { prefix: 'FI', ...base, date: '20260416', env: 'R', nparts: 1, part: 1 },
  },
  {
    title: 'an old date with a wider maxAgeDays',
    input: { name: 'FI.DMFA.101380.20100920.00001.T.1.1', rules: { maxAgeDays: 10_000 } },
    expected: { prefix: 'FI', ...base, date: '20100920', env: 'T', nparts: 1, part: 1 },
  },
  {
    title: 'maxAgeDays 0 accepts today',
    input: { name: 'GO.DMFA.101380.20260715.00001.R.1', rules: { maxAgeDays: 0 } },
    expected: { prefix: 'GO', ...base, date: '20260715', env: 'R', nparts: 1 },
  },
  {
    title: 'NPARTS at a lowered maxParts',
    input: { name: 'FI.DMFA.101380.20260701.00001.R.3.3', rules: { maxParts: 3 } },
    expected: { prefix: 'FI', ...base, env: 'R', nparts: 3, part: 3 },
  },
  {
    title: 'a leap day',
    input: { name: 'FI.DMFA.101380.20280229.00001.R.1.1', rules: { today: '20280301' } },
    expected: { prefix: 'FI', ...base, date: '20280229', env: 'R', nparts: 1, part: 1 },
  },
  {
    title: 'Brussels summer: 2026-06-30T22:30Z is already 1 July',
    input: {
      name: 'FI.DMFA.101380.20260701.00001.R.1.1',
      rules: { today: todayInBrussels(new Date('2026-06-30T22:30:00Z')) },
    },
    expected: { prefix: 'FI', ...base, env: 'R', nparts: 1, part: 1 },
  },
  {
    title: 'Brussels winter: 2026-12-31T23:30Z is already 1 January 2027',
    input: {
      name: 'GO.DMFA.101380.20270101.00001.R.1',
      rules: { today: todayInBrussels(new Date('2026-12-31T23:30:00Z')) },
    },
    expected: { prefix: 'GO', ...base, date: '20270101', env: 'R', nparts: 1 },
  },
  {
    title: 'a 4-part WECH set member',
    input: { name: 'FS.WECH.000001.20260710.00042.R.4.4' },
    expected: {
      prefix: 'FS',
      app: 'WECH',
      sender: '000001',
      date: '20260710',
      seq: '00042',
      env: 'R',
      nparts: 4,
      part: 4,
    },
  },
];

const bad = (code: number | string, field: NameField) => ({
  code: typeof code === 'number' ? `ACRF-${String(code).padStart(3, '0')}` : code,
  field,
});

const INVALID: InvalidCase[] = [
  // Layout and characters: malformed, coded by prefix.
  {
    title: 'FI with 7 fields',
    input: { name: 'FI.DMFA.101380.20260701.00001.T.1' },
    expected: bad(131, 'structure'),
  },
  {
    title: 'FS with 7 fields',
    input: { name: 'FS.DMFA.101380.20260701.00001.T.1' },
    expected: bad(132, 'structure'),
  },
  {
    title: 'GO with 8 fields',
    input: { name: 'GO.DMFA.101380.20260701.00001.T.1.1' },
    expected: bad(107, 'structure'),
  },
  {
    title: 'TD with 8 fields (no published code)',
    input: { name: 'TD.DMFA.101380.20260701.00001.T.1.1' },
    expected: bad('NAME_MALFORMED', 'structure'),
  },
  {
    title: 'FI with an extension',
    input: { name: 'FI.DMFA.101380.20260701.00001.T.1.1.XML' },
    expected: bad(131, 'structure'),
  },
  {
    title: 'unknown prefix',
    input: { name: 'XX.DMFA.101380.20260701.00001.T.1.1' },
    expected: bad('NAME_MALFORMED', 'prefix'),
  },
  {
    title: 'a response prefix is not a declaration prefix',
    input: { name: 'FO.DMFA.101380.20260701.00001.T.1.1' },
    expected: bad('NAME_MALFORMED', 'prefix'),
  },
  {
    title: 'a name in lower case',
    input: { name: 'fi.dmfa.101380.20260701.00001.t.1.1' },
    expected: bad('NAME_MALFORMED', 'prefix'),
  },
  {
    title: 'APP in lower case',
    input: { name: 'FI.dmfa.101380.20260701.00001.T.1.1' },
    expected: bad(129, 'app'),
  },
  {
    title: 'SEQ with a lower-case letter',
    input: { name: 'FI.DMFA.101380.20260701.0000a.T.1.1' },
    expected: bad(367, 'seq'),
  },
  {
    title: 'ENV in lower case',
    input: { name: 'GO.DMFA.101380.20260701.00001.t.1' },
    expected: bad(117, 'env'),
  },
  {
    title: 'a trailing space',
    input: { name: 'FS.DMFA.101380.20260701.00001.T.1.1 ' },
    expected: bad(132, 'structure'),
  },
  {
    title: 'a path instead of a name',
    input: { name: 'IN/FI.DMFA.101380.20260701.00001.R.1.1' },
    expected: bad('NAME_MALFORMED', 'structure'),
  },
  {
    title: 'a path climbing up',
    input: { name: 'GO.DMFA.101380.20260701.00001.R.1/../../etc' },
    expected: bad(107, 'structure'),
  },
  {
    title: 'a NUL byte',
    input: { name: 'FI.DMFA.101380.20260701.00001.R.1.1\u0000' },
    expected: bad(131, 'structure'),
  },
  {
    title: 'an underscore instead of dots',
    input: { name: 'FI_DMFA_101380_20260701_00001_R_1_1' },
    expected: bad('NAME_MALFORMED', 'structure'),
  },
  {
    title: 'an empty field',
    input: { name: 'FI.DMFA..20260701.00001.R.1.1' },
    expected: bad(131, 'structure'),
  },
  {
    title: 'a trailing dot',
    input: { name: 'GO.DMFA.101380.20260701.00001.R.1.' },
    expected: bad(107, 'structure'),
  },
  { title: 'an empty name', input: { name: '' }, expected: bad('NAME_MALFORMED', 'structure') },
  // APP
  {
    title: 'an unknown application',
    input: { name: 'FI.DMFX.101380.20260701.00001.T.1.1' },
    expected: bad(129, 'app'),
  },
  {
    title: 'an application of 3 letters',
    input: { name: 'GO.DMF.101380.20260701.00001.T.1' },
    expected: bad(129, 'app'),
  },
  {
    title: 'an application of 5 letters',
    input: { name: 'FS.DMFAX.101380.20260701.00001.T.1.1' },
    expected: bad(129, 'app'),
  },
  {
    title: 'an application known only to another configuration',
    input: { name: 'FI.ABCD.101380.20260701.00001.T.1.1' },
    expected: bad(129, 'app'),
  },
  {
    title: 'APP checked before a bad DATE',
    input: { name: 'FI.DMFX.101380.20269999.00001.T.1.1' },
    expected: bad(129, 'app'),
  },
  // SENDER
  {
    title: 'FI sender of 5 digits',
    input: { name: 'FI.DMFA.10138.20260701.00001.T.1.1' },
    expected: bad(131, 'sender'),
  },
  {
    title: 'FS sender with a letter',
    input: { name: 'FS.DMFA.10138A.20260701.00001.T.1.1' },
    expected: bad(132, 'sender'),
  },
  {
    title: 'GO sender of 7 digits',
    input: { name: 'GO.DMFA.1013800.20260701.00001.T.1' },
    expected: bad(107, 'sender'),
  },
  {
    title: 'TD sender of 5 digits',
    input: { name: 'TD.DMFA.12345.20260701.00001.T.1' },
    expected: bad('NAME_MALFORMED', 'sender'),
  },
  {
    title: 'another sender than the channel',
    input: { name: 'FI.DMFA.101380.20260701.00001.R.1.1', rules: { sender: '999998' } },
    expected: bad(108, 'sender'),
  },
  // DATE
  {
    title: 'DATE of 7 digits',
    input: { name: 'FI.DMFA.101380.2026071.00001.T.1.1' },
    expected: bad(109, 'date'),
  },
  {
    title: 'DATE with dashes',
    input: { name: 'FI.DMFA.101380.2026-07-01.00001.T.1.1' },
    expected: bad(109, 'date'),
  },
  {
    title: 'DATE with a letter',
    input: { name: 'GO.DMFA.101380.2026070A.00001.T.1' },
    expected: bad(109, 'date'),
  },
  {
    title: 'the 32nd day',
    input: { name: 'FI.DMFA.101380.20100932.00001.T.1.1' },
    expected: bad(110, 'date'),
  },
  {
    title: '30 February',
    input: { name: 'FI.DMFA.101380.20260230.00001.T.1.1' },
    expected: bad(110, 'date'),
  },
  {
    title: '29 February of a common year',
    input: { name: 'FI.DMFA.101380.20270229.00001.T.1.1', rules: { today: '20270301' } },
    expected: bad(110, 'date'),
  },
  {
    title: 'month 13',
    input: { name: 'FI.DMFA.101380.20261301.00001.T.1.1' },
    expected: bad(110, 'date'),
  },
  {
    title: 'day 00',
    input: { name: 'FI.DMFA.101380.20260700.00001.T.1.1' },
    expected: bad(110, 'date'),
  },
  {
    title: 'tomorrow',
    input: { name: 'FI.DMFA.101380.20260716.00001.T.1.1' },
    expected: bad(111, 'date'),
  },
  {
    title: 'next year',
    input: { name: 'GO.DMFA.101380.20270101.00001.T.1' },
    expected: bad(111, 'date'),
  },
  {
    title: 'Brussels: 2026-06-30T21:30Z is still 30 June, so 1 July is the future',
    input: {
      name: 'FI.DMFA.101380.20260701.00001.R.1.1',
      rules: { today: todayInBrussels(new Date('2026-06-30T21:30:00Z')) },
    },
    expected: bad(111, 'date'),
  },
  {
    title: 'one day past maxAgeDays',
    input: { name: 'FI.DMFA.101380.20260415.00001.R.1.1' },
    expected: bad(126, 'date'),
  },
  {
    title: 'the FAQ example date is too old today',
    input: { name: 'FI.DMFA.101380.20100920.00001.T.1.1' },
    expected: bad(126, 'date'),
  },
  {
    title: 'yesterday with maxAgeDays 0',
    input: { name: 'FI.DMFA.101380.20260714.00001.T.1.1', rules: { maxAgeDays: 0 } },
    expected: bad(126, 'date'),
  },
  // SEQ
  {
    title: 'SEQ of 4 characters',
    input: { name: 'FI.DMFA.101380.20260701.0001.T.1.1' },
    expected: bad(112, 'seq'),
  },
  {
    title: 'SEQ of 6 characters',
    input: { name: 'GO.DMFA.101380.20260701.000001.T.1' },
    expected: bad(112, 'seq'),
  },
  {
    title: 'SEQ with a dash',
    input: { name: 'FI.DMFA.101380.20260701.00-01.T.1.1' },
    expected: bad(367, 'seq'),
  },
  {
    title: 'SEQ of dashes',
    input: { name: 'FS.DMFA.101380.20260701.-----.T.1.1' },
    expected: bad(367, 'seq'),
  },
  {
    title: 'SEQ 00000',
    input: { name: 'FI.DMFA.101380.20260701.00000.T.1.1' },
    expected: bad(127, 'seq'),
  },
  // ENV
  {
    title: 'ENV P',
    input: { name: 'FI.DMFA.101380.20260701.00001.P.1.1' },
    expected: bad(117, 'env'),
  },
  {
    title: 'ENV of two letters',
    input: { name: 'GO.DMFA.101380.20260701.00001.RT.1' },
    expected: bad(117, 'env'),
  },
  {
    title: 'ENV checked before a bad NPARTS',
    input: { name: 'FI.DMFA.101380.20260701.00001.X.0.1' },
    expected: bad(117, 'env'),
  },
  {
    title: 'an R file for INTEST',
    input: { name: 'FI.DMFA.101380.20260701.00001.R.1.1', rules: { folder: 'INTEST' } },
    expected: bad(118, 'env'),
  },
  {
    title: 'a T file for IN',
    input: { name: 'FI.DMFA.101380.20260701.00001.T.1.1', rules: { folder: 'IN' } },
    expected: bad(119, 'env'),
  },
  {
    title: 'an S file for INTEST',
    input: { name: 'GO.DMFA.101380.20260701.00001.S.1', rules: { folder: 'INTEST' } },
    expected: bad(257, 'env'),
  },
  // NPARTS
  {
    title: 'NPARTS of two digits',
    input: { name: 'FI.DMFA.101380.20260701.00001.T.10.1' },
    expected: bad(114, 'nparts'),
  },
  {
    title: 'NPARTS a letter',
    input: { name: 'GO.DMFA.101380.20260701.00001.T.A' },
    expected: bad(115, 'nparts'),
  },
  {
    title: 'NPARTS 0',
    input: { name: 'GO.DMFA.101380.20260701.00001.T.0' },
    expected: bad(116, 'nparts'),
  },
  {
    title: 'NPARTS above a lowered maxParts',
    input: { name: 'FI.DMFA.101380.20260701.00001.T.4.1', rules: { maxParts: 3 } },
    expected: bad(128, 'nparts'),
  },
  // PART
  {
    title: 'FI part above NPARTS',
    input: { name: 'FI.DMFA.101380.20260701.00001.T.2.3' },
    expected: bad(123, 'part'),
  },
  {
    title: 'FI part 0',
    input: { name: 'FI.DMFA.101380.20260701.00001.T.1.0' },
    expected: bad(123, 'part'),
  },
  {
    title: 'FI part with a leading zero',
    input: { name: 'FI.DMFA.101380.20260701.00001.T.1.01' },
    expected: bad(123, 'part'),
  },
  {
    title: 'FI part a letter',
    input: { name: 'FI.DMFA.101380.20260701.00001.T.2.B' },
    expected: bad(123, 'part'),
  },
  {
    title: 'FS part above NPARTS',
    input: { name: 'FS.DMFA.101380.20260701.00001.T.2.3' },
    expected: bad(124, 'part'),
  },
];

describe('parseDeclarationName', () => {
  it.each(VALID)('accepts $title', ({ input, expected }) => {
    // Act
    const value = parseDeclarationName(input.name, { today: TODAY, ...input.rules });

    // Assess
    expect(value).toEqual(expected);
  });

  it.each(INVALID)('refuses $title', ({ input, expected }) => {
    // Act
    const act = () => parseDeclarationName(input.name, { today: TODAY, ...input.rules });

    // Assess
    expect(act).toThrow(NameRuleError);
    try {
      act();
    } catch (error) {
      expect(error).toMatchObject({ ...expected, fileName: input.name });
    }
  });

  it('covers every reception code of the brief', () => {
    const codes = new Set(INVALID.map((c) => c.expected.code));
    const required = [
      107, 108, 109, 110, 111, 112, 114, 115, 116, 117, 118, 119, 123, 124, 126, 127, 128, 129, 131,
      132, 257, 367,
    ].map((n) => `ACRF-${String(n).padStart(3, '0')}`);
    for (const code of [...required, 'NAME_MALFORMED']) expect(codes).toContain(code);
    expect(VALID.length + INVALID.length).toBeGreaterThanOrEqual(60);
  });

  it('accepts every known application', () => {
    for (const app of KNOWN_APPLICATIONS) {
      const name = `GO.${app}.101380.20260701.00001.R.1`;
      expect(parseDeclarationName(name, { today: TODAY }).app).toBe(app);
    }
  });

  it('writes the message of the brief', () => {
    // Act
    const result = checkDeclarationName('FI.DMFA.101380.20100932.00001.T.1.1', { today: TODAY });

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).toBe(
      'FI.DMFA.101380.20100932.00001.T.1.1: DATE "20100932" is not a real calendar date (ACRF-110)',
    );
    expect(result.error).toMatchObject({
      name: 'NameRuleError',
      code: 'ACRF-110',
      acrf: 110,
      field: 'date',
      value: '20100932',
      rule: 'DATE "20100932" is not a real calendar date',
    });
  });

  it('says that names are upper case', () => {
    const result = checkDeclarationName('fi.dmfa.101380.20260701.00001.t.1.1', { today: TODAY });
    expect(!result.ok && result.error.rule).toMatch(/upper case/);
  });

  it('escapes control characters and cuts long names in messages', () => {
    // Arrange
    const injected = '\n\u001b[31mFAKE LOG LINE';
    const hostile = `FI.DMFA.101380.20260701.00001.T.1.1${injected}${'A'.repeat(500)}`;

    // Act
    const result = checkDeclarationName(hostile, { today: TODAY });

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).not.toContain('\n');
    expect(result.error.message).not.toContain('\u001b');
    expect(result.error.message).toContain('\\u{a}');
    expect(result.error.message.length).toBeLessThan(300);
    expect(result.error.fileName).toBe(hostile);
  });

  it('uses the real clock in Brussels by default', () => {
    const name = `FI.DMFA.101380.${todayInBrussels()}.00001.T.1.1`;
    expect(parseDeclarationName(name).date).toBe(todayInBrussels());
  });
});

describe('checkDeclarationName', () => {
  it.each(INVALID)('returns, never throws, for $title', ({ input, expected }) => {
    const result = checkDeclarationName(input.name, { today: TODAY, ...input.rules });
    expect(result).toEqual({ ok: false, error: expect.objectContaining(expected) });
  });

  it.each(VALID)('returns the value of $title', ({ input, expected }) => {
    const result = checkDeclarationName(input.name, { today: TODAY, ...input.rules });
    expect(result).toEqual({ ok: true, value: expected });
  });
});

describe('buildDeclarationName', () => {
  it.each(VALID)('gives back $title', ({ input }) => {
    const value = parseDeclarationName(input.name, { today: TODAY, ...input.rules });
    expect(buildDeclarationName(value)).toBe(input.name);
  });

  it.each([
    {
      title: 'a dot inside APP',
      input: { prefix: 'FI', ...base, app: 'DM.A', env: 'R', nparts: 1, part: 1 },
      expected: bad(129, 'app'),
    },
    {
      title: 'a path inside SEQ',
      input: { prefix: 'FS', ...base, seq: '../..', env: 'R', nparts: 1, part: 1 },
      expected: bad(367, 'seq'),
    },
    {
      title: 'a part on a GO',
      input: { prefix: 'GO', ...base, env: 'R', nparts: 1, part: 1 },
      expected: bad(107, 'part'),
    },
    {
      title: 'part 0 on an FI',
      input: { prefix: 'FI', ...base, env: 'R', nparts: 1, part: 0 },
      expected: bad(123, 'part'),
    },
    {
      title: 'ten parts',
      input: { prefix: 'GO', ...base, env: 'R', nparts: 10 },
      expected: bad(114, 'nparts'),
    },
    {
      title: 'an unknown prefix',
      input: { prefix: 'FO', ...base, env: 'R', nparts: 1 },
      expected: bad('NAME_MALFORMED', 'prefix'),
    },
  ])('refuses $title', ({ input, expected }) => {
    const act = () => buildDeclarationName(input as unknown as DeclarationName);
    expect(act).toThrow(expect.objectContaining(expected));
  });

  it('checks the grammar but not the day: an old date can be built', () => {
    const value: DeclarationName = { prefix: 'GO', ...base, date: '20100920', env: 'T', nparts: 1 };
    expect(buildDeclarationName(value)).toBe('GO.DMFA.101380.20100920.00001.T.1');
  });
});

describe('declaration keys', () => {
  it('keeps fields 2 to 6 only', () => {
    const value = parseDeclarationName('FI.DMFA.101380.20260701.00001.T.2.1', { today: TODAY });
    const key = declarationKeyOf(value);
    expect(key).toEqual({ ...base, env: 'T' });
    expect(formatDeclarationKey(key)).toBe('DMFA.101380.20260701.00001.T');
  });
});

describe('resolveNameRules', () => {
  it('fills in the defaults', () => {
    expect(resolveNameRules({ today: TODAY })).toEqual({
      today: TODAY,
      maxAgeDays: 90,
      extraApplications: [],
      maxParts: 9,
    });
  });

  it.each([
    { title: 'a today that is not a date', input: { today: '20261301' }, expected: 'rules.today' },
    { title: 'a negative maxAgeDays', input: { maxAgeDays: -1 }, expected: 'rules.maxAgeDays' },
    { title: 'a fractional maxAgeDays', input: { maxAgeDays: 1.5 }, expected: 'rules.maxAgeDays' },
    { title: 'maxParts above 9', input: { maxParts: 10 }, expected: 'rules.maxParts' },
    { title: 'maxParts 0', input: { maxParts: 0 }, expected: 'rules.maxParts' },
    { title: 'a response folder', input: { folder: 'OUT' }, expected: 'rules.folder' },
    { title: 'a sender of 5 digits', input: { sender: '12345' }, expected: 'rules.sender' },
    {
      title: 'a lower-case extra application',
      input: { extraApplications: ['abcd'] },
      expected: 'rules.extraApplications',
    },
    { title: 'an unknown rule', input: { maxAge: 3 }, expected: 'rules.maxAge' },
  ])('refuses $title', ({ input, expected }) => {
    const act = () => resolveNameRules(input as unknown as Partial<NameRules>);
    expect(act).toThrow(RuleOptionsError);
    expect(act).toThrow(
      expect.objectContaining({ option: expected, code: 'RULE_OPTIONS_INVALID' }),
    );
  });

  it('throws for bad rules even from checkDeclarationName', () => {
    const act = () => checkDeclarationName('GO.DMFA.101380.20260701.00001.T.1', { maxParts: 12 });
    expect(act).toThrow(RuleOptionsError);
  });
});

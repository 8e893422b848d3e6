import {
  KNOWN_RESPONSE_TYPES,
  NameRuleError,
  RuleOptionsError,
  buildResponseName,
  checkResponseName,
  parseAnsweredFileName,
  parseResponseName,
} from '../../shared/names';
import type { DeclarationKey, NameField, ResponseName } from '../../shared/names';

const tp = { sender: '999999', date: '20110701', seq: '00001' } as const;

const VALID: Array<{ title: string; input: string; expected: ResponseName }> = [
  {
    title: 'the documented FO of an ACRF (6 fields)',
    input: 'FO.ACRF.999999.20110701.00001.T',
    expected: { prefix: 'FO', type: 'ACRF', ...tp, env: 'T', knownType: true },
  },
  {
    title: 'its FS',
    input: 'FS.ACRF.999999.20110701.00001.T',
    expected: { prefix: 'FS', type: 'ACRF', ...tp, env: 'T', knownType: true },
  },
  {
    title: 'its GO',
    input: 'GO.ACRF.999999.20110701.00001.T',
    expected: { prefix: 'GO', type: 'ACRF', ...tp, env: 'T', knownType: true },
  },
  {
    title: 'a zipped notification (CO)',
    input: 'CO.NOTI.999999.20110701.00001.R',
    expected: { prefix: 'CO', type: 'NOTI', ...tp, env: 'R', knownType: true },
  },
  {
    title: '7 fields',
    input: 'FO.DMFA.999999.20110701.00001.R.1',
    expected: { prefix: 'FO', type: 'DMFA', ...tp, env: 'R', nparts: 1, knownType: true },
  },
  {
    title: '8 fields',
    input: 'FO.NOTI.999999.20110701.00001.S.3.2',
    expected: { prefix: 'FO', type: 'NOTI', ...tp, env: 'S', nparts: 3, part: 2, knownType: true },
  },
  {
    title: 'an unknown type is kept',
    input: 'FO.XYZ1.999999.20110701.00001.T',
    expected: { prefix: 'FO', type: 'XYZ1', ...tp, env: 'T', knownType: false },
  },
  {
    title: 'an unknown type in a zipped answer',
    input: 'CO.QQQQ.999999.20110701.00001.R.2.1',
    expected: { prefix: 'CO', type: 'QQQQ', ...tp, env: 'R', nparts: 2, part: 1, knownType: false },
  },
  {
    title: 'a very old date (no age check)',
    input: 'FO.ACRF.999999.19990101.00001.R',
    expected: { prefix: 'FO', type: 'ACRF', ...tp, date: '19990101', env: 'R', knownType: true },
  },
  {
    title: 'a date in the future (no future check)',
    input: 'FO.ACRF.999999.20991231.00001.R',
    expected: { prefix: 'FO', type: 'ACRF', ...tp, date: '20991231', env: 'R', knownType: true },
  },
  {
    title: 'letters in SEQ',
    input: 'FO.DMPI.999999.20110701.A0B1C.R',
    expected: { prefix: 'FO', type: 'DMPI', ...tp, seq: 'A0B1C', env: 'R', knownType: true },
  },
  {
    title: 'another institution as sender',
    input: 'FO.ECAN.123456.20110701.00001.R',
    expected: {
      prefix: 'FO',
      type: 'ECAN',
      ...tp,
      sender: '123456',
      env: 'R',
      knownType: true,
    },
  },
];

const INVALID: Array<{ title: string; input: string; expected: { field: NameField } }> = [
  {
    title: 'a declaration prefix',
    input: 'FI.ACRF.999999.20110701.00001.T',
    expected: { field: 'prefix' },
  },
  {
    title: 'TD is not a response',
    input: 'TD.ACRF.999999.20110701.00001.T',
    expected: { field: 'prefix' },
  },
  { title: '5 fields', input: 'FO.ACRF.999999.20110701.00001', expected: { field: 'structure' } },
  {
    title: '9 fields',
    input: 'FO.ACRF.999999.20110701.00001.T.1.1.1',
    expected: { field: 'structure' },
  },
  {
    title: 'lower case',
    input: 'fo.acrf.999999.20110701.00001.t',
    expected: { field: 'prefix' },
  },
  {
    title: 'a path',
    input: 'OUT/FO.ACRF.999999.20110701.00001.T',
    expected: { field: 'structure' },
  },
  {
    title: 'an empty field',
    input: 'FO..999999.20110701.00001.T',
    expected: { field: 'structure' },
  },
  { title: 'an empty name', input: '', expected: { field: 'structure' } },
  {
    title: 'TYPE of 3 letters',
    input: 'FO.ACR.999999.20110701.00001.T',
    expected: { field: 'type' },
  },
  {
    title: 'TYPE of 5 letters',
    input: 'FO.ACRFX.999999.20110701.00001.T',
    expected: { field: 'type' },
  },
  {
    title: 'SENDER of 5 digits',
    input: 'FO.ACRF.99999.20110701.00001.T',
    expected: { field: 'sender' },
  },
  {
    title: 'DATE of 7 digits',
    input: 'FO.ACRF.999999.2011071.00001.T',
    expected: { field: 'date' },
  },
  { title: 'DATE not real', input: 'FO.ACRF.999999.20110732.00001.T', expected: { field: 'date' } },
  { title: 'SEQ of 4', input: 'FO.ACRF.999999.20110701.0001.T', expected: { field: 'seq' } },
  {
    title: 'SEQ with a dash',
    input: 'FO.ACRF.999999.20110701.00-01.T',
    expected: { field: 'seq' },
  },
  { title: 'ENV X', input: 'FO.ACRF.999999.20110701.00001.X', expected: { field: 'env' } },
  { title: 'NPARTS 0', input: 'FO.ACRF.999999.20110701.00001.T.0', expected: { field: 'nparts' } },
  {
    title: 'NPARTS a letter',
    input: 'FO.ACRF.999999.20110701.00001.T.A',
    expected: { field: 'nparts' },
  },
  {
    title: 'PART above NPARTS',
    input: 'FO.ACRF.999999.20110701.00001.T.2.3',
    expected: { field: 'part' },
  },
];

describe('parseResponseName', () => {
  it.each(VALID)('accepts $title', ({ input, expected }) => {
    expect(parseResponseName(input)).toEqual(expected);
  });

  it.each(INVALID)('refuses $title', ({ input, expected }) => {
    const act = () => parseResponseName(input);
    expect(act).toThrow(NameRuleError);
    expect(act).toThrow(
      expect.objectContaining({ ...expected, code: 'RESPONSE_NAME_MALFORMED', fileName: input }),
    );
  });

  it('knows every documented type', () => {
    for (const type of KNOWN_RESPONSE_TYPES) {
      expect(parseResponseName(`FO.${type}.999999.20110701.00001.R`).knownType).toBe(true);
    }
  });

  it('names the field in the message', () => {
    expect(() => parseResponseName('FO.ACRF.999999.20110732.00001.T')).toThrow(
      'FO.ACRF.999999.20110732.00001.T: DATE "20110732" is not a real calendar date ' +
        '(RESPONSE_NAME_MALFORMED)',
    );
  });

  it('refuses what is not a string as a caller error', () => {
    expect(() => parseResponseName(42 as unknown as string)).toThrow(RuleOptionsError);
  });
});

describe('checkResponseName', () => {
  it.each(INVALID)('returns, never throws, for $title', ({ input, expected }) => {
    expect(checkResponseName(input)).toEqual({
      ok: false,
      error: expect.objectContaining({ ...expected, code: 'RESPONSE_NAME_MALFORMED' }),
    });
  });

  it.each(VALID)('returns the value of $title', ({ input, expected }) => {
    expect(checkResponseName(input)).toEqual({ ok: true, value: expected });
  });
});

describe('buildResponseName', () => {
  it.each(VALID)('gives back $title', ({ input }) => {
    expect(buildResponseName(parseResponseName(input))).toBe(input);
  });

  it.each([
    {
      title: 'a PART without NPARTS',
      input: { prefix: 'FO', type: 'ACRF', ...tp, env: 'T', part: 1 },
      expected: { field: 'structure' },
    },
    {
      title: 'a dot inside TYPE',
      input: { prefix: 'FO', type: 'AC.F', ...tp, env: 'T' },
      expected: { field: 'type' },
    },
    {
      title: 'a declaration prefix',
      input: { prefix: 'FI', type: 'ACRF', ...tp, env: 'T' },
      expected: { field: 'prefix' },
    },
    {
      title: 'a slash inside SEQ',
      input: { prefix: 'FO', type: 'ACRF', ...tp, seq: '../..', env: 'T' },
      expected: { field: 'seq' },
    },
  ])('refuses $title', ({ input, expected }) => {
    const act = () => buildResponseName(input as unknown as ResponseName);
    expect(act).toThrow(expect.objectContaining({ ...expected, code: 'RESPONSE_NAME_MALFORMED' }));
  });
});

const key = (app: string, sender: string, date: string, seq: string, env: 'R' | 'T' | 'S') =>
  ({ app, sender, date, seq, env }) satisfies DeclarationKey;

describe('parseAnsweredFileName', () => {
  it.each([
    // The two FileName values found in /work/shared/samples/responses (ACRF and NOTIFICATION
    // samples), copied here because that folder is not part of the repository.
    {
      title: 'sample ACRF: a 7-field GO of an application missing from our list',
      input: 'GO.DMPI.012996.20090718.50002.R.1',
      expected: key('DMPI', '012996', '20090718', '50002', 'R'),
    },
    {
      title: 'sample NOTIFICATION: the legacy 6-field GO',
      input: 'GO.AOAT.000001.20090728.30000.R',
      expected: key('AOAT', '000001', '20090728', '30000', 'R'),
    },
    {
      title: 'an 8-field FI',
      input: 'FI.DMFA.101380.20100920.00001.T.1.1',
      expected: key('DMFA', '101380', '20100920', '00001', 'T'),
    },
    {
      title: 'an 8-field FS',
      input: 'FS.DMFA.101380.20100920.00001.T.2.2',
      expected: key('DMFA', '101380', '20100920', '00001', 'T'),
    },
    {
      title: 'a 7-field TD',
      input: 'TD.DIMN.101380.20100920.0000A.S.1',
      expected: key('DIMN', '101380', '20100920', '0000A', 'S'),
    },
    {
      title: 'a legacy 6-field FI',
      input: 'FI.WECH.000001.20090728.30000.R',
      expected: key('WECH', '000001', '20090728', '30000', 'R'),
    },
  ])('reads $title', ({ input, expected }) => {
    expect(parseAnsweredFileName(input)).toEqual(expected);
  });

  it('matches the FI and the GO of one set to the same key', () => {
    expect(parseAnsweredFileName('FI.DMFA.101380.20100920.00001.T.1.1')).toEqual(
      parseAnsweredFileName('GO.DMFA.101380.20100920.00001.T.1'),
    );
  });

  it.each([
    { title: 'a 7-field FI', input: 'FI.DMFA.101380.20100920.00001.T.1', expected: 'structure' },
    { title: 'an 8-field GO', input: 'GO.DMFA.101380.20100920.00001.T.1.1', expected: 'structure' },
    { title: '5 fields', input: 'GO.DMFA.101380.20100920.00001', expected: 'structure' },
    { title: 'a response prefix', input: 'FO.DMFA.101380.20100920.00001.T', expected: 'prefix' },
    { title: 'lower case', input: 'go.aoat.000001.20090728.30000.r', expected: 'prefix' },
    { title: 'APP of 3 letters', input: 'GO.DMF.101380.20100920.00001.T.1', expected: 'app' },
    { title: 'DATE not real', input: 'GO.DMFA.101380.20100932.00001.T.1', expected: 'date' },
    { title: 'ENV X', input: 'GO.DMFA.101380.20100920.00001.X.1', expected: 'env' },
  ])('refuses $title', ({ input, expected }) => {
    const act = () => parseAnsweredFileName(input);
    expect(act).toThrow(NameRuleError);
    expect(act).toThrow(
      expect.objectContaining({ field: expected, code: 'ANSWERED_NAME_MALFORMED' }),
    );
  });
});

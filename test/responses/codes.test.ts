import {
  ACRF_CODE_LABELS,
  acrfCodeLabel,
  describeAnomaly,
  describeAnomalyClass,
  describeNotificationVerdict,
  describeReceptionError,
  notificationResultOf,
} from '../../shared/responses';
import type { NotificationResult, ReceptionError } from '../../shared/responses';

// Every code shared/TRANSFER-POINT.md gives a meaning to (names, sets, content, channel).
const FACT_SHEET_CODES = [
  88, 102, 103, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123,
  124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 138, 153, 158, 172, 184, 249,
  257, 277, 280, 281, 367,
];

describe('ACRF code labels', () => {
  it('label every code the fact sheet names, and only those', () => {
    for (const code of FACT_SHEET_CODES) expect(acrfCodeLabel(code)).toEqual(expect.any(String));
    expect(
      Object.keys(ACRF_CODE_LABELS)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(FACT_SHEET_CODES);
  });

  it.each([
    { title: 'a code written with its leading zero', input: 88, expected: 'unknown schema' },
    { title: 'a wrong prefix', input: 129, expected: 'wrong application prefix' },
    { title: 'an unpublished code', input: 999, expected: undefined },
    { title: 'a negative number', input: -1, expected: undefined },
    { title: 'a fraction', input: 1.5, expected: undefined },
    { title: 'four digits', input: 1290, expected: undefined },
  ])('acrfCodeLabel: $title', ({ input, expected }) => {
    expect(acrfCodeLabel(input)).toBe(expected);
  });
});

describe('describeReceptionError', () => {
  const table: Array<{ title: string; input: string; expected: ReceptionError }> = [
    {
      title: 'a known code',
      input: 'ACRF-129',
      expected: { id: 'ACRF-129', code: 129, label: 'wrong application prefix' },
    },
    {
      title: 'a known code with a leading zero',
      input: 'ACRF-088',
      expected: { id: 'ACRF-088', code: 88, label: 'unknown schema' },
    },
    {
      title: 'an unpublished code',
      input: 'ACRF-999',
      expected: { id: 'ACRF-999', code: 999, label: 'unpublished reception code 999' },
    },
    {
      title: 'two digits',
      input: 'ACRF-12',
      expected: { id: 'ACRF-12', label: 'not a reception error id of the form ACRF-nnn' },
    },
    {
      title: 'lower case',
      input: 'acrf-129',
      expected: { id: 'acrf-129', label: 'not a reception error id of the form ACRF-nnn' },
    },
    {
      title: 'an empty id',
      input: '',
      expected: { id: '', label: 'not a reception error id of the form ACRF-nnn' },
    },
    {
      title: 'a bare number',
      input: '129',
      expected: { id: '129', label: 'not a reception error id of the form ACRF-nnn' },
    },
  ];
  it.each(table)('$title', ({ input, expected }) => {
    expect(describeReceptionError(input)).toStrictEqual(expected);
  });
});

describe('notificationResultOf', () => {
  const table: Array<{ title: string; input: number | undefined; expected: NotificationResult }> = [
    { title: '0', input: 0, expected: 'refused' },
    { title: '1', input: 1, expected: 'accepted' },
    { title: '2', input: 2, expected: 'proposal' },
    { title: '3', input: 3, expected: 'provisional' },
    { title: '4', input: 4, expected: 'timeout' },
    { title: 'an unpublished code', input: 5, expected: 'unknown' },
    { title: 'no code', input: undefined, expected: 'unknown' },
  ];
  it.each(table)('$title', ({ input, expected }) => {
    expect(notificationResultOf(input)).toBe(expected);
  });
});

describe('describeAnomalyClass', () => {
  it.each([
    { title: 'B', input: 'B', expected: 'blocking' },
    { title: 'W', input: 'W', expected: 'warning' },
    { title: 'I', input: 'I', expected: 'information' },
    { title: 'NP', input: 'NP', expected: expect.stringContaining('class NP (official') },
    { title: 'P', input: 'P', expected: expect.stringContaining('class P (official') },
    { title: 'D', input: 'D', expected: expect.stringContaining('class D (official') },
    { title: 'an unknown class', input: 'X', expected: 'unknown anomaly class "X"' },
    {
      title: 'a name Object has (no prototype lookup)',
      input: 'constructor',
      expected: 'unknown anomaly class "constructor"',
    },
  ])('$title', ({ input, expected }) => {
    expect(describeAnomalyClass(input)).toEqual(expected);
  });
});

describe('describeNotificationVerdict', () => {
  it.each([
    ['accepted', false, undefined, 'accepted'],
    ['accepted', true, undefined, 'accepted with anomalies'],
    ['1', true, undefined, 'accepted with anomalies'],
    ['refused', true, 3, 'refused: rejected for blocking anomalies'],
    ['0', true, 3, 'refused: rejected for blocking anomalies'],
    ['refused', false, 7, 'refused'],
    ['refused', false, undefined, 'refused'],
    ['proposal', false, undefined, 'proposal to validate'],
    ['provisional', false, undefined, 'provisional answer'],
    ['timeout', false, undefined, 'time-out'],
    ['4', false, undefined, 'time-out'],
    ['unknown', false, undefined, 'unknown result "unknown"'],
    ['9', false, undefined, 'unknown result "9"'],
    ['constructor', false, undefined, 'unknown result "constructor"'],
  ])('%s, anomalies %s, diagnosis %s: %s', (result, withAnomalies, diagnosis, expected) => {
    expect(describeNotificationVerdict(result, withAnomalies, diagnosis)).toBe(expected);
  });
});

describe('describeAnomaly', () => {
  it('tells the meaning, class, element, block and value, in that order', () => {
    expect(
      describeAnomaly({
        errorId: '00001-129',
        anomalyClass: 'B',
        tagName: 'INSS',
        path: 'INSS=80111405125',
        value: '8011',
      }),
    ).toBe('wrong application prefix; blocking; in INSS at INSS=80111405125; value "8011"');
  });

  it('says when the code is not in our sources, and when the ErrorID is not in the annex-30 form', () => {
    expect(describeAnomaly({ errorId: '00024-152' })).toBe(
      'annex-30 code 152, its meaning not in our sources',
    );
    expect(describeAnomaly({ errorId: 'X', anomalyClass: 'Q' })).toBe(
      'an ErrorID not in the annex-30 form; unknown anomaly class "Q"',
    );
  });
});

import {
  ALLOWED_TRANSITIONS,
  DECLARATION_STATES,
  STATE_STAGES,
  SequenceExhaustedError,
  allocateSequence,
  decideClaim,
  keyOfFileName,
  sameSource,
} from '../../shared/ledger';
import type { DeclarationRecord, SourceIdentity } from '../../shared/ledger';
import { DATE, SENDER, claimRequest, idOf, source } from './fixtures';

const scope = { sender: SENDER, date: DATE, env: 'R' as const };
const NOW = '2026-07-01T08:00:00.000Z';

describe('ledger rules: tables', () => {
  it('gives every state a stage and a row in the transition table', () => {
    // Assess: a state added to DECLARATION_STATES and forgotten elsewhere shows up here
    const states = Object.values(DECLARATION_STATES).sort();
    expect(Object.keys(STATE_STAGES).sort()).toEqual(states);
    expect(Object.keys(ALLOWED_TRANSITIONS).sort()).toEqual(states);
  });

  it('never lets a set whose GO may be out go back to a live or failed state', () => {
    for (const [from, targets] of Object.entries(ALLOWED_TRANSITIONS)) {
      if (STATE_STAGES[from as keyof typeof STATE_STAGES] !== 'committed') continue;
      for (const to of targets) expect(STATE_STAGES[to]).toBe('committed');
    }
  });
});

describe('ledger rules: allocateSequence', () => {
  it.each<{ title: string; last: number; used: string[]; expected: { seq: string; last: number } }>(
    [
      { title: 'starts at 00001', last: 0, used: [], expected: { seq: '00001', last: 1 } },
      { title: 'follows the counter', last: 41, used: [], expected: { seq: '00042', last: 42 } },
      {
        title: 'skips used sequences',
        last: 1,
        used: ['00002', '00003'],
        expected: { seq: '00004', last: 4 },
      },
      { title: 'reaches 99999', last: 99_998, used: [], expected: { seq: '99999', last: 99_999 } },
    ],
  )('$title', ({ last, used, expected }) => {
    expect(allocateSequence(scope, last, (seq) => used.includes(seq))).toEqual(expected);
  });

  it.each([
    ['the counter is at 99999', 99_999, []],
    ['99999 is used', 99_998, ['99999']],
  ])('throws SequenceExhaustedError when %s', (_title, last, used) => {
    expect(() => allocateSequence(scope, last, (seq) => used.includes(seq))).toThrow(
      SequenceExhaustedError,
    );
  });
});

describe('ledger rules: keyOfFileName', () => {
  it.each([
    ['FI.DMFA.101380.20260701.00001.R.2.1', 'DMFA.101380.20260701.00001.R'],
    ['GO.DMFA.101380.20260701.0000A.T.1', 'DMFA.101380.20260701.0000A.T'],
    ['GO.AOAT.000001.20090728.30000.R', 'AOAT.000001.20090728.30000.R'],
    ['FO.ACRF.999999.20260701.00001.R', undefined],
    ['fi.dmfa.101380.20260701.00001.r.1.1', undefined],
    ['FI.DMFA.101380.20260701.00001.R.1', undefined],
  ])('%s -> %s', (name, expected) => {
    expect(keyOfFileName(name)).toBe(expected);
  });
});

describe('ledger rules: sameSource', () => {
  it.each<[string, SourceIdentity, SourceIdentity, boolean]>([
    ['same kind, id and version', source('a'), source('a'), true],
    ['no version on either side', source('a', null), source('a', null), true],
    ['a version on one side only', source('a'), source('a', null), false],
    ['another version', source('a', 'v1'), source('a', 'v2'), false],
    ['another kind', source('a'), { ...source('a'), kind: 'object' }, false],
  ])('%s', (_title, a, b, expected) => {
    expect(sameSource(a, b)).toBe(expected);
  });
});

describe('ledger rules: decideClaim is pure', () => {
  it('decides from what it is given and changes none of it', () => {
    // Prepare
    const planned: DeclarationRecord = {
      ...decideRecord('00001', 'a'),
      state: 'planned',
    };
    const frozen = structuredClone(planned);

    // Act
    const decision = decideClaim({
      request: claimRequest('00002', source('a')),
      now: NOW,
      sourceRecords: [planned],
      keyRecord: undefined,
    });

    // Assess
    expect(decision).toEqual({
      kind: 'resume',
      record: { ...planned, attempt: 2, updatedAt: NOW },
    });
    expect(planned).toEqual(frozen);
  });
});

function decideRecord(seq: string, name: string): DeclarationRecord {
  const decision = decideClaim({
    request: claimRequest(seq, source(name)),
    now: '2026-07-01T07:00:00.000Z',
    sourceRecords: [],
    keyRecord: undefined,
  });
  expect(decision).toMatchObject({ kind: 'insert', record: { id: idOf(seq) } });
  return decision.record;
}

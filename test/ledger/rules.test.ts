import {
  ALLOWED_TRANSITIONS,
  DECLARATION_STATES,
  DEFAULT_LEASE_MS,
  DuplicateSourceError,
  LeaseLostError,
  LedgerRequestError,
  MAX_LEASE_MS,
  MAX_OWNER_LENGTH,
  MAX_TICKET_LENGTH,
  STATE_STAGES,
  SendInProgressError,
  SequenceExhaustedError,
  allocateSequence,
  applyLeaseRelease,
  applyLeaseRenewal,
  applyResponsePatch,
  applyTransition,
  buildResponseRecord,
  decideClaim,
  isLeaseRunning,
  keyOfFileName,
  leaseEndOf,
  parseResponseSetId,
  responseSetIdOf,
  sameSource,
  validateDeclarationId,
  validateLeaseMs,
  validateOwner,
  validateTicket,
} from '../../shared/ledger';
import type { DeclarationRecord, SourceIdentity } from '../../shared/ledger';
import {
  DATE,
  SENDER,
  acknowledgement,
  claimRequest,
  idOf,
  newResponse,
  notification,
  OTHER_OWNER,
  OWNER,
  own,
  plusMs,
  responseIdOf,
  source,
} from './fixtures';

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

  it('counts the answer states as committed: their GO went out', () => {
    expect([STATE_STAGES.acknowledged, STATE_STAGES.rejected, STATE_STAGES.notified]).toEqual([
      'committed',
      'committed',
      'committed',
    ]);
  });

  it('lets answers follow a GO that went out, and nothing leave rejected or failed', () => {
    expect(ALLOWED_TRANSITIONS).toMatchObject({
      launching: ['launched', 'acknowledged', 'rejected', 'notified', 'refused'],
      launched: ['acknowledged', 'rejected', 'notified', 'refused'],
      acknowledged: ['notified', 'refused'],
      // The state follows the latest notification: refused by one, accepted by a later one.
      notified: ['notified', 'refused'],
      refused: ['notified', 'refused'],
      rejected: [],
      failed: [],
    });
  });
});

describe('ledger rules: response set ids', () => {
  it.each<[string, string | undefined]>([
    ['FO.ACRF.999999.20261125.00001.T', 'ACRF.999999.20261125.00001.T'],
    ['FS.ACRF.999999.20261125.00001.T', 'ACRF.999999.20261125.00001.T'],
    ['GO.ACRF.999999.20261125.00001.T', 'ACRF.999999.20261125.00001.T'],
    ['CO.NOTI.999999.20261125.0000A.R.1', 'NOTI.999999.20261125.0000A.R.1'],
    ['FO.NOTI.999999.20261125.00002.R.2.1', 'NOTI.999999.20261125.00002.R.2'],
    ['GO.NOTI.999999.20261125.00002.R.2', 'NOTI.999999.20261125.00002.R.2'],
    ['FO.ZZ99.999999.20261125.00001.S', 'ZZ99.999999.20261125.00001.S'],
    ['FI.DMFA.101380.20261125.00001.R.1.1', undefined],
    ['FO.ACRF.999999.20261125.00001', undefined],
    ['fo.acrf.999999.20261125.00001.t', undefined],
    ['FO.NOTI.999999.20261125.00002.R.2.3', undefined],
  ])('responseSetIdOf(%s) is %s', (name, expected) => {
    expect(responseSetIdOf(name)).toBe(expected);
  });

  it.each([
    ['ACRF.999999.20261125.00001.T', { type: 'ACRF', seq: '00001', env: 'T' }],
    ['NOTI.999999.20261125.00002.R.3', { type: 'NOTI', env: 'R', nparts: 3 }],
  ])('parseResponseSetId reads %s', (id, expected) => {
    expect(parseResponseSetId(id)).toMatchObject({ sender: '999999', date: '20261125' });
    expect(parseResponseSetId(id)).toMatchObject(expected);
  });

  it.each([
    ['a PART', 'ACRF.999999.20261125.00001.T.1.1'],
    ['4 fields', 'ACRF.999999.20261125.00001'],
    ['a prefix', 'FO.ACRF.999999.20261125.00001.T'],
    ['0 parts', 'ACRF.999999.20261125.00001.T.0'],
    ['an environment X', 'ACRF.999999.20261125.00001.X'],
    ['a sender of 5 digits', 'ACRF.99999.20261125.00001.T'],
  ])('parseResponseSetId refuses an id with %s', (_title, id) => {
    expect(() => parseResponseSetId(id)).toThrow(LedgerRequestError);
  });
});

describe('ledger rules: tickets and declaration ids', () => {
  it.each(['1', '20260701000001', 'ABC-123/4', 'x'.repeat(MAX_TICKET_LENGTH)])(
    'accepts the ticket %s',
    (ticket) => {
      expect(validateTicket(ticket)).toBe(ticket);
    },
  );

  it.each(['', ' 1', '1 ', '1\t2', 'x'.repeat(MAX_TICKET_LENGTH + 1)])(
    'refuses the ticket %j',
    (ticket) => {
      expect(() => validateTicket(ticket)).toThrow(LedgerRequestError);
    },
  );

  it.each([
    [idOf('00001'), true],
    ['AOAT.000001.20090728.30000.R', true],
    [`${idOf('00001')}.1`, false],
    [`GO.${idOf('00001')}`, false],
    ['DMFA.101380.20260701.00001.X', false],
  ])('validateDeclarationId(%s): accepted %s', (id, accepted) => {
    const act = () => validateDeclarationId(id);
    if (accepted) expect(act()).toBe(id);
    else expect(act).toThrow(LedgerRequestError);
  });
});

describe('ledger rules: answers and responses are pure', () => {
  it('hands back the very record for a replayed answer, so adapters write nothing', () => {
    // Prepare
    const launched: DeclarationRecord = { ...decideRecord('00001', 'a'), state: 'launched' };
    const ack = acknowledgement(responseIdOf('00001'));
    const acknowledged = applyTransition(
      launched,
      ['launched'],
      'acknowledged',
      {
        acknowledgement: ack,
      },
      NOW,
    );

    // Act
    const replay = applyTransition(
      acknowledged,
      ['launched'],
      'acknowledged',
      {
        acknowledgement: ack,
      },
      '2026-07-09T00:00:00.000Z',
    );

    // Assess
    expect(replay).toBe(acknowledged);
    expect(launched.state).toBe('launched');
    expect(launched.tickets).toBeUndefined();
  });

  it('lists a ticket once however many answers carry it', () => {
    // Prepare
    const launched: DeclarationRecord = { ...decideRecord('00001', 'a'), state: 'launched' };
    const same = { ticket: 'T-1' };

    // Act
    const first = applyTransition(
      launched,
      ['launched'],
      'acknowledged',
      {
        acknowledgement: acknowledgement(responseIdOf('00001'), same),
      },
      NOW,
    );
    const second = applyTransition(
      first,
      ['acknowledged'],
      'notified',
      {
        notification: notification(responseIdOf('00002', 'NOTI'), same),
      },
      NOW,
    );

    // Assess
    expect(second.tickets).toEqual(['T-1']);
  });

  it('hands back the very response record for an update that changes nothing', () => {
    // Prepare
    const record = buildResponseRecord(newResponse('00001'), NOW);

    // Act
    const same = applyResponsePatch(record, { orphan: false, signature: 'unchecked' }, NOW);

    // Assess
    expect(same).toBe(record);
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
      options: own(),
      now: NOW,
      sourceRecords: [planned],
      keyRecord: undefined,
    });

    // Assess
    expect(decision).toEqual({
      kind: 'resume',
      record: { ...planned, attempt: 2, updatedAt: NOW, leaseUntil: plusMs(NOW, DEFAULT_LEASE_MS) },
    });
    expect(planned).toEqual(frozen);
  });
});

describe('ledger rules: leases', () => {
  // A set of source a claimed by run A at 07:00, so its lease ends at 07:02.
  const held = (): DeclarationRecord => ({ ...decideRecord('00001', 'a'), state: 'uploading' });
  const END = '2026-07-01T07:02:00.000Z';
  const claimAt = (now: string, options = own({}, OTHER_OWNER)) =>
    decideClaim({
      request: claimRequest('00002', source('a')),
      options,
      now,
      sourceRecords: [held()],
      keyRecord: undefined,
    });

  it('gives a new set to its claimer until now + leaseMs', () => {
    expect(held()).toMatchObject({ owner: OWNER, leaseUntil: END });
    expect(leaseEndOf(NOW, 1)).toBe('2026-07-01T08:00:00.001Z');
  });

  it.each([
    ['a millisecond before its end', '2026-07-01T07:01:59.999Z', true],
    ['at its end', END, false],
    ['after its end', '2026-07-01T09:00:00.000Z', false],
  ])('counts a lease as running %s: %s', (_title, now, running) => {
    expect(isLeaseRunning(held(), now)).toBe(running);
  });

  it('counts a set without a lease as held by nobody', () => {
    const free = held();
    delete free.owner;
    delete free.leaseUntil;
    expect(isLeaseRunning(free, NOW)).toBe(false);
  });

  it("refuses another run's claim while the lease runs, and resumes it from its end", () => {
    // Act
    const refused = () => claimAt('2026-07-01T07:01:59.999Z');
    const taken = claimAt(END);

    // Assess
    expect(refused).toThrow(SendInProgressError);
    expect(taken).toEqual({
      kind: 'resume',
      record: {
        ...held(),
        attempt: 2,
        owner: OTHER_OWNER,
        updatedAt: END,
        leaseUntil: plusMs(END, DEFAULT_LEASE_MS),
      },
    });
  });

  // DynamoDB reads the source's item and the key's record apart: a claim racing another
  // delivery of the same source can see the winner's set under its name only.
  it.each([
    ['live, leased to the other run', 'uploading', SendInProgressError],
    ['committed', 'launching', DuplicateSourceError],
  ] as const)(
    "takes the key's record of the same source, %s, as the source's own set",
    (_title, state, expected) => {
      const decide = () =>
        decideClaim({
          request: claimRequest('00001', source('a')),
          options: own({}, OTHER_OWNER),
          now: '2026-07-01T07:01:00.000Z',
          sourceRecords: [],
          keyRecord: { ...held(), state },
        });
      expect(decide).toThrow(expected);
    },
  );

  it('lets the owner resume its own set while its lease runs', () => {
    expect(claimAt('2026-07-01T07:01:00.000Z', own({ leaseMs: 1_000 }))).toMatchObject({
      kind: 'resume',
      record: { owner: OWNER, leaseUntil: '2026-07-01T07:01:01.000Z' },
    });
  });

  it('checks the options before anything else, and changes none of its input', () => {
    // Prepare
    const record = held();
    const frozen = structuredClone(record);

    // Act / Assess
    expect(() =>
      decideClaim({
        request: claimRequest('00002', source('a')),
        options: { owner: '' },
        now: END,
        sourceRecords: [record],
        keyRecord: undefined,
      }),
    ).toThrow(LedgerRequestError);
    expect(record).toEqual(frozen);
  });

  it.each(['launching', 'failed'] as const)('removes the lease with a move to %s', (to) => {
    // Act
    const next = applyTransition(
      held(),
      ['uploading'],
      to,
      to === 'failed' ? { failure: { code: 'X', message: 'x' } } : {},
      NOW,
      { owner: OWNER },
    );

    // Assess
    expect('owner' in next).toBe(false);
    expect('leaseUntil' in next).toBe(false);
  });

  it('keeps the lease with a move that stays live, and refuses a mover that is not the owner', () => {
    // Act
    const next = applyTransition(held(), ['uploading'], 'uploading', {}, NOW, { owner: OWNER });
    const other = () =>
      applyTransition(held(), ['uploading'], 'uploading', {}, NOW, { owner: OTHER_OWNER });

    // Assess
    expect(next).toMatchObject({ owner: OWNER, leaseUntil: END });
    expect(other).toThrow(LeaseLostError);
  });

  it('renews and releases without changing the record given', () => {
    // Prepare
    const record = held();
    const frozen = structuredClone(record);

    // Act
    const renewed = applyLeaseRenewal(record, OWNER, 30_000, NOW);
    const released = applyLeaseRelease(record, OWNER, NOW);

    // Assess
    expect(renewed).toEqual({ ...record, leaseUntil: '2026-07-01T08:00:30.000Z', updatedAt: NOW });
    expect('owner' in released || 'leaseUntil' in released).toBe(false);
    expect(released.updatedAt).toBe(NOW);
    expect(record).toEqual(frozen);
    expect(() => applyLeaseRenewal(record, OTHER_OWNER, undefined, NOW)).toThrow(LeaseLostError);
  });

  it.each(['run-a', '0f6c1f7e-8f0e-4c43-a4c6-3d4c2c4d9f10', 'x'.repeat(MAX_OWNER_LENGTH)])(
    'accepts the owner %s',
    (owner) => {
      expect(validateOwner(owner)).toBe(owner);
    },
  );

  it.each(['', ' a', 'a ', 'a\nb', 'x'.repeat(MAX_OWNER_LENGTH + 1)])(
    'refuses the owner %j',
    (owner) => {
      expect(() => validateOwner(owner)).toThrow(LedgerRequestError);
    },
  );

  it.each<[number | undefined, number | undefined]>([
    [undefined, DEFAULT_LEASE_MS],
    [1, 1],
    [MAX_LEASE_MS, MAX_LEASE_MS],
    [0, undefined],
    [-5, undefined],
    [2.5, undefined],
    [Number.POSITIVE_INFINITY, undefined],
    [MAX_LEASE_MS + 1, undefined],
  ])('validateLeaseMs(%s) is %s', (given, expected) => {
    if (expected === undefined) expect(() => validateLeaseMs(given)).toThrow(LedgerRequestError);
    else expect(validateLeaseMs(given)).toBe(expected);
  });
});

function decideRecord(seq: string, name: string): DeclarationRecord {
  const decision = decideClaim({
    request: claimRequest(seq, source(name)),
    options: own(),
    now: '2026-07-01T07:00:00.000Z',
    sourceRecords: [],
    keyRecord: undefined,
  });
  expect(decision).toMatchObject({ kind: 'insert', record: { id: idOf(seq) } });
  return decision.record;
}

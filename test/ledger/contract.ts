/**
 * The behaviour every Ledger adapter must show, written once and run against each of them
 * (memory, SQLite, later DynamoDB): sequences, the claim rules in their order, the transition
 * table and the answers it records, the leases of live sets, look-ups, listing, response sets
 * and closing.
 */
import {
  ALLOWED_TRANSITIONS,
  DECLARATION_STATES,
  DEFAULT_LEASE_MS,
  DeclarationNotFoundError,
  DuplicateSourceError,
  LeaseLostError,
  LedgerClosedError,
  LedgerError,
  LedgerRequestError,
  MAX_ANOMALY_FIELD_LENGTH,
  MAX_LEASE_MS,
  MAX_RECORDED_ANOMALIES,
  NameAlreadySentError,
  ResponseConflictError,
  ResponseNotFoundError,
  STATE_STAGES,
  SendInProgressError,
  StateConflictError,
} from '../../shared/ledger';
import type {
  ClaimOptions,
  ClaimRequest,
  DeclarationRecord,
  DeclarationState,
  Ledger,
  NewResponse,
  ResponsePatch,
  ResponseRecord,
  TransitionPatch,
} from '../../shared/ledger';
import {
  DATE,
  SENDER,
  acknowledgement,
  claimRequest,
  idOf,
  keyOf,
  newResponse,
  notification,
  OTHER_OWNER,
  OWNER,
  own,
  planFiles,
  plusMs,
  responseFiles,
  responseIdOf,
  sha,
  source,
  testClock,
} from './fixtures';
import type { TestClock } from './fixtures';
import type { LedgerFactory } from './operations-contract';
import { describeOperationsContract } from './operations-contract';

export type { LedgerFactory } from './operations-contract';

type ErrorClass = abstract new (...args: never[]) => LedgerError;

const ALL_STATES = Object.values(DECLARATION_STATES);

/** The transitions that lead a claimed (planned) set to each state. */
const PATHS: Record<DeclarationState, DeclarationState[]> = {
  planned: [],
  uploading: ['uploading'],
  launching: ['uploading', 'launching'],
  launched: ['uploading', 'launching', 'launched'],
  failed: ['failed'],
  acknowledged: ['uploading', 'launching', 'launched', 'acknowledged'],
  rejected: ['uploading', 'launching', 'launched', 'rejected'],
  notified: ['uploading', 'launching', 'launched', 'notified'],
  refused: ['uploading', 'launching', 'launched', 'refused'],
  cancelled: ['uploading', 'cancelled'],
};

/**
 * Runs the ledger contract against the adapter `factory` opens. Each test gets a fresh ledger
 * with a pinned clock (one second per read, so creation order is visible in timestamps).
 */
export function describeLedgerContract(name: string, factory: LedgerFactory): void {
  describeOperationsContract(name, factory);
  describe(`${name}: Ledger contract`, () => {
    let ledger: Ledger;
    let clock: TestClock;
    // Every error class the contract expects must be seen thrown at least once: an error that
    // is exported but never thrown is a rule that is not enforced.
    const seen = new Set<string>();

    async function expectError<T>(
      promise: Promise<T>,
      type: ErrorClass,
      code: string,
    ): Promise<LedgerError> {
      const error: unknown = await promise.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(type);
      expect(error).toBeInstanceOf(LedgerError);
      const ledgerError = error as LedgerError;
      expect(ledgerError.code).toBe(code);
      expect(ledgerError.name).toBe(type.name);
      seen.add(type.name);
      return ledgerError;
    }

    // Each answer a test records comes in its own response set: 00001, 00002...
    let answers = 0;
    const nextResponse = (type: 'ACRF' | 'NOTI'): string => {
      answers += 1;
      return responseIdOf(String(answers).padStart(5, '0'), type);
    };

    /** The patch a move to `to` needs: a failure, a fresh ACRF or a fresh notification. */
    function patchFor(to: DeclarationState): TransitionPatch {
      switch (to) {
        case 'failed':
          return { failure: { code: 'ACRF-102', message: 'bad XML' } };
        case 'acknowledged':
          return { acknowledgement: acknowledgement(nextResponse('ACRF')) };
        case 'rejected':
          return {
            acknowledgement: acknowledgement(nextResponse('ACRF'), {
              accepted: false,
              errors: ['ACRF-129'],
            }),
          };
        case 'notified':
          return { notification: notification(nextResponse('NOTI')) };
        case 'refused':
          return {
            notification: notification(nextResponse('NOTI'), {
              result: 'refused',
              accepted: false,
            }),
          };
        default:
          return {};
      }
    }

    // A cancel waits for the lease of a run that sends the set: the claiming run itself cancels.
    const as = (to: DeclarationState) => (to === 'cancelled' ? { owner: OWNER } : undefined);

    /** Claims a set and drives it to `state` through allowed transitions. */
    async function recordIn(
      state: DeclarationState,
      request: ClaimRequest,
    ): Promise<DeclarationRecord> {
      const { record } = await ledger.claim(request, own());
      let current = record;
      for (const to of PATHS[state]) {
        current = await ledger.transition(current.id, current.state, to, patchFor(to), as(to));
      }
      return current;
    }

    beforeEach(async () => {
      answers = 0;
      clock = testClock();
      ledger = await factory({ now: clock.now });
    });

    afterEach(async () => {
      await ledger.close();
    });

    describe('nextSequence', () => {
      it('allocates 00001, 00002, 00003 for a sender, date and environment', async () => {
        // Act
        const seqs = [
          await ledger.nextSequence(SENDER, DATE, 'R'),
          await ledger.nextSequence(SENDER, DATE, 'R'),
          await ledger.nextSequence(SENDER, DATE, 'R'),
        ];

        // Assess
        expect(seqs).toEqual(['00001', '00002', '00003']);
      });

      it('counts each sender, date and environment apart', async () => {
        // Prepare
        await ledger.nextSequence(SENDER, DATE, 'R');

        // Act
        const others = [
          await ledger.nextSequence(SENDER, DATE, 'T'),
          await ledger.nextSequence(SENDER, '20260702', 'R'),
          await ledger.nextSequence('999999', DATE, 'R'),
          await ledger.nextSequence(SENDER, DATE, 'R'),
        ];

        // Assess
        expect(others).toEqual(['00001', '00001', '00001', '00002']);
      });

      it('skips sequences recorded explicitly, by any application of the scope', async () => {
        // Prepare: 00002 given by hand for DMFA, 00003 for DIMN, 00001 in another environment
        await ledger.claim(claimRequest('00002', source('a')), own());
        await ledger.claim(
          claimRequest('00003', source('b'), { key: keyOf('00003', 'R', 'DIMN') }),
          own(),
        );
        await ledger.claim(claimRequest('00001', source('c'), { env: 'T' }), own());

        // Act
        const seqs = [
          await ledger.nextSequence(SENDER, DATE, 'R'),
          await ledger.nextSequence(SENDER, DATE, 'R'),
        ];

        // Assess
        expect(seqs).toEqual(['00001', '00004']);
      });

      it('never gives a sequence twice, even when the first was never claimed', async () => {
        // Prepare
        const first = await ledger.nextSequence(SENDER, DATE, 'S');

        // Act
        const second = await ledger.nextSequence(SENDER, DATE, 'S');

        // Assess
        expect(second).not.toBe(first);
      });

      it.each([
        ['a sender of 5 digits', '10138', DATE, 'R'],
        ['a date that is not real', SENDER, '20260231', 'R'],
        ['an unknown environment', SENDER, DATE, 'X'],
      ])('refuses %s', async (_title, sender, date, env) => {
        // Act / Assess
        await expectError(
          ledger.nextSequence(sender, date, env as 'R'),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
      });
    });

    describe('claim: rule 4, a new record', () => {
      it('records a new set in state planned, attempt 1', async () => {
        // Prepare
        const request = claimRequest('00001', source('a'), { nparts: 2 });
        const createdAt = clock.peek();

        // Act
        const result = await ledger.claim(request, own());

        // Assess
        expect(result).toEqual({
          resumed: false,
          record: {
            id: idOf('00001'),
            key: keyOf('00001'),
            nparts: 2,
            source: source('a'),
            folder: 'IN',
            files: planFiles(keyOf('00001'), 2),
            state: 'planned',
            attempt: 1,
            createdAt,
            updatedAt: createdAt,
            owner: OWNER,
            leaseUntil: plusMs(createdAt, DEFAULT_LEASE_MS),
          },
        });
        expect(await ledger.get(idOf('00001'))).toEqual(result.record);
      });

      it('treats another version, kind or id as another source', async () => {
        // Prepare
        await ledger.claim(claimRequest('00001', source('a', 'v1')), own());

        // Act
        const results = [
          await ledger.claim(claimRequest('00002', source('a', 'v2')), own()),
          await ledger.claim(claimRequest('00003', source('a', null)), own()),
          await ledger.claim(
            claimRequest('00004', { kind: 'object', id: '/data/a.xml', version: 'v1' }),
            own(),
          ),
          await ledger.claim(claimRequest('00005', source('b', 'v1')), own()),
        ];

        // Assess
        expect(results.map((r) => [r.resumed, r.record.id])).toEqual([
          [false, idOf('00002')],
          [false, idOf('00003')],
          [false, idOf('00004')],
          [false, idOf('00005')],
        ]);
      });

      it('accepts an empty file list, to be filled in by a transition', async () => {
        // Act
        const { record } = await ledger.claim(
          claimRequest('00001', source('a'), { files: [] }),
          own(),
        );

        // Assess
        expect(record.files).toEqual([]);
      });
    });

    describe('claim: rule 1, resume a live set of the same source', () => {
      it.each(['planned', 'uploading'] as const)(
        'resumes a %s set whatever key is asked, with attempt + 1',
        async (state) => {
          // Prepare
          const first = await recordIn(state, claimRequest('00001', source('a')));

          // Act
          const result = await ledger.claim(
            claimRequest('00007', source('a'), { nparts: 3 }),
            own(),
          );

          // Assess: the earlier set, its names and state, one attempt more, a fresh lease
          expect(result.resumed).toBe(true);
          expect(result.record).toEqual({
            ...first,
            attempt: 2,
            updatedAt: result.record.updatedAt,
            leaseUntil: plusMs(result.record.updatedAt, DEFAULT_LEASE_MS),
          });
          expect(result.record.updatedAt > first.updatedAt).toBe(true);
          expect(await ledger.get(idOf('00001'))).toEqual(result.record);
          expect(await ledger.get(idOf('00007'))).toBeUndefined();
        },
      );

      it('counts every resume', async () => {
        // Prepare
        await ledger.claim(claimRequest('00001', source('a')), own());
        await ledger.claim(claimRequest('00001', source('a')), own());

        // Act
        const third = await ledger.claim(claimRequest('00001', source('a')), own());

        // Assess
        expect(third.record.attempt).toBe(3);
      });

      it('resumes even with resend, and before looking at the requested key', async () => {
        // Prepare: the requested key is held by a launched set of another source
        await recordIn('launched', claimRequest('00002', source('other')));
        await ledger.claim(claimRequest('00001', source('a')), own());

        // Act
        const result = await ledger.claim(
          claimRequest('00002', source('a')),
          own({ resend: true }),
        );

        // Assess
        expect(result.resumed).toBe(true);
        expect(result.record.id).toBe(idOf('00001'));
        expect((await ledger.get(idOf('00002')))?.source).toEqual(source('other'));
      });
    });

    describe('claim: rule 2, a source already launched', () => {
      it.each(['launching', 'launched', 'acknowledged', 'rejected', 'notified'] as const)(
        'refuses a source whose set is %s with DUPLICATE_SOURCE',
        async (state) => {
          // Prepare
          const earlier = await recordIn(state, claimRequest('00001', source('a')));
          const before = await ledger.list({ includeSuperseded: true });

          // Act
          const error = await expectError(
            ledger.claim(claimRequest('00002', source('a')), own()),
            DuplicateSourceError,
            'DUPLICATE_SOURCE',
          );

          // Assess: names the earlier set and its state, carries it, and writes nothing
          expect(error.message).toContain(idOf('00001'));
          expect(error.message).toContain(state);
          expect((error as DuplicateSourceError).existing).toEqual(earlier);
          expect(await ledger.list({ includeSuperseded: true })).toEqual(before);
        },
      );

      it('sends the source again under a new key with resend', async () => {
        // Prepare
        await recordIn('launched', claimRequest('00001', source('a')));

        // Act
        const result = await ledger.claim(
          claimRequest('00002', source('a')),
          own({ resend: true }),
        );

        // Assess
        expect(result.resumed).toBe(false);
        expect(result.record).toMatchObject({ id: idOf('00002'), state: 'planned', attempt: 1 });
        expect((await ledger.get(idOf('00001')))?.state).toBe('launched');
      });

      it('is checked before the key: a launched source asking its own key is a duplicate', async () => {
        // Prepare
        await recordIn('launched', claimRequest('00001', source('a')));

        // Act / Assess
        await expectError(
          ledger.claim(claimRequest('00001', source('a')), own()),
          DuplicateSourceError,
          'DUPLICATE_SOURCE',
        );
      });

      it('does not count a failed set of the source as sent', async () => {
        // Prepare
        await recordIn('failed', claimRequest('00001', source('a')));

        // Act
        const result = await ledger.claim(claimRequest('00002', source('a')), own());

        // Assess
        expect(result).toMatchObject({ resumed: false, record: { id: idOf('00002') } });
      });
    });

    describe('claim: rule 3, a name already used', () => {
      it.each(['launching', 'launched', 'acknowledged', 'rejected', 'notified'] as const)(
        'refuses the key of a %s set with ACRF-133',
        async (state) => {
          // Prepare
          const earlier = await recordIn(state, claimRequest('00001', source('a')));

          // Act
          const error = await expectError(
            ledger.claim(claimRequest('00001', source('b')), own()),
            NameAlreadySentError,
            'ACRF-133',
          );

          // Assess
          expect(error.acrf).toBe(133);
          expect(error.message).toContain(idOf('00001'));
          expect((error as NameAlreadySentError).existing).toEqual(earlier);
        },
      );

      it.each([
        { title: 'the same source', other: 'a' },
        { title: 'another source', other: 'b' },
      ])(
        'reuses the key of a failed set (no GO was sent) for $title without resend',
        async ({ other }) => {
          // Prepare
          const failed = await recordIn('failed', claimRequest('00001', source('a')));

          // Act
          const result = await ledger.claim(claimRequest('00001', source(other)), own());

          // Assess
          expect(result).toMatchObject({
            resumed: false,
            record: { id: idOf('00001'), state: 'planned' },
          });
          const history = await ledger.list({ includeSuperseded: true });
          expect(history.find((r) => r.supersededAt !== undefined)?.createdAt).toBe(
            failed.createdAt,
          );
        },
      );

      it.each(['planned', 'uploading'] as const)(
        'refuses the key of a %s set of another source even with resend',
        async (state) => {
          // Prepare
          await recordIn(state, claimRequest('00001', source('a')));

          // Act
          const error = await expectError(
            ledger.claim(claimRequest('00001', source('b')), own({ resend: true })),
            NameAlreadySentError,
            'ACRF-133',
          );

          // Assess
          expect(error.message).toContain('being uploaded');
          expect((await ledger.get(idOf('00001')))?.source).toEqual(source('a'));
        },
      );

      it.each(['launching', 'launched', 'failed', 'rejected'] as const)(
        'reuses the key of a %s set with resend, keeping the earlier record as history',
        async (state) => {
          // Prepare
          const earlier = await recordIn(state, claimRequest('00001', source('a')));

          // Act
          const result = await ledger.claim(
            claimRequest('00001', source('b')),
            own({ resend: true }),
          );

          // Assess: the key now names the new set; the earlier one is superseded, not lost
          expect(result.record).toMatchObject({
            id: idOf('00001'),
            source: source('b'),
            state: 'planned',
            attempt: 1,
          });
          expect(await ledger.get(idOf('00001'))).toEqual(result.record);
          const old = await ledger.findBySource(source('a'));
          expect(old).toEqual({
            ...earlier,
            supersededAt: result.record.createdAt,
            updatedAt: result.record.createdAt,
          });
          expect(await ledger.list()).toEqual([result.record]);
          expect(await ledger.list({ includeSuperseded: true })).toEqual([old, result.record]);
        },
      );

      it('still refuses the superseded source afterwards', async () => {
        // Prepare: source a launched under 00001, then the key resent for source b
        await recordIn('launched', claimRequest('00001', source('a')));
        await ledger.claim(claimRequest('00001', source('b')), own({ resend: true }));

        // Act / Assess
        await expectError(
          ledger.claim(claimRequest('00009', source('a')), own()),
          DuplicateSourceError,
          'DUPLICATE_SOURCE',
        );
      });

      it('allows the same sequence for another application (the key includes APP)', async () => {
        // Prepare
        await recordIn('launched', claimRequest('00001', source('a')));

        // Act
        const result = await ledger.claim(
          claimRequest('00001', source('b'), { key: keyOf('00001', 'R', 'DIMN') }),
          own(),
        );

        // Assess
        expect(result.record.id).toBe(idOf('00001', 'R', 'DIMN'));
      });
    });

    describe('claim: malformed requests', () => {
      const a = source('a');
      it.each<[string, ClaimRequest]>([
        ['a folder of another environment', { ...claimRequest('00001', a), folder: 'INTEST' }],
        ['0 parts', { ...claimRequest('00001', a), nparts: 0 }],
        ['10 parts', { ...claimRequest('00001', a), nparts: 10 }],
        ['a sequence with lower case', claimRequest('0000a', a, { files: [] })],
        ['a sequence of 4 characters', claimRequest('0001', a, { files: [] })],
        [
          'a date that is not real',
          {
            ...claimRequest('00001', a, { files: [] }),
            key: { ...keyOf('00001'), date: '20261301' },
          },
        ],
        ['an empty source id', claimRequest('00001', { kind: 'file', id: '' })],
        ['an empty source version', claimRequest('00001', { kind: 'file', id: '/a', version: '' })],
        [
          'a file of another set',
          { ...claimRequest('00001', a), files: planFiles(keyOf('00002')) },
        ],
        [
          'a file of another part count',
          { ...claimRequest('00001', a), files: planFiles(keyOf('00001'), 2) },
        ],
        [
          'a role that is not the prefix',
          {
            ...claimRequest('00001', a),
            files: [{ name: `FS.${idOf('00001')}.1.1`, size: 1, role: 'FI' }],
          },
        ],
        [
          'a file listed twice',
          {
            ...claimRequest('00001', a),
            files: [...planFiles(keyOf('00001')), ...planFiles(keyOf('00001'))],
          },
        ],
        [
          'a negative size',
          {
            ...claimRequest('00001', a),
            files: [{ name: `GO.${idOf('00001')}.1`, size: -1, role: 'GO' }],
          },
        ],
        [
          'a hash that is not SHA-256',
          {
            ...claimRequest('00001', a),
            files: [{ name: `GO.${idOf('00001')}.1`, size: 0, sha256: 'abc', role: 'GO' }],
          },
        ],
      ])('refuses %s and records nothing', async (_title, request) => {
        // Act
        await expectError(
          ledger.claim(request, own()),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );

        // Assess
        expect(await ledger.list({ includeSuperseded: true })).toEqual([]);
      });
    });

    describe('transition', () => {
      it('moves planned -> uploading and records the patch', async () => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());
        const files = planFiles(keyOf('00001')).map((f) => ({ ...f, sha256: sha('A') }));

        // Act
        const next = await ledger.transition(record.id, 'planned', 'uploading', {
          sourceSha256: sha('B'),
          sourceSize: 12345,
          files,
        });

        // Assess: hashes kept in lower case, createdAt unchanged, updatedAt moved
        expect(next).toEqual({
          ...record,
          state: 'uploading',
          sourceSha256: sha('b'),
          sourceSize: 12345,
          files: files.map((f) => ({ ...f, sha256: sha('a') })),
          updatedAt: next.updatedAt,
        });
        expect(next.updatedAt > record.updatedAt).toBe(true);
        expect(await ledger.get(record.id)).toEqual(next);
      });

      it('goes uploading -> uploading -> launching -> launched, stamping launchedAt', async () => {
        // Prepare
        const planned = (await ledger.claim(claimRequest('00001', source('a')), own())).record;
        await ledger.transition(planned.id, 'planned', 'uploading');

        // Act
        await ledger.transition(planned.id, 'uploading', 'uploading', { sourceSize: 1 });
        await ledger.transition(planned.id, ['uploading'], 'launching');
        const at = clock.peek();
        const launched = await ledger.transition(planned.id, 'launching', 'launched');

        // Assess
        expect(launched).toMatchObject({ state: 'launched', sourceSize: 1, launchedAt: at });
      });

      it('keeps a given launchedAt, normalized to ISO', async () => {
        // Prepare
        const record = await recordIn('launching', claimRequest('00001', source('a')));

        // Act
        const launched = await ledger.transition(record.id, 'launching', 'launched', {
          launchedAt: '2026-07-01T10:00:00+02:00',
        });

        // Assess
        expect(launched.launchedAt).toBe('2026-07-01T08:00:00.000Z');
      });

      it('accepts any of several expected states', async () => {
        // Prepare
        const record = await recordIn('uploading', claimRequest('00001', source('a')));

        // Act
        const failed = await ledger.transition(record.id, ['planned', 'uploading'], 'failed', {
          failure: { code: 'ACRF-102', message: 'XML not well-formed' },
        });

        // Assess
        expect(failed).toMatchObject({
          state: 'failed',
          failure: { code: 'ACRF-102', message: 'XML not well-formed' },
        });
      });

      it('refuses when the set is not in the expected state, naming both', async () => {
        // Prepare: another process already moved the set to launching
        const record = await recordIn('launching', claimRequest('00001', source('a')));

        // Act
        const error = await expectError(
          ledger.transition(record.id, 'uploading', 'failed', {
            failure: { code: 'X', message: 'x' },
          }),
          StateConflictError,
          'STATE_CONFLICT',
        );

        // Assess
        expect(error).toMatchObject({ expected: ['uploading'], actual: 'launching', to: 'failed' });
        expect(error.message).toContain('uploading');
        expect(error.message).toContain('launching');
        expect(await ledger.get(record.id)).toEqual(record);
      });

      const pairs = ALL_STATES.flatMap((from) => ALL_STATES.map((to) => [from, to] as const));
      it.each(pairs)('%s -> %s follows the transition table', async (from, to) => {
        // Prepare
        const record = await recordIn(from, claimRequest('00001', source('a')));
        const allowed = (ALLOWED_TRANSITIONS[from] as readonly DeclarationState[]).includes(to);

        // Act
        const outcome = ledger.transition(record.id, from, to, patchFor(to), as(to));

        // Assess
        if (allowed) {
          expect((await outcome).state).toBe(to);
        } else {
          await expectError(outcome, StateConflictError, 'STATE_CONFLICT');
          expect((await ledger.get(record.id))?.state).toBe(from);
        }
      });

      it('refuses a change outside the table whatever the current state', async () => {
        // Prepare: the set is planned, but planned -> launched is never allowed
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());

        // Act
        const error = await expectError(
          ledger.transition(record.id, ['uploading', 'planned'], 'launching'),
          StateConflictError,
          'STATE_CONFLICT',
        );

        // Assess
        expect(error.message).toContain('planned cannot move to launching');
      });

      it.each<[string, DeclarationState, object]>([
        ['a move to failed without a failure', 'failed', {}],
        ['a failure with another move', 'uploading', { failure: { code: 'X', message: 'x' } }],
        ['launchedAt with another move', 'uploading', { launchedAt: '2026-07-01T08:00:00Z' }],
        ['a size that is not a byte count', 'uploading', { sourceSize: 1.5 }],
        ['a hash that is not SHA-256', 'uploading', { sourceSha256: 'xyz' }],
        ['files of another set', 'uploading', { files: planFiles(keyOf('00002')) }],
      ])('refuses %s', async (_title, to, patch) => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());

        // Act
        await expectError(
          ledger.transition(record.id, 'planned', to, patch),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );

        // Assess
        expect(await ledger.get(record.id)).toEqual(record);
      });

      it.each<[string, DeclarationState[], DeclarationState]>([
        ['no expected state', [], 'uploading'],
        ['an unknown target state', ['planned'], 'sent' as DeclarationState],
      ])('refuses %s', async (_title, from, to) => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());

        // Act / Assess
        await expectError(
          ledger.transition(record.id, from, to),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
      });

      it('refuses an unknown set with DECLARATION_NOT_FOUND', async () => {
        // Act / Assess
        await expectError(
          ledger.transition(idOf('00042'), 'planned', 'uploading'),
          DeclarationNotFoundError,
          'DECLARATION_NOT_FOUND',
        );
      });

      it('acts on the current record of a key, not on a superseded one', async () => {
        // Prepare: a set stuck in launching, its key resent
        await recordIn('launching', claimRequest('00001', source('a')));
        await ledger.claim(claimRequest('00001', source('a')), own({ resend: true }));

        // Act: the stale process wakes up and confirms its GO
        const outcome = ledger.transition(idOf('00001'), 'launching', 'launched');

        // Assess
        await expectError(outcome, StateConflictError, 'STATE_CONFLICT');
        expect(await ledger.findBySource(source('a'))).toMatchObject({ state: 'planned' });
      });
    });

    describe('leases', () => {
      const A = { owner: OWNER };
      const B = { owner: OTHER_OWNER };
      const T0 = '2026-07-01T08:00:00.000Z';
      const LEASE_END = plusMs(T0, DEFAULT_LEASE_MS);

      /** Run A's set of source a: claimed at T0 (its lease ends 2 minutes later), uploading. */
      async function heldByA(): Promise<DeclarationRecord> {
        clock.set(T0);
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());
        return ledger.transition(record.id, 'planned', 'uploading', undefined, A);
      }

      /** The record as it is stored now. */
      const stored = async (id = idOf('00001')) => ledger.get(id);

      it('refuses a claim of the source while another run holds the lease, and writes nothing', async () => {
        // Prepare
        const held = await heldByA();
        const before = await ledger.list({ includeSuperseded: true });

        // Act
        const error = await expectError(
          ledger.claim(claimRequest('00002', source('a')), own({}, OTHER_OWNER)),
          SendInProgressError,
          'SEND_IN_PROGRESS',
        );

        // Assess: names the set and the end of the lease, carries the set, changes nothing
        expect(error.message).toContain(idOf('00001'));
        expect(error.message).toContain(LEASE_END);
        expect(error).toMatchObject({ leaseUntil: LEASE_END, existing: held });
        expect(await ledger.list({ includeSuperseded: true })).toEqual(before);
        expect(await stored(idOf('00002'))).toBeUndefined();
      });

      it('refuses it up to the last millisecond of the lease, resend or not', async () => {
        // Prepare
        const held = await heldByA();
        clock.set(plusMs(LEASE_END, -1));

        // Act
        await expectError(
          ledger.claim(claimRequest('00001', source('a')), own({ resend: true }, OTHER_OWNER)),
          SendInProgressError,
          'SEND_IN_PROGRESS',
        );

        // Assess
        expect(await stored()).toEqual(held);
      });

      it('lets another run take the set over once the lease has ended; the first run has lost it', async () => {
        // Prepare: run A stalls; its lease ends at LEASE_END exactly
        const held = await heldByA();
        clock.set(LEASE_END);

        // Act
        const takeover = await ledger.claim(
          claimRequest('00002', source('a')),
          own({}, OTHER_OWNER),
        );

        // Assess: B resumes the set as its new owner, with a lease of its own
        expect(takeover).toEqual({
          resumed: true,
          record: {
            ...held,
            attempt: 2,
            owner: OTHER_OWNER,
            leaseUntil: plusMs(LEASE_END, DEFAULT_LEASE_MS),
            updatedAt: LEASE_END,
          },
        });
        // ...A wakes up: its moves and its renewal fail, and write nothing
        const lost = await expectError(
          ledger.transition(held.id, 'uploading', 'launching', undefined, A),
          LeaseLostError,
          'LEASE_LOST',
        );
        expect(lost.message).toContain(held.id);
        expect((lost as LeaseLostError).existing).toEqual(takeover.record);
        await expectError(
          ledger.transition(held.id, 'uploading', 'failed', patchFor('failed'), A),
          LeaseLostError,
          'LEASE_LOST',
        );
        await expectError(ledger.renewLease(held.id, OWNER), LeaseLostError, 'LEASE_LOST');
        await expectError(ledger.releaseLease(held.id, OWNER), LeaseLostError, 'LEASE_LOST');
        expect(await stored()).toEqual(takeover.record);
        // ...while B goes on
        const launching = await ledger.transition(held.id, 'uploading', 'launching', undefined, B);
        expect(launching.state).toBe('launching');
      });

      it('leases for the duration asked for', async () => {
        // Prepare
        clock.set(T0);
        const { record } = await ledger.claim(
          claimRequest('00001', source('a')),
          own({ leaseMs: 5_000 }),
        );
        clock.set(plusMs(T0, 4_999));
        await expectError(
          ledger.claim(claimRequest('00001', source('a')), own({}, OTHER_OWNER)),
          SendInProgressError,
          'SEND_IN_PROGRESS',
        );

        // Act
        clock.set(plusMs(T0, 5_000));
        const takeover = await ledger.claim(
          claimRequest('00001', source('a')),
          own({ leaseMs: 60_000 }, OTHER_OWNER),
        );

        // Assess
        expect(record.leaseUntil).toBe(plusMs(T0, 5_000));
        expect(takeover.record).toMatchObject({
          owner: OTHER_OWNER,
          leaseUntil: plusMs(T0, 5_000 + 60_000),
        });
      });

      it('lets the owner renew its lease from now, which keeps another run out longer', async () => {
        // Prepare
        const held = await heldByA();
        const at = plusMs(T0, 90_000);
        clock.set(at);

        // Act
        const renewed = await ledger.renewLease(held.id, OWNER);

        // Assess: past the first end of the lease, B is still refused
        expect(renewed).toEqual({
          ...held,
          leaseUntil: plusMs(at, DEFAULT_LEASE_MS),
          updatedAt: at,
        });
        expect(await stored()).toEqual(renewed);
        clock.set(plusMs(LEASE_END, 1_000));
        await expectError(
          ledger.claim(claimRequest('00001', source('a')), own({}, OTHER_OWNER)),
          SendInProgressError,
          'SEND_IN_PROGRESS',
        );
      });

      it('renews for the duration asked for, and an ended lease nobody took over', async () => {
        // Prepare: A's lease ended, but no other run came
        const held = await heldByA();
        const late = plusMs(LEASE_END, 30_000);
        clock.set(late);

        // Act
        const renewed = await ledger.renewLease(held.id, OWNER, 10_000);

        // Assess
        expect(renewed.leaseUntil).toBe(plusMs(late, 10_000));
        expect(renewed.owner).toBe(OWNER);
      });

      it.each<[string, (held: DeclarationRecord) => Promise<unknown>]>([
        ['another run', async () => undefined],
        [
          'a set it released',
          async (held) => ledger.releaseLease(held.id, OWNER).then(() => undefined),
        ],
        [
          'a set no longer live',
          async (held) => ledger.transition(held.id, 'uploading', 'launching', undefined, A),
        ],
      ])('refuses to renew or release the lease for %s (LEASE_LOST)', async (title, prepare) => {
        // Prepare
        const held = await heldByA();
        await prepare(held);
        const before = await stored();
        const caller = title === 'another run' ? OTHER_OWNER : OWNER;

        // Act
        await expectError(ledger.renewLease(held.id, caller), LeaseLostError, 'LEASE_LOST');
        await expectError(ledger.releaseLease(held.id, caller), LeaseLostError, 'LEASE_LOST');

        // Assess
        expect(await stored()).toEqual(before);
      });

      it('releases the lease at once: the next run resumes without waiting', async () => {
        // Prepare
        const held = await heldByA();

        // Act
        const released = await ledger.releaseLease(held.id, OWNER);

        // Assess: no lease left; the releasing run may no longer move the set; B takes it now
        expect(released.owner).toBeUndefined();
        expect(released.leaseUntil).toBeUndefined();
        expect(released).toMatchObject({ state: 'uploading', attempt: 1 });
        expect(await stored()).toEqual(released);
        await expectError(
          ledger.transition(held.id, 'uploading', 'uploading', undefined, A),
          LeaseLostError,
          'LEASE_LOST',
        );
        const takeover = await ledger.claim(
          claimRequest('00001', source('a')),
          own({}, OTHER_OWNER),
        );
        expect(takeover).toMatchObject({
          resumed: true,
          record: { owner: OTHER_OWNER, attempt: 2 },
        });
      });

      it.each(['launching', 'failed'] as const)(
        'removes the lease with a move to %s: later runs see none',
        async (to) => {
          // Prepare
          const held = await heldByA();

          // Act
          const moved = await ledger.transition(held.id, 'uploading', to, patchFor(to), A);

          // Assess
          expect(moved.owner).toBeUndefined();
          expect(moved.leaseUntil).toBeUndefined();
          expect(await stored()).toEqual(moved);
          const later = ledger.claim(claimRequest('00002', source('a')), own({}, OTHER_OWNER));
          if (to === 'launching') {
            await expectError(later, DuplicateSourceError, 'DUPLICATE_SOURCE');
          } else {
            expect(await later).toMatchObject({ resumed: false, record: { owner: OTHER_OWNER } });
          }
        },
      );

      it('lets its owner move a set past the live stages, where only the state guards', async () => {
        // Prepare
        const held = await heldByA();
        await ledger.transition(held.id, 'uploading', 'launching', undefined, A);

        // Act
        const launched = await ledger.transition(held.id, 'launching', 'launched', undefined, A);
        const conflict = ledger.transition(held.id, 'launching', 'launched', undefined, B);

        // Assess
        expect(launched.state).toBe('launched');
        await expectError(conflict, StateConflictError, 'STATE_CONFLICT');
      });

      it.each(ALL_STATES)('leaves a lease on a set only while it is live (%s)', async (state) => {
        // Act
        const record = await recordIn(state, claimRequest('00001', source('a')));

        // Assess
        if (STATE_STAGES[state] === 'live') {
          expect(record).toMatchObject({ owner: OWNER, leaseUntil: expect.any(String) });
        } else {
          expect(record.owner).toBeUndefined();
          expect(record.leaseUntil).toBeUndefined();
        }
        expect(await stored()).toEqual(record);
      });

      it('moves a set without looking at the lease when no owner is given', async () => {
        // Prepare: the receive path or an operator's repair holds no lease
        const held = await heldByA();

        // Act
        const failed = await ledger.transition(held.id, 'uploading', 'failed', patchFor('failed'));

        // Assess
        expect(failed).toMatchObject({ state: 'failed' });
        expect(failed.owner).toBeUndefined();
      });

      it('refuses a lease call for an unknown set with DECLARATION_NOT_FOUND', async () => {
        await expectError(
          ledger.renewLease(idOf('00042'), OWNER),
          DeclarationNotFoundError,
          'DECLARATION_NOT_FOUND',
        );
        await expectError(
          ledger.releaseLease(idOf('00042'), OWNER),
          DeclarationNotFoundError,
          'DECLARATION_NOT_FOUND',
        );
      });

      it.each<[string, unknown]>([
        ['no options', undefined],
        ['no owner', { resend: true }],
        ['an empty owner', { owner: '' }],
        ['an owner with blanks around', { owner: ' run-c' }],
        ['an owner with a control character', { owner: 'run\u0000c' }],
        ['an owner of 129 characters', { owner: 'x'.repeat(129) }],
        ['an owner that is not a string', { owner: 42 }],
        ['a lease of 0 ms', { owner: 'run-c', leaseMs: 0 }],
        ['a lease that is not whole', { owner: 'run-c', leaseMs: 1.5 }],
        ['a lease longer than a day', { owner: 'run-c', leaseMs: MAX_LEASE_MS + 1 }],
      ])('refuses a claim with %s and writes nothing', async (_title, options) => {
        // Prepare: a set of the source whose lease has ended, so a good claim would resume it
        const held = await heldByA();
        clock.set(LEASE_END);

        // Act
        await expectError(
          ledger.claim(claimRequest('00001', source('a')), options as ClaimOptions),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
        await expectError(
          ledger.claim(claimRequest('00002', source('b')), options as ClaimOptions),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );

        // Assess
        expect(await ledger.list({ includeSuperseded: true })).toEqual([held]);
      });

      it.each<[string, string, number | undefined]>([
        ['an empty owner', '', undefined],
        ['a lease of 0 ms', OWNER, 0],
        ['a negative lease', OWNER, -1],
        ['a lease that is not a number', OWNER, Number.NaN],
        ['a lease longer than a day', OWNER, MAX_LEASE_MS + 1],
      ])('refuses a renewal with %s', async (_title, owner, leaseMs) => {
        // Prepare
        const held = await heldByA();

        // Act
        await expectError(
          ledger.renewLease(held.id, owner, leaseMs),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );

        // Assess
        expect(await stored()).toEqual(held);
      });

      it('refuses a move with a malformed owner', async () => {
        // Prepare
        const held = await heldByA();

        // Act / Assess
        await expectError(
          ledger.transition(held.id, 'uploading', 'uploading', undefined, { owner: ' ' }),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
        expect(await stored()).toEqual(held);
      });
    });

    describe('answers', () => {
      const ACRF = responseIdOf('00101', 'ACRF');
      const NOTI = responseIdOf('00201', 'NOTI');

      it('records an accepting ACRF with launched -> acknowledged, and its ticket', async () => {
        // Prepare
        const launched = await recordIn('launched', claimRequest('00001', source('a')));
        const at = clock.peek();

        // Act
        const next = await ledger.transition(launched.id, 'launched', 'acknowledged', {
          acknowledgement: acknowledgement(ACRF, {
            ticket: 'T-1',
            at: '2026-07-02T11:00:00+02:00',
          }),
        });

        // Assess: the answer normalized, the ticket listed, nothing else changed
        expect(next).toEqual({
          ...launched,
          state: 'acknowledged',
          acknowledgement: {
            accepted: true,
            errors: [],
            ticket: 'T-1',
            response: ACRF,
            at: '2026-07-02T09:00:00.000Z',
          },
          tickets: ['T-1'],
          updatedAt: at,
        });
        expect(await ledger.get(launched.id)).toEqual(next);
      });

      it('records a refusing ACRF with launched -> rejected, with its error codes', async () => {
        // Prepare
        const launched = await recordIn('launched', claimRequest('00001', source('a')));
        const refusal = acknowledgement(ACRF, {
          accepted: false,
          errors: ['ACRF-129', 'ACRF-158'],
          ticket: 'T-1',
        });

        // Act
        const next = await ledger.transition(launched.id, 'launched', 'rejected', {
          acknowledgement: refusal,
        });

        // Assess
        expect(next).toMatchObject({ state: 'rejected', acknowledgement: refusal });
        expect(next.tickets).toEqual(['T-1']);
      });

      it('keeps only the known fields of an answer', async () => {
        // Prepare
        const launched = await recordIn('launched', claimRequest('00001', source('a')));
        const extra = { ...acknowledgement(ACRF), raw: '<ACRF>...</ACRF>' };

        // Act
        const next = await ledger.transition(launched.id, 'launched', 'acknowledged', {
          acknowledgement: extra,
        });

        // Assess
        expect(next.acknowledgement).toEqual(acknowledgement(ACRF));
        expect(Object.keys((await ledger.get(launched.id))?.acknowledgement ?? {})).not.toContain(
          'raw',
        );
      });

      it.each(['acknowledged', 'rejected', 'notified'] as const)(
        'reconciles a crash after the GO: launching -> %s, without inventing launchedAt',
        async (to) => {
          // Prepare: the process died after starting the GO; the answer proves it arrived
          const launching = await recordIn('launching', claimRequest('00001', source('a')));

          // Act
          const next = await ledger.transition(launching.id, 'launching', to, patchFor(to));

          // Assess
          expect(next.state).toBe(to);
          expect(next.launchedAt).toBeUndefined();
        },
      );

      it('appends notifications after an ACRF, in order, each ticket once', async () => {
        // Prepare
        const launched = await recordIn('launched', claimRequest('00001', source('a')));
        await ledger.transition(launched.id, 'launched', 'acknowledged', {
          acknowledgement: acknowledgement(ACRF, { ticket: 'FILE-1' }),
        });
        const first = notification(NOTI, { ticket: 'DECL-1', result: '1' });
        const second = notification(responseIdOf('00202', 'NOTI'), {
          ticket: 'DECL-1',
          result: '1',
          withAnomalies: true,
          anomalyCount: 3,
        });
        const third = notification(responseIdOf('00203', 'NOTI'), {
          result: 'refused',
          accepted: false,
          anomalyCount: 1,
          diagnosis: 3,
          anomalies: [
            {
              errorId: '00024-152',
              anomalyClass: 'B',
              tagName: 'INSS',
              path: 'NOSSRegistrationNbr=156065072, INSS=80111405125',
              value: '80111405125',
            },
          ],
        });
        delete third.ticket;

        // Act
        await ledger.transition(launched.id, 'acknowledged', 'notified', { notification: first });
        await ledger.transition(launched.id, 'notified', 'notified', { notification: second });
        // A refusal with a move to notified is refused: the state must say what the answer said.
        await expectError(
          ledger.transition(launched.id, 'notified', 'notified', { notification: third }),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
        const last = await ledger.transition(launched.id, ['acknowledged', 'notified'], 'refused', {
          notification: third,
        });

        // Assess
        expect(last.state).toBe('refused');
        expect(last.notifications).toEqual([first, second, third]);
        expect(last.tickets).toEqual(['FILE-1', 'DECL-1']);
        expect(last.acknowledgement?.response).toBe(ACRF);
        expect(await ledger.get(launched.id)).toEqual(last);
      });

      it('records a notification that comes without an ACRF (launched -> notified)', async () => {
        // Prepare
        const launched = await recordIn('launched', claimRequest('00001', source('a')));

        // Act
        const next = await ledger.transition(launched.id, 'launched', 'notified', {
          notification: notification(NOTI, { ticket: 'DECL-1' }),
        });

        // Assess
        expect(next).toMatchObject({ state: 'notified', tickets: ['DECL-1'] });
        expect(next.acknowledgement).toBeUndefined();
      });

      it('records a notification replayed on notified only once, and writes nothing', async () => {
        // Prepare
        const launched = await recordIn('launched', claimRequest('00001', source('a')));
        const once = await ledger.transition(launched.id, 'launched', 'notified', {
          notification: notification(NOTI),
        });

        // Act: the receive path runs again after a crash, with the same response set
        const again = await ledger.transition(launched.id, 'notified', 'notified', {
          notification: notification(NOTI, { at: '2026-07-09T00:00:00Z' }),
        });

        // Assess: same record, same updatedAt, one notification
        expect(again).toEqual(once);
        expect(await ledger.get(launched.id)).toEqual(once);
        expect(once.notifications).toHaveLength(1);
      });

      it('resolves a replayed ACRF with the record as it is, whatever state followed', async () => {
        // Prepare: the ACRF, then a notification, were recorded on an earlier run
        const launched = await recordIn('launched', claimRequest('00001', source('a')));
        await ledger.transition(launched.id, 'launched', 'acknowledged', {
          acknowledgement: acknowledgement(ACRF),
        });
        const notified = await ledger.transition(launched.id, 'acknowledged', 'notified', {
          notification: notification(NOTI),
        });

        // Act
        const replays = [
          await ledger.transition(launched.id, ['launching', 'launched'], 'acknowledged', {
            acknowledgement: acknowledgement(ACRF),
          }),
          await ledger.transition(launched.id, ['launched', 'acknowledged'], 'notified', {
            notification: notification(NOTI),
          }),
        ];

        // Assess
        expect(replays).toEqual([notified, notified]);
        expect(await ledger.get(launched.id)).toEqual(notified);
      });

      it('refuses a second, different ACRF once the set is acknowledged', async () => {
        // Prepare
        const launched = await recordIn('launched', claimRequest('00001', source('a')));
        const acknowledged = await ledger.transition(launched.id, 'launched', 'acknowledged', {
          acknowledgement: acknowledgement(ACRF),
        });

        // Act
        const error = await expectError(
          ledger.transition(launched.id, 'launched', 'rejected', {
            acknowledgement: acknowledgement(responseIdOf('00102'), { accepted: false }),
          }),
          StateConflictError,
          'STATE_CONFLICT',
        );

        // Assess
        expect(error).toMatchObject({ actual: 'acknowledged', to: 'rejected' });
        expect(await ledger.get(launched.id)).toEqual(acknowledged);
      });

      it('refuses a replay whose call breaks the table, as any other call', async () => {
        // Prepare
        const launched = await recordIn('launched', claimRequest('00001', source('a')));
        await ledger.transition(launched.id, 'launched', 'notified', {
          notification: notification(NOTI),
        });

        // Act / Assess: rejected -> notified is never allowed, replay or not
        await expectError(
          ledger.transition(launched.id, 'rejected', 'notified', {
            notification: notification(NOTI),
          }),
          StateConflictError,
          'STATE_CONFLICT',
        );
      });

      const ok = acknowledgement(ACRF);
      const refused = acknowledgement(ACRF, { accepted: false, errors: ['ACRF-129'] });
      const noti = notification(NOTI);
      it.each<[string, DeclarationState, TransitionPatch]>([
        ['a move to acknowledged without the ACRF', 'acknowledged', {}],
        ['a move to rejected without the ACRF', 'rejected', {}],
        ['a move to notified without the notification', 'notified', {}],
        ['an accepting ACRF moving to rejected', 'rejected', { acknowledgement: ok }],
        ['a refusing ACRF moving to acknowledged', 'acknowledged', { acknowledgement: refused }],
        [
          'an ACRF with a move to notified',
          'notified',
          { notification: noti, acknowledgement: ok },
        ],
        [
          'a notification with a move to acknowledged',
          'acknowledged',
          { acknowledgement: ok, notification: noti },
        ],
        ['an empty ticket', 'acknowledged', { acknowledgement: { ...ok, ticket: '' } }],
        [
          'a ticket with blanks around',
          'acknowledged',
          { acknowledgement: { ...ok, ticket: ' 12' } },
        ],
        [
          'a ticket of 65 characters',
          'notified',
          { notification: { ...noti, ticket: '1'.repeat(65) } },
        ],
        ['a ticket with a line break', 'notified', { notification: { ...noti, ticket: '1\n2' } }],
        [
          'a response id of 3 fields',
          'acknowledged',
          { acknowledgement: { ...ok, response: 'ACRF.1.2' } },
        ],
        [
          'a response id with a PART',
          'acknowledged',
          { acknowledgement: { ...ok, response: `${ACRF}.1.1` } },
        ],
        [
          'a response id in lower case',
          'notified',
          { notification: { ...noti, response: NOTI.toLowerCase() } },
        ],
        [
          'an answer time that is not a time',
          'acknowledged',
          { acknowledgement: { ...ok, at: 'soon' } },
        ],
        [
          'error ids that are not a list',
          'rejected',
          { acknowledgement: { ...refused, errors: 'ACRF-129' as unknown as string[] } },
        ],
        [
          'an empty error id',
          'rejected',
          { acknowledgement: { ...refused, errors: ['ACRF-129', ''] } },
        ],
        [
          'accepted that is not a boolean',
          'acknowledged',
          { acknowledgement: { ...ok, accepted: 1 as unknown as boolean } },
        ],
        ['a negative anomaly count', 'notified', { notification: { ...noti, anomalyCount: -1 } }],
        [
          'an anomaly count that is not whole',
          'notified',
          { notification: { ...noti, anomalyCount: 1.5 } },
        ],
        ['an empty result', 'notified', { notification: { ...noti, result: '' } }],
        ['a negative diagnosis', 'notified', { notification: { ...noti, diagnosis: -1 } }],
        [
          'more anomalies than a record keeps',
          'notified',
          {
            notification: {
              ...noti,
              anomalies: Array.from({ length: MAX_RECORDED_ANOMALIES + 1 }, () => ({
                errorId: '00024-152',
              })),
            },
          },
        ],
        [
          'an anomaly with no ErrorID',
          'notified',
          { notification: { ...noti, anomalies: [{ errorId: '' }] } },
        ],
        [
          'an anomaly value longer than a record keeps',
          'notified',
          {
            notification: {
              ...noti,
              anomalies: [
                { errorId: '00024-152', value: 'x'.repeat(MAX_ANOMALY_FIELD_LENGTH + 1) },
              ],
            },
          },
        ],
        [
          'withAnomalies that is not a boolean',
          'notified',
          { notification: { ...noti, withAnomalies: 'no' as unknown as boolean } },
        ],
      ])('refuses %s and records nothing', async (_title, to, patch) => {
        // Prepare
        const launched = await recordIn('launched', claimRequest('00001', source('a')));

        // Act
        await expectError(
          ledger.transition(launched.id, 'launched', to, patch),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );

        // Assess
        expect(await ledger.get(launched.id)).toEqual(launched);
      });

      it('refuses an answer with a move that is not an answer', async () => {
        // Prepare
        const launching = await recordIn('launching', claimRequest('00001', source('a')));

        // Act / Assess
        await expectError(
          ledger.transition(launching.id, 'launching', 'launched', { acknowledgement: ok }),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
        expect(await ledger.get(launching.id)).toEqual(launching);
      });
    });

    describe('findByTicket', () => {
      async function answered(seq: string, fileTicket: string, declTicket: string) {
        const launched = await recordIn('launched', claimRequest(seq, source(`s${seq}`)));
        await ledger.transition(launched.id, 'launched', 'acknowledged', {
          acknowledgement: acknowledgement(responseIdOf(seq, 'ACRF'), { ticket: fileTicket }),
        });
        return ledger.transition(launched.id, 'acknowledged', 'notified', {
          notification: notification(responseIdOf(seq, 'NOTI'), { ticket: declTicket }),
        });
      }

      it('finds a set by its ACRF ticket and by its notification ticket', async () => {
        // Prepare
        await answered('00001', 'F1', 'D1');
        const second = await answered('00002', 'F2', 'D2');

        // Act
        const found = [await ledger.findByTicket('F2'), await ledger.findByTicket('D2')];

        // Assess
        expect(found).toEqual([second, second]);
      });

      it('returns undefined for a ticket no current set holds', async () => {
        // Prepare
        await answered('00001', 'F1', 'D1');
        await recordIn('launched', claimRequest('00002', source('b')));

        // Act / Assess
        expect(await ledger.findByTicket('F9')).toBeUndefined();
        expect(await ledger.findByTicket('f1')).toBeUndefined();
      });

      it('does not hand out a superseded set: its answer would go to its successor', async () => {
        // Prepare: a set rejected with a ticket, then its key resent on purpose
        const launched = await recordIn('launched', claimRequest('00001', source('a')));
        await ledger.transition(launched.id, 'launched', 'rejected', {
          acknowledgement: acknowledgement(responseIdOf('00001'), {
            accepted: false,
            ticket: 'OLD',
          }),
        });
        await ledger.claim(claimRequest('00001', source('b')), own({ resend: true }));

        // Act / Assess
        expect(await ledger.findByTicket('OLD')).toBeUndefined();
      });

      it('returns the latest current set when two hold one ticket', async () => {
        // Prepare
        await answered('00001', 'SAME', 'D1');
        const later = await answered('00002', 'SAME', 'D2');

        // Act / Assess
        expect(await ledger.findByTicket('SAME')).toEqual(later);
      });

      it.each<[string, unknown]>([
        ['an empty ticket', ''],
        ['a ticket with blanks around', ' 12 '],
        ['a number', 12],
      ])('refuses %s', async (_title, ticket) => {
        await expectError(
          ledger.findByTicket(ticket as string),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
      });
    });

    describe('look-ups', () => {
      it('get returns undefined for an unknown set', async () => {
        expect(await ledger.get(idOf('00001'))).toBeUndefined();
      });

      it('findBySource returns the latest record of the source', async () => {
        // Prepare
        await recordIn('failed', claimRequest('00001', source('a')));
        const { record } = await ledger.claim(claimRequest('00002', source('a')), own());
        await ledger.claim(claimRequest('00003', source('a', 'v2')), own());

        // Act
        const found = await ledger.findBySource(source('a'));

        // Assess
        expect(found).toEqual(record);
        expect(await ledger.findBySource(source('zzz'))).toBeUndefined();
      });

      it('findBySource refuses a malformed identity', async () => {
        await expectError(
          ledger.findBySource({ kind: 'file', id: '' }),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
      });

      it.each([
        ['an FI name', `FI.${idOf('00001')}.2.2`],
        ['an FS name', `FS.${idOf('00001')}.2.1`],
        ['the GO name', `GO.${idOf('00001')}.2`],
        ['a TD name', `TD.${idOf('00001')}.2`],
        ['the legacy 6-field form', `GO.${idOf('00001')}`],
        ['a name with another part count (matched on fields 2 to 6)', `GO.${idOf('00001')}.5`],
      ])('findByFileName finds the set from %s', async (_title, name) => {
        // Prepare
        const { record } = await ledger.claim(
          claimRequest('00001', source('a'), { nparts: 2 }),
          own(),
        );

        // Act
        const found = await ledger.findByFileName(name);

        // Assess
        expect(found).toEqual(record);
      });

      it.each([
        ['a set not in the ledger', `GO.${idOf('00002')}.1`],
        ['another environment', `GO.${idOf('00001', 'T')}.1`],
        ['a name that cannot be read', 'declaration.xml'],
        ['an empty name', ''],
      ])('findByFileName returns undefined for %s', async (_title, name) => {
        // Prepare
        await ledger.claim(claimRequest('00001', source('a')), own());

        // Act / Assess
        expect(await ledger.findByFileName(name)).toBeUndefined();
      });

      it('findLaunchedBySha256 lists only sets whose GO may be out, oldest first', async () => {
        // Prepare: the same bytes under five sources, in each state
        const hash = { sourceSha256: sha('c') };
        const make = async (seq: string, name: string, path: DeclarationState[]) => {
          let { record } = await ledger.claim(claimRequest(seq, source(name)), own());
          for (const to of path) {
            record = await ledger.transition(record.id, record.state, to, {
              ...hash,
              ...patchFor(to),
            });
          }
          return record;
        };
        const launching = await make('00001', 'a', ['uploading', 'launching']);
        await make('00002', 'b', ['uploading']);
        await make('00003', 'c', ['failed']);
        const launched = await make('00004', 'd', ['uploading', 'launching', 'launched']);
        await make('00005', 'e', ['uploading', 'launching']).then((r) =>
          ledger.transition(r.id, 'launching', 'launched'),
        );
        await make('00006', 'f', []);
        const answered: DeclarationRecord[] = [];
        for (const [i, state] of (['acknowledged', 'rejected', 'notified'] as const).entries()) {
          answered.push(await make(`0000${7 + i}`, `answered-${state}`, PATHS[state]));
        }

        // Act
        const found = await ledger.findLaunchedBySha256(sha('C'));

        // Assess: the answer states count as launched too
        expect(found.map((r) => r.id)).toEqual([
          launching.id,
          launched.id,
          idOf('00005'),
          ...answered.map((r) => r.id),
        ]);
        expect(await ledger.findLaunchedBySha256(sha('d'))).toEqual([]);
      });

      it('findLaunchedBySha256 refuses a value that is not SHA-256', async () => {
        await expectError(
          ledger.findLaunchedBySha256('not-a-hash'),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
      });

      it('hands out copies: changing a returned record changes nothing stored', async () => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());

        // Act
        record.state = 'launched';
        record.files.length = 0;
        record.key.seq = '99999';

        // Assess
        expect(await ledger.get(idOf('00001'))).toMatchObject({
          state: 'planned',
          key: keyOf('00001'),
          files: planFiles(keyOf('00001')),
        });
      });
    });

    describe('list', () => {
      async function threeSets(): Promise<DeclarationRecord[]> {
        clock.set('2026-07-01T08:00:00Z');
        const a = await recordIn('launched', claimRequest('00001', source('a')));
        clock.set('2026-07-02T08:00:00Z');
        const b = await recordIn('failed', claimRequest('00002', source('b')));
        clock.set('2026-07-03T08:00:00Z');
        const c = (await ledger.claim(claimRequest('00003', source('c')), own())).record;
        return [a, b, c];
      }

      it('lists every current record by creation time', async () => {
        // Prepare
        const records = await threeSets();

        // Act / Assess
        expect(await ledger.list()).toEqual(records);
      });

      it('keeps creation order for records created in the same instant', async () => {
        // Prepare: a clock that stands still
        const still = new Date('2026-07-01T08:00:00Z');
        await ledger.close();
        ledger = await factory({ now: () => still });
        const seqs = ['00005', '00003', '00004', '00001', '00002'];
        for (const [i, seq] of seqs.entries()) {
          await ledger.claim(claimRequest(seq, source(`s${i}`)), own());
        }

        // Act
        const listed = await ledger.list();

        // Assess
        expect(listed.map((r) => r.key.seq)).toEqual(seqs);
      });

      it.each<[string, object, number[]]>([
        ['one state', { state: 'failed' }, [1]],
        ['several states', { state: ['planned', 'launched'] }, [0, 2]],
        ['a start time', { since: '2026-07-02T00:00:00Z' }, [1, 2]],
        ['a start time in another zone', { since: '2026-07-02T10:00:01+02:00' }, [2]],
        ['a state and a start time', { state: 'launched', since: '2026-07-02' }, []],
      ])('filters by %s', async (_title, filter, indexes) => {
        // Prepare
        const records = await threeSets();

        // Act
        const listed = await ledger.list(filter);

        // Assess
        expect(listed).toEqual(indexes.map((i) => records[i]));
      });

      it.each<[string, object]>([
        ['an unknown state', { state: 'sent' }],
        ['a start time that is not a time', { since: 'yesterday' }],
      ])('refuses %s', async (_title, filter) => {
        await expectError(ledger.list(filter), LedgerRequestError, 'LEDGER_REQUEST_INVALID');
      });
    });

    describe('response sets', () => {
      const ID = responseIdOf('00001');

      it('records a new set in state stored, stamped now', async () => {
        // Prepare
        const request: NewResponse = {
          ...newResponse('00001'),
          files: responseFiles(ID).map((f) => ({ ...f, sha256: f.sha256.toUpperCase() })),
        };
        const at = clock.peek();

        // Act
        const result = await ledger.recordResponse(request);

        // Assess: hashes in lower case
        const expected: ResponseRecord = {
          id: ID,
          env: 'R',
          folder: 'OUT',
          type: 'ACRF',
          files: responseFiles(ID),
          state: 'stored',
          signature: 'unchecked',
          orphan: false,
          storedAt: at,
          updatedAt: at,
        };
        expect(result).toEqual({ created: true, record: expected });
        expect(await ledger.getResponse(ID)).toEqual(expected);
      });

      it('never records a set twice: a second call returns the first record unchanged', async () => {
        // Prepare
        const { record: first } = await ledger.recordResponse(newResponse('00001'));

        // Act: a re-run after a crash, with what it read this time
        const again = await ledger.recordResponse({
          ...newResponse('00001'),
          signature: 'valid',
          files: responseFiles(ID).slice(0, 1),
        });

        // Assess
        expect(again).toEqual({ created: false, record: first });
        expect(await ledger.listResponses()).toEqual([first]);
      });

      it.each<[string, NewResponse]>([
        ['a set with parts (7-field id)', newResponse('00001', { nparts: 2 })],
        [
          'a notification in the test environment',
          newResponse('00001', { type: 'NOTI', env: 'T' }),
        ],
        ['an unknown response type', newResponse('00001', { type: 'ZZ99' })],
        [
          'compressed data without a signature',
          {
            ...newResponse('00001'),
            files: [{ ...responseFiles(ID)[0]!, name: `CO.${ID}` }, responseFiles(ID)[2]!],
            signature: 'missing',
            signatureDetail: 'no FS file came with the set',
          },
        ],
        [
          'a set already read and tied',
          {
            ...newResponse('00001'),
            kind: 'acrf',
            declarationId: idOf('00001'),
            orphan: true,
          },
        ],
      ])('records %s', async (_title, request) => {
        // Act
        const { record, created } = await ledger.recordResponse(request);

        // Assess
        expect(created).toBe(true);
        expect(record).toMatchObject({ ...request, state: 'stored' });
        expect(await ledger.getResponse(request.id)).toEqual(record);
      });

      const base = newResponse('00001');
      const files = responseFiles(ID);
      const [fo, fs, go] = files as [(typeof files)[0], (typeof files)[0], (typeof files)[0]];
      it.each<[string, NewResponse]>([
        ['an id with a PART', { ...base, id: `${ID}.1.1` }],
        ['an id of 4 fields', { ...base, id: 'ACRF.999999.20260701.00001' }],
        ['an id with a lower-case type', { ...base, id: ID.toLowerCase() }],
        ['an id with a date that is not real', { ...base, id: 'ACRF.999999.20260231.00001.R' }],
        ['an id that is not a string', { ...base, id: 42 as unknown as string }],
        ["an environment that is not the id's", { ...base, env: 'T', folder: 'OUTTEST' }],
        ["a type that is not the id's", { ...base, type: 'NOTI' }],
        ['the folder of another environment', { ...base, folder: 'OUTTEST' }],
        ['an upload folder', { ...base, folder: 'IN' as unknown as 'OUT' }],
        ['no files', { ...base, files: [] }],
        [
          'a file of another set',
          { ...base, files: [...files, ...responseFiles(responseIdOf('00002'))] },
        ],
        [
          'a file with NPARTS in a set without',
          { ...base, files: [{ ...fo, name: `FO.${ID}.1.1` }] },
        ],
        [
          'a file without NPARTS in a set with',
          { ...newResponse('00001', { nparts: 1 }), files: [fo] },
        ],
        ['a name outside the grammar', { ...base, files: [{ ...fo, name: 'FO.ACRF.999999' }] }],
        ['a data file with the signature role', { ...base, files: [{ ...fo, role: 'signature' }] }],
        ['a GO with the data role', { ...base, files: [{ ...go, role: 'data' }] }],
        ['a file listed twice', { ...base, files: [fo, fs, fo] }],
        ['a negative size', { ...base, files: [{ ...fo, size: -1 }] }],
        ['a hash that is not SHA-256', { ...base, files: [{ ...fo, sha256: 'abc' }] }],
        ['an empty store key', { ...base, files: [{ ...fo, storeKey: '' }] }],
        ['an unknown signature verdict', { ...base, signature: 'ok' as 'valid' }],
        ['an empty signature detail', { ...base, signatureDetail: '' }],
        ['an unknown kind', { ...base, kind: 'xml' as 'acrf' }],
        [
          'a declaration id that is not a set key',
          { ...base, declarationId: `GO.${idOf('00001')}.1` },
        ],
        ['orphan that is not a boolean', { ...base, orphan: 'no' as unknown as boolean }],
      ])('refuses %s and records nothing', async (_title, request) => {
        // Act
        await expectError(
          ledger.recordResponse(request),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );

        // Assess
        expect(await ledger.listResponses()).toEqual([]);
      });

      it('moves stored -> deleted once: deletedAt is kept when asked again', async () => {
        // Prepare
        const { record } = await ledger.recordResponse(newResponse('00001'));
        const at = clock.peek();

        // Act
        const deleted = await ledger.updateResponse(ID, { state: 'deleted' });
        const again = await ledger.updateResponse(ID, { state: 'deleted' });

        // Assess
        expect(deleted).toEqual({ ...record, state: 'deleted', deletedAt: at, updatedAt: at });
        expect(again).toEqual(deleted);
        expect(await ledger.getResponse(ID)).toEqual(deleted);
      });

      it.each<[string, ResponsePatch]>([
        ['a move back to stored', { state: 'stored' as 'deleted' }],
        ['an unknown state', { state: 'gone' as 'deleted' }],
        ['an unknown signature verdict', { signature: 'ok' as 'valid' }],
        ['an empty signature detail', { signatureDetail: '' }],
        ['an unknown kind', { kind: 'xml' as 'acrf' }],
        ['a declaration id that is not a set key', { declarationId: 'DMFA.1' }],
        ['orphan that is not a boolean', { orphan: 1 as unknown as boolean }],
      ])('refuses an update with %s and changes nothing', async (_title, patch) => {
        // Prepare
        await ledger.recordResponse(newResponse('00001'));
        const deleted = await ledger.updateResponse(ID, { state: 'deleted' });

        // Act
        await expectError(
          ledger.updateResponse(ID, patch),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );

        // Assess
        expect(await ledger.getResponse(ID)).toEqual(deleted);
      });

      it('replaces the signature detail with each new verdict', async () => {
        // Prepare
        await ledger.recordResponse(newResponse('00001'));

        // Act
        const invalid = await ledger.updateResponse(ID, {
          signature: 'invalid',
          signatureDetail: 'digest mismatch',
        });
        const valid = await ledger.updateResponse(ID, { signature: 'valid' });

        // Assess
        expect(invalid).toMatchObject({ signature: 'invalid', signatureDetail: 'digest mismatch' });
        expect(valid.signature).toBe('valid');
        expect(valid.signatureDetail).toBeUndefined();
        expect(await ledger.getResponse(ID)).toEqual(valid);
      });

      it('ties a set to its declaration once, and refuses another', async () => {
        // Prepare
        await ledger.recordResponse(newResponse('00001'));
        const tied = await ledger.updateResponse(ID, {
          kind: 'acrf',
          declarationId: idOf('00001'),
        });

        // Act
        const same = await ledger.updateResponse(ID, { declarationId: idOf('00001') });
        const error = await expectError(
          ledger.updateResponse(ID, { declarationId: idOf('00002'), orphan: false }),
          ResponseConflictError,
          'RESPONSE_CONFLICT',
        );

        // Assess
        expect(tied).toMatchObject({ kind: 'acrf', declarationId: idOf('00001'), orphan: false });
        expect(same).toEqual(tied);
        expect(error).toMatchObject({ id: ID, declarationId: idOf('00001') });
        expect(error.message).toContain(idOf('00002'));
        expect(await ledger.getResponse(ID)).toEqual(tied);
      });

      it('keeps orphan apart from the tie: one form of a document may match nothing', async () => {
        // Prepare
        await ledger.recordResponse(newResponse('00001', { type: 'NOTI' }));
        const id = responseIdOf('00001', 'NOTI');

        // Act
        const record = await ledger.updateResponse(id, {
          kind: 'notification',
          declarationId: idOf('00001'),
          orphan: true,
        });

        // Assess
        expect(record).toMatchObject({ declarationId: idOf('00001'), orphan: true });
      });

      it('writes nothing for an update that changes nothing', async () => {
        // Prepare
        const { record } = await ledger.recordResponse(newResponse('00001'));

        // Act
        const same = await ledger.updateResponse(ID, { signature: 'unchecked', orphan: false });
        const empty = await ledger.updateResponse(ID, {});

        // Assess
        expect([same, empty]).toEqual([record, record]);
      });

      it('refuses an update of an unknown set with RESPONSE_NOT_FOUND', async () => {
        // Act
        const error = await expectError(
          ledger.updateResponse(ID, { state: 'deleted' }),
          ResponseNotFoundError,
          'RESPONSE_NOT_FOUND',
        );

        // Assess
        expect(error.message).toContain(ID);
        expect(await ledger.getResponse(ID)).toBeUndefined();
      });

      it('hands out copies: changing a returned record changes nothing stored', async () => {
        // Prepare
        const { record } = await ledger.recordResponse(newResponse('00001'));

        // Act
        record.files.length = 0;
        record.state = 'deleted';

        // Assess
        expect(await ledger.getResponse(ID)).toMatchObject({
          state: 'stored',
          files: responseFiles(ID),
        });
      });

      describe('listResponses', () => {
        async function threeSets(): Promise<ResponseRecord[]> {
          clock.set('2026-07-01T08:00:00Z');
          const a = (await ledger.recordResponse(newResponse('00001'))).record;
          clock.set('2026-07-02T08:00:00Z');
          await ledger.recordResponse(newResponse('00002', { type: 'NOTI' }));
          const b = await ledger.updateResponse(responseIdOf('00002', 'NOTI'), { orphan: true });
          clock.set('2026-07-03T08:00:00Z');
          await ledger.recordResponse(newResponse('00003', { env: 'S' }));
          const c = await ledger.updateResponse(responseIdOf('00003', 'ACRF', 'S'), {
            state: 'deleted',
          });
          return [a, b, c];
        }

        it('lists every set by the time it was stored', async () => {
          // Prepare
          const records = await threeSets();

          // Act / Assess
          expect(await ledger.listResponses()).toEqual(records);
        });

        it('keeps recording order for sets stored in the same instant', async () => {
          // Prepare: a clock that stands still
          const still = new Date('2026-07-01T08:00:00Z');
          await ledger.close();
          ledger = await factory({ now: () => still });
          const seqs = ['00005', '00003', '00004', '00001', '00002'];
          for (const seq of seqs) await ledger.recordResponse(newResponse(seq));

          // Act
          const listed = await ledger.listResponses();

          // Assess
          expect(listed.map((r) => r.id)).toEqual(seqs.map((seq) => responseIdOf(seq)));
        });

        it.each<[string, object, number[]]>([
          ['orphans', { orphan: true }, [1]],
          ['non-orphans', { orphan: false }, [0, 2]],
          ['sets still on the server', { state: 'stored' }, [0, 1]],
          ['sets deleted from the server', { state: 'deleted' }, [2]],
          ['a start time', { since: '2026-07-02T00:00:00Z' }, [1, 2]],
          ['a start time in another zone', { since: '2026-07-02T10:00:01+02:00' }, [2]],
          ['a start time and a state', { since: '2026-07-02', state: 'stored' }, [1]],
          ['everything at once', { since: '2026-07-01', state: 'stored', orphan: false }, [0]],
        ])('filters by %s', async (_title, filter, indexes) => {
          // Prepare
          const records = await threeSets();

          // Act
          const listed = await ledger.listResponses(filter);

          // Assess
          expect(listed).toEqual(indexes.map((i) => records[i]));
        });

        it.each<[string, object]>([
          ['an unknown state', { state: 'gone' }],
          ['a start time that is not a time', { since: 'yesterday' }],
          ['orphan that is not a boolean', { orphan: 'yes' }],
        ])('refuses %s', async (_title, filter) => {
          await expectError(
            ledger.listResponses(filter),
            LedgerRequestError,
            'LEDGER_REQUEST_INVALID',
          );
        });
      });
    });

    describe('close', () => {
      it('refuses every call afterwards, and can be called twice', async () => {
        // Prepare
        await ledger.claim(claimRequest('00001', source('a')), own());

        // Act
        await ledger.close();
        await ledger.close();

        // Assess
        const calls: Array<() => Promise<unknown>> = [
          () => ledger.nextSequence(SENDER, DATE, 'R'),
          () => ledger.claim(claimRequest('00002', source('b')), own()),
          () => ledger.transition(idOf('00001'), 'planned', 'uploading'),
          () => ledger.renewLease(idOf('00001'), OWNER),
          () => ledger.releaseLease(idOf('00001'), OWNER),
          () => ledger.get(idOf('00001')),
          () => ledger.findBySource(source('a')),
          () => ledger.findByFileName(`GO.${idOf('00001')}.1`),
          () => ledger.findLaunchedBySha256(sha('a')),
          () => ledger.list(),
          () => ledger.findByTicket('T-1'),
          () => ledger.recordResponse(newResponse('00001')),
          () => ledger.updateResponse(responseIdOf('00001'), { state: 'deleted' }),
          () => ledger.getResponse(responseIdOf('00001')),
          () => ledger.listResponses(),
          () => ledger.acquireRunLease('pull', OWNER, 60_000),
          () => ledger.releaseRunLease('pull', OWNER),
        ];
        for (const call of calls) {
          await expectError(call(), LedgerClosedError, 'LEDGER_CLOSED');
        }
      });
    });

    describe('run leases', () => {
      const T0 = '2026-07-01T10:00:00.000Z';

      it('gives a free run lease to the first owner and refuses a second while it runs', async () => {
        // Prepare
        clock.set(T0);

        // Act
        const first = await ledger.acquireRunLease('pull', OWNER, 60_000);
        clock.set(plusMs(T0, 59_999));
        const second = await ledger.acquireRunLease('pull', OTHER_OWNER, 60_000);

        // Assess
        expect(first).toBe(true);
        expect(second).toBe(false);
      });

      it('lets another owner take a run lease once it has ended, and no earlier', async () => {
        // Prepare
        clock.set(T0);
        await ledger.acquireRunLease('pull', OWNER, 60_000);

        // Act
        clock.set(plusMs(T0, 60_000));
        const taken = await ledger.acquireRunLease('pull', OTHER_OWNER, 60_000);
        clock.set(plusMs(T0, 61_000));
        const back = await ledger.acquireRunLease('pull', OWNER, 60_000);

        // Assess
        expect(taken).toBe(true);
        expect(back).toBe(false);
      });

      it('renews the lease of the owner that holds it', async () => {
        // Prepare
        clock.set(T0);
        await ledger.acquireRunLease('pull', OWNER, 60_000);
        clock.set(plusMs(T0, 50_000));

        // Act
        const renewed = await ledger.acquireRunLease('pull', OWNER, 60_000);
        clock.set(plusMs(T0, 100_000));
        const other = await ledger.acquireRunLease('pull', OTHER_OWNER, 60_000);

        // Assess: the renewal moved the end to T0 + 110 s
        expect(renewed).toBe(true);
        expect(other).toBe(false);
      });

      it('frees a run lease on release by its owner only', async () => {
        // Prepare
        clock.set(T0);
        await ledger.acquireRunLease('pull', OWNER, 60_000);

        // Act
        await ledger.releaseRunLease('pull', OTHER_OWNER);
        const whileHeld = await ledger.acquireRunLease('pull', OTHER_OWNER, 60_000);
        await ledger.releaseRunLease('pull', OWNER);
        const afterRelease = await ledger.acquireRunLease('pull', OTHER_OWNER, 60_000);

        // Assess
        expect(whileHeld).toBe(false);
        expect(afterRelease).toBe(true);
      });

      it('keeps leases of different names apart', async () => {
        // Prepare
        clock.set(T0);
        await ledger.acquireRunLease('pull', OWNER, 60_000);

        // Act / Assess
        expect(await ledger.acquireRunLease('pull-test', OTHER_OWNER, 60_000)).toBe(true);
        expect(await ledger.acquireRunLease('pull', OTHER_OWNER, 60_000)).toBe(false);
      });

      it.each([
        ['a name with capitals', 'Pull', OWNER, 60_000],
        ['an empty name', '', OWNER, 60_000],
        ['an empty owner', 'pull', '', 60_000],
        ['a zero duration', 'pull', OWNER, 0],
        ['a duration over a day', 'pull', OWNER, MAX_LEASE_MS + 1],
      ])('refuses %s', async (_title, name, owner, leaseMs) => {
        await expectError(
          ledger.acquireRunLease(name, owner, leaseMs),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
      });
    });

    // Last on purpose: tests run in order, so this sees what the others threw. An error class
    // exported but never thrown is a rule that is not enforced.
    it('has thrown every error class of the contract', () => {
      const expected = [
        DeclarationNotFoundError,
        DuplicateSourceError,
        LeaseLostError,
        LedgerClosedError,
        LedgerRequestError,
        NameAlreadySentError,
        ResponseConflictError,
        ResponseNotFoundError,
        SendInProgressError,
        StateConflictError,
      ].map((type) => type.name);
      expect([...seen].sort()).toEqual(expected.sort());
    });
  });
}
